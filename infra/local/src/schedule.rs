//! Local stand-in for EventBridge schedules: runs the scheduled functions of
//! template.yaml on a timer, and on demand (`POST /dev/clock`, `/dev/sweep`).

use crate::template::ScheduleSource;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// A Lambda handler invoked by a schedule, as local mode calls it; answers
/// what the handler answered, as JSON.
pub type ScheduledFunction =
    Arc<dyn Fn() -> BoxFuture<'static, Result<serde_json::Value, String>> + Send + Sync>;

/// Local mode's clock can be moved by hours at once, so it sweeps at least
/// this often however rarely the template's schedule runs on AWS.
pub const LONGEST_LOCAL_INTERVAL: Duration = Duration::from_secs(60);

pub fn spawn(source: ScheduleSource, function: ScheduledFunction) -> tokio::task::JoinHandle<()> {
    let every = source.every.min(LONGEST_LOCAL_INTERVAL);
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(every);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer.tick().await; // the first tick is immediate: wait one period
        loop {
            timer.tick().await;
            if let Err(e) = function().await {
                tracing::warn!(function = %source.function, error = %e, "scheduled run failed");
            }
        }
    })
}
