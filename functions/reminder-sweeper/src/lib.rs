//! The reminder sweeper: run on a schedule, sends every reminder due up to now
//! (SPEC §4.3), and the practice's cancellation SMS held through quiet hours
//! (SPEC §4.4), and stops cleanly before the Lambda's deadline.

use aws_adapters::config::ConfigError;
use aws_adapters::config::{PUBLIC_BASE_URL, SES_RATE_PER_SECOND, SMS_RATE_PER_SECOND};
use aws_adapters::dynamo::{DELETE_ITEM, GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::service::delivery::Delivery;
use domain::service::reminders::{ReminderSweeper, SweepOptions, SweepReport};
use lambda_runtime::{Context, LambdaEvent};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

#[derive(Clone)]
pub struct ReminderSweeperFunction {
    sweeper: Arc<ReminderSweeper>,
}

/// The invocation's deadline as a tokio instant; `None` when the context has none.
pub fn deadline(context: &Context) -> Option<Instant> {
    if context.deadline == 0 {
        return None;
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    Some(Instant::now() + Duration::from_millis(context.deadline.saturating_sub(now_ms)))
}

impl ReminderSweeperFunction {
    pub fn new(delivery: Delivery, urls: PublicUrls, options: SweepOptions) -> Self {
        Self {
            sweeper: Arc::new(ReminderSweeper::new(delivery, urls, options)),
        }
    }

    /// The payload (EventBridge's scheduled event) carries nothing the sweep needs.
    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<SweepReport, lambda_runtime::Error> {
        let report = self.sweeper.sweep(deadline(&event.context)).await?;
        aws_adapters::metrics::sweep_lag(report.lag_seconds);
        aws_adapters::metrics::sweep_backlog(report.left_for_next_sweep);
        Ok(report)
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "ReminderSweeperFunction",
    trigger: Trigger::Schedule,
    adapters: &[
        Adapter::Table,
        Adapter::Ses,
        Adapter::Sns,
        Adapter::EventBridge,
    ],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM, QUERY],
    // The due index of reminders and held notices.
    indexes: &[aws_adapters::due_index::GSI2],
    variables: &[SMS_RATE_PER_SECOND, SES_RATE_PER_SECOND, PUBLIC_BASE_URL],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<ReminderSweeperFunction, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    let mut options = SweepOptions::default();
    if given.sms_per_second()?.is_some() || given.ses_per_second()?.is_some() {
        // Each channel waits for the account's own rate (`Given::delivery`):
        // one pace for every reminder would hold e-mails to the SMS rate.
        options.per_second = None;
    }
    Ok(ReminderSweeperFunction::new(
        given.delivery()?,
        given.public_urls()?,
        options,
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<ReminderSweeperFunction, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
