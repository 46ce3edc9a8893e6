//! Local stand-in for Lambda's DynamoDB event source mapping: reads a stream (the
//! memory table's, or DynamoDB Streams itself: [`RecordSource`]), keeps the
//! records the template's filters select, invokes the sender in batches of the
//! template's size, and retries from the first failed record as reported
//! (ReportBatchItemFailures), up to the template's limits: attempts, and
//! record age (measured from the first invocation: locally a record is
//! handed over as soon as it is written).

use crate::embedded::StreamSubscription;
use crate::template::{StreamSource, matches};
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use futures::future::BoxFuture;
use serde_json::{Value, json};
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
    /// Records handed over and not yet handled (the memory table pushes them).
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
    let first_invocation = tokio::time::Instant::now();
    loop {
        let event: Event = match serde_json::from_value(json!({ "Records": remaining })) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(
                    function = %source.function,
                    error = %aws_adapters::telemetry::redact(&e.to_string()),
                    "stream records do not parse as a Lambda event"
                );
                return;
            }
        };
        let response = function(event).await;
        let Some(failure) = response.batch_item_failures.first() else {
            return;
        };
        let too_many = source
            .maximum_retry_attempts
            .is_some_and(|max| retries >= max);
        let too_old = source
            .maximum_record_age
            .is_some_and(|age| first_invocation.elapsed() >= age);
        if too_many || too_old {
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
    use std::sync::Mutex;

    /// Hands over one prepared set of records, then nothing more.
    struct Prepared(Option<Vec<Value>>, Arc<watch::Sender<usize>>);

    impl RecordSource for Prepared {
        fn next(&mut self) -> BoxFuture<'_, Option<Vec<Value>>> {
            Box::pin(async move { self.0.take() })
        }
        fn done(&mut self, n: usize) {
            self.1.send_modify(|p| *p -= n);
        }
        fn progress(&self) -> Progress {
            Progress::Pending(self.1.clone())
        }
    }

    fn record(sequence: u32, kind: &str) -> Value {
        json!({"eventID": format!("e{sequence}"), "eventName": "INSERT", "eventVersion": "1.1",
               "eventSource": "aws:dynamodb", "awsRegion": "eu-west-3",
               "eventSourceARN": "arn:aws:dynamodb:eu-west-3:000000000000:table/t/stream/s",
               "dynamodb": {"ApproximateCreationDateTime": 1764064931,
                            "SequenceNumber": sequence.to_string(), "SizeBytes": 1,
                            "StreamViewType": "NEW_AND_OLD_IMAGES",
                            "Keys": {"pk": {"S": format!("K{sequence}")}},
                            "NewImage": {"type": {"S": kind}}}})
    }

    #[tokio::test]
    async fn filters_batches_and_retries_from_the_first_failed_record() {
        let source = StreamSource {
            function: "Sender".into(),
            batch_size: 3,
            maximum_retry_attempts: Some(2),
            maximum_record_age: None,
            filters: vec![json!({"dynamodb": {"NewImage": {"type": {"S": ["appointment"]}}}})],
            starting_position: "TRIM_HORIZON".into(),
        };
        let seen: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
        let calls = seen.clone();
        let function: StreamFunction = Arc::new(move |event: Event| {
            let batch: Vec<String> = event
                .records
                .iter()
                .map(|r| r.change.sequence_number.clone().unwrap_or_default())
                .collect();
            let first_call = calls.lock().unwrap().is_empty();
            calls.lock().unwrap().push(batch);
            Box::pin(async move {
                let mut response = DynamoDbEventResponse::default();
                if first_call {
                    // Record 2 fails (and with it everything after it).
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = Some("2".into());
                    response.batch_item_failures.push(failure);
                }
                response
            })
        });
        let records = vec![
            record(1, "appointment"),
            record(2, "appointment"),
            record(3, "settings"),
            record(4, "appointment"),
            record(5, "appointment"),
        ];
        let pending = Arc::new(watch::Sender::new(records.len()));
        let progress = Progress::Pending(pending.clone());
        spawn(source, function, Box::new(Prepared(Some(records), pending)));
        progress.idle().await;
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                vec!["1".to_string(), "2".into(), "4".into()],
                vec!["2".into(), "4".into()],
                vec!["5".into()],
            ]
        );
    }
}
