//! The confirmation sender: fed the table's stream, sends the confirmation
//! e-mail of SPEC §4.1 for each new or moved booking, once.

use aws_adapters::config::ConfigError;
use aws_adapters::config::PUBLIC_BASE_URL;
use aws_adapters::stream::process_in_order;
use aws_adapters::wiring::{Adapter, AwsAdapters, Needs, Trigger};
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use domain::links::PublicUrls;
use domain::service::confirmation::ConfirmationSender;
use domain::service::delivery::Delivery;
use lambda_runtime::LambdaEvent;
use std::convert::Infallible;
use std::sync::Arc;

#[derive(Clone)]
pub struct ConfirmationFunction {
    sender: Arc<ConfirmationSender>,
}

impl ConfirmationFunction {
    pub fn new(delivery: Delivery, urls: PublicUrls) -> Self {
        Self {
            sender: Arc::new(ConfirmationSender::new(delivery, urls)),
        }
    }

    /// Reports the records to retry (partial batch failure), never fails the whole batch.
    pub async fn handle(
        &self,
        event: LambdaEvent<Event>,
    ) -> Result<DynamoDbEventResponse, Infallible> {
        Ok(process_in_order(event.payload, |change| self.sender.on_change(change)).await)
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "ConfirmationSenderFunction",
    trigger: Trigger::TableStream,
    adapters: &[Adapter::Table, Adapter::Ses, Adapter::EventBridge],
    variables: &[PUBLIC_BASE_URL],
};

/// The function on AWS: its adapters from the environment, then the same
/// constructor local mode calls with its own.
pub async fn from_env() -> Result<ConfirmationFunction, ConfigError> {
    let aws = AwsAdapters::load(&NEEDS).await;
    Ok(ConfirmationFunction::new(
        aws.delivery()?,
        aws.public_urls()?,
    ))
}
