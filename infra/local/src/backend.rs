//! Which services the handlers of local mode talk to: the memory table, the
//! outbox and an in-memory event record (the default), or DynamoDB, SES v2,
//! SNS and EventBridge at an endpoint (moto, or a real account) through the
//! same adapters the Lambda functions use. Either way the functions get the
//! same store (the Lambdas'), over one table or the other. The stream that
//! feeds the senders is the memory table's, or the table's own DynamoDB stream.

use crate::aws_stream::StreamsReader;
use crate::embedded::MemoryTable;
use crate::embedded::Outbox;
use crate::embedded::RecordedEvents;
use crate::stream::RecordSource;
use crate::template::StreamSource;
use aws_adapters::config::{self, Config, ConfigError};
use aws_adapters::dynamo::DynamoTable;
use aws_adapters::eventbridge::EventBridgePublisher;
use aws_adapters::ses::SesMailer;
use aws_adapters::sns::SnsSmsSender;
use aws_adapters::table::Table;
use aws_adapters::wiring::Needs;
use domain::ports::{EventPublisher, Mailer, SmsSender};
use std::sync::Arc;

/// `embedded` (default) or `aws`.
pub const AGENDA_BACKEND: &str = "AGENDA_BACKEND";

#[derive(Clone, Default)]
pub enum Backend {
    #[default]
    Embedded,
    Aws(Box<AwsBackend>),
}

/// Where the AWS adapters point: the SDK's configuration, whose endpoint,
/// region and credentials are the SDK's own variables (`AWS_ENDPOINT_URL`,
/// `AWS_REGION`, `AWS_PROFILE`, ...). Which table, bus and sender is the
/// functions' own configuration ([`Config`]: `TABLE_NAME`, ...).
#[derive(Clone)]
pub struct AwsBackend {
    pub sdk: aws_config::SdkConfig,
}

impl Backend {
    /// Reads `AGENDA_BACKEND` and, for `aws`, the SDK's configuration.
    pub async fn from_env() -> Result<Self, String> {
        match std::env::var(AGENDA_BACKEND).as_deref() {
            Err(_) | Ok("") | Ok("embedded") => Ok(Backend::Embedded),
            Ok("aws") => Ok(Backend::Aws(Box::new(AwsBackend {
                sdk: aws_adapters::wiring::sdk_config()
                    .await
                    .map_err(|e| format!("{AGENDA_BACKEND}=aws: {e}"))?,
            }))),
            Ok(other) => Err(format!(
                "{AGENDA_BACKEND} must be \"embedded\" or \"aws\", not {other:?}"
            )),
        }
    }

    pub fn is_aws(&self) -> bool {
        matches!(self, Backend::Aws(_))
    }
}

/// The table underneath the store.
enum Tables {
    Memory(Arc<MemoryTable>),
    Aws {
        sdk: Box<aws_config::SdkConfig>,
        name: String,
    },
}

/// The adapters of local mode, before they are given to each function, and
/// the source of stream records.
pub(crate) struct Wiring {
    tables: Tables,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub events: Arc<dyn EventPublisher>,
}

impl Wiring {
    pub fn new(
        backend: &Backend,
        config: &Config,
        outbox: Arc<Outbox>,
        recorded: Arc<RecordedEvents>,
    ) -> Result<Self, String> {
        match backend {
            Backend::Embedded => Ok(Self {
                tables: Tables::Memory(Arc::new(MemoryTable::new())),
                mailer: outbox.clone(),
                sms: outbox,
                events: recorded,
            }),
            Backend::Aws(aws) => {
                let required = |v| {
                    config
                        .required(v)
                        .map_err(|e: ConfigError| format!("{AGENDA_BACKEND}=aws: {e}"))
                };
                Ok(Self {
                    tables: Tables::Aws {
                        sdk: Box::new(aws.sdk.clone()),
                        name: required(config::TABLE_NAME)?,
                    },
                    mailer: Arc::new(SesMailer::new(
                        aws_sdk_sesv2::Client::new(&aws.sdk),
                        required(config::SENDER_EMAIL)?,
                        config.ses_configuration_set.clone(),
                    )),
                    sms: Arc::new(SnsSmsSender::new(
                        aws_sdk_sns::Client::new(&aws.sdk),
                        config.sms_sender_id.clone(),
                        config
                            .sms_max_price
                            .clone()
                            .unwrap_or_else(|| aws_adapters::sns::DEFAULT_SMS_MAX_PRICE.into()),
                    )),
                    events: Arc::new(EventBridgePublisher::new(
                        aws_sdk_eventbridge::Client::new(&aws.sdk),
                        required(config::EVENT_BUS_NAME)?,
                    )),
                })
            }
        }
    }

    /// The table one function is handed (`None`: local mode itself, for
    /// seeding and `/dev/*`). On AWS, a DynamoDB client that refuses what
    /// the function's role would not be granted (see
    /// `aws_adapters::iam_guard`), so the moto scenarios check each
    /// function's declared actions; the memory table is shared as it is.
    pub fn table_for(&self, needs: Option<&Needs>) -> Arc<dyn Table> {
        match &self.tables {
            Tables::Memory(memory) => memory.clone(),
            Tables::Aws { sdk, name } => {
                let client = match needs {
                    Some(needs) => aws_adapters::iam_guard::dynamodb_client(sdk, needs),
                    None => aws_sdk_dynamodb::Client::new(sdk),
                };
                Arc::new(DynamoTable::new(client, name.clone()))
            }
        }
    }

    pub fn memory(&self) -> Option<Arc<MemoryTable>> {
        match &self.tables {
            Tables::Memory(memory) => Some(memory.clone()),
            Tables::Aws { .. } => None,
        }
    }

    /// One reader per stream function, as each event source mapping reads the
    /// stream on its own.
    pub async fn records(&self, source: &StreamSource) -> Result<Box<dyn RecordSource>, String> {
        match &self.tables {
            Tables::Memory(memory) => Ok(Box::new(memory.subscribe())),
            Tables::Aws { sdk, name } => {
                let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
                let reader = StreamsReader::open(
                    &aws_sdk_dynamodb::Client::new(sdk),
                    aws_sdk_dynamodbstreams::Client::new(sdk),
                    name,
                    &source.starting_position,
                    region,
                )
                .await?;
                Ok(Box::new(reader))
            }
        }
    }
}
