//! The status-change function through its handler, with the sample event.

use domain::appointment::{Change, Status};
use domain::fixtures::{at, booked, dr_martin};
use domain::ids::AppointmentId;
use domain::ports::capabilities::*;
use local::embedded::AdjustableClock;
use local::embedded::MemoryStore;
use status_change::StatusChangeApi;
use std::sync::Arc;

const SAMPLE: &str = include_str!("../../../events/status-change-to-reschedule.json");

#[tokio::test]
async fn the_sample_event_sets_the_appointment_to_reschedule_with_the_sms_asked_for() {
    // Given the booked appointment the sample names
    let store = Arc::new(MemoryStore::default());
    store.put_settings(&dr_martin()).await.unwrap();
    // The sample's caller is dr-martin's secretariat.
    domain::fixtures::grant(
        store.as_ref(),
        "dr-martin",
        "3f0c0d3a-secretariat",
        domain::grants::Role::Secretariat,
    )
    .await;
    let mut appointment = booked(at("2026-12-03T13:30:00Z"), 20);
    appointment.id = AppointmentId::parse("01JDX5Z8Q8N4W6B1R0M9T2V3C7").unwrap();
    store.insert_appointment(&appointment).await.unwrap();
    let api = StatusChangeApi::new(
        store.clone(),
        Arc::new(AdjustableClock::starting_at(at("2026-11-26T09:00:00Z"))),
    );

    // When the sample goes through the handler
    let response = api
        .handle(lambda_http::request::from_str(SAMPLE).unwrap())
        .await
        .unwrap();

    // Then the appointment is to reschedule, and its change asks for the SMS
    assert_eq!(response.status(), 200);
    let stored = store
        .appointment(&appointment.practitioner_id, &appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, Status::ToReschedule);
    assert_eq!(stored.last_change, Change::SetToReschedule);
    assert_eq!(stored.version, 2);
}

#[tokio::test]
async fn another_practitioners_token_is_refused() {
    let store = Arc::new(MemoryStore::default());
    let api = StatusChangeApi::new(store.clone(), Arc::new(AdjustableClock::new()));
    let mut event: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    // dr-other's secretariat holds no grant on dr-martin
    domain::fixtures::practice(store.as_ref(), "dr-other").await;
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = "dr-other.secretariat".into();
    let response = api
        .handle(lambda_http::request::from_str(&event.to_string()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}
