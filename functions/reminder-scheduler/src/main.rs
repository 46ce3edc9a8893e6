//! Lambda entry point of the reminder scheduler.

use reminder_scheduler::ReminderSchedulerFunction;
use shared::clock::SystemClock;
use shared::telemetry::{LogFormat, init};
use shared::wiring;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    let aws = wiring::aws_config().await;
    let function = ReminderSchedulerFunction::new(wiring::store(&aws)?, Arc::new(SystemClock));
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
