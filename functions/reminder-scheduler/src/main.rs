//! Lambda entry point of the reminder scheduler.

use reminder_scheduler::ReminderSchedulerFunction;
use shared::clock::SystemClock;
use shared::config::{TABLE_NAME, required};
use shared::store::DynamoStore;
use shared::telemetry::{LogFormat, init};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    let table = required(TABLE_NAME, "the DynamoDB table of the agenda")?;
    let aws = aws_config::load_from_env().await;
    let function = ReminderSchedulerFunction::new(
        Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table)),
        Arc::new(SystemClock),
    );
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
