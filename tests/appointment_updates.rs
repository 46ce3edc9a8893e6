//! `Store::update_appointment` keeps the agenda's promises on both stores (the
//! embedded one, and DynamoDB on moto with a table made from template.yaml):
//! a move frees the old time and takes the new one, a cancellation frees its
//! time, a change based on an old version is refused, and so is an overlap.

use acceptance::aws::{create_table_from_template, sdk_config};
use aws_adapters::dynamo::DynamoStore;
use domain::appointment::{Appointment, Change, Status};
use domain::fixtures::{at, booked};
use domain::ids::AppointmentId;
use domain::ports::InsertError;
use domain::ports::capabilities::*;
use local::embedded::MemoryStore;
use std::sync::Arc;

async fn dynamo() -> Arc<DynamoStore> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let table = format!("agenda-{}", AppointmentId::new()).to_lowercase();
    create_table_from_template(&client, &table).await;
    Arc::new(DynamoStore::new(client, table))
}

fn appointment(start: &str) -> Appointment {
    let mut appointment = booked(at(start), 20);
    appointment.patient.email = None;
    appointment
}

fn next(current: &Appointment, change: Change) -> Appointment {
    let mut next = current.clone();
    next.version += 1;
    next.last_change = change;
    next
}

fn moved(current: &Appointment, start: &str) -> Appointment {
    let mut next = next(current, Change::MovedByPatient);
    next.start = at(start);
    next.end = at(start) + chrono::Duration::minutes(20);
    next
}

async fn moving_frees_the_old_time_and_takes_the_new(store: &dyn Store) {
    // Given Jeanne booked at 10:00
    let jeanne = appointment("2026-12-03T10:00:00Z");
    store.insert_appointment(&jeanne).await.unwrap();
    // When she moves to 11:00
    let at_eleven = moved(&jeanne, "2026-12-03T11:00:00Z");
    store.update_appointment(1, &at_eleven).await.unwrap();
    // Then 10:00 is free and 11:00 is hers
    store
        .insert_appointment(&appointment("2026-12-03T10:00:00Z"))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_appointment(&appointment("2026-12-03T11:10:00Z")).await,
        Err(InsertError::Overlap(ids)) if ids == vec![jeanne.id]
    ));
    assert_eq!(
        store.appointment(&jeanne.id).await.unwrap(),
        Some(at_eleven.clone())
    );

    // A change based on the version she had before is refused, and changes nothing
    let stale = moved(&jeanne, "2026-12-03T15:00:00Z");
    assert!(matches!(
        store.update_appointment(1, &stale).await,
        Err(InsertError::Stale)
    ));
    assert_eq!(
        store.appointment(&jeanne.id).await.unwrap(),
        Some(at_eleven.clone())
    );

    // Moving onto someone else's time is refused, and changes nothing
    let onto_ten = moved(&at_eleven, "2026-12-03T10:10:00Z");
    assert!(matches!(
        store.update_appointment(2, &onto_ten).await,
        Err(InsertError::Overlap(_))
    ));
    assert_eq!(
        store.appointment(&jeanne.id).await.unwrap(),
        Some(at_eleven.clone())
    );

    // Cancelling frees her time
    let mut cancelled = next(&at_eleven, Change::CancelledByPatient);
    cancelled.status = Status::CancelledByPatient;
    store.update_appointment(2, &cancelled).await.unwrap();
    store
        .insert_appointment(&appointment("2026-12-03T11:00:00Z"))
        .await
        .unwrap();
}

async fn racing_changes_of_one_version_let_one_through(store: Arc<dyn Store>) {
    let jeanne = appointment("2026-12-03T08:00:00Z");
    store.insert_appointment(&jeanne).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let target = moved(&jeanne, &format!("2026-12-03T{:02}:00:00Z", 12 + i));
            tokio::spawn(async move { store.update_appointment(1, &target).await })
        })
        .collect();
    let mut through = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => through += 1,
            Err(InsertError::Stale) => {}
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
    }
    assert_eq!(through, 1);
    assert_eq!(
        store
            .appointment(&jeanne.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

#[tokio::test]
async fn embedded_store_moves_cancels_and_refuses_stale_changes() {
    moving_frees_the_old_time_and_takes_the_new(&MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_lets_one_of_racing_changes_through() {
    racing_changes_of_one_version_let_one_through(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn dynamodb_moves_cancels_and_refuses_stale_changes() {
    moving_frees_the_old_time_and_takes_the_new(dynamo().await.as_ref()).await;
}

/// Needs moto's requests served one at a time, as AWS applies transactions
/// (docs/decisions.md, "Moto runs one request at a time").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs moto: run through `make test`"]
async fn dynamodb_lets_one_of_racing_changes_through() {
    racing_changes_of_one_version_let_one_through(dynamo().await).await;
}

fn absence(start: &str, end: &str) -> domain::absence::Absence {
    let range = domain::time::TimeRange::new(at(start), at(end)).unwrap();
    let practitioner = domain::ids::PractitionerId::parse("dr-martin").unwrap();
    domain::absence::Absence {
        id: domain::absence::AbsenceId::of(&practitioner, range),
        practitioner_id: practitioner,
        start: range.start,
        end: range.end,
        label: Some("Congrès".into()),
        created_at: at("2026-11-25T10:00:00Z"),
    }
}

async fn absences_keep_bookings_out_and_are_kept_out_by_bookings(store: &dyn Store) {
    // Given Jeanne booked at 10:00
    let jeanne = appointment("2026-12-03T10:00:00Z");
    store.insert_appointment(&jeanne).await.unwrap();
    // An absence over her is refused, naming her
    let morning = absence("2026-12-03T08:00:00Z", "2026-12-03T12:00:00Z");
    assert!(matches!(
        store.place_absence(&morning).await,
        Err(InsertError::Overlap(ids)) if ids == vec![jeanne.id]
    ));
    // Once she is set to reschedule, it is placed, and placing it again changes nothing
    let mut to_reschedule = next(&jeanne, Change::SetToReschedule);
    to_reschedule.status = Status::ToReschedule;
    store.update_appointment(1, &to_reschedule).await.unwrap();
    store.place_absence(&morning).await.unwrap();
    store.place_absence(&morning).await.unwrap();
    let practitioner = domain::ids::PractitionerId::parse("dr-martin").unwrap();
    let day = domain::time::TimeRange::new(at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z"))
        .unwrap();
    assert_eq!(
        store.absences(&practitioner, day).await.unwrap(),
        vec![morning.clone()]
    );
    // and nothing can be booked or moved into it
    assert!(matches!(
        store
            .insert_appointment(&appointment("2026-12-03T11:50:00Z"))
            .await,
        Err(InsertError::Absent)
    ));
    let afternoon = appointment("2026-12-03T14:00:00Z");
    store.insert_appointment(&afternoon).await.unwrap();
    assert!(matches!(
        store
            .update_appointment(1, &moved(&afternoon, "2026-12-03T09:00:00Z"))
            .await,
        Err(InsertError::Absent)
    ));
    // while right after it is free
    store
        .insert_appointment(&appointment("2026-12-03T12:00:00Z"))
        .await
        .unwrap();

    // Rebooking: the replacement and the old appointment's new version, both or neither
    let mut rebooked = next(&to_reschedule, Change::Rebooked);
    rebooked.status = Status::Rebooked;
    let mut replacement = appointment("2026-12-03T14:10:00Z"); // overlaps the afternoon one
    replacement.replaces = Some(jeanne.id);
    assert!(matches!(
        store.rebook(2, &rebooked, &replacement).await,
        Err(InsertError::Overlap(_))
    ));
    assert_eq!(
        store
            .appointment(&jeanne.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert_eq!(store.appointment(&replacement.id).await.unwrap(), None);
    let mut replacement = appointment("2026-12-03T15:00:00Z");
    replacement.replaces = Some(jeanne.id);
    store.rebook(2, &rebooked, &replacement).await.unwrap();
    assert_eq!(
        store.appointment(&jeanne.id).await.unwrap(),
        Some(rebooked.clone())
    );
    assert_eq!(
        store.appointment(&replacement.id).await.unwrap(),
        Some(replacement.clone())
    );
    // and the same link used again finds a stale version
    let mut again = appointment("2026-12-03T16:00:00Z");
    again.replaces = Some(jeanne.id);
    assert!(matches!(
        store.rebook(2, &rebooked, &again).await,
        Err(InsertError::Stale)
    ));
}

#[tokio::test]
async fn embedded_store_absences_and_rebooking() {
    absences_keep_bookings_out_and_are_kept_out_by_bookings(&MemoryStore::new()).await;
}

#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn dynamodb_absences_and_rebooking() {
    absences_keep_bookings_out_and_are_kept_out_by_bookings(dynamo().await.as_ref()).await;
}
