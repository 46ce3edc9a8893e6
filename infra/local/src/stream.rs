//! Local stand-in for Lambda's DynamoDB event source mapping: reads the embedded
//! store's stream, keeps the records the template's filters select, invokes the
//! sender in batches of the template's size, and retries from the first failed
//! record as reported (ReportBatchItemFailures), up to the template's limit.

use crate::template::{StreamSource, matches};
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::store::memory::StreamSubscription;
use std::sync::Arc;
use std::time::Duration;

/// A Lambda stream handler, as local mode calls it.
pub type StreamFunction =
    Arc<dyn Fn(Event) -> BoxFuture<'static, DynamoDbEventResponse> + Send + Sync>;

pub fn spawn(
    source: StreamSource,
    function: StreamFunction,
    mut subscription: StreamSubscription,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(first) = subscription.records.recv().await {
            let mut received = vec![first];
            while let Ok(next) = subscription.records.try_recv() {
                received.push(next);
            }
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
            subscription.done(count);
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
