//! The practitioner side cancelling and placing absences, and patients booking
//! online, over HTTP against the local server (SPEC §3, §4.4, §6.2, §6.3).

use acceptance::{DEMO, TestApp, on_each_backend};
use chrono::{Duration, NaiveDate, Weekday};
use chrono_tz::Europe::Paris;
use reqwest::Method;
use serde_json::{Value, json};

/// The Monday of the week after next on the app's clock, in Paris.
fn monday(app: &TestApp) -> NaiveDate {
    app.first_after(8, Weekday::Mon)
}

fn at(day: NaiveDate, hour: u32, minute: u32) -> String {
    format!("{day}T{hour:02}:{minute:02}:00")
}

/// The same time as the API answers it, with the offset of that day in Paris.
fn answered(day: NaiveDate, hour: u32, minute: u32) -> String {
    use chrono::TimeZone;
    Paris
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .unwrap()
        .to_rfc3339()
}

fn booking(reason: &str, start: &str) -> Value {
    json!({"reason_id": reason, "start": start,
           "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                       "email": "jeanne@example.org", "mobile": acceptance::mobile()}})
}

async fn book(app: &TestApp, start: &str) -> String {
    let (status, appointment) = app.book(DEMO, &booking("consultation", start)).await;
    assert_eq!(status, 201, "{appointment}");
    appointment["id"].as_str().unwrap().to_string()
}

async fn set_status(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    let response = app
        .as_practitioner(
            Method::PUT,
            DEMO,
            &format!("/practitioners/{DEMO}/appointments/{id}/status"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn place_absence(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .as_practitioner(
            Method::POST,
            DEMO,
            &format!("/practitioners/{DEMO}/absences"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn status_of(app: &TestApp, id: &str) -> String {
    app.appointment(DEMO, id).await["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn public_slots(app: &TestApp, query: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(&format!("/public/practitioners/{DEMO}/slots?{query}")))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Books online as a patient does (SPEC §6.3): a code to an address of this
/// patient's own (each booking here is another patient, so the per-address
/// limits stay out of the way), read from the messages, then the booking.
async fn book_online(app: &TestApp, body: &Value) -> (u16, Value) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut body = body.clone();
    body["patient"]["email"] = format!(
        "patient-{}@example.org",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
    .into();
    app.book_online(DEMO, &body).await
}

fn starts(slots: &Value) -> Vec<String> {
    slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

async fn status_changes_follow_the_allowed_transitions_and_free_the_time(app: TestApp) {
    let start = at(monday(&app), 10, 0);
    let id = book(&app, &start).await;

    let (status, view) = set_status(
        &app,
        &id,
        json!({"status": "to_reschedule", "send_cancellation_sms": false}),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["status"].as_str(), view["version"].as_u64()),
        (Some("to_reschedule"), Some(2))
    );
    // The same request again (a retry) changes nothing
    let (status, view) = set_status(&app, &id, json!({"status": "to_reschedule"})).await;
    assert_eq!((status, view["version"].as_u64()), (200, Some(2)));
    // The time is free again
    book(&app, &start).await;
    // to_reschedule → cancelled is allowed; cancelled → to_reschedule is not
    assert_eq!(
        set_status(&app, &id, json!({"status": "cancelled"}))
            .await
            .0,
        200
    );
    let (status, problem) = set_status(&app, &id, json!({"status": "to_reschedule"})).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("cancelled"));
    // Unknown statuses and ids
    assert_eq!(
        set_status(&app, &id, json!({"status": "booked"})).await.0,
        422
    );
    let (status, _) = set_status(
        &app,
        "01JDX5Z8Q8N4W6B1R0M9T2V3C7",
        json!({"status": "cancelled"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(status_of(&app, &id).await, "cancelled");
}

async fn an_absence_over_booked_appointments_is_refused_by_default_and_lists_them(app: TestApp) {
    let day = monday(&app);
    let mut ids = Vec::new();
    for (h, m) in [(9, 0), (9, 40), (11, 0)] {
        ids.push(book(&app, &at(day, h, m)).await);
    }
    let outside = book(&app, &at(day, 14, 0)).await;

    let (status, problem) = place_absence(
        &app,
        json!({"start": at(day, 8, 0), "end": at(day, 12, 0), "label": "Congrès"}),
    )
    .await;

    // Then the refusal lists them in `appointments`, for the front end to show
    assert_eq!(status, 409, "{problem}");
    let mut listed: Vec<String> = problem["appointments"]
        .as_array()
        .unwrap_or_else(|| panic!("no appointments member: {problem}"))
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // and in words
    assert_eq!(problem["errors"].as_array().unwrap().len(), ids.len());
    for id in ids.iter().chain([&outside]) {
        assert_eq!(status_of(&app, id).await, "booked");
    }
    // Nothing was placed: the morning can still be booked
    book(&app, &at(day, 10, 20)).await;
}

async fn an_absence_with_to_reschedule_moves_them_all_and_keeps_bookings_out(app: TestApp) {
    let day = monday(&app);
    let mut ids = Vec::new();
    for (h, m) in [(9, 0), (9, 40), (11, 0)] {
        ids.push(book(&app, &at(day, h, m)).await);
    }

    let (status, absence) = place_absence(
        &app,
        json!({"start": at(day, 8, 0), "end": at(day, 12, 0), "label": "Congrès",
               "appointments": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;

    assert_eq!(status, 201, "{absence}");
    let mut affected: Vec<String> = absence["affected_appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    affected.sort();
    ids.sort();
    assert_eq!(affected, ids);
    assert_eq!(absence["label"], "Congrès");
    for id in &ids {
        assert_eq!(status_of(&app, id).await, "to_reschedule");
    }
    // The same request again (a retry) names the same absence and changes nothing
    let (status, again) = place_absence(
        &app,
        json!({"start": at(day, 8, 0), "end": at(day, 12, 0), "label": "Congrès",
               "appointments": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;
    assert_eq!((status, &again["id"]), (201, &absence["id"]));
    // Nobody books inside it, on either side
    let (status, problem) = app
        .book(DEMO, &booking("consultation", &at(day, 10, 0)))
        .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("absent"),
        "{problem}"
    );
    let (_, slots) = public_slots(
        &app,
        &format!(
            "reason_id=consultation&from={day}&to={}",
            day + Duration::days(1)
        ),
    )
    .await;
    let offered = starts(&slots);
    assert!(!offered.is_empty());
    assert!(
        offered
            .iter()
            .all(|s| s.as_str() >= format!("{day}T12:00").as_str()),
        "{offered:?}"
    );
}

/// Embedded only: on the moto server shared by every test it is a load test
/// of moto itself; the DynamoDB writes it makes are covered by
/// tests/store_contract.rs.
#[tokio::test]
async fn an_absence_over_a_full_week_of_appointments_completes_in_one_request() {
    let app = acceptance::spawn_app().await;
    let day = monday(&app);
    // 22 appointments a day, Monday to Friday: 110 (the practice may book outside opening hours).
    let mut booked = 0;
    for d in 0..5 {
        let date = day + Duration::days(d);
        for slot in 0..22 {
            let minutes = 8 * 60 + slot * 20;
            book(&app, &at(date, minutes / 60, minutes % 60)).await;
            booked += 1;
        }
    }
    let (status, absence) = place_absence(
        &app,
        json!({"start": at(day, 0, 0), "end": at(day + Duration::days(7), 0, 0),
               "appointments": "to_reschedule", "send_cancellation_sms": false}),
    )
    .await;
    assert_eq!(status, 201, "{absence}");
    assert_eq!(
        absence["affected_appointments"].as_array().unwrap().len(),
        booked
    );
    let week = app
        .as_practitioner(
            Method::GET,
            DEMO,
            &format!(
                "/practitioners/{DEMO}/appointments?from={day}&to={}",
                day + Duration::days(7)
            ),
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let statuses: Vec<&str> = week["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), booked);
    assert!(statuses.iter().all(|s| *s == "to_reschedule"));
}

async fn online_booking_offers_only_free_slots_and_books_only_those(app: TestApp) {
    let day = monday(&app);
    let taken = book(&app, &at(day, 9, 20)).await;
    let query = format!(
        "reason_id=consultation&from={day}&to={}",
        day + Duration::days(1)
    );

    let (status, slots) = public_slots(&app, &query).await;
    assert_eq!(status, 200, "{slots}");
    let offered = starts(&slots);
    assert!(offered.contains(&answered(day, 9, 0)));
    assert!(!offered.contains(&answered(day, 9, 20)), "taken");
    assert!(
        !offered
            .iter()
            .any(|s| s.contains("T12:") || s.contains("T13:")),
        "closed at lunch"
    );

    // Booking an offered slot: 201, source online, and the confirmation follows
    let (status, booked) = book_online(&app, &booking("consultation", &offered[0])).await;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(
        (booked["source"].as_str(), booked["status"].as_str()),
        (Some("online"), Some("booked"))
    );
    assert!(booked.get("patient").is_none() && booked.get("communications").is_none());
    let outbox = app.outbox().await;
    assert!(
        outbox
            .iter()
            .any(|m| m["appointment_id"] == booked["id"] && m["kind"] == "confirmation")
    );

    // A taken slot: 409, saying nothing about who holds it
    let (status, problem) = book_online(&app, &booking("consultation", &at(day, 9, 20))).await;
    assert_eq!(status, 409);
    assert!(!problem.to_string().contains(&taken), "{problem}");
    // Off the grid, outside opening hours: 422
    for start in [at(day, 9, 5), at(day, 19, 0), at(day, 12, 40)] {
        assert_eq!(
            book_online(&app, &booking("consultation", &start)).await.0,
            422,
            "{start}"
        );
    }
    // A reason not offered online
    assert_eq!(public_slots(&app, "reason_id=bilan").await.0, 404);
    let (status, problem) = book_online(&app, &booking("bilan", &offered[2])).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "reason_id");
}

/// On moto, with its requests served one at a time as AWS applies transactions
/// (docs/decisions.md, "Moto runs one request at a time").
async fn two_patients_racing_for_one_slot_one_wins(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let day = monday(&app);
    let start = at(day, 15, 0);
    let racers: Vec<_> = (0..10)
        .map(|_| {
            let app = app.clone();
            let start = start.clone();
            tokio::spawn(async move { book_online(&app, &booking("consultation", &start)).await.0 })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.unwrap());
    }
    outcomes.sort();
    assert_eq!(outcomes, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
}

fn sms_for<'a>(outbox: &'a [Value], id: &str) -> Vec<&'a Value> {
    outbox
        .iter()
        .filter(|m| {
            m["appointment_id"] == id
                && m["channel"] == "sms"
                && m["kind"] == "practitioner_cancellation"
        })
        .collect()
}

async fn log_of(app: &TestApp, id: &str) -> Vec<(String, String, String)> {
    app.outbox().await;
    app.appointment(DEMO, id).await["communications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["state"].as_str().unwrap().to_string(),
                c["reason_code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn to_reschedule_with_the_sms_sends_a_rebooking_link_that_books_a_replacement_once(
    app: TestApp,
) {
    // Given a booked appointment, the practice at work
    app.during_the_working_day().await;
    let day = monday(&app);
    let id = book(&app, &at(day, 10, 0)).await;

    // When the secretariat sets it to reschedule with the SMS ticked
    let (status, _) = set_status(
        &app,
        &id,
        json!({"status": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;
    assert_eq!(status, 200);

    // Then one SMS goes out, GSM-7 in one segment, with a working /r/ link
    let outbox = app.outbox().await;
    let sms = sms_for(&outbox, &id);
    assert_eq!(sms.len(), 1);
    let text = sms[0]["text"].as_str().unwrap();
    assert!(
        text.chars().count() <= 160 && text.contains("10h00") && text.contains("Dr Marie Martin"),
        "{text}"
    );
    assert!(!text.contains("Consultation"));
    let link = sms[0]["links"][0].as_str().unwrap().to_string();
    assert!(
        link.starts_with(&format!("{}/r/", app.app.base_url)) && text.ends_with(&link),
        "{text}"
    );
    assert!(log_of(&app, &id).await.contains(&(
        "practitioner_cancellation".into(),
        "sent".into(),
        String::new()
    )));

    // When the patient follows it and posts a slot
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("type=\"radio\""));
    let offer: Value = app
        .client
        .get(format!("{link}?from={day}"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(offer["can_rebook"], true);
    let start = starts(&offer)[3].clone();
    let rebook = |start: String| {
        app.client
            .post(&link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string([("start", start)]).unwrap())
            .send()
    };
    let response = rebook(start.clone()).await.unwrap();
    assert_eq!(response.status(), 201);

    // Then the replacement is booked, the old one rebooked, and the confirmation follows
    assert_eq!(status_of(&app, &id).await, "rebooked");
    let outbox = app.outbox().await;
    let confirmation = outbox
        .iter()
        .rev()
        .find(|m| m["kind"] == "confirmation" && m["appointment_id"] != id)
        .expect("a confirmation for the replacement");
    let replacement = app
        .appointment(DEMO, confirmation["appointment_id"].as_str().unwrap())
        .await;
    assert_eq!(
        (
            replacement["replaces"].as_str(),
            replacement["status"].as_str()
        ),
        (Some(id.as_str()), Some("booked"))
    );
    assert_eq!(replacement["start"], start);
    assert_eq!(replacement["source"], "online");
    // and the link works once
    assert_eq!(
        rebook(starts(&offer)[5].clone()).await.unwrap().status(),
        410
    );
    assert_eq!(sms_for(&app.outbox().await, &id).len(), 1);
}

async fn with_online_booking_off_for_the_reason_the_sms_gives_the_phone_and_no_link(app: TestApp) {
    // (the practice at work: the SMS goes at once)
    app.during_the_working_day().await;
    let (status, appointment) = app
        .book(DEMO, &booking("bilan", &at(monday(&app), 10, 0)))
        .await;
    assert_eq!(status, 201);
    let id = appointment["id"].as_str().unwrap();
    set_status(
        &app,
        id,
        json!({"status": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;
    let outbox = app.outbox().await;
    let sms = sms_for(&outbox, id);
    assert_eq!(sms.len(), 1);
    let text = sms[0]["text"].as_str().unwrap();
    assert!(
        text.contains("01 40 00 00 00") && !text.contains("http"),
        "{text}"
    );
    assert!(sms[0]["links"].as_array().unwrap().is_empty());
}

async fn an_absence_with_the_sms_notifies_each_patient_once(app: TestApp) {
    // (the practice at work: the SMS go at once)
    app.during_the_working_day().await;
    let day = monday(&app);
    let mut ids = Vec::new();
    for (h, m) in [(9, 0), (9, 40), (11, 0), (11, 20)] {
        ids.push(book(&app, &at(day, h, m)).await);
    }
    let body = json!({"start": at(day, 8, 0), "end": at(day, 12, 0),
                      "appointments": "to_reschedule", "send_cancellation_sms": true});
    assert_eq!(place_absence(&app, body.clone()).await.0, 201);
    // A retried request notifies nobody twice
    assert_eq!(place_absence(&app, body).await.0, 201);
    let outbox = app.outbox().await;
    for id in &ids {
        assert_eq!(sms_for(&outbox, id).len(), 1, "{id}");
    }
}

async fn without_a_mobile_or_with_the_cancellation_sms_off_no_sms_and_the_log_says_why(
    app: TestApp,
) {
    let day = monday(&app);
    // No mobile on the contact
    let mut body = booking("consultation", &at(day, 9, 0));
    body["patient"]["mobile"] = Value::Null;
    let (_, no_mobile) = app.book(DEMO, &body).await;
    let no_mobile = no_mobile["id"].as_str().unwrap().to_string();
    set_status(
        &app,
        &no_mobile,
        json!({"status": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;
    // SMS not ticked by the secretariat
    let not_ticked = book(&app, &at(day, 9, 40)).await;
    set_status(
        &app,
        &not_ticked,
        json!({"status": "to_reschedule", "send_cancellation_sms": false}),
    )
    .await;
    // The cancellation SMS switched off in the settings, once the changes
    // above are told: a message decides on the settings of its sending time
    // (SPEC §2), and moto's stream is polled, so the senders may lag behind.
    app.senders_done().await;
    let mut settings: Value = app
        .as_practitioner(Method::GET, DEMO, &format!("/practitioners/{DEMO}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["sms_service"]["cancellation_sms"] = false.into();
    let saved = app
        .as_practitioner(Method::PUT, DEMO, &format!("/practitioners/{DEMO}"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let switched_off = book(&app, &at(day, 11, 0)).await;
    set_status(
        &app,
        &switched_off,
        json!({"status": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;

    let outbox = app.outbox().await;
    for (id, code) in [
        (&no_mobile, "no_mobile"),
        (&not_ticked, "cancellation_sms_not_requested"),
        (&switched_off, "cancellation_sms_disabled"),
    ] {
        assert!(sms_for(&outbox, id).is_empty(), "{id}");
        let log = log_of(&app, id).await;
        assert!(
            log.contains(&(
                "practitioner_cancellation".into(),
                "skipped".into(),
                code.into()
            )),
            "{code}: {log:?}"
        );
    }
}

on_each_backend!(
    status_changes_follow_the_allowed_transitions_and_free_the_time,
    an_absence_over_booked_appointments_is_refused_by_default_and_lists_them,
    an_absence_with_to_reschedule_moves_them_all_and_keeps_bookings_out,
    online_booking_offers_only_free_slots_and_books_only_those,
    two_patients_racing_for_one_slot_one_wins,
    to_reschedule_with_the_sms_sends_a_rebooking_link_that_books_a_replacement_once,
    with_online_booking_off_for_the_reason_the_sms_gives_the_phone_and_no_link,
    an_absence_with_the_sms_notifies_each_patient_once,
    without_a_mobile_or_with_the_cancellation_sms_off_no_sms_and_the_log_says_why,
);
