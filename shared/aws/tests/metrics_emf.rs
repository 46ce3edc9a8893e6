//! The operator's metrics as CloudWatch reads them: embedded metric format
//! documents, one JSON line each (shared/aws/src/metrics.rs). Its own test
//! binary: the recorder is installed once per process, as on Lambda.

use aws_adapters::metrics;
use chrono::{TimeZone, Utc};
use domain::communications::{
    Channel, CommunicationEntry, CommunicationEvent, DeliveryState, MessageKind,
};
use domain::ids::{AppointmentId, PractitionerId};
use serde_json::Value;

fn event(kind: MessageKind, channel: Channel, state: DeliveryState) -> CommunicationEvent {
    CommunicationEvent {
        practitioner_id: PractitionerId::parse("dr-martin").unwrap(),
        by: domain::grants::Actor::System,
        appointment_id: AppointmentId::new(),
        message: "confirmation/email/1".into(),
        entry: CommunicationEntry {
            kind,
            channel,
            state,
            reason: None,
            reason_code: None,
            message_id: None,
            at: Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
        },
    }
}

fn flushed() -> Vec<Value> {
    let mut out = Vec::new();
    metrics::flush_into(&mut out);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON document"))
        .collect()
}

/// The document whose dimension set is exactly `dimensions`.
fn document<'a>(documents: &'a [Value], dimensions: &[&str]) -> &'a Value {
    documents
        .iter()
        .find(|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0] == serde_json::json!(dimensions)
        })
        .unwrap_or_else(|| panic!("no document with dimensions {dimensions:?}: {documents:#?}"))
}

#[test]
fn recorded_metrics_are_written_as_embedded_metric_format_documents() {
    // Given the recorder of a Lambda instance
    metrics::install();
    // When two confirmations are sent, a reminder SMS fails, a sweep runs
    // 90 s late and a stream record is read 1.5 s after its change
    let sent = event(
        MessageKind::Confirmation,
        Channel::Email,
        DeliveryState::Sent,
    );
    metrics::message_decided(&sent);
    metrics::message_decided(&sent);
    metrics::message_decided(&event(
        MessageKind::Reminder,
        Channel::Sms,
        DeliveryState::Failed,
    ));
    metrics::sweep_lag(90);
    metrics::sweep_backlog(3);
    metrics::stream_record_age(chrono::Duration::milliseconds(1500));
    let documents = flushed();

    // Then every document is EMF: the namespace, a timestamp, and for each
    // metric its name, unit and value at the top level beside its dimensions
    for d in &documents {
        let aws = &d["_aws"];
        assert!(
            aws["Timestamp"].as_u64().unwrap() > 1_700_000_000_000,
            "{d}"
        );
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "PatientCommunications");
        for dimension in directive["Dimensions"][0].as_array().unwrap() {
            assert!(d[dimension.as_str().unwrap()].is_string(), "{d}");
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(!d[metric["Name"].as_str().unwrap()].is_null(), "{d}");
        }
    }
    // Messages by kind, channel and outcome
    let confirmations = documents
        .iter()
        .find(|d| d["Kind"] == "confirmation")
        .expect("the confirmations' document");
    assert_eq!(confirmations["Channel"], "email");
    assert_eq!(confirmations["Outcome"], "sent");
    assert_eq!(confirmations["Messages"], 2);
    assert_eq!(
        confirmations["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        serde_json::json!([{"Name": "Messages", "Unit": "Count"}])
    );
    let failed_reminder = documents
        .iter()
        .find(|d| d["Kind"] == "reminder")
        .expect("the reminder's document");
    assert_eq!(
        (&failed_reminder["Channel"], &failed_reminder["Outcome"]),
        (&"sms".into(), &"failed".into())
    );
    // and by outcome alone, what the alarm reads
    let failed = documents
        .iter()
        .find(|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0] == serde_json::json!(["Outcome"])
                && d["Outcome"] == "failed"
        })
        .expect("failed messages by outcome alone");
    assert_eq!(failed["Messages"], 1);
    // The sweep's lag, in seconds, without dimensions
    let lag = document(&documents, &[]);
    assert_eq!(lag["SweepLag"], serde_json::json!([90.0]));
    // what the sweep left for the next one (the backlog alarm)
    assert_eq!(lag["SweepBacklog"], serde_json::json!([3.0]));
    let unit = |name: &str| {
        lag["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["Name"] == name))
            .map(|m| m["Unit"].clone())
    };
    assert_eq!(unit("SweepLag"), Some("Seconds".into()));
    assert_eq!(unit("SweepBacklog"), Some("Count".into()));
    // The stream record's age, in milliseconds, by function
    let age = document(&documents, &["FunctionName"]);
    assert_eq!(age["StreamRecordAge"], serde_json::json!([1500.0]));
    assert_eq!(
        age["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
        "Milliseconds"
    );
    // No document carries anything but ids of kinds, states and functions
    let text = serde_json::to_string(&documents).unwrap();
    assert!(!text.contains("dr-martin") && !text.contains('@'));

    // And a flush writes each recording once
    assert!(
        flushed().is_empty(),
        "counters and values are not written twice"
    );
}
