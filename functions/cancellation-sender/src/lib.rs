//! The cancellation sender: fed the table's stream, sends the messages that
//! follow a cancellation, once: the patient's cancellation e-mail (SPEC §4.2)
//! and the practice's cancellation SMS with its rebooking link (SPEC §4.4).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::LambdaEvent;
use shared::links::PublicUrls;
use shared::service::cancellation::CancellationSender;
use shared::service::delivery::Delivery;
use shared::stream::process_in_order;
use std::convert::Infallible;
use std::sync::Arc;

#[derive(Clone)]
pub struct CancellationFunction {
    sender: Arc<CancellationSender>,
}

impl CancellationFunction {
    pub fn new(delivery: Delivery, urls: PublicUrls) -> Self {
        Self {
            sender: Arc::new(CancellationSender::new(delivery, urls)),
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
