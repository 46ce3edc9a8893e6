//! The confirmation sender: fed the table's stream, sends the confirmation
//! e-mail of SPEC §4.1 for each new or moved booking, once.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::LambdaEvent;
use shared::links::PublicUrls;
use shared::service::confirmation::ConfirmationSender;
use shared::service::delivery::Delivery;
use shared::stream::process_in_order;
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
