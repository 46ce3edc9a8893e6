//! The due index of reminders on DynamoDB (moto), on a table created from
//! template.yaml: the sweep's query reads due entries only, in due order and
//! by pages, entries are replaced and removed as the scheduler and the sweeper
//! expect, and a reminder is claimed once. Run by `make test` (it starts moto).

use acceptance::aws::{create_table_from_template, sdk_config};
use aws_adapters::dynamo::DynamoStore;
use chrono::Duration;
use domain::communications::{Channel, MessageKind};
use domain::fixtures::{at, booked};
use domain::ids::{AppointmentId, PractitionerId};
use domain::ports::Claim;
use domain::ports::capabilities::*;
use domain::reminder::ScheduledReminder;

async fn store() -> DynamoStore {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let table = format!("agenda-{}", AppointmentId::new()).to_lowercase();
    create_table_from_template(&client, &table).await;
    DynamoStore::new(client, table)
}

fn reminder(channel: Channel, start: &str, due: &str) -> ScheduledReminder {
    ScheduledReminder {
        appointment_id: AppointmentId::new(),
        practitioner_id: PractitionerId::parse("dr-martin").unwrap(),
        kind: MessageKind::Reminder,
        channel,
        start: at(start),
        due_at: at(due),
        version: None,
    }
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn the_due_query_returns_what_is_due_in_due_order_by_pages() {
    // Given an appointment (not an index entry) and four pending reminders
    let store = store().await;
    store
        .insert_appointment(&booked(at("2026-12-03T13:30:00Z"), 20))
        .await
        .unwrap();
    let later = reminder(
        Channel::Email,
        "2026-12-05T09:00:00Z",
        "2026-12-03T09:00:00Z",
    );
    let first = reminder(Channel::Sms, "2026-12-02T09:00:00Z", "2026-12-01T09:00:00Z");
    let second = reminder(
        Channel::Email,
        "2026-12-03T09:00:00Z",
        "2026-12-01T09:00:00Z",
    );
    let third = reminder(Channel::Sms, "2026-12-02T10:00:00Z", "2026-12-01T10:00:00Z");
    for r in [&later, &first, &second, &third] {
        store.put_reminder(r).await.unwrap();
    }
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort_by_key(|r| (r.due_at, r.appointment_id));
    expected.push(third.clone());

    // When the sweep reads what is due at 10:00, two by two
    let until = at("2026-12-01T10:00:00Z");
    let page = store.reminders_due(until, None, 2).await.unwrap();
    let rest = store.reminders_due(until, page.last(), 2).await.unwrap();

    // Then it gets the three due entries, oldest first, and nothing else
    assert_eq!([page, rest.clone()].concat(), expected);
    assert_eq!(rest.len(), 1);
    assert!(
        store
            .reminders_due(until, rest.last(), 2)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn a_decided_entry_leaves_the_index_unless_it_was_replaced_meanwhile() {
    let store = store().await;
    let read = reminder(Channel::Sms, "2026-12-02T09:00:00Z", "2026-12-01T09:00:00Z");
    store.put_reminder(&read).await.unwrap();
    // The appointment moved after the sweep read the entry: the scheduler
    // replaced it with the new time's.
    let moved = ScheduledReminder {
        start: at("2026-12-04T09:00:00Z"),
        due_at: at("2026-12-03T09:00:00Z"),
        ..read.clone()
    };
    store.put_reminder(&moved).await.unwrap();
    store.reminder_done(&read).await.unwrap();
    let all = store
        .reminders_due(at("2026-12-31T00:00:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(all, vec![moved.clone()]);
    // Once decided, it leaves.
    store.reminder_done(&moved).await.unwrap();
    assert!(
        store
            .reminders_due(at("2026-12-31T00:00:00Z"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A cancelled appointment's entries are removed, present or not.
    store.put_reminder(&read).await.unwrap();
    store
        .remove_reminder(&read.appointment_id, Channel::Sms)
        .await
        .unwrap();
    store
        .remove_reminder(&read.appointment_id, Channel::Email)
        .await
        .unwrap();
    assert!(
        store
            .reminders_due(at("2026-12-31T00:00:00Z"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn a_reminder_is_claimed_once_per_appointment_time() {
    let store = store().await;
    let r = reminder(Channel::Sms, "2026-12-02T09:00:00Z", "2026-12-01T09:00:00Z");
    let now = at("2026-12-01T09:00:00Z");
    let lease = Duration::minutes(2);
    assert_eq!(
        store.claim_message(&r.key(), now, lease).await.unwrap(),
        Claim::Granted
    );
    // An overlapping sweep, or a settings change that re-indexed it, gets nothing.
    let reindexed = ScheduledReminder {
        due_at: at("2026-11-30T09:00:00Z"),
        ..r.clone()
    };
    assert_eq!(
        store
            .claim_message(&reindexed.key(), now, lease)
            .await
            .unwrap(),
        Claim::InFlight
    );
    // The reminder of a new time (the appointment moved) is another message.
    let moved = ScheduledReminder {
        start: at("2026-12-04T09:00:00Z"),
        ..r.clone()
    };
    assert_eq!(
        store.claim_message(&moved.key(), now, lease).await.unwrap(),
        Claim::Granted
    );
}
