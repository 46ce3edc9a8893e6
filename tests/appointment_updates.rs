//! `Store::update_appointment` keeps the agenda's promises on both stores (the
//! embedded one, and DynamoDB on moto with a table made from template.yaml):
//! a move frees the old time and takes the new one, a cancellation frees its
//! time, a change based on an old version is refused, and so is an overlap.

use acceptance::aws::{create_table_from_template, sdk_config};
use shared::appointment::{Appointment, Change, Status};
use shared::fixtures::{at, booked};
use shared::ids::AppointmentId;
use shared::ports::{InsertError, Store};
use shared::store::{DynamoStore, MemoryStore};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs moto: run through `make test`"]
async fn dynamodb_lets_one_of_racing_changes_through() {
    racing_changes_of_one_version_let_one_through(dynamo().await).await;
}
