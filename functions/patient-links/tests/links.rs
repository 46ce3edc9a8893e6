//! The patient-links function through its handler, with API Gateway events as
//! Lambda hands them over (the sample of `events/` among them).

use domain::fixtures::{at, booked, dr_martin};
use domain::links::{LinkGrant, LinkPurpose, LinkToken, PublicUrls};
use domain::ports::capabilities::*;
use lambda_http::{Body, Request};
use local::embedded::AdjustableClock;
use local::embedded::MemoryStore;
use patient_links::PatientLinksApi;
use std::sync::Arc;

const SAMPLE: &str = include_str!("../../../events/patient-links-cancel.json");
/// The token in the sample's path.
const SAMPLE_TOKEN: &str = "EBESExQVFhcYGRobHB0eHw";

struct Given {
    api: PatientLinksApi,
    store: Arc<MemoryStore>,
    appointment: domain::appointment::Appointment,
}

/// Jeanne's appointment of 3 December, a week ahead, whose latest confirmation
/// carried the sample's token.
async fn given() -> Given {
    let store = Arc::new(MemoryStore::default());
    store.put_settings(&dr_martin()).await.unwrap();
    let appointment = booked(at("2026-12-03T13:30:00Z"), 20);
    store.insert_appointment(&appointment).await.unwrap();
    let token = LinkToken::parse(SAMPLE_TOKEN).unwrap();
    let grant = LinkGrant {
        appointment_id: appointment.id,
        practitioner_id: appointment.practitioner_id.clone(),
        purpose: LinkPurpose::ManageAppointment,
        version: 1,
        expires_at: appointment.end,
    };
    store.put_link(&token.hash(), &grant).await.unwrap();
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-26T09:00:00Z")));
    Given {
        api: PatientLinksApi::new(
            store.clone(),
            clock,
            PublicUrls::new("https://rdv.example.org"),
            local_quotas(),
            Default::default(),
        ),
        store,
        appointment,
    }
}

/// The sample event, turned into another request of the same kind.
fn request(method: &str, path: &str, accept: &str) -> Request {
    let mut event: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["requestContext"]["http"]["method"] = method.into();
    event["headers"]["accept"] = accept.into();
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn body(response: &lambda_http::Response<Body>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

#[tokio::test]
async fn the_sample_event_cancels_through_the_handler_once() {
    let given = given().await;
    let response = given
        .api
        .handle(lambda_http::request::from_str(SAMPLE).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", body(&response));
    assert!(body(&response).contains("Votre rendez-vous est annulé"));
    let stored = given
        .store
        .appointment(&given.appointment.practitioner_id, &given.appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.status,
        domain::appointment::Status::CancelledByPatient
    );
    assert_eq!(stored.version, 2);

    // The same post again finds a dead link.
    let again = given
        .api
        .handle(lambda_http::request::from_str(SAMPLE).unwrap())
        .await
        .unwrap();
    assert_eq!(again.status(), 410);
    assert_eq!(
        given
            .store
            .appointment(&given.appointment.practitioner_id, &given.appointment.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

#[tokio::test]
async fn the_json_answer_has_the_shape_the_front_end_reads() {
    let given = given().await;
    let response = given
        .api
        .handle(request(
            "GET",
            &format!("/a/{SAMPLE_TOKEN}"),
            "application/json",
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let view: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
    assert_eq!(
        view,
        serde_json::json!({
            "status": "booked",
            "start": "2026-12-03T14:30:00+01:00", "end": "2026-12-03T14:50:00+01:00",
            "practitioner": {"name": "Dr Marie Martin", "address": "12 rue de la Paix, 75002 Paris"},
            "can_modify": true, "can_cancel": true, "why_not": null,
            "secretariat_phone": "+33140000000"
        })
    );
}

#[tokio::test]
async fn pages_never_show_the_reason_and_escape_what_people_typed() {
    let given = given().await;
    let mut settings = dr_martin();
    settings.reasons[0].label = "Suivi psychiatrique".into();
    settings.name = "Dr <b>Martin</b>".into();
    given.store.put_settings(&settings).await.unwrap();
    for path in [
        format!("/a/{SAMPLE_TOKEN}"),
        format!("/a/{SAMPLE_TOKEN}/slots"),
    ] {
        let response = given
            .api
            .handle(request("GET", &path, "text/html"))
            .await
            .unwrap();
        let page = body(&response);
        assert_eq!(response.status(), 200);
        assert!(!page.contains("psychiatrique"), "{page}");
        assert!(!page.contains("<b>Martin"), "{page}");
        assert!(page.contains("name=\"viewport\""));
    }
}

#[tokio::test]
async fn a_link_for_another_purpose_leads_nowhere() {
    let given = given().await;
    let rebook = LinkToken::generate();
    let grant = LinkGrant {
        appointment_id: given.appointment.id,
        practitioner_id: given.appointment.practitioner_id.clone(),
        purpose: LinkPurpose::Rebook,
        version: 1,
        expires_at: given.appointment.end,
    };
    given.store.put_link(&rebook.hash(), &grant).await.unwrap();
    let path = format!("/a/{}/cancel", rebook.as_str());
    let response = given
        .api
        .handle(request("POST", &path, "application/json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        given
            .store
            .appointment(&given.appointment.practitioner_id, &given.appointment.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        domain::appointment::Status::Booked
    );
}

#[tokio::test]
async fn after_the_appointment_the_link_has_expired() {
    let given = given().await;
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-12-03T14:00:00Z")));
    let api = PatientLinksApi::new(
        given.store.clone(),
        clock,
        PublicUrls::new(""),
        local_quotas(),
        Default::default(),
    );
    let response = api
        .handle(request("GET", &format!("/a/{SAMPLE_TOKEN}"), "text/html"))
        .await
        .unwrap();
    assert_eq!(response.status(), 410);
    let page = body(&response);
    assert!(
        page.contains("expiré") && page.contains("01 40 00 00 00"),
        "{page}"
    );
}

/// Jeanne's appointment set to « à reporter » by the practice (version 2), and
/// the rebooking link of its cancellation SMS.
async fn rebooking(given: &Given) -> LinkToken {
    let mut to_reschedule = given.appointment.clone();
    to_reschedule.status = domain::appointment::Status::ToReschedule;
    to_reschedule.version = 2;
    to_reschedule.last_change = domain::appointment::Change::SetToReschedule;
    given
        .store
        .update_appointment(1, &to_reschedule)
        .await
        .unwrap();
    let token = LinkToken::generate();
    let grant = LinkGrant {
        appointment_id: given.appointment.id,
        practitioner_id: given.appointment.practitioner_id.clone(),
        purpose: LinkPurpose::Rebook,
        version: 2,
        expires_at: at("2027-01-25T00:00:00Z"),
    };
    given.store.put_link(&token.hash(), &grant).await.unwrap();
    token
}

fn with_body(mut request: Request, body: &serde_json::Value) -> Request {
    *request.body_mut() = Body::Text(body.to_string());
    request.headers_mut().insert(
        "content-type",
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    request
}

#[tokio::test]
async fn a_rebooking_link_books_one_replacement_and_works_once() {
    let given = given().await;
    let token = rebooking(&given).await;
    let page = format!("/r/{}", token.as_str());

    let response = given
        .api
        .handle(request("GET", &page, "application/json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let offer: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
    assert_eq!(offer["cancelled"]["start"], "2026-12-03T14:30:00+01:00");
    assert_eq!(
        offer["cancelled"]["practitioner"]["name"],
        "Dr Marie Martin"
    );
    assert_eq!(offer["can_rebook"], true);
    assert_eq!(offer["secretariat_phone"], "+33140000000");
    let start = offer["slots"][0]["start"].as_str().unwrap().to_string();

    let post = with_body(
        request("POST", &page, "application/json"),
        &serde_json::json!({"start": start}),
    );
    let response = given.api.handle(post).await.unwrap();
    assert_eq!(response.status(), 201, "{}", body(&response));
    let replacement: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
    assert_eq!(
        (
            replacement["start"].as_str(),
            replacement["status"].as_str()
        ),
        (Some(start.as_str()), Some("booked"))
    );
    let id = domain::ids::AppointmentId::parse(replacement["id"].as_str().unwrap()).unwrap();
    let new = given
        .store
        .appointment(&given.appointment.practitioner_id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.replaces, Some(given.appointment.id));
    assert_eq!(new.source, domain::appointment::Source::Online);
    let old = given
        .store
        .appointment(&given.appointment.practitioner_id, &given.appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.status, domain::appointment::Status::Rebooked);

    // The link works once.
    let again = with_body(
        request("POST", &page, "application/json"),
        &serde_json::json!({"start": start}),
    );
    assert_eq!(given.api.handle(again).await.unwrap().status(), 410);
    let html = given
        .api
        .handle(request("GET", &page, "text/html"))
        .await
        .unwrap();
    assert_eq!(html.status(), 410);
}

#[tokio::test]
async fn without_online_booking_the_rebooking_page_gives_the_phone_and_books_nothing() {
    let given = given().await;
    let token = rebooking(&given).await;
    let mut settings = dr_martin();
    settings.reasons[0].online_booking = false;
    given.store.put_settings(&settings).await.unwrap();
    let page = format!("/r/{}", token.as_str());

    let response = given
        .api
        .handle(request("GET", &page, "application/json"))
        .await
        .unwrap();
    let offer: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
    assert_eq!(offer["can_rebook"], false);
    assert_eq!(offer["slots"], serde_json::json!([]));
    assert!(offer["why_not"].as_str().unwrap().contains("en ligne"));
    let html = body(
        &given
            .api
            .handle(request("GET", &page, "text/html"))
            .await
            .unwrap(),
    );
    assert!(
        html.contains("01 40 00 00 00") && !html.contains("type=\"radio\""),
        "{html}"
    );

    let post = with_body(
        request("POST", &page, "application/json"),
        &serde_json::json!({"start": "2026-11-30T09:00:00+01:00"}),
    );
    let response = given.api.handle(post).await.unwrap();
    assert_eq!(response.status(), 409);
    let problem: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
    assert_eq!(problem["secretariat_phone"], "+33140000000");
    assert_eq!(
        given
            .store
            .appointment(&given.appointment.practitioner_id, &given.appointment.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        domain::appointment::Status::ToReschedule
    );
}

/// Local mode's key and SPEC §6's limits.
fn local_quotas() -> domain::quota::Quotas {
    domain::quota::Quotas::new(
        domain::keyed::HashKey::local_mode(),
        domain::quota::Limits::default(),
    )
}

#[tokio::test]
async fn posts_over_the_limit_of_an_address_are_429_and_refused_posts_do_not_count() {
    // Given the limit of posts per source address at 1
    let given = given().await;
    let limits = domain::quota::Limits {
        posts_per_source: 1,
        ..domain::quota::Limits::default()
    };
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-26T09:00:00Z")));
    let api = PatientLinksApi::new(
        given.store.clone(),
        clock,
        PublicUrls::new("https://rdv.example.org"),
        domain::quota::Quotas::new(domain::keyed::HashKey::local_mode(), limits),
        Default::default(),
    );
    // When a post that is refused (an unknown link) comes first
    let unknown = request(
        "POST",
        "/a/AAAAAAAAAAAAAAAAAAAAAA/cancel",
        "application/json",
    );
    assert_eq!(api.handle(unknown).await.unwrap().status(), 404);
    // Then it did not count: the cancellation goes through
    let cancelled = api
        .handle(lambda_http::request::from_str(SAMPLE).unwrap())
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200, "{}", body(&cancelled));
    // And the next post from the same address is 429, with Retry-After, and changes nothing
    let items = given.store.table().dump();
    let over = api
        .handle(lambda_http::request::from_str(SAMPLE).unwrap())
        .await
        .unwrap();
    assert_eq!(over.status(), 429, "{}", body(&over));
    // (the hour began at 09:00, the clock runs on from there)
    let retry: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    assert_eq!(given.store.table().dump(), items);
    // And reading a link is never limited (this one, cancelled, says it is gone)
    let read = api
        .handle(request(
            "GET",
            &format!("/a/{SAMPLE_TOKEN}"),
            "application/json",
        ))
        .await
        .unwrap();
    assert_eq!(read.status(), 410);
}
