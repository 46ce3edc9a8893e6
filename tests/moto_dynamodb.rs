//! The DynamoDB adapter against moto, on a table created from template.yaml:
//! its conditions and transactions keep their promises under real concurrency.
//! Run by `make test` (it starts moto); `#[ignore]`d in a bare `cargo test`.

use acceptance::aws::{create_table_from_template, sdk_config};
use acceptance::recording::Recorded;
use aws_adapters::dynamo::DynamoStore;
use chrono::Duration;
use domain::appointment::Appointment;
use domain::communications::{Channel, CommunicationEntry, DeliveryState, MessageKey, MessageKind};
use domain::fixtures::{at, booked};
use domain::ids::{AppointmentId, PractitionerId};
use domain::ports::capabilities::*;
use domain::ports::{Claim, InsertError};
use domain::time::TimeRange;
use std::sync::Arc;

async fn store() -> DynamoStore {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let table = format!("agenda-{}", AppointmentId::new()).to_lowercase();
    create_table_from_template(&client, &table).await;
    DynamoStore::new(client, table)
}

/// A booked appointment of `minutes` starting at `start`, without contact details.
fn appointment(start: &str, minutes: i64) -> Appointment {
    let mut appointment = booked(at(start), minutes);
    appointment.patient.email = None;
    appointment
}

/// Twelve bookings overlapping 10:00-10:20 on 3 December, at once: one is
/// stored. Needs moto's requests served one at a time, as AWS applies
/// transactions (docs/decisions.md, "Moto runs one request at a time").
async fn racing_bookings_of_ten_o_clock_store_exactly_one(store: Arc<DynamoStore>) {
    let practitioner = PractitionerId::parse("dr-martin").unwrap();
    let day = TimeRange::new(at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z")).unwrap();
    let booked_before = store.agenda(&practitioner, day).await.unwrap().len();
    let racers: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            // Different lengths and starts, all overlapping 10:00-10:20.
            let start = if i % 2 == 0 {
                "2026-12-03T10:00:00Z"
            } else {
                "2026-12-03T09:50:00Z"
            };
            let candidate = appointment(start, 20 + i);
            tokio::spawn(async move { store.insert_appointment(&candidate).await })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => won += 1,
            Err(InsertError::Overlap(_)) => {}
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        store.agenda(&practitioner, day).await.unwrap().len(),
        booked_before + 1
    );
}

/// On a day not yet in the table: the racers all create it, and its
/// `attribute_not_exists` condition lets one through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs moto: run through `make test`"]
async fn concurrent_bookings_of_one_slot_store_exactly_one() {
    racing_bookings_of_ten_o_clock_store_exactly_one(Arc::new(store().await)).await;
}

/// On a day that already holds a booking: the racers all rewrite it, and the
/// condition on the `revision` they read lets one through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs moto: run through `make test`"]
async fn concurrent_bookings_of_one_slot_on_a_booked_day_store_exactly_one() {
    let store = Arc::new(store().await);
    store
        .insert_appointment(&appointment("2026-12-03T08:00:00Z", 20))
        .await
        .unwrap();
    racing_bookings_of_ten_o_clock_store_exactly_one(store).await;
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn appointments_spanning_midnight_guard_both_days_and_the_agenda_finds_them() {
    let store = store().await;
    let late = appointment("2026-12-03T23:50:00Z", 30);
    store.insert_appointment(&late).await.unwrap();
    let next_morning = appointment("2026-12-04T00:10:00Z", 20);
    assert!(matches!(
        store.insert_appointment(&next_morning).await,
        Err(InsertError::Overlap(ids)) if ids == vec![late.id]
    ));
    let practitioner = PractitionerId::parse("dr-martin").unwrap();
    let morning = TimeRange::new(at("2026-12-04T00:00:00Z"), at("2026-12-04T12:00:00Z")).unwrap();
    let found = store.agenda(&practitioner, morning).await.unwrap();
    assert_eq!(
        found.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![late.id]
    );
    assert_eq!(store.appointment(&late.id).await.unwrap(), Some(late));
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn a_message_is_claimed_once_and_its_decision_is_read_back() {
    let store = store().await;
    let key = MessageKey::for_version(
        AppointmentId::new(),
        MessageKind::Confirmation,
        Channel::Email,
        1,
    );
    let now = at("2026-11-25T10:00:00Z");
    let lease = Duration::minutes(16);
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Granted
    );
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::InFlight
    );
    // A worker that died leaves its claim to be taken over after the lease.
    assert_eq!(
        store
            .claim_message(&key, now + lease + Duration::seconds(1), lease)
            .await
            .unwrap(),
        Claim::Granted
    );
    let entry = CommunicationEntry {
        kind: MessageKind::Confirmation,
        channel: Channel::Email,
        state: DeliveryState::Sent,
        reason: None,
        reason_code: None,
        message_id: None,
        at: now,
    };
    let practitioner = PractitionerId::parse("dr-martin").unwrap();
    store
        .settle_message(&key, &practitioner, &entry, now)
        .await
        .unwrap();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Settled {
            entry: entry.clone(),
            published: false
        }
    );
    store.mark_published(&key).await.unwrap();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Settled {
            entry: entry.clone(),
            published: true
        }
    );
    assert_eq!(
        store.communications(&key.appointment_id).await.unwrap(),
        vec![entry]
    );
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn an_agenda_reads_the_logs_of_all_its_appointments_in_one_query() {
    // Given 60 appointments of Dr Martin's over a week, each with two log
    // entries, and one of another practitioner's booked in between, with its own
    let recorded = Recorded::default();
    let client = recorded.dynamodb(&sdk_config().await);
    let table = format!("agenda-{}", AppointmentId::new()).to_lowercase();
    create_table_from_template(&client, &table).await;
    let store = DynamoStore::new(client, table);
    let martin = PractitionerId::parse("dr-martin").unwrap();
    let other = PractitionerId::parse("dr-other").unwrap();
    let entry = |kind, channel, at| CommunicationEntry {
        kind,
        channel,
        state: DeliveryState::Sent,
        reason: None,
        reason_code: None,
        message_id: None,
        at,
    };
    let mut expected = Vec::new();
    for i in 0..60 {
        if i == 30 {
            let mut theirs = appointment("2026-12-08T08:00:00Z", 20);
            theirs.practitioner_id = other.clone();
            store.insert_appointment(&theirs).await.unwrap();
            let key =
                MessageKey::for_version(theirs.id, MessageKind::Confirmation, Channel::Email, 1);
            let e = entry(
                MessageKind::Confirmation,
                Channel::Email,
                at("2026-11-30T08:00:00Z"),
            );
            store
                .settle_message(&key, &other, &e, theirs.end)
                .await
                .unwrap();
        }
        let a = appointment("2026-12-07T08:00:00Z", 20);
        let a = Appointment {
            start: a.start + Duration::minutes(20 * i),
            end: a.end + Duration::minutes(20 * i),
            ..a
        };
        store.insert_appointment(&a).await.unwrap();
        let confirmation = entry(
            MessageKind::Confirmation,
            Channel::Email,
            at("2026-11-30T09:00:00Z"),
        );
        let reminder = entry(
            MessageKind::Reminder,
            Channel::Sms,
            at("2026-12-06T09:00:00Z"),
        );
        // settled latest first: the log is read oldest first all the same
        for (e, occasion) in [(&reminder, "d1"), (&confirmation, "v000001")] {
            let key = MessageKey {
                appointment_id: a.id,
                kind: e.kind,
                channel: e.channel,
                occasion: occasion.into(),
            };
            store.settle_message(&key, &martin, e, a.end).await.unwrap();
        }
        expected.push((a.id, vec![confirmation, reminder]));
    }

    // When the week's agenda and the logs of its appointments are read
    let queries_before = recorded.count("dynamodb:Query");
    let week = TimeRange::new(at("2026-12-07T00:00:00Z"), at("2026-12-14T00:00:00Z")).unwrap();
    let agenda = store.agenda(&martin, week).await.unwrap();
    let ids: Vec<AppointmentId> = agenda.iter().map(|a| a.id).collect();
    let logs = store.communications_of(&martin, &ids).await.unwrap();

    // Then two queries (one page each, at this size) read them all, each
    // appointment with its own entries, oldest first
    assert_eq!(recorded.count("dynamodb:Query") - queries_before, 2);
    assert_eq!(ids.iter().copied().zip(logs).collect::<Vec<_>>(), expected);
}

/// Appointment data expires a set time after its appointment (health data
/// kept no longer than needed): the appointment, its agenda day and its log
/// entries carry DynamoDB's TTL at the appointment's end plus the retention.
#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn appointment_data_carries_its_expiry() {
    use aws_sdk_dynamodb::types::AttributeValue;
    // Given a store keeping data 30 days
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let table = format!("agenda-{}", AppointmentId::new()).to_lowercase();
    create_table_from_template(&client, &table).await;
    let store = DynamoStore::new(client.clone(), table.clone()).with_retention_days(30);

    // When an appointment is booked and its confirmation logged
    let appointment = appointment("2026-12-03T10:00:00Z", 20);
    store.insert_appointment(&appointment).await.unwrap();
    let key = MessageKey::for_version(appointment.id, MessageKind::Confirmation, Channel::Email, 1);
    let now = at("2026-11-25T10:00:00Z");
    assert_eq!(
        store
            .claim_message(&key, now, Duration::minutes(2))
            .await
            .unwrap(),
        Claim::Granted
    );
    let entry = CommunicationEntry {
        kind: MessageKind::Confirmation,
        channel: Channel::Email,
        state: DeliveryState::Sent,
        reason: None,
        reason_code: None,
        message_id: None,
        at: now,
    };
    store
        .settle_message(&key, &appointment.practitioner_id, &entry, appointment.end)
        .await
        .unwrap();

    // Then every item of it expires 30 days after the appointment ends
    let expected = (appointment.end + Duration::days(30)).timestamp();
    let end_of_day = at("2026-12-04T00:00:00Z") + Duration::days(30);
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut seen = Vec::new();
    for item in &items {
        let sk = match item.get("sk") {
            Some(AttributeValue::S(sk)) => sk.clone(),
            _ => panic!("an item without sort key"),
        };
        let ttl = match item.get("ttl") {
            Some(AttributeValue::N(n)) => n.parse::<i64>().unwrap(),
            other => panic!("{sk} has no TTL: {other:?}"),
        };
        let wanted = if sk.starts_with("DAY#") {
            end_of_day.timestamp()
        } else {
            expected
        };
        assert_eq!(ttl, wanted, "{sk}");
        seen.push(sk.split('#').next().unwrap().to_string());
    }
    seen.sort();
    assert_eq!(seen, ["APPT", "DAY", "MSG"], "{items:?}");
}
