//! What a function declares it is built from on AWS, and the adapters built
//! from exactly that declaration.
//!
//! Each function crate states its [`Needs`] as a constant: the adapters it
//! uses, the variables it reads beyond theirs and what triggers it. Its one
//! constructor, `compose(&Adapters)`, takes its parts through
//! [`Adapters::given_to`], which refuses anything not declared, so the
//! declaration cannot drift from the code. `from_env` hands it the AWS
//! adapters ([`Adapters::from_env`]), local mode its own; and
//! `tests/consistency.rs` holds the same values against `template.yaml`
//! (grants, environment, event sources) without reading any source text.

use crate::config::{Config, ConfigError, Variable};
use crate::dynamo::DynamoTable;
use crate::eventbridge::EventBridgePublisher;
use crate::ses::SesMailer;
use crate::sns::{NoSms, SnsSmsSender};
use crate::store::TableStore;
use crate::table::Table;
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
use domain::communications::Channel;
use domain::links::PublicUrls;
use domain::ports::{Clock, EventPublisher, Mailer, SmsSender};
use domain::service::delivery::Delivery;
use domain::service::feedback::DeliveryFeedback;
use domain::service::pacing::{AccountRate, RatedMailer, RatedSms};
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
            Self::Table => DynamoTable::IAM_ACTIONS,
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
            Self::Sns => &[SMS_SENDER_ID, SMS_MAX_PRICE],
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
    /// Of the table adapter's actions ([`DynamoTable::IAM_ACTIONS`]), those
    /// this function calls: its role gets these only. Local mode on moto
    /// refuses the others (`iam_guard`), so the moto scenarios check the list.
    pub table_actions: &'static [&'static str],
    /// Of the table's secondary indexes ([`crate::table::schema::INDEXES`]), those
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

/// What every function is built from: the table, the providers, the clock
/// and the configuration. AWS ([`Adapters::from_env`]) and local mode
/// produce this same value, and each function crate's `compose` builds the
/// function from it, taking only what its `NEEDS` declare ([`Adapters::given_to`]).
/// On AWS, what a function does not declare is not built (`None`).
#[derive(Clone)]
pub struct Adapters {
    pub table: Option<Arc<dyn Table>>,
    pub mailer: Option<Arc<dyn Mailer>>,
    pub sms: Option<Arc<dyn SmsSender>>,
    pub events: Option<Arc<dyn EventPublisher>>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
}

impl Adapters {
    /// The adapters of `needs`' function on AWS, built once per Lambda
    /// instance: the variables it declares read once, an SDK client for
    /// each adapter it declares and none for the others (so its role needs
    /// no permission for them), the system clock.
    pub async fn from_env(needs: &'static Needs) -> Result<Self, ConfigError> {
        use crate::config::*;
        let config = Config::read(&needs.all_variables())?;
        let sdk = sdk_config().await?;
        let table: Option<Arc<dyn Table>> = match needs.uses(Adapter::Table) {
            true => Some(Arc::new(DynamoTable::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                config.required(TABLE_NAME)?,
            ))),
            false => None,
        };
        let mailer: Option<Arc<dyn Mailer>> = match needs.uses(Adapter::Ses) {
            true => Some(Arc::new(SesMailer::new(
                aws_sdk_sesv2::Client::new(&sdk),
                config.required(SENDER_EMAIL)?,
                config.ses_configuration_set.clone(),
            ))),
            false => None,
        };
        let sms: Option<Arc<dyn SmsSender>> = match needs.uses(Adapter::Sns) {
            true => Some(Arc::new(SnsSmsSender::new(
                aws_sdk_sns::Client::new(&sdk),
                config.sms_sender_id.clone(),
                config.required(SMS_MAX_PRICE)?,
            ))),
            false => None,
        };
        let events: Option<Arc<dyn EventPublisher>> = match needs.uses(Adapter::EventBridge) {
            true => Some(Arc::new(EventBridgePublisher::new(
                aws_sdk_eventbridge::Client::new(&sdk),
                config.required(EVENT_BUS_NAME)?,
            ))),
            false => None,
        };
        Ok(Self {
            table,
            mailer,
            sms,
            events,
            clock: Arc::new(SystemClock),
            config,
        })
    }

    /// What `needs`' function may take of these adapters: asking for an
    /// adapter or a variable it does not declare is an error, found by each
    /// function's own test (`tests/from_env.rs`) and by local mode's start.
    pub fn given_to(&self, needs: &'static Needs) -> Given<'_> {
        Given {
            adapters: self,
            needs,
        }
    }
}

/// The adapters as one function may use them (see [`Adapters::given_to`]);
/// `Delivery` and `DeliveryFeedback` are built here, once for AWS and local mode.
pub struct Given<'a> {
    adapters: &'a Adapters,
    needs: &'static Needs,
}

impl Given<'_> {
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

    fn given<T: ?Sized>(
        &self,
        adapter: Adapter,
        value: &Option<Arc<T>>,
    ) -> Result<Arc<T>, ConfigError> {
        self.declared(adapter)?;
        value.clone().ok_or_else(|| ConfigError::NotGiven {
            function: self.needs.function,
            adapter: format!("{adapter:?}"),
        })
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
        Ok(self.adapters.config.value(variable))
    }

    fn required(&self, variable: Variable) -> Result<String, ConfigError> {
        self.variable(variable)?
            .ok_or(ConfigError::Missing(variable))
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.adapters.clock.clone()
    }

    /// The store over the table, keeping appointment data as long as the
    /// configuration says.
    pub fn store(&self) -> Result<Arc<TableStore>, ConfigError> {
        let table = self.given(Adapter::Table, &self.adapters.table)?;
        let store = TableStore::new(table).with_retention_days(self.adapters.config.retention_days);
        // A function that writes appointments declares the hashes' key: the
        // patients' index is written with each of them (SPEC §6.2).
        Ok(Arc::new(match self.contact_key()? {
            Some(key) => store.with_contact_key(key),
            None => store,
        }))
    }

    /// The keyed hashes' key, when the function declares it.
    fn contact_key(&self) -> Result<Option<domain::keyed::HashKey>, ConfigError> {
        use crate::config::CONTACT_HASH_KEY;
        if !self.needs.all_variables().contains(&CONTACT_HASH_KEY) {
            return Ok(None);
        }
        let key = self.required(CONTACT_HASH_KEY)?;
        domain::keyed::HashKey::new(key.as_bytes())
            .map(Some)
            .ok_or(ConfigError::Invalid {
                name: CONTACT_HASH_KEY.name,
                why: "too short".into(),
            })
    }

    /// Store, mailer, the bus (counting each message it publishes: the
    /// `Messages` metric, a no-op where no recorder is installed), the
    /// clock, and SMS when the function declared it: an e-mail-only function
    /// gets none, so an SMS decision there is refused as a bug.
    pub fn delivery(&self) -> Result<Delivery, ConfigError> {
        let store = self.store()?;
        let mailer = self.rated_mailer(&store)?;
        let events = self.given(Adapter::EventBridge, &self.adapters.events)?;
        let sms: Arc<dyn SmsSender> = if self.needs.uses(Adapter::Sns) {
            let sms = self.given(Adapter::Sns, &self.adapters.sms)?;
            match self.sms_per_second()? {
                Some(rate) => Arc::new(RatedSms {
                    inner: sms,
                    rate: AccountRate::new(store.clone(), Channel::Sms, rate),
                }),
                None => sms,
            }
        } else {
            Arc::new(NoSms)
        };
        Ok(Delivery {
            store,
            mailer,
            sms,
            events: Arc::new(crate::metrics::CountingPublisher::new(events)),
            clock: self.clock(),
        })
    }

    /// Store, the bus and the clock: what delivery feedback moves log
    /// entries and publishes their events with. Not counted in `Messages`:
    /// a provider's report is not a decided message.
    pub fn feedback(&self) -> Result<DeliveryFeedback, ConfigError> {
        Ok(DeliveryFeedback {
            store: self.store()?,
            events: self.given(Adapter::EventBridge, &self.adapters.events)?,
            clock: self.clock(),
        })
    }

    /// The key of the keyed hashes and the limits of SPEC §6 (the function
    /// declares the key and the three limits).
    pub fn quotas(&self) -> Result<domain::quota::Quotas, ConfigError> {
        use crate::config::*;
        let key = self.required(CONTACT_HASH_KEY)?;
        for limit in [
            LIMIT_CODES_PER_SOURCE,
            LIMIT_CODES_PER_EMAIL,
            LIMIT_POSTS_PER_SOURCE,
        ] {
            self.variable(limit)?;
        }
        let key = domain::keyed::HashKey::new(key.as_bytes()).ok_or(ConfigError::Invalid {
            name: CONTACT_HASH_KEY.name,
            why: "too short".into(),
        })?;
        Ok(domain::quota::Quotas::new(key, self.adapters.config.limits))
    }

    /// The origin check of an API function (SPEC §6, a CDN in front).
    pub fn origin_secret(&self) -> Result<Option<String>, ConfigError> {
        self.variable(crate::config::ORIGIN_VERIFY_SECRET)
    }

    /// The mailer alone (the booking function sends verification codes).
    pub fn mailer(&self) -> Result<Arc<dyn Mailer>, ConfigError> {
        self.rated_mailer(&self.store()?)
    }

    /// The mailer under the account's e-mail rate, counted in `store`'s
    /// table: every function that sends e-mail declares the rate, so that
    /// none sends outside it (`None` in local mode: not limited).
    fn rated_mailer(&self, store: &Arc<TableStore>) -> Result<Arc<dyn Mailer>, ConfigError> {
        let mailer = self.given(Adapter::Ses, &self.adapters.mailer)?;
        self.variable(crate::config::SES_RATE_PER_SECOND)?;
        Ok(match self.adapters.config.ses_per_second {
            Some(rate) => Arc::new(RatedMailer {
                inner: mailer,
                rate: AccountRate::new(store.clone(), Channel::Email, rate),
            }),
            None => mailer,
        })
    }

    /// The SMS rate the function paces its sends to (`None`: the default).
    pub fn sms_per_second(&self) -> Result<Option<u32>, ConfigError> {
        self.variable(crate::config::SMS_RATE_PER_SECOND)?;
        Ok(self.adapters.config.sms_per_second)
    }

    /// The account's e-mail rate (`None`: not limited, local mode).
    pub fn ses_per_second(&self) -> Result<Option<u32>, ConfigError> {
        self.variable(crate::config::SES_RATE_PER_SECOND)?;
        Ok(self.adapters.config.ses_per_second)
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
