//! What local mode reads from `template.yaml`, so that it serves the same routes
//! and feeds the senders through the same stream filters as AWS does.

use serde_json::Value as Json;
use serde_norway::Value;

/// The SAM template, compiled in.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

#[derive(Debug, Clone)]
pub struct HttpRoute {
    pub function: String,
    pub method: String,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct StreamSource {
    pub function: String,
    pub batch_size: usize,
    /// `None`: `-1` in the template, retried until the record is too old.
    pub maximum_retry_attempts: Option<u32>,
    /// `None`: `-1` in the template, records never too old.
    pub maximum_record_age: Option<std::time::Duration>,
    /// Lambda event filter patterns; a record passes when any matches.
    pub filters: Vec<Json>,
    /// `TRIM_HORIZON` or `LATEST`: where a DynamoDB Streams reader starts.
    pub starting_position: String,
}

/// A function run on an EventBridge schedule (`rate(...)` expressions).
#[derive(Debug, Clone)]
pub struct ScheduleSource {
    pub function: String,
    pub every: std::time::Duration,
    /// The function's `Timeout` (its own, or the Globals'): a run's deadline.
    pub timeout: std::time::Duration,
}

/// Lambda's timeout when a template gives none.
const LAMBDA_DEFAULT_TIMEOUT_SECONDS: u64 = 3;

#[derive(Debug, Default)]
pub struct Template {
    pub routes: Vec<HttpRoute>,
    pub streams: Vec<StreamSource>,
    pub schedules: Vec<ScheduleSource>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
}

fn shape(what: impl Into<String>) -> TemplateError {
    TemplateError::Shape(what.into())
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_mapping()?.get(key)
}

impl Template {
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let root: Value = serde_norway::from_str(source)?;
        let resources = get(&root, "Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| shape("no Resources"))?;
        let mut template = Template::default();
        for (name, resource) in resources {
            let name = name.as_str().unwrap_or_default().to_string();
            if get(resource, "Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let events = get(resource, "Properties")
                .and_then(|p| get(p, "Events"))
                .and_then(Value::as_mapping);
            for (event_name, event) in events.into_iter().flatten() {
                let props = get(event, "Properties")
                    .ok_or_else(|| shape(format!("{name}: event without Properties")))?;
                match get(event, "Type").and_then(Value::as_str) {
                    Some("HttpApi") => template.routes.push(HttpRoute {
                        function: name.clone(),
                        method: get(props, "Method")
                            .and_then(Value::as_str)
                            .ok_or_else(|| shape(format!("{name}.{event_name:?}: no Method")))?
                            .to_ascii_uppercase(),
                        path: get(props, "Path")
                            .and_then(Value::as_str)
                            .ok_or_else(|| shape(format!("{name}.{event_name:?}: no Path")))?
                            .to_string(),
                    }),
                    Some("DynamoDB") => {
                        let filters = get(props, "FilterCriteria")
                            .and_then(|f| get(f, "Filters"))
                            .and_then(Value::as_sequence)
                            .map(|filters| {
                                filters
                                    .iter()
                                    .map(|f| {
                                        let pattern =
                                            get(f, "Pattern").and_then(Value::as_str).ok_or_else(
                                                || shape(format!("{name}: filter without Pattern")),
                                            )?;
                                        let json: Json =
                                            serde_json::from_str(pattern).map_err(|e| {
                                                shape(format!(
                                                    "{name}: filter pattern is not JSON: {e}"
                                                ))
                                            })?;
                                        check_pattern(&json)
                                            .map_err(|e| shape(format!("{name}: {e}")))?;
                                        Ok(json)
                                    })
                                    .collect::<Result<Vec<_>, TemplateError>>()
                            })
                            .transpose()?
                            .unwrap_or_default();
                        let number = |key: &str, default: u64| {
                            get(props, key).and_then(Value::as_u64).unwrap_or(default)
                        };
                        // Lambda's limits: -1 means none.
                        let limit = |key: &str, default: u64| match get(props, key)
                            .and_then(Value::as_i64)
                        {
                            Some(-1) => None,
                            Some(n) => Some(u64::try_from(n).unwrap_or(default)),
                            None => Some(default),
                        };
                        template.streams.push(StreamSource {
                            function: name.clone(),
                            batch_size: number("BatchSize", 100) as usize,
                            maximum_retry_attempts: limit("MaximumRetryAttempts", 10)
                                .map(|n| n as u32),
                            maximum_record_age: limit("MaximumRecordAgeInSeconds", 86400)
                                .map(std::time::Duration::from_secs),
                            filters,
                            starting_position: get(props, "StartingPosition")
                                .and_then(Value::as_str)
                                .unwrap_or("TRIM_HORIZON")
                                .to_string(),
                        });
                    }
                    Some("Schedule") => {
                        let expression = get(props, "Schedule")
                            .and_then(|v| resolve(&root, v))
                            .ok_or_else(|| shape(format!("{name}.{event_name:?}: no Schedule")))?;
                        let timeout = get(resource, "Properties")
                            .and_then(|p| get(p, "Timeout"))
                            .or_else(|| {
                                get(&root, "Globals")
                                    .and_then(|g| get(g, "Function"))
                                    .and_then(|f| get(f, "Timeout"))
                            })
                            .and_then(Value::as_u64)
                            .unwrap_or(LAMBDA_DEFAULT_TIMEOUT_SECONDS);
                        template.schedules.push(ScheduleSource {
                            function: name.clone(),
                            timeout: std::time::Duration::from_secs(timeout),
                            every: rate(&expression)
                                .ok_or_else(|| shape(format!("{name}: local mode runs rate(...) schedules only, not {expression:?}")))?,
                        });
                    }
                    _ => {}
                }
            }
        }
        Ok(template)
    }
}

/// A plain string, or `!Ref` to a parameter, read as its default.
fn resolve(root: &Value, value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let parameter = tagged.value.as_str()?;
            get(get(get(root, "Parameters")?, parameter)?, "Default")
                .and_then(Value::as_str)
                .map(str::to_string)
        }
        _ => None,
    }
}

/// `rate(5 minutes)`, `rate(1 hour)`, `rate(30 seconds)` as a duration.
fn rate(expression: &str) -> Option<std::time::Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: u64 = count.parse().ok()?;
    let seconds = match unit.trim().trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86400,
        _ => return None,
    };
    (count > 0).then(|| std::time::Duration::from_secs(count * seconds))
}

/// Local mode understands exact values, `prefix`, `exists` and `anything-but`;
/// a pattern using anything else is refused at start, not silently ignored.
fn check_pattern(pattern: &Json) -> Result<(), String> {
    match pattern {
        Json::Object(fields) => fields.values().try_for_each(check_pattern),
        Json::Array(options) => options.iter().try_for_each(|o| match o {
            Json::Object(op) => op.keys().try_for_each(|k| match k.as_str() {
                "prefix" | "exists" | "anything-but" => Ok(()),
                other => Err(format!(
                    "filter operator {other:?} is not supported in local mode"
                )),
            }),
            Json::Array(_) => Err("nested arrays in a filter pattern".into()),
            _ => Ok(()),
        }),
        _ => Err("filter values must be arrays".into()),
    }
}

/// Lambda's event filtering, for the operators [`check_pattern`] accepts.
pub fn matches(pattern: &Json, record: &Json) -> bool {
    match pattern {
        Json::Object(fields) => fields.iter().all(|(key, sub)| {
            let value = record.get(key);
            if let Json::Array(options) = sub {
                let wants_absent = options
                    .iter()
                    .any(|o| o.get("exists") == Some(&Json::Bool(false)));
                if wants_absent {
                    return value.is_none();
                }
            }
            value.is_some_and(|v| matches(sub, v))
        }),
        Json::Array(options) => options.iter().any(|option| match option {
            Json::Object(op) => op.iter().all(|(name, arg)| match name.as_str() {
                "exists" => arg == &Json::Bool(true),
                "prefix" => match (record.as_str(), arg.as_str()) {
                    (Some(v), Some(p)) => v.starts_with(p),
                    _ => false,
                },
                "anything-but" => match arg {
                    Json::Array(excluded) => !excluded.contains(record),
                    single => single != record,
                },
                _ => false,
            }),
            scalar => scalar == record,
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// AWS advises at most two readers per stream shard: more are throttled
    /// on GetRecords (docs/scale.md).
    #[test]
    fn the_table_stream_has_at_most_two_readers() {
        let template = Template::parse(TEMPLATE).unwrap();
        let readers: Vec<&str> = template
            .streams
            .iter()
            .map(|s| s.function.as_str())
            .collect();
        assert!(readers.len() <= 2, "{readers:?}");
    }

    #[test]
    fn the_projects_template_declares_routes_and_filtered_streams() {
        let template = Template::parse(TEMPLATE).unwrap();
        assert!(
            template
                .routes
                .iter()
                .any(|r| r.method == "POST" && r.path == "/practitioners/{pid}/appointments")
        );
        let notices = template
            .streams
            .iter()
            .find(|s| s.function == "NoticeSenderFunction")
            .unwrap();
        // Confirmations and cancellation notices: a filter each.
        assert_eq!(notices.filters.len(), 2);
        // The notices' records are retried past the claim lease and the
        // give-up, so the attempt that logs a message `failed` always comes.
        use domain::service::delivery::{CLAIM_LEASE, GIVE_UP_AFTER};
        assert_eq!(notices.maximum_retry_attempts, None);
        let age = notices.maximum_record_age.unwrap();
        assert!(age > (GIVE_UP_AFTER + CLAIM_LEASE).to_std().unwrap());
        let sweeper = template
            .schedules
            .iter()
            .find(|s| s.function == "ReminderSweeperFunction")
            .unwrap();
        assert_eq!(sweeper.every, std::time::Duration::from_secs(300));
        assert_eq!(
            rate("rate(1 hour)"),
            Some(std::time::Duration::from_secs(3600))
        );
        assert_eq!(rate("cron(0 * * * ? *)"), None);
    }

    #[test]
    fn filters_match_like_lambda_event_filtering() {
        let pattern = json!({"eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {"type": {"S": ["appointment"]}, "gone": [{"exists": false}]}}});
        let record = |event: &str, kind: &str| json!({"eventName": event, "dynamodb": {"NewImage": {"type": {"S": kind}}}});
        assert!(matches(&pattern, &record("INSERT", "appointment")));
        assert!(!matches(&pattern, &record("REMOVE", "appointment")));
        assert!(!matches(&pattern, &record("MODIFY", "message")));
        assert!(matches(
            &json!({"eventName": [{"anything-but": ["REMOVE"]}]}),
            &record("MODIFY", "x")
        ));
        assert!(matches(
            &json!({"eventName": [{"prefix": "INS"}]}),
            &record("INSERT", "x")
        ));
        assert!(check_pattern(&json!({"a": [{"numeric": [">", 1]}]})).is_err());
    }
}
