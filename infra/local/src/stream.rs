//! Local stand-in for Lambda's DynamoDB event source mapping: reads a stream (the
//! embedded store's, or DynamoDB Streams itself: [`RecordSource`]), keeps the
//! records the template's filters select, invokes the sender in batches of the
//! template's size, and retries from the first failed record as reported
//! (ReportBatchItemFailures), up to the template's limit.

use crate::template::{StreamSource, matches};
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::store::memory::StreamSubscription;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A Lambda stream handler, as local mode calls it.
pub type StreamFunction =
    Arc<dyn Fn(Event) -> BoxFuture<'static, DynamoDbEventResponse> + Send + Sync>;

/// Where stream records come from, in Lambda's JSON shape, oldest first.
pub trait RecordSource: Send + 'static {
    /// Waits for the next records (at least one); `None` when the stream is gone.
    fn next(&mut self) -> BoxFuture<'_, Option<Vec<Value>>>;
    /// The `n` records last returned have been handled.
    fn done(&mut self, n: usize);
    /// How to tell that every record written so far has been handled.
    fn progress(&self) -> Progress;
}

/// Lets tests wait for the senders instead of sleeping.
#[derive(Clone)]
pub enum Progress {
    /// Records handed over and not yet handled (the embedded store pushes them).
    Pending(Arc<watch::Sender<usize>>),
    /// Polls of DynamoDB Streams that found nothing new, counted: records are
    /// pulled, so "idle" means a poll that started after the question was empty.
    EmptyPolls(Arc<watch::Sender<u64>>),
}

impl Progress {
    pub async fn idle(&self) {
        match self {
            Progress::Pending(pending) => {
                let _ = pending.subscribe().wait_for(|n| *n == 0).await;
            }
            Progress::EmptyPolls(polls) => {
                // The poll that completes the count +1 may have started before
                // this call; the one after it cannot have.
                let target = *polls.borrow() + 2;
                let _ = polls.subscribe().wait_for(|n| *n >= target).await;
            }
        }
    }
}

impl RecordSource for StreamSubscription {
    fn next(&mut self) -> BoxFuture<'_, Option<Vec<Value>>> {
        Box::pin(async move {
            let first = self.records.recv().await?;
            let mut received = vec![first];
            while let Ok(next) = self.records.try_recv() {
                received.push(next);
            }
            Some(received)
        })
    }

    fn done(&mut self, n: usize) {
        StreamSubscription::done(self, n);
    }

    fn progress(&self) -> Progress {
        Progress::Pending(self.pending.clone())
    }
}

pub fn spawn(
    source: StreamSource,
    function: StreamFunction,
    mut records: Box<dyn RecordSource>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(received) = records.next().await {
            let count = received.len();
            let selected: Vec<Value> = received
                .into_iter()
                .filter(|r| {
                    source.filters.is_empty() || source.filters.iter().any(|f| matches(f, r))
                })
                .collect();
            for batch in selected.chunks(source.batch_size.max(1)) {
                invoke_with_retries(&source, &function, batch).await;
            }
            records.done(count);
        }
    })
}

fn sequence_number(record: &Value) -> Option<&str> {
    record["dynamodb"]["SequenceNumber"].as_str()
}

async fn invoke_with_retries(source: &StreamSource, function: &StreamFunction, batch: &[Value]) {
    let mut remaining = batch.to_vec();
    let mut retries = 0;
    loop {
        let event: Event = match serde_json::from_value(json!({ "Records": remaining })) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(
                    function = %source.function,
                    error = %shared::telemetry::redact(&e.to_string()),
                    "stream records do not parse as a Lambda event"
                );
                return;
            }
        };
        let response = function(event).await;
        let Some(failure) = response.batch_item_failures.first() else {
            return;
        };
        if retries >= source.maximum_retry_attempts {
            tracing::error!(
                function = %source.function,
                records = remaining.len(),
                "retries exhausted: records go to the on-failure destination (dropped locally)"
            );
            return;
        }
        retries += 1;
        // Lambda resumes from the reported record; an unknown id retries the whole batch.
        if let Some(position) = failure.item_identifier.as_deref().and_then(|id| {
            remaining
                .iter()
                .position(|r| sequence_number(r) == Some(id))
        }) {
            remaining.drain(..position);
        }
        let backoff = Duration::from_millis(50 * 2u64.pow(retries.min(6)));
        tracing::warn!(function = %source.function, retries, ?backoff, "retrying stream records");
        tokio::time::sleep(backoff).await;
    }
}
