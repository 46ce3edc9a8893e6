//! The operator's metrics, in CloudWatch's embedded metric format (EMF): JSON
//! lines on stdout that CloudWatch Logs turns into metrics of the namespace
//! [`NAMESPACE`], with no call to CloudWatch and no IAM action. Recorded
//! through the `metrics` facade, so where no recorder is installed (local
//! mode, tests) a recording costs nothing and writes nothing.
//!
//! - `Messages` (count), by `Kind`, `Channel` and `Outcome` (`sent`,
//!   `skipped`, `failed`), and by `Outcome` alone for alarms: one per entry
//!   of a communications log published on the bus, from the senders and the
//!   reminder sweeper.
//! - `SweepLag` (seconds): how late the most overdue reminder was when a sweep
//!   began (0 when none was due).
//! - `SweepBacklog` (count): the due reminders a sweep left for the next one
//!   (the account's rates or the deadline did not let it send them); every
//!   sweep leaving some for a quarter of an hour is the template's
//!   `RemindersBacklogAlarm`: the rates do not cover the load.
//! - `StreamRecordAge` (milliseconds), by `FunctionName`: how old each table
//!   change was when a stream consumer read it.
//! - `OnlineBookings` (count): one per appointment booked online; the
//!   template's alarm on its hourly sum says when a practice is being filled
//!   by a script (issue 24).
//!
//! No value or dimension ever holds a patient's detail: kinds, channels,
//! states and function names only.

use async_trait::async_trait;
use domain::communications::CommunicationEvent;
use domain::ports::{EventPublisher, PublishError};
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::{Builder, Collector};
use std::sync::OnceLock;

pub const NAMESPACE: &str = "PatientCommunications";
pub const MESSAGES: &str = "Messages";
pub const SWEEP_LAG: &str = "SweepLag";
pub const SWEEP_BACKLOG: &str = "SweepBacklog";
pub const STREAM_RECORD_AGE: &str = "StreamRecordAge";
pub const ONLINE_BOOKINGS: &str = "OnlineBookings";

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the EMF recorder for this process (a Lambda instance's `main`).
/// Once only: later calls change nothing.
pub fn install() {
    COLLECTOR.get_or_init(|| {
        let collector = Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .init()
            .expect("the metrics recorder is installed once, by main");
        describe_counter!(MESSAGES, Unit::Count, "messages decided, by outcome");
        describe_counter!(ONLINE_BOOKINGS, Unit::Count, "appointments booked online");
        describe_histogram!(
            SWEEP_LAG,
            Unit::Seconds,
            "lateness of the oldest due reminder at sweep time"
        );
        describe_histogram!(
            SWEEP_BACKLOG,
            Unit::Count,
            "due reminders a sweep left for the next one"
        );
        describe_histogram!(
            STREAM_RECORD_AGE,
            Unit::Milliseconds,
            "age of a table change when read from the stream"
        );
        collector
    });
}

/// Writes what was recorded since the last flush, one EMF document per
/// dimension set: after each invocation, before Lambda may freeze the instance.
pub fn flush() {
    flush_into(std::io::stdout().lock());
}

/// Awaits an invocation's answer, then [`flush`]es what it recorded.
pub async fn flushed<T>(answer: impl std::future::Future<Output = T>) -> T {
    let answer = answer.await;
    flush();
    answer
}

/// [`flush`] into any writer (the tests read it).
pub fn flush_into(writer: impl std::io::Write) {
    if let Some(collector) = COLLECTOR.get() {
        if let Err(e) = collector.flush(writer) {
            tracing::warn!(error = %e, "metrics not written");
        }
    }
}

/// One appointment booked online (no dimension: the alarm is on the sum).
pub fn booked_online() {
    counter!(ONLINE_BOOKINGS).increment(1);
}

/// One message decided and logged (SPEC §5).
pub fn message_decided(event: &CommunicationEvent) {
    let entry = &event.entry;
    let outcome = state_name(entry.state);
    counter!(MESSAGES,
        "Kind" => entry.kind.as_str(), "Channel" => entry.channel.as_str(), "Outcome" => outcome.clone())
    .increment(1);
    counter!(MESSAGES, "Outcome" => outcome).increment(1);
}

/// The state as the API and the log name it (`sent`, `failed`, ...).
fn state_name(state: domain::communications::DeliveryState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// How late the reminder sweep is: the oldest due reminder's lateness.
pub fn sweep_lag(seconds: i64) {
    histogram!(SWEEP_LAG).record(seconds.max(0) as f64);
}

/// How many due reminders the sweep left for the next one.
pub fn sweep_backlog(left: usize) {
    histogram!(SWEEP_BACKLOG).record(left as f64);
}

/// How old a table change was when this function read it from the stream.
pub fn stream_record_age(age: chrono::Duration) {
    static FUNCTION: OnceLock<String> = OnceLock::new();
    let function = FUNCTION.get_or_init(|| {
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into())
    });
    histogram!(STREAM_RECORD_AGE, "FunctionName" => function.clone())
        .record(age.num_milliseconds().max(0) as f64);
}

/// The bus publisher, counting each entry it publishes in [`MESSAGES`]: every
/// decided message goes through it once (it is published again only when a
/// worker died between the log and the bus, as the bus itself may).
pub struct CountingPublisher<P: ?Sized = dyn EventPublisher> {
    inner: std::sync::Arc<P>,
}

impl<P: ?Sized> CountingPublisher<P> {
    pub fn new(inner: std::sync::Arc<P>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl<P: EventPublisher + ?Sized> EventPublisher for CountingPublisher<P> {
    async fn publish(&self, event: &CommunicationEvent) -> Result<(), PublishError> {
        self.inner.publish(event).await?;
        message_decided(event);
        Ok(())
    }
}
