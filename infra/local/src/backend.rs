//! Which services the handlers of local mode talk to: the embedded store, the
//! outbox and an in-memory event record (the default), or DynamoDB, SES v2 and
//! EventBridge at an endpoint (moto, or a real account) through the same
//! adapters the Lambda functions use. The stream that feeds the senders is the
//! embedded store's, or the table's own DynamoDB stream.

use crate::aws_stream::StreamsReader;
use crate::embedded::MemoryStore;
use crate::embedded::Outbox;
use crate::embedded::RecordedEvents;
use crate::stream::RecordSource;
use crate::template::StreamSource;
use aws_adapters::config::{self, ConfigError, Variable};
use aws_adapters::dynamo::DynamoStore;
use aws_adapters::eventbridge::EventBridgePublisher;
use aws_adapters::ses::SesMailer;
use aws_adapters::sns::SnsSmsSender;
use aws_adapters::wiring::Needs;
use domain::ports::{EventPublisher, Mailer, SmsSender, Store};
use std::sync::Arc;

/// `embedded` (default) or `aws`.
pub const AGENDA_BACKEND: &str = "AGENDA_BACKEND";

#[derive(Clone, Default)]
pub enum Backend {
    #[default]
    Embedded,
    Aws(Box<AwsBackend>),
}

/// Where the AWS adapters point. The endpoint, region and credentials are the
/// SDK's own (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_PROFILE`, ...).
#[derive(Clone)]
pub struct AwsBackend {
    pub sdk: aws_config::SdkConfig,
    pub table: String,
    pub bus: String,
    pub sender_email: String,
    pub ses_configuration_set: Option<String>,
    pub sms_sender_id: Option<String>,
}

impl Backend {
    /// Reads `AGENDA_BACKEND` and, for `aws`, the variables the Lambda
    /// functions read (`TABLE_NAME`, `EVENT_BUS_NAME`, `SENDER_EMAIL`,
    /// `SES_CONFIGURATION_SET`).
    pub async fn from_env() -> Result<Self, String> {
        match std::env::var(AGENDA_BACKEND).as_deref() {
            Err(_) | Ok("") | Ok("embedded") => Ok(Backend::Embedded),
            Ok("aws") => {
                let missing = |e: ConfigError| format!("{AGENDA_BACKEND}=aws: {e}");
                let required = |v: Variable| {
                    v.read()
                        .and_then(|value| value.ok_or(ConfigError::Missing(v)))
                        .map_err(missing)
                };
                let optional = |v: Variable| v.read().ok().flatten();
                Ok(Backend::Aws(Box::new(AwsBackend {
                    sdk: aws_adapters::wiring::sdk_config().await.map_err(missing)?,
                    table: required(config::TABLE_NAME)?,
                    bus: required(config::EVENT_BUS_NAME)?,
                    sender_email: required(config::SENDER_EMAIL)?,
                    ses_configuration_set: optional(config::SES_CONFIGURATION_SET),
                    sms_sender_id: optional(config::SMS_SENDER_ID),
                })))
            }
            Ok(other) => Err(format!(
                "{AGENDA_BACKEND} must be \"embedded\" or \"aws\", not {other:?}"
            )),
        }
    }

    pub fn is_aws(&self) -> bool {
        matches!(self, Backend::Aws(_))
    }
}

/// The adapters handed to the handlers, and the source of stream records.
pub(crate) struct Wiring {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub events: Arc<dyn EventPublisher>,
    memory: Option<Arc<MemoryStore>>,
    aws: Option<AwsBackend>,
}

impl Wiring {
    pub fn new(backend: &Backend, outbox: Arc<Outbox>, recorded: Arc<RecordedEvents>) -> Self {
        match backend {
            Backend::Embedded => {
                let memory = Arc::new(MemoryStore::new());
                Self {
                    store: memory.clone(),
                    mailer: outbox.clone(),
                    sms: outbox,
                    events: recorded,
                    memory: Some(memory),
                    aws: None,
                }
            }
            Backend::Aws(aws) => Self {
                store: Arc::new(DynamoStore::new(
                    aws_sdk_dynamodb::Client::new(&aws.sdk),
                    aws.table.clone(),
                )),
                mailer: Arc::new(SesMailer::new(
                    aws_sdk_sesv2::Client::new(&aws.sdk),
                    aws.sender_email.clone(),
                    aws.ses_configuration_set.clone(),
                )),
                sms: Arc::new(SnsSmsSender::new(
                    aws_sdk_sns::Client::new(&aws.sdk),
                    aws.sms_sender_id.clone(),
                )),
                events: Arc::new(EventBridgePublisher::new(
                    aws_sdk_eventbridge::Client::new(&aws.sdk),
                    aws.bus.clone(),
                )),
                memory: None,
                aws: Some(aws.as_ref().clone()),
            },
        }
    }

    /// The store one function is handed: on AWS, a DynamoDB client that
    /// refuses what the function's role would not be granted (see
    /// `aws_adapters::iam_guard`), so the moto scenarios check each
    /// function's declared actions; the embedded store is shared as it is.
    pub fn store_for(&self, needs: &Needs) -> Arc<dyn Store> {
        match &self.aws {
            Some(aws) => Arc::new(DynamoStore::new(
                aws_adapters::iam_guard::dynamodb_client(&aws.sdk, needs),
                aws.table.clone(),
            )),
            None => self.store.clone(),
        }
    }

    pub fn memory(&self) -> Option<Arc<MemoryStore>> {
        self.memory.clone()
    }

    /// One reader per stream function, as each event source mapping reads the
    /// stream on its own.
    pub async fn records(&self, source: &StreamSource) -> Result<Box<dyn RecordSource>, String> {
        if let Some(memory) = &self.memory {
            return Ok(Box::new(memory.subscribe()));
        }
        let aws = self.aws.as_ref().expect("one backend is wired");
        let region = aws.sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let reader = StreamsReader::open(
            &aws_sdk_dynamodb::Client::new(&aws.sdk),
            aws_sdk_dynamodbstreams::Client::new(&aws.sdk),
            &aws.table,
            &source.starting_position,
            region,
        )
        .await?;
        Ok(Box::new(reader))
    }
}
