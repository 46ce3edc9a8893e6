//! Lambda entry point of the confirmation sender.

use confirmation_sender::ConfirmationFunction;
use shared::clock::SystemClock;
use shared::config::{optional, required, *};
use shared::events::EventBridgePublisher;
use shared::links::PublicUrls;
use shared::mail::{SesMailer, SnsSmsSender};
use shared::service::delivery::Delivery;
use shared::store::DynamoStore;
use shared::telemetry::{LogFormat, init};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    let table = required(TABLE_NAME, "the DynamoDB table of the agenda")?;
    let bus = required(
        EVENT_BUS_NAME,
        "the EventBridge bus for communication events",
    )?;
    let sender = required(
        SENDER_EMAIL,
        "the SES-verified address e-mails are sent from",
    )?;
    let base_url = required(
        PUBLIC_BASE_URL,
        "the public URL of the API, for patient links",
    )?;
    let aws = aws_config::load_from_env().await;
    let delivery = Delivery {
        store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table)),
        mailer: Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(&aws),
            sender,
            optional(SES_CONFIGURATION_SET),
        )),
        // Confirmations are e-mails; the port is wired like in every sender.
        sms: Arc::new(SnsSmsSender::new(
            aws_sdk_sns::Client::new(&aws),
            optional(SMS_SENDER_ID),
        )),
        events: Arc::new(EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(&aws),
            bus,
        )),
        clock: Arc::new(SystemClock),
    };
    let function = ConfirmationFunction::new(delivery, PublicUrls::new(&base_url));
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
