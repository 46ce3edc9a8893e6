//! The reminder scheduler through its handler: stream batches in, due-index
//! entries out (SPEC §4.3).

use aws_lambda_events::event::dynamodb::Event;
use chrono::{DateTime, Utc};
use domain::communications::Channel;
use domain::fixtures::{at, dr_martin};
use domain::ports::capabilities::*;
use domain::reminder::ScheduledReminder;
use lambda_runtime::{Context, LambdaEvent};
use local::embedded::AdjustableClock;
use local::embedded::{MemoryStore, OverwriteAppointment};
use reminder_scheduler::ReminderSchedulerFunction;
use std::sync::Arc;

fn far() -> DateTime<Utc> {
    at("2027-12-31T00:00:00Z")
}

async fn due(store: &MemoryStore) -> Vec<ScheduledReminder> {
    store.reminders_due(far(), None, 100).await.unwrap()
}

#[tokio::test]
async fn the_sample_move_replaces_the_reminders_of_the_old_time_with_the_new_ones() {
    // Given Dr Martin (e-mail 48 h, SMS 24 h before) and the appointment as
    // the sample record leaves it, indexed for its old time
    let store = Arc::new(MemoryStore::default());
    store.put_settings(&dr_martin()).await.unwrap();
    let event: Event =
        serde_json::from_str(include_str!("../../../events/reminder-scheduler-move.json")).unwrap();
    let change = aws_adapters::stream::appointment_change(&event.records[0])
        .unwrap()
        .unwrap();
    let (old, new) = (change.old.unwrap(), change.new.unwrap());
    for channel in [Channel::Email, Channel::Sms] {
        store
            .put_reminder(
                &ScheduledReminder::of(&dr_martin(), &old, channel).unwrap(),
                at("2026-11-26T08:00:00Z"),
            )
            .await
            .unwrap();
    }
    store.overwrite_appointment(&new).unwrap();
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-26T08:15:00Z")));
    let function = ReminderSchedulerFunction::new(store.clone(), clock);

    // When the scheduler gets the record (twice: streams deliver at least once)
    for _ in 0..2 {
        let response = function
            .handle(LambdaEvent::new(event.clone(), Context::default()))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
    }

    // Then the index holds the new time's reminders only
    let entries = due(&store).await;
    let mut found: Vec<_> = entries
        .iter()
        .map(|r| (r.channel.as_str(), r.start, r.due_at))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "email",
                at("2026-12-04T09:00:00Z"),
                at("2026-12-02T09:00:00Z")
            ),
            (
                "sms",
                at("2026-12-04T09:00:00Z"),
                at("2026-12-03T09:00:00Z")
            ),
        ]
    );
}

#[tokio::test]
async fn a_cancellation_removes_the_reminders_and_a_settings_change_reindexes_coming_ones() {
    let store = Arc::new(MemoryStore::default());
    let mut settings = dr_martin();
    store.put_settings(&settings).await.unwrap();
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-26T08:00:00Z")));
    let function = ReminderSchedulerFunction::new(store.clone(), clock);
    let mut stream = store.table().subscribe();
    let mut appointment = domain::fixtures::booked(at("2026-12-04T09:00:00Z"), 20);
    appointment.created_at = at("2026-11-26T08:00:00Z");
    store.insert_appointment(&appointment).await.unwrap();
    let feed = async |stream: &mut local::embedded::StreamSubscription| {
        let mut records = Vec::new();
        while let Ok(r) = stream.records.try_recv() {
            records.push(r);
        }
        stream.done(records.len());
        let event: Event =
            serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        function
            .handle(LambdaEvent::new(event, Context::default()))
            .await
            .unwrap()
    };
    feed(&mut stream).await;
    // Jeanne has no mobile: the SMS entry is there, to log why at its time.
    assert_eq!(due(&store).await.len(), 2);

    // A settings change moves the pending reminders, in pieces: each piece's
    // record brings the next, until the two years ahead are done
    settings.email_service.reminder_hours_before = Some(72);
    settings.sms_service.enabled = false;
    store.put_settings(&settings).await.unwrap();
    let mut pieces = 0;
    while !stream.records.is_empty() {
        let response = feed(&mut stream).await;
        assert!(response.batch_item_failures.is_empty());
        pieces += 1;
    }
    assert!((50..=60).contains(&pieces), "{pieces}");
    let entries = due(&store).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].channel, entries[0].due_at),
        (Channel::Email, at("2026-12-01T09:00:00Z"))
    );

    // A cancellation removes them
    appointment.status = domain::appointment::Status::Cancelled;
    appointment.version = 2;
    appointment.last_change = domain::appointment::Change::Cancelled;
    store.overwrite_appointment(&appointment).unwrap();
    feed(&mut stream).await;
    assert!(due(&store).await.is_empty());
}
