//! The reminder scheduler: fed the table's stream, keeps the due index of
//! reminders in step with appointments and practitioner settings (SPEC §4.3).

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::LambdaEvent;
use shared::ports::{Clock, Store};
use shared::service::reminders::ReminderScheduler;
use std::convert::Infallible;
use std::sync::Arc;

#[derive(Clone)]
pub struct ReminderSchedulerFunction {
    scheduler: ReminderScheduler,
}

impl ReminderSchedulerFunction {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            scheduler: ReminderScheduler::new(store, clock),
        }
    }

    /// Reports the records to retry (partial batch failure), never fails the whole batch.
    pub async fn handle(
        &self,
        event: LambdaEvent<Event>,
    ) -> Result<DynamoDbEventResponse, Infallible> {
        Ok(self.scheduler.handle(event.payload).await)
    }
}
