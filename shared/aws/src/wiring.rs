//! What a function declares it is built from on AWS, and the adapters built
//! from exactly that declaration.
//!
//! Each function crate states its [`Needs`] as a constant: the adapters it
//! uses, the variables it reads beyond theirs and what triggers it. Its
//! `from_env` builds adapters through [`AwsAdapters`], which refuses anything
//! not declared, so the declaration cannot drift from the code; and
//! `tests/consistency.rs` holds the same values against `template.yaml`
//! (grants, environment, event sources) without reading any source text.

use crate::config::{ConfigError, Variable};
use crate::dynamo::DynamoStore;
use crate::eventbridge::EventBridgePublisher;
use crate::ses::SesMailer;
use crate::sns::{NoSms, SnsSmsSender};
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use domain::clock::SystemClock;
use domain::links::PublicUrls;
use domain::ports::SmsSender;
use domain::service::delivery::Delivery;
use domain::service::feedback::DeliveryFeedback;
use std::sync::Arc;

/// An AWS adapter a function can be built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adapter {
    /// The agenda table (DynamoDB).
    Table,
    /// E-mail through SES v2.
    Ses,
    /// SMS through SNS.
    Sns,
    /// Communication events on the EventBridge bus.
    EventBridge,
}

impl Adapter {
    pub const ALL: [Adapter; 4] = [Self::Table, Self::Ses, Self::Sns, Self::EventBridge];

    /// What the adapter calls, as IAM actions: the function's role needs them.
    pub fn iam_actions(self) -> &'static [&'static str] {
        match self {
            Self::Table => DynamoStore::IAM_ACTIONS,
            Self::Ses => SesMailer::IAM_ACTIONS,
            Self::Sns => SnsSmsSender::IAM_ACTIONS,
            Self::EventBridge => EventBridgePublisher::IAM_ACTIONS,
        }
    }

    /// The variables the adapter reads.
    pub fn variables(self) -> &'static [Variable] {
        use crate::config::*;
        match self {
            Self::Table => &[TABLE_NAME, DATA_RETENTION_DAYS],
            Self::Ses => &[SENDER_EMAIL, SES_CONFIGURATION_SET],
            Self::Sns => &[SMS_SENDER_ID],
            Self::EventBridge => &[EVENT_BUS_NAME],
        }
    }
}

/// What starts a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Routes of the HTTP API.
    Http,
    /// The agenda table's stream.
    TableStream,
    /// An EventBridge schedule.
    Schedule,
    /// The providers' delivery feedback: SES events through an EventBridge
    /// rule, SNS SMS delivery-status logs through a CloudWatch Logs
    /// subscription.
    ProviderFeedback,
}

/// A function's declaration of what it is built from on AWS.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// Its logical id in `template.yaml`.
    pub function: &'static str,
    pub trigger: Trigger,
    pub adapters: &'static [Adapter],
    /// Of the table adapter's actions ([`DynamoStore::IAM_ACTIONS`]), those
    /// this function calls: its role gets these only. Local mode on moto
    /// refuses the others (`iam_guard`), so the moto scenarios check the list.
    pub table_actions: &'static [&'static str],
    /// Of the table's secondary indexes ([`DynamoStore::INDEXES`]), those
    /// this function queries: its role may query these only, beside the
    /// table. Local mode on moto refuses a query of any other (`iam_guard`).
    pub indexes: &'static [&'static str],
    /// Variables read beyond those of its adapters.
    pub variables: &'static [Variable],
}

impl Needs {
    pub fn uses(&self, adapter: Adapter) -> bool {
        self.adapters.contains(&adapter)
    }

    /// Every variable the function reads: its adapters' and its own.
    pub fn all_variables(&self) -> Vec<Variable> {
        let mut all: Vec<Variable> = self
            .adapters
            .iter()
            .flat_map(|a| a.variables().iter().copied())
            .chain(self.variables.iter().copied())
            .collect();
        all.dedup_by_key(|v| v.name);
        all
    }

    /// Every IAM action the function's role needs.
    pub fn iam_actions(&self) -> Vec<&'static str> {
        let mut all: Vec<&str> = self
            .adapters
            .iter()
            .flat_map(|a| match a {
                Adapter::Table => self.table_actions,
                other => other.iam_actions(),
            })
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Where the SDK finds its region on Lambda (Lambda sets it for every function).
const REGION: Variable = Variable {
    name: "AWS_REGION",
    why: "the region of the function, set by Lambda",
    required: true,
};

/// The access key of the function's role, set by Lambda (with the secret key
/// and the session token beside it).
const ACCESS_KEY: Variable = Variable {
    name: "AWS_ACCESS_KEY_ID",
    why: "the credentials of the function's role, set by Lambda",
    required: true,
};

/// The SDK's configuration: region and credentials from the environment, and
/// the HTTPS client of [`https_client`].
///
/// Lambda puts the region and the role's credentials in the environment, so
/// the configuration is built from them directly. aws-config's loader would
/// find them there too, after building its default chains (profile files,
/// web identity with its STS client, ECS, IMDS): 0.4 ms of a function's init,
/// and their code in every bootstrap (docs/benchmarks.md, third pass). Those
/// chains are compiled only with the `default-chains` feature (local mode,
/// pointed at AWS with a profile), and used only when the environment lacks
/// the region or the credentials.
pub async fn sdk_config() -> Result<SdkConfig, ConfigError> {
    match from_environment() {
        Ok(config) => Ok(config),
        Err(missing) => default_chains(missing).await,
    }
}

/// The configuration from the environment, or the variable it lacks.
fn from_environment() -> Result<SdkConfig, ConfigError> {
    let region = REGION
        .read()
        .ok()
        .flatten()
        .or_else(|| {
            std::env::var("AWS_DEFAULT_REGION")
                .ok()
                .filter(|r| !r.is_empty())
        })
        .ok_or(ConfigError::Missing(REGION))?;
    ACCESS_KEY
        .read()
        .ok()
        .flatten()
        .ok_or(ConfigError::Missing(ACCESS_KEY))?;
    let builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client());
    // Local mode, the tests and the benchmarks point the SDK elsewhere (moto,
    // a stub) as the loader lets them: the variable is the SDK's own.
    let builder = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => builder.endpoint_url(url),
        _ => builder,
    };
    Ok(builder.build())
}

#[cfg(feature = "default-chains")]
async fn default_chains(_missing: ConfigError) -> Result<SdkConfig, ConfigError> {
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await)
}

#[cfg(not(feature = "default-chains"))]
async fn default_chains(missing: ConfigError) -> Result<SdkConfig, ConfigError> {
    Err(missing)
}

/// The roots of Amazon Trust Services, which issue the certificates of the AWS
/// endpoints these functions call (DynamoDB, SES, SNS, EventBridge): Amazon
/// Root CA 1–4 and the Starfield Services root that cross-signs them.
const AWS_ROOTS: &str = include_str!("aws_roots.pem");

/// The SDK's HTTPS client (hyper 1, rustls, on ring: see Cargo.toml) trusting the
/// roots above instead of the machine's store: reading and parsing a system
/// store (146 files and a bundle on the benchmark machine) was half of a
/// function's init (docs/benchmarks.md). An endpoint certified by another
/// root would fail the TLS handshake: checked on the first deploy (README).
/// Local mode and the tests use it too (plain HTTP to moto needs no roots).
pub fn https_client() -> SharedHttpClient {
    let tls = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(AWS_ROOTS))
        .build()
        .expect("a TLS context of compiled-in roots");
    SharedHttpClient::new(ConnectorOnFirstRequest(
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls)
            .build_https(),
    ))
}

/// An HTTP client whose connector is built on the first request only.
///
/// Each SDK client, when constructed, asks its HTTP client to check the
/// configuration, and aws-smithy-http-client answers by building a whole
/// connector (TLS configuration and roots included) and dropping it, so that
/// a machine's native roots are read during init rather than on the first
/// call. Ours are compiled in; the connector the first request builds is the
/// one kept, and the clients share it (the inner client caches it by
/// settings). Without this, a function of four SDK clients built and dropped
/// four connectors at each cold start (docs/benchmarks.md, fourth pass).
#[derive(Debug)]
pub struct ConnectorOnFirstRequest<C>(pub C);

impl<C: HttpClient> HttpClient for ConnectorOnFirstRequest<C> {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    // `validate_base_client_config` is the trait's: nothing to check.

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The AWS adapters of one function, built once per Lambda instance from the
/// environment `template.yaml` sets. Asking for an adapter or a variable the
/// function did not declare is an error, found by each function's own test.
pub struct AwsAdapters {
    sdk: SdkConfig,
    needs: &'static Needs,
}

impl AwsAdapters {
    pub async fn load(needs: &'static Needs) -> Result<Self, ConfigError> {
        Ok(Self {
            sdk: sdk_config().await?,
            needs,
        })
    }

    fn declared(&self, adapter: Adapter) -> Result<(), ConfigError> {
        if self.needs.uses(adapter) {
            Ok(())
        } else {
            Err(ConfigError::Undeclared {
                function: self.needs.function,
                what: format!("{adapter:?}"),
            })
        }
    }

    /// A variable the function declared (its own or one of its adapters').
    pub fn variable(&self, variable: Variable) -> Result<Option<String>, ConfigError> {
        if !self
            .needs
            .all_variables()
            .iter()
            .any(|v| v.name == variable.name)
        {
            return Err(ConfigError::Undeclared {
                function: self.needs.function,
                what: variable.name.to_string(),
            });
        }
        variable.read()
    }

    fn required(&self, variable: Variable) -> Result<String, ConfigError> {
        self.variable(variable)?
            .ok_or(ConfigError::Missing(variable))
    }

    pub fn store(&self) -> Result<Arc<DynamoStore>, ConfigError> {
        self.declared(Adapter::Table)?;
        let mut store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            self.required(crate::config::TABLE_NAME)?,
        );
        if let Some(days) = self.variable(crate::config::DATA_RETENTION_DAYS)? {
            let days =
                days.parse()
                    .ok()
                    .filter(|d| *d > 0)
                    .ok_or_else(|| ConfigError::Invalid {
                        name: crate::config::DATA_RETENTION_DAYS.name,
                        why: "a whole number of days, at least 1".into(),
                    })?;
            store = store.with_retention_days(days);
        }
        Ok(Arc::new(store))
    }

    /// Store, SES, EventBridge, the system clock, and SNS when the function
    /// declared it: an e-mail-only function gets no SNS client, so its role
    /// needs no SNS permission.
    pub fn delivery(&self) -> Result<Delivery, ConfigError> {
        use crate::config::*;
        self.declared(Adapter::Ses)?;
        self.declared(Adapter::EventBridge)?;
        let sms: Arc<dyn SmsSender> = if self.needs.uses(Adapter::Sns) {
            Arc::new(SnsSmsSender::new(
                aws_sdk_sns::Client::new(&self.sdk),
                self.variable(SMS_SENDER_ID)?,
            ))
        } else {
            Arc::new(NoSms)
        };
        Ok(Delivery {
            store: self.store()?,
            mailer: Arc::new(SesMailer::new(
                aws_sdk_sesv2::Client::new(&self.sdk),
                self.required(SENDER_EMAIL)?,
                self.variable(SES_CONFIGURATION_SET)?,
            )),
            sms,
            events: Arc::new(crate::metrics::CountingPublisher::new(
                EventBridgePublisher::new(
                    aws_sdk_eventbridge::Client::new(&self.sdk),
                    self.required(EVENT_BUS_NAME)?,
                ),
            )),
            clock: Arc::new(SystemClock),
        })
    }

    /// Store, EventBridge and the system clock: what delivery feedback
    /// moves log entries and publishes their events with.
    pub fn feedback(&self) -> Result<DeliveryFeedback, ConfigError> {
        self.declared(Adapter::EventBridge)?;
        Ok(DeliveryFeedback {
            store: self.store()?,
            events: Arc::new(EventBridgePublisher::new(
                aws_sdk_eventbridge::Client::new(&self.sdk),
                self.required(crate::config::EVENT_BUS_NAME)?,
            )),
            clock: Arc::new(SystemClock),
        })
    }

    /// The SMS rate the function paces its sends to (`None`: the default).
    pub fn sms_per_second(&self) -> Result<Option<u32>, ConfigError> {
        let Some(rate) = self.variable(crate::config::SMS_RATE_PER_SECOND)? else {
            return Ok(None);
        };
        rate.parse().map(Some).map_err(|_| ConfigError::Invalid {
            name: crate::config::SMS_RATE_PER_SECOND.name,
            why: "a whole number of messages a second".into(),
        })
    }

    /// Absolute links for messages: the public base URL is required.
    pub fn public_urls(&self) -> Result<PublicUrls, ConfigError> {
        Ok(PublicUrls::new(
            &self.required(crate::config::PUBLIC_BASE_URL)?,
        ))
    }

    /// For pages served by the API itself: the public base URL when set, else
    /// links relative to the API's root (same host as the page).
    pub fn page_urls(&self) -> Result<PublicUrls, ConfigError> {
        Ok(PublicUrls::new(
            &self
                .variable(crate::config::PUBLIC_BASE_URL)?
                .unwrap_or_default(),
        ))
    }
}
