//! The booking function through its handler, with the in-memory store: what the
//! front end sees for each request (SPEC §6.1, §6.2, §6.5).

use booking::BookingApi;
use chrono::{DateTime, Utc};
use domain::ports::capabilities::*;
use lambda_http::{Body, Request};
use local::embedded::AdjustableClock;
use local::embedded::MemoryStore;
use serde_json::{Value, json};
use std::sync::Arc;

const NOW: &str = "2026-11-25T10:00:00Z";

fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

struct Given {
    api: BookingApi,
    store: Arc<MemoryStore>,
}

/// A booking function with dr-martin's settings stored, at a fixed time.
async fn given_dr_martin() -> Given {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(AdjustableClock::starting_at(now()));
    let api = BookingApi::new(
        store.clone(),
        clock.clone(),
        Arc::new(local::embedded::outbox::Outbox::new(clock)),
        domain::quota::Quotas::new(
            domain::keyed::HashKey::local_mode(),
            domain::quota::Limits::default(),
        ),
        Default::default(),
    );
    domain::fixtures::practice(store.as_ref(), "dr-martin").await;
    domain::fixtures::practice(store.as_ref(), "dr-dubois").await;
    // The sample events' caller: dr-martin's secretariat.
    domain::fixtures::grant(
        store.as_ref(),
        "dr-martin",
        "3f0c0d3a-secretariat",
        domain::grants::Role::Secretariat,
    )
    .await;
    let given = Given { api, store };
    let (status, _) = given
        .call(
            "PUT",
            "/practitioners/dr-martin",
            Some("dr-martin"),
            Some(settings()),
        )
        .await;
    assert_eq!(status, 200);
    given
}

fn settings() -> Value {
    json!({
        "name": "Dr Marie Martin", "secretariat_phone": "01 40 00 00 00",
        "reasons": [{"id": "consultation", "label": "Consultation", "duration_minutes": 20,
                     "confirmation_email": true, "online_booking": true, "sms_reminder": true}],
        "email_service": {"enabled": true, "reminder_hours_before": 48},
        "online_booking": {"enabled": true, "modify_cancel_deadline_hours": 24, "booking_horizon_days": 60}
    })
}

fn booking_body(start: &str) -> Value {
    json!({"reason_id": "consultation", "start": start,
           "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                       "email": "jeanne@example.org", "mobile": "06 12 34 56 78"}})
}

/// The request API Gateway hands the function; `caller` is the `sub` the
/// JWT authorizer verified (no authorizer context when `None`).
fn request(
    method: &str,
    path_and_query: &str,
    caller: Option<&str>,
    body: Option<Value>,
) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut context = json!({
        "accountId": "123456789012", "apiId": "api", "domainName": "api.example.org",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "test"},
        "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "", "timeEpoch": 0
    });
    if let Some(caller) = caller {
        context["authorizer"] = json!({"jwt": {"claims": {"sub": caller}, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "api.example.org"},
        "requestContext": context, "isBase64Encoded": false
    });
    let params: serde_json::Map<String, Value> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
    if !params.is_empty() {
        event["queryStringParameters"] = Value::Object(params);
    }
    if let Some(body) = body {
        event["body"] = Value::String(match body {
            Value::String(raw) => raw,
            other => other.to_string(),
        });
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

impl Given {
    /// dr-martin's secretariat books a consultation for Jeanne at `start`.
    async fn book(&self, start: &str) -> (u16, Value) {
        self.call(
            "POST",
            "/practitioners/dr-martin/appointments",
            Some("dr-martin"),
            Some(booking_body(start)),
        )
        .await
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        caller: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let response = self
            .api
            .handle(request(method, path, caller, body))
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        if status >= 400 {
            assert_eq!(
                content_type, "application/problem+json",
                "errors are problems"
            );
        }
        let body = match response.into_body() {
            Body::Text(t) => serde_json::from_str(&t).unwrap(),
            Body::Empty => Value::Null,
            other => panic!("unexpected body {other:?}"),
        };
        (status, body)
    }
}

#[tokio::test]
async fn settings_are_stored_and_read_back_with_defaults() {
    let given = given_dr_martin().await;
    let (status, body) = given
        .call("GET", "/practitioners/dr-martin", Some("dr-martin"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["secretariat_phone"], "+33140000000");
    assert_eq!(body["timezone"], "Europe/Paris");
    assert_eq!(
        body["quiet_hours"],
        json!({"start": "21:00", "end": "08:00"})
    );
}

#[tokio::test]
async fn invalid_settings_are_refused_field_by_field_and_change_nothing() {
    let given = given_dr_martin().await;
    let mut bad = settings();
    bad["timezone"] = "Mars/Olympus".into();
    let (status, body) = given
        .call(
            "PUT",
            "/practitioners/dr-martin",
            Some("dr-martin"),
            Some(bad),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "timezone");
    let mut bad = settings();
    bad["reasons"][0]["duration_minutes"] = 0.into();
    let (status, body) = given
        .call(
            "PUT",
            "/practitioners/dr-martin",
            Some("dr-martin"),
            Some(bad),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "reasons[0].duration_minutes");
    let (_, stored) = given
        .call("GET", "/practitioners/dr-martin", Some("dr-martin"), None)
        .await;
    assert_eq!(stored["timezone"], "Europe/Paris");
}

#[tokio::test]
async fn no_token_is_401_and_another_practitioners_token_is_403() {
    let given = given_dr_martin().await;
    let (status, body) = given
        .call("GET", "/practitioners/dr-martin", None, None)
        .await;
    assert_eq!((status, body["status"].as_u64()), (401, Some(401)));
    let (status, body) = given
        .call("GET", "/practitioners/dr-martin", Some("dr-dubois"), None)
        .await;
    assert_eq!(status, 403);
    assert!(!body.to_string().contains("Martin"));
    // An unknown practitioner looks the same as another one's: nothing revealed.
    let (status, _) = given
        .call("GET", "/practitioners/dr-nobody", Some("dr-dubois"), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = given
        .call(
            "POST",
            "/practitioners/dr-martin/appointments",
            Some("dr-dubois"),
            Some(booking_body("2026-12-03T14:30")),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        given
            .store
            .agenda(&"dr-martin".parse_id(), far_range())
            .await
            .unwrap()
            .is_empty()
    );
}

trait ParseId {
    fn parse_id(&self) -> domain::ids::PractitionerId;
}
impl ParseId for &str {
    fn parse_id(&self) -> domain::ids::PractitionerId {
        domain::ids::PractitionerId::parse(*self).unwrap()
    }
}

fn far_range() -> domain::time::TimeRange {
    domain::time::TimeRange::new(now(), now() + chrono::Duration::days(365)).unwrap()
}

#[tokio::test]
async fn booking_answers_201_with_the_appointment_in_the_practitioners_zone() {
    let given = given_dr_martin().await;
    let (status, body) = given.book("2026-12-03T14:30").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["start"], "2026-12-03T14:30:00+01:00");
    assert_eq!(body["end"], "2026-12-03T14:50:00+01:00");
    assert_eq!(body["status"], "booked");
    assert_eq!(body["source"], "practitioner");
    assert_eq!(body["version"], 1);
    assert_eq!(body["replaces"], Value::Null);
    assert_eq!(body["patient"]["mobile"], "+33612345678");
    assert_eq!(body["patient_can_modify_online"], true);
    // E-mail reminders 48 h before; no SMS service (SPEC §6.5).
    assert_eq!(
        body["reminders"],
        json!({"email": {"due_at": "2026-12-01T14:30:00+01:00", "state": "scheduled"}, "sms": null})
    );
    assert_eq!(body["communications"], json!([]));

    let id = body["id"].as_str().unwrap();
    let (status, one) = given
        .call(
            "GET",
            &format!("/practitioners/dr-martin/appointments/{id}"),
            Some("dr-martin"),
            None,
        )
        .await;
    assert_eq!((status, &one["id"]), (200, &body["id"]));
    let (status, agenda) = given
        .call(
            "GET",
            "/practitioners/dr-martin/appointments?from=2026-12-01&to=2026-12-08",
            Some("dr-martin"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(agenda["appointments"].as_array().unwrap().len(), 1);
    let (_, outside) = given
        .call(
            "GET",
            "/practitioners/dr-martin/appointments?from=2026-12-04&to=2026-12-08",
            Some("dr-martin"),
            None,
        )
        .await;
    assert_eq!(outside["appointments"], json!([]));
}

#[tokio::test]
async fn invalid_fields_are_all_reported_with_422_and_nothing_is_booked() {
    let given = given_dr_martin().await;
    let body = json!({"reason_id": "psychiatry", "start": "2026-11-01T10:00",
        "patient": {"first_name": "", "last_name": "Dupont", "email": "jeanne@", "mobile": "01 40 00 00 00"}});
    let (status, problem) = given
        .call(
            "POST",
            "/practitioners/dr-martin/appointments",
            Some("dr-martin"),
            Some(body),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "reason_id",
            "start",
            "patient.first_name",
            "patient.email",
            "patient.mobile"
        ]
    );
    assert!(
        given
            .store
            .agenda(&"dr-martin".parse_id(), far_range())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_json_is_400_and_a_wrongly_typed_field_is_422() {
    let given = given_dr_martin().await;
    let (status, _) = given
        .call(
            "POST",
            "/practitioners/dr-martin/appointments",
            Some("dr-martin"),
            Some(Value::String("{\"reason_id\":".into())),
        )
        .await;
    assert_eq!(status, 400);
    let (status, problem) = given
        .call(
            "POST",
            "/practitioners/dr-martin/appointments",
            Some("dr-martin"),
            Some(json!({"reason_id": "consultation", "start": "2026-12-03T14:30"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "patient");
}

#[tokio::test]
async fn an_overlapping_booking_is_409_and_back_to_back_is_fine() {
    let given = given_dr_martin().await;
    assert_eq!(given.book("2026-12-03T14:30").await.0, 201);
    let (status, problem) = given.book("2026-12-03T14:40").await;
    assert_eq!(status, 409);
    assert!(problem["detail"].as_str().unwrap().contains("overlaps"));
    assert_eq!(given.book("2026-12-03T14:50").await.0, 201);
    assert_eq!(given.book("2026-12-03T14:10").await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bookings_of_one_slot_give_exactly_one_201() {
    let given = given_dr_martin().await;
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let api = given.api.clone();
            tokio::spawn(async move {
                let request = request(
                    "POST",
                    "/practitioners/dr-martin/appointments",
                    Some("dr-martin"),
                    Some(booking_body("2026-12-03T10:00")),
                );
                api.handle(request).await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(
        given
            .store
            .agenda(&"dr-martin".parse_id(), far_range())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn another_practitioners_appointment_is_not_found() {
    let given = given_dr_martin().await;
    let (_, created) = given.book("2026-12-03T14:30").await;
    given
        .call(
            "PUT",
            "/practitioners/dr-dubois",
            Some("dr-dubois"),
            Some(settings()),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, _) = given
        .call(
            "GET",
            &format!("/practitioners/dr-dubois/appointments/{id}"),
            Some("dr-dubois"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_sample_event_books_through_the_handler() {
    let given = given_dr_martin().await;
    let sample = include_str!("../../../events/booking-create-appointment.json");
    let response = given
        .api
        .handle(lambda_http::request::from_str(sample).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}
