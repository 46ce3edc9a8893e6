//! Lambda entry point of the reminder sweeper.

use reminder_sweeper::ReminderSweeperFunction;
use shared::config::{SMS_RATE_PER_SECOND, optional};
use shared::service::reminders::SweepOptions;
use shared::telemetry::{LogFormat, init};
use shared::wiring;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    let mut options = SweepOptions::default();
    if let Some(rate) = optional(SMS_RATE_PER_SECOND) {
        options.per_second = Some(rate.parse().map_err(|_| {
            format!("{SMS_RATE_PER_SECOND} must be a whole number of messages a second")
        })?);
    }
    let aws = wiring::aws_config().await;
    let function = ReminderSweeperFunction::new(wiring::delivery(&aws)?, options);
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
