//! The store's due index on the memory table reads like a Query of DynamoDB's
//! GSI2 (see tests/store_contract.rs, on both tables): due entries only, in
//! due order, by pages; a replaced entry leaves no trace; reads are counted
//! per entry returned.

use domain::communications::{Channel, MessageKind};
use domain::fixtures::{at, booked};
use domain::ids::{AppointmentId, PractitionerId};
use domain::ports::capabilities::*;
use domain::reminder::ScheduledReminder;
use local::embedded::MemoryStore;

fn reminder(channel: Channel, due: &str) -> ScheduledReminder {
    ScheduledReminder {
        appointment_id: AppointmentId::new(),
        practitioner_id: PractitionerId::parse("dr-martin").unwrap(),
        kind: MessageKind::Reminder,
        channel,
        start: at("2026-12-05T09:00:00Z"),
        due_at: at(due),
        version: None,
    }
}

#[tokio::test]
async fn the_due_query_walks_the_index_not_the_table() {
    // Given 200 appointments and three reminder entries, one not due yet
    let store = MemoryStore::default();
    for i in 0..200 {
        store
            .insert_appointment(&booked(
                at("2026-12-10T08:00:00Z") + chrono::Duration::minutes(20 * i),
                20,
            ))
            .await
            .unwrap();
    }
    let a = reminder(Channel::Email, "2026-12-01T09:00:00Z");
    let b = reminder(Channel::Sms, "2026-12-01T09:30:00Z");
    let later = reminder(Channel::Sms, "2026-12-03T09:00:00Z");
    for r in [&later, &b, &a] {
        store
            .put_reminder(r, at("2026-11-30T00:00:00Z"))
            .await
            .unwrap();
    }
    // A re-put with another due time replaces the entry, in the index too.
    let moved = ScheduledReminder {
        due_at: at("2026-12-04T09:00:00Z"),
        ..later.clone()
    };
    store
        .put_reminder(&moved, at("2026-11-30T00:00:00Z"))
        .await
        .unwrap();

    // When the sweep reads what is due, one by one
    let before = store.table().items_read();
    let until = at("2026-12-03T12:00:00Z");
    let first = store.reminders_due(until, None, 1).await.unwrap();
    let second = store.reminders_due(until, first.last(), 1).await.unwrap();
    let none = store.reminders_due(until, second.last(), 1).await.unwrap();

    // Then it gets the due ones in order, having read just those (a page
    // reads at most the first due entries of each shard of the day, and
    // a first page the sweep cursor)
    assert_eq!([first, second].concat(), vec![a.clone(), b.clone()]);
    assert!(none.is_empty());
    let read = store.table().items_read() - before;
    assert!(read <= 4, "{read}");

    // and a decided entry leaves, unless it was replaced meanwhile
    store.reminder_done(&later).await.unwrap();
    let all = store
        .reminders_due(at("2027-01-01T00:00:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(all, vec![a.clone(), b.clone(), moved.clone()]);
    store.reminder_done(&moved).await.unwrap();
    store
        .remove_reminder(&a.appointment_id, Channel::Email)
        .await
        .unwrap();
    let all = store
        .reminders_due(at("2027-01-01T00:00:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(all, vec![b]);
}
