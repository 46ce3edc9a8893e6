//! The cancellation sender: fed the table's stream, sends the messages that
//! follow a cancellation, once (SPEC §4.2: the patient's cancellation e-mail).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::LambdaEvent;
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
    pub fn new(delivery: Delivery) -> Self {
        Self {
            sender: Arc::new(CancellationSender::new(delivery)),
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
