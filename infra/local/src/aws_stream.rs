//! DynamoDB Streams as a [`RecordSource`]: what Lambda's event source mapping
//! reads on AWS, read here through the SDK, so that local mode against moto or
//! an account feeds the senders the records DynamoDB itself produced. Each
//! record is converted to the shape Lambda hands over (`aws_lambda_events`'
//! DynamoDB event), which is what the filters and the handlers read.

use crate::stream::{Progress, RecordSource};
use aws_adapters::telemetry::redact;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_smithy_types::error::display::DisplayErrorContext;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Streams are pulled, not pushed. Lambda polls each shard about four times a
/// second; one reader per function can afford to poll a little more often.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// After an error (throttling, expired iterator, endpoint down) before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

struct Shard {
    id: String,
    iterator: Option<String>,
    /// Last record read: an expired or failed iterator resumes after it.
    last_sequence: Option<String>,
    closed: bool,
}

pub struct StreamsReader {
    client: Client,
    stream_arn: String,
    region: String,
    start: ShardIteratorType,
    shards: Vec<Shard>,
    empty_polls: Arc<watch::Sender<u64>>,
}

fn error_text<E: std::error::Error>(e: E) -> String {
    redact(&DisplayErrorContext(e).to_string())
}

impl StreamsReader {
    /// The stream of `table`, read from `starting_position` (the template's
    /// `StartingPosition`: `TRIM_HORIZON` or `LATEST`).
    pub async fn open(
        dynamodb: &aws_sdk_dynamodb::Client,
        client: Client,
        table: &str,
        starting_position: &str,
        region: String,
    ) -> Result<Self, String> {
        let description = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| format!("cannot describe table {table}: {}", error_text(e)))?;
        let stream_arn = description
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| format!("table {table} has no stream (StreamSpecification)"))?
            .to_string();
        let mut reader = Self {
            client,
            stream_arn,
            region,
            start: ShardIteratorType::from(starting_position),
            shards: Vec::new(),
            empty_polls: Arc::new(watch::Sender::new(0)),
        };
        reader.discover_shards().await?;
        Ok(reader)
    }

    /// Adds the shards not known yet (DynamoDB opens new ones as old ones
    /// close); they are listed parents first, and read in that order.
    async fn discover_shards(&mut self) -> Result<(), String> {
        let mut after: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(after.clone())
                .send()
                .await
                .map_err(|e| format!("cannot describe the stream: {}", error_text(e)))?;
            let Some(description) = out.stream_description() else {
                return Ok(());
            };
            for shard in description.shards() {
                let Some(id) = shard.shard_id() else { continue };
                if !self.shards.iter().any(|s| s.id == id) {
                    self.shards.push(Shard {
                        id: id.to_string(),
                        iterator: None,
                        last_sequence: None,
                        closed: false,
                    });
                }
            }
            after = description.last_evaluated_shard_id().map(str::to_string);
            if after.is_none() {
                return Ok(());
            }
        }
    }

    async fn iterator(&self, shard: &Shard) -> Result<String, String> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(&shard.id);
        let request = match &shard.last_sequence {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
            None => request.shard_iterator_type(self.start.clone()),
        };
        let out = request
            .send()
            .await
            .map_err(|e| format!("cannot get a shard iterator: {}", error_text(e)))?;
        out.shard_iterator()
            .map(str::to_string)
            .ok_or_else(|| "no shard iterator returned".to_string())
    }

    /// The new records of the first shard that has any.
    async fn poll(&mut self) -> Result<Vec<Value>, String> {
        let mut closed_any = false;
        let mut records = Vec::new();
        for i in 0..self.shards.len() {
            if self.shards[i].closed {
                continue;
            }
            let iterator = match self.shards[i].iterator.take() {
                Some(iterator) => iterator,
                None => self.iterator(&self.shards[i]).await?,
            };
            let out = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
                .map_err(|e| format!("cannot read the stream: {}", error_text(e)))?;
            let shard = &mut self.shards[i];
            for record in out.records() {
                if let Some(sequence) = record.dynamodb().and_then(|d| d.sequence_number()) {
                    shard.last_sequence = Some(sequence.to_string());
                }
                records.push(lambda_record(record, &self.stream_arn, &self.region));
            }
            match out.next_shard_iterator() {
                Some(next) => shard.iterator = Some(next.to_string()),
                None => {
                    shard.closed = true;
                    closed_any = true;
                }
            }
            if !records.is_empty() {
                break;
            }
        }
        if closed_any {
            self.discover_shards().await?;
        }
        Ok(records)
    }
}

impl RecordSource for StreamsReader {
    fn next(&mut self) -> BoxFuture<'_, Option<Vec<Value>>> {
        Box::pin(async move {
            loop {
                match self.poll().await {
                    Ok(records) if !records.is_empty() => return Some(records),
                    Ok(_) => {
                        self.empty_polls.send_modify(|n| *n += 1);
                        tokio::time::sleep(POLL_INTERVAL).await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "DynamoDB Streams read failed; retrying");
                        tokio::time::sleep(ERROR_BACKOFF).await;
                    }
                }
            }
        })
    }

    /// The shard position moved when the records were read.
    fn done(&mut self, _n: usize) {}

    fn progress(&self) -> Progress {
        Progress::EmptyPolls(self.empty_polls.clone())
    }
}

fn image(attributes: &HashMap<String, AttributeValue>) -> Value {
    let item = serde_dynamo::Item::from(attributes.clone());
    serde_json::to_value(item).expect("DynamoDB items serialize to JSON")
}

/// An SDK stream record in the JSON shape of Lambda's DynamoDB event record.
pub fn lambda_record(record: &Record, stream_arn: &str, region: &str) -> Value {
    let mut change = serde_json::Map::new();
    if let Some(d) = record.dynamodb() {
        if let Some(at) = d.approximate_creation_date_time() {
            change.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
        if let Some(keys) = d.keys() {
            change.insert("Keys".into(), image(keys));
        }
        if let Some(new) = d.new_image() {
            change.insert("NewImage".into(), image(new));
        }
        if let Some(old) = d.old_image() {
            change.insert("OldImage".into(), image(old));
        }
        if let Some(sequence) = d.sequence_number() {
            change.insert("SequenceNumber".into(), json!(sequence));
        }
        if let Some(size) = d.size_bytes() {
            change.insert("SizeBytes".into(), json!(size));
        }
        if let Some(view) = d.stream_view_type() {
            change.insert("StreamViewType".into(), json!(view.as_str()));
        }
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version(),
        "eventSource": record.event_source(),
        "awsRegion": record.aws_region().unwrap_or(region),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::dynamodb::Event;
    use aws_sdk_dynamodbstreams::primitives::DateTime;
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord, StreamViewType};

    #[test]
    fn sdk_records_become_lambda_event_records() {
        let attr = |s: &str| AttributeValue::S(s.to_string());
        let record = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("eu-west-3")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_764_064_931))
                    .keys("pk", attr("APPT#1"))
                    .new_image("pk", attr("APPT#1"))
                    .new_image("version", AttributeValue::N("2".into()))
                    .sequence_number("100")
                    .size_bytes(42)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )
            .build();
        let json = lambda_record(&record, "arn:stream", "eu-west-3");
        assert_eq!(json["dynamodb"]["NewImage"]["version"], json!({"N": "2"}));
        let event: Event = serde_json::from_value(json!({ "Records": [json] })).unwrap();
        let parsed = &event.records[0];
        assert_eq!(parsed.event_name, "INSERT");
        assert_eq!(parsed.change.sequence_number.as_deref(), Some("100"));
        assert!(parsed.change.old_image.is_empty());
        assert_eq!(parsed.change.new_image.len(), 2);
    }
}
