//! The reminder sweeper: run on a schedule, sends every reminder due up to now
//! (SPEC §4.3) and stops cleanly before the Lambda's deadline.

use lambda_runtime::{Context, LambdaEvent};
use shared::service::delivery::Delivery;
use shared::service::reminders::{ReminderSweeper, SweepOptions, SweepReport};
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
    pub fn new(delivery: Delivery, options: SweepOptions) -> Self {
        Self {
            sweeper: Arc::new(ReminderSweeper::new(delivery, options)),
        }
    }

    /// The payload (EventBridge's scheduled event) carries nothing the sweep needs.
    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<SweepReport, lambda_runtime::Error> {
        Ok(self.sweeper.sweep(deadline(&event.context)).await?)
    }
}
