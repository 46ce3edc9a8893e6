//! The practice's cancellation told on every channel, changes by the
//! secretariat, calendars and minimum notice, over HTTP against the local
//! server (SPEC §2, §4.4, §4.5, §5, §6.2, §6.3).

use acceptance::{DEMO, TestApp, on_each_backend};
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Paris;
use icalendar::Component;
use reqwest::Method;
use serde_json::{Value, json};

/// The Monday of the week after next on the app's clock, in Paris.
fn monday(app: &TestApp) -> NaiveDate {
    app.first_after(8, Weekday::Mon)
}

fn at(day: NaiveDate, hour: u32, minute: u32) -> String {
    format!("{day}T{hour:02}:{minute:02}:00")
}

fn patient(email: Option<&str>, mobile: Option<String>) -> Value {
    let mut p = json!({"first_name": "Jeanne", "last_name": "Dupont"});
    if let Some(email) = email {
        p["email"] = email.into();
    }
    if let Some(mobile) = mobile {
        p["mobile"] = mobile.into();
    }
    p
}

async fn book_for(app: &TestApp, start: &str, patient: Value) -> String {
    let body = json!({"reason_id": "consultation", "start": start, "patient": patient});
    let (status, appointment) = app.book(DEMO, &body).await;
    assert_eq!(status, 201, "{appointment}");
    appointment["id"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, method: Method, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .as_practitioner(method, DEMO, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn patch(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    let (status, answer) = send(
        app,
        Method::PATCH,
        &format!("/practitioners/{DEMO}/appointments/{id}"),
        body,
    )
    .await;
    app.remember_patient(&answer);
    (status, answer)
}

async fn to_reschedule(app: &TestApp, id: &str) {
    let (status, answer) = send(
        app,
        Method::PUT,
        &format!("/practitioners/{DEMO}/appointments/{id}/status"),
        json!({"status": "to_reschedule", "send_cancellation_sms": true}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

async fn settings(app: &TestApp) -> Value {
    send(
        app,
        Method::GET,
        &format!("/practitioners/{DEMO}"),
        Value::Null,
    )
    .await
    .1
}

async fn save_settings(app: &TestApp, settings: &Value) {
    let (status, answer) = send(
        app,
        Method::PUT,
        &format!("/practitioners/{DEMO}"),
        settings.clone(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

fn messages<'a>(outbox: &'a [Value], id: &str, kind: &str, channel: &str) -> Vec<&'a Value> {
    outbox
        .iter()
        .filter(|m| m["appointment_id"] == id && m["kind"] == kind && m["channel"] == channel)
        .collect()
}

/// `(kind, channel, state, reason_code)` of each entry of the log.
async fn log_of(app: &TestApp, id: &str) -> Vec<(String, String, String, String)> {
    app.outbox().await;
    app.appointment(DEMO, id).await["communications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |f: &str| c[f].as_str().unwrap_or("").to_string();
            (s("kind"), s("channel"), s("state"), s("reason_code"))
        })
        .collect()
}

fn entry(kind: &str, channel: &str, state: &str, code: &str) -> (String, String, String, String) {
    (kind.into(), channel.into(), state.into(), code.into())
}

/// The e-mail's .ics, read by an RFC 5545 parser as a calendar would.
fn calendar_of(email: &Value) -> icalendar::Calendar {
    let ics = email["attachments"]
        .as_array()
        .unwrap_or_else(|| panic!("no attachments: {email}"))
        .iter()
        .find(|a| {
            a["content_type"]
                .as_str()
                .is_some_and(|c| c.starts_with("text/calendar"))
        })
        .unwrap_or_else(|| panic!("no calendar: {email}"))["content"]
        .as_str()
        .unwrap()
        .to_string();
    ics.parse()
        .unwrap_or_else(|e| panic!("not RFC 5545: {e}\n{ics}"))
}

/// `(METHOD, UID, SEQUENCE, STATUS)` of the calendar's one event.
fn invitation(calendar: &icalendar::Calendar) -> (String, String, u32, String) {
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    (
        calendar.property_value("METHOD").unwrap_or("").to_string(),
        event.get_uid().unwrap().to_string(),
        event.get_sequence().unwrap_or(0),
        event.property_value("STATUS").unwrap_or("").to_string(),
    )
}

async fn status_of_link(app: &TestApp, url: &str) -> u16 {
    app.client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Books the first slot offered on `link`'s rebooking page (`/r/{token}`).
async fn rebook_from(app: &TestApp, link: &str, day: NaiveDate) -> u16 {
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
    let Some(start) = offer["slots"][2]["start"].as_str() else {
        // No offer: the link no longer leads to the cancelled appointment.
        return status_of_link(app, link).await;
    };
    app.client
        .post(link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("start", start)]).unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn an_email_only_patient_is_told_of_the_cancellation_and_rebooks_from_the_email(
    app: TestApp,
) {
    // Given a patient with an e-mail address and no mobile
    let day = monday(&app);
    let id = book_for(
        &app,
        &at(day, 10, 0),
        patient(Some("jeanne@example.org"), None),
    )
    .await;
    let outbox = app.outbox().await;
    let (_, uid, _, _) = invitation(&calendar_of(
        messages(&outbox, &id, "confirmation", "email")[0],
    ));

    // When the secretariat sets it to reschedule and asks to tell the patient
    to_reschedule(&app, &id).await;

    // Then the patient gets the notice by e-mail, with a rebooking link
    let outbox = app.outbox().await;
    let notices = messages(&outbox, &id, "practitioner_cancellation", "email");
    assert_eq!(notices.len(), 1);
    let notice = notices[0];
    assert_eq!(notice["to"], "jeanne@example.org");
    let text = notice["text"].as_str().unwrap();
    assert!(
        text.contains("10h00") && text.contains("Dr Marie Martin"),
        "{text}"
    );
    assert!(!text.contains("Consultation"), "{text}");
    let link = notice["links"][0].as_str().unwrap().to_string();
    assert!(
        link.starts_with(&format!("{}/r/", app.app.base_url)),
        "{link}"
    );
    // and a calendar file that takes the appointment out of the calendar
    assert_eq!(
        invitation(&calendar_of(notice)),
        ("CANCEL".into(), uid, 2, "CANCELLED".into())
    );
    // and the log says why no SMS went out
    let log = log_of(&app, &id).await;
    assert!(
        log.contains(&entry("practitioner_cancellation", "email", "sent", "")),
        "{log:?}"
    );
    assert!(
        log.contains(&entry(
            "practitioner_cancellation",
            "sms",
            "skipped",
            "no_mobile"
        )),
        "{log:?}"
    );

    // When the patient rebooks from the e-mail
    assert_eq!(rebook_from(&app, &link, day).await, 201);

    // Then the old appointment is rebooked, and the link works once
    assert_eq!(app.appointment(DEMO, &id).await["status"], "rebooked");
    assert_eq!(rebook_from(&app, &link, day).await, 410);
    // and its page says the patient has already booked
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 410);
    let page = page.text().await.unwrap();
    assert!(page.contains("Vous avez déjà repris rendez-vous"), "{page}");
}

async fn the_email_and_the_sms_lead_to_one_replacement(app: TestApp) {
    // Given a patient with an e-mail address and a mobile, told of a
    // cancellation while the practice is at work
    app.during_the_working_day().await;
    let day = monday(&app);
    let id = book_for(
        &app,
        &at(day, 11, 0),
        patient(Some("jeanne@example.org"), Some(acceptance::mobile())),
    )
    .await;
    to_reschedule(&app, &id).await;
    let outbox = app.outbox().await;
    let by_email = messages(&outbox, &id, "practitioner_cancellation", "email")[0]["links"][0]
        .as_str()
        .unwrap()
        .to_string();
    let by_sms = messages(&outbox, &id, "practitioner_cancellation", "sms")[0]["links"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(by_email, by_sms);

    // When the patient rebooks from the SMS
    assert_eq!(rebook_from(&app, &by_sms, day).await, 201);

    // Then the e-mail's link no longer books anything
    assert_eq!(status_of_link(&app, &by_email).await, 410);
    assert_eq!(rebook_from(&app, &by_email, day).await, 410);
    let replacements = app
        .outbox()
        .await
        .iter()
        .filter(|m| m["kind"] == "confirmation" && m["appointment_id"] != id.as_str())
        .count();
    assert_eq!(replacements, 1);
}

async fn the_sms_goes_only_for_reasons_ticked_for_sms_reminders(app: TestApp) {
    // Given a reason not ticked for SMS reminders
    let mut doc = settings(&app).await;
    doc["reasons"][0]["sms_reminder"] = false.into();
    save_settings(&app, &doc).await;
    let id = book_for(
        &app,
        &at(monday(&app), 9, 0),
        patient(Some("jeanne@example.org"), Some(acceptance::mobile())),
    )
    .await;

    // When the practice cancels and asks to tell the patient
    to_reschedule(&app, &id).await;

    // Then the e-mail goes, and the SMS is skipped with its reason
    let outbox = app.outbox().await;
    assert!(messages(&outbox, &id, "practitioner_cancellation", "sms").is_empty());
    assert_eq!(
        messages(&outbox, &id, "practitioner_cancellation", "email").len(),
        1
    );
    let log = log_of(&app, &id).await;
    assert!(
        log.contains(&entry(
            "practitioner_cancellation",
            "sms",
            "skipped",
            "reason_not_ticked_for_sms_reminder"
        )),
        "{log:?}"
    );
}

async fn nothing_is_sent_for_an_appointment_that_had_already_started(app: TestApp) {
    // Given an appointment in an hour, and the clock moved past its start
    let start = app.now() + Duration::hours(1);
    let id = book_for(
        &app,
        &start.to_rfc3339(),
        patient(Some("jeanne@example.org"), Some(acceptance::mobile())),
    )
    .await;
    let moved = app
        .client
        .post(app.url("/dev/clock"))
        .json(&json!({"now": (start + Duration::minutes(5)).to_rfc3339()}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);

    // When the practice sets it to reschedule with the notice ticked
    to_reschedule(&app, &id).await;

    // Then nothing is sent, and the log says why on both channels
    let outbox = app.outbox().await;
    assert!(
        outbox
            .iter()
            .all(|m| !(m["appointment_id"] == id.as_str()
                && m["kind"] == "practitioner_cancellation")),
    );
    let log = log_of(&app, &id).await;
    for channel in ["email", "sms"] {
        assert!(
            log.contains(&entry(
                "practitioner_cancellation",
                channel,
                "skipped",
                "appointment_had_started"
            )),
            "{channel}: {log:?}"
        );
    }
}

/// Moves local mode's clock (which runs the reminder sweeper, as its
/// schedule would have).
async fn move_clock(app: &TestApp, now: DateTime<Utc>) {
    let moved = app
        .client
        .post(app.url("/dev/clock"))
        .json(&json!({"now": now.to_rfc3339()}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
}

fn paris(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Paris
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

async fn a_cancellation_sms_inside_quiet_hours_waits_for_their_end(app: TestApp) {
    // Given an appointment on Monday at 14:30 for a patient with both
    // contacts, and the practice at work on Sunday at 22:30 (quiet hours
    // are 21:00–08:00 in Paris)
    let day = monday(&app);
    let id = book_for(
        &app,
        &at(day, 14, 30),
        patient(Some("jeanne@example.org"), Some(acceptance::mobile())),
    )
    .await;
    let sunday = day - Duration::days(1);
    move_clock(&app, paris(sunday, 22, 30)).await;

    // When it is set to reschedule with the notice ticked
    to_reschedule(&app, &id).await;

    // Then the e-mail goes at once, the SMS is logged as scheduled for 08:00
    let outbox = app.outbox().await;
    assert_eq!(
        messages(&outbox, &id, "practitioner_cancellation", "email").len(),
        1
    );
    assert!(messages(&outbox, &id, "practitioner_cancellation", "sms").is_empty());
    let appointment = app.appointment(DEMO, &id).await;
    let held = appointment["communications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "practitioner_cancellation" && c["channel"] == "sms")
        .unwrap_or_else(|| panic!("no SMS entry: {appointment}"));
    assert_eq!(held["state"], "scheduled", "{held}");
    assert_eq!(held["reason_code"], "quiet_hours", "{held}");
    let due: DateTime<Utc> = held["at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, paris(day, 8, 0));

    // And a sweep before 08:00 sends nothing
    move_clock(&app, paris(day, 7, 50)).await;
    let outbox = app.outbox().await;
    assert!(messages(&outbox, &id, "practitioner_cancellation", "sms").is_empty());

    // When the quiet hours are over
    move_clock(&app, paris(day, 8, 1)).await;
    move_clock(&app, paris(day, 8, 6)).await;

    // Then the SMS goes, once, with its rebooking link, and the log says sent
    let outbox = app.outbox().await;
    let sms = messages(&outbox, &id, "practitioner_cancellation", "sms");
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0]["text"].as_str().unwrap().contains("/r/"),
        "{}",
        sms[0]
    );
    let log = log_of(&app, &id).await;
    assert!(
        log.contains(&entry("practitioner_cancellation", "sms", "sent", "")),
        "{log:?}"
    );
    assert!(!log.iter().any(|e| e.2 == "scheduled"), "{log:?}");
}

async fn an_absence_placed_at_noon_leaves_the_mornings_appointments_alone(app: TestApp) {
    // Given a patient seen on Monday at 09:00 and one expected at 15:00
    let day = monday(&app);
    let contact = || patient(Some("jeanne@example.org"), Some(acceptance::mobile()));
    let morning = book_for(&app, &at(day, 9, 0), contact()).await;
    let afternoon = book_for(&app, &at(day, 15, 0), contact()).await;
    move_clock(&app, paris(day, 12, 0)).await;
    let absences = format!("/practitioners/{DEMO}/absences");
    let whole_day = |appointments: &str| {
        json!({"start": at(day, 0, 0), "end": at(day, 23, 59), "label": "Urgence",
               "appointments": appointments, "send_cancellation_sms": true})
    };

    // When the practice refuses to move anything, only the afternoon's stands in the way
    let (status, refusal) = send(&app, Method::POST, &absences, whole_day("refuse")).await;
    assert_eq!(status, 409, "{refusal}");
    assert_eq!(refusal["appointments"], json!([afternoon]), "{refusal}");

    // When it moves them to reschedule and notifies
    let (status, placed) = send(&app, Method::POST, &absences, whole_day("to_reschedule")).await;
    assert_eq!(status, 201, "{placed}");

    // Then only the afternoon's patient is affected and told
    assert_eq!(
        placed["affected_appointments"],
        json!([afternoon]),
        "{placed}"
    );
    assert_eq!(app.appointment(DEMO, &morning).await["status"], "booked");
    assert_eq!(
        app.appointment(DEMO, &afternoon).await["status"],
        "to_reschedule"
    );
    let outbox = app.outbox().await;
    assert!(
        outbox
            .iter()
            .all(|m| !(m["appointment_id"] == morning.as_str()
                && m["kind"] == "practitioner_cancellation")),
        "the morning's patient, already seen, is told nothing"
    );
    assert_eq!(
        messages(&outbox, &afternoon, "practitioner_cancellation", "sms").len(),
        1
    );
}

/// The MODIFY link of the appointment's latest confirmation.
async fn latest_modify_link(app: &TestApp, id: &str) -> String {
    let outbox = app.outbox().await;
    let confirmations = messages(&outbox, id, "confirmation", "email");
    confirmations.last().unwrap()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .find(|l| l.ends_with("/slots"))
        .expect("a MODIFY link")
}

async fn a_patch_move_sends_a_new_confirmation_and_kills_the_old_links(app: TestApp) {
    // Given a booked appointment and its confirmation
    let day = monday(&app);
    let id = book_for(
        &app,
        &at(day, 9, 0),
        patient(Some("jeanne@example.org"), None),
    )
    .await;
    let old_link = latest_modify_link(&app, &id).await;
    let outbox = app.outbox().await;
    let first = invitation(&calendar_of(
        messages(&outbox, &id, "confirmation", "email")[0],
    ));
    assert_eq!((first.0.as_str(), first.2), ("REQUEST", 1));
    assert_eq!(first.1, format!("{id}@patient-communications"));
    let prodid = calendar_of(messages(&outbox, &id, "confirmation", "email")[0])
        .property_value("PRODID")
        .unwrap()
        .to_string();
    assert!(prodid.contains("patient-communications"), "{prodid}");

    // When the secretariat moves it to 15:00
    let (status, moved) = patch(&app, &id, json!({"start": at(day, 15, 0)})).await;

    // Then it is the same appointment, one version on, at the new time
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        (moved["id"].as_str(), moved["version"].as_u64()),
        (Some(id.as_str()), Some(2))
    );
    assert!(
        moved["start"].as_str().unwrap().contains("T15:00:00"),
        "{moved}"
    );
    // and a new confirmation goes out, for the same calendar entry, with new links
    let outbox = app.outbox().await;
    let confirmations = messages(&outbox, &id, "confirmation", "email");
    assert_eq!(confirmations.len(), 2);
    let (method, uid, sequence, _) = invitation(&calendar_of(confirmations[1]));
    assert_eq!(
        (method.as_str(), uid.as_str(), sequence),
        ("REQUEST", first.1.as_str(), 2)
    );
    assert!(confirmations[1]["text"].as_str().unwrap().contains("15h00"));
    let new_link = latest_modify_link(&app, &id).await;
    assert_ne!(new_link, old_link);
    // and the old links are dead, the new ones work
    assert_eq!(status_of_link(&app, &old_link).await, 410);
    assert_eq!(status_of_link(&app, &new_link).await, 200);
    // and the e-mail reminder follows the new time
    let reminders = &app.appointment(DEMO, &id).await["reminders"];
    assert!(
        reminders["email"]["due_at"]
            .as_str()
            .unwrap()
            .contains("T15:00:00"),
        "{reminders}"
    );

    // When the patient then cancels from the new links
    let cancel = new_link.trim_end_matches("/slots").to_string() + "/cancel";
    let cancelled = app
        .client
        .post(&cancel)
        .header("accept", "application/json")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);

    // Then the acknowledgement takes the entry out of the calendar
    let outbox = app.outbox().await;
    let ack = messages(&outbox, &id, "cancellation_ack", "email");
    assert_eq!(ack.len(), 1);
    assert_eq!(
        invitation(&calendar_of(ack[0])),
        ("CANCEL".into(), first.1, 3, "CANCELLED".into())
    );
}

async fn a_mobile_added_by_patch_makes_the_sms_reminder_appear(app: TestApp) {
    // Given an appointment booked without a mobile: no SMS reminder
    let id = book_for(
        &app,
        &at(monday(&app), 10, 20),
        patient(Some("jeanne@example.org"), None),
    )
    .await;
    let link = latest_modify_link(&app, &id).await;
    assert!(app.appointment(DEMO, &id).await["reminders"]["sms"].is_null());

    // When the secretariat adds the mobile
    let (status, changed) = patch(
        &app,
        &id,
        json!({"patient": {"mobile": acceptance::mobile()}}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");

    // Then the SMS reminder appears on the agenda
    app.outbox().await;
    let sms = &app.appointment(DEMO, &id).await["reminders"]["sms"];
    assert_eq!(sms["state"], "scheduled", "{sms}");
    // and nothing is sent now, and the patient's links keep working
    let outbox = app.outbox().await;
    assert_eq!(messages(&outbox, &id, "confirmation", "email").len(), 1);
    assert_eq!(status_of_link(&app, &link).await, 200);
}

async fn a_changed_email_gets_the_confirmation_and_names_alone_send_nothing(app: TestApp) {
    // Given an appointment booked with one address
    let id = book_for(
        &app,
        &at(monday(&app), 11, 20),
        patient(Some("jeanne@example.org"), None),
    )
    .await;

    // When the secretariat fixes the names only
    let (status, changed) =
        patch(&app, &id, json!({"patient": {"last_name": "Dupont-Morel"}})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["patient"]["last_name"], "Dupont-Morel");
    // Then nothing is sent
    assert_eq!(
        messages(&app.outbox().await, &id, "confirmation", "email").len(),
        1
    );

    // When it changes the address
    let (status, _) = patch(
        &app,
        &id,
        json!({"patient": {"email": "jeanne.morel@example.org"}}),
    )
    .await;
    assert_eq!(status, 200);
    // Then the confirmation goes to the new address, with the new name
    let outbox = app.outbox().await;
    let confirmations = messages(&outbox, &id, "confirmation", "email");
    assert_eq!(confirmations.len(), 2);
    assert_eq!(confirmations[1]["to"], "jeanne.morel@example.org");
    assert!(
        confirmations[1]["text"]
            .as_str()
            .unwrap()
            .contains("Dupont-Morel")
    );
}

async fn patch_refusals_change_nothing(app: TestApp) {
    // Given two booked appointments and a cancelled one
    let day = monday(&app);
    let id = book_for(
        &app,
        &at(day, 14, 0),
        patient(Some("jeanne@example.org"), None),
    )
    .await;
    book_for(&app, &at(day, 16, 0), patient(None, None)).await;
    let cancelled = book_for(&app, &at(day, 17, 0), patient(None, None)).await;
    let (status, _) = send(
        &app,
        Method::PUT,
        &format!("/practitioners/{DEMO}/appointments/{cancelled}/status"),
        json!({"status": "cancelled", "send_cancellation_sms": false}),
    )
    .await;
    assert_eq!(status, 200);

    // When the secretariat asks for an overlap, the past, bad fields, or a cancelled one
    let refusals = [
        (&id, json!({"start": at(day, 16, 10)}), 409),
        (&id, json!({"start": "2020-01-06T10:00:00+01:00"}), 422),
        (&id, json!({"reason_id": "nope"}), 422),
        (&id, json!({"patient": {"email": "not an address"}}), 422),
        (&id, json!({"patient": {"mobile": "01 40 00 00 00"}}), 422),
        (&id, json!({"patient": {"first_name": ""}}), 422),
        (&cancelled, json!({"start": at(day, 9, 0)}), 409),
    ];
    for (target, body, expected) in refusals {
        let (status, problem) = patch(&app, target, body.clone()).await;
        // Then each is refused as the SPEC says, as problem+json
        assert_eq!(status, expected, "{body}: {problem}");
        assert_eq!(problem["status"], expected, "{problem}");
    }
    // and nothing changed
    let unchanged = app.appointment(DEMO, &id).await;
    assert_eq!(unchanged["version"], 1, "{unchanged}");
    assert_eq!(
        messages(&app.outbox().await, &id, "confirmation", "email").len(),
        1
    );
    let (status, _) = patch(
        &app,
        "01JDX5Z8Q8N4W6B1R0M9T2V3C7",
        json!({"start": at(day, 9, 0)}),
    )
    .await;
    assert_eq!(status, 404);
}

/// Open every day from 00:00 to 23:40, so slots exist at any hour the test runs.
async fn open_all_day(app: &TestApp, min_notice_hours: Option<u32>) {
    let mut doc = settings(app).await;
    let day = json!([{"start": "00:00", "end": "23:40"}]);
    for name in [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ] {
        doc["opening_hours"][name] = day.clone();
    }
    let booking = doc["online_booking"].as_object_mut().unwrap();
    match min_notice_hours {
        Some(hours) => booking.insert("min_notice_hours".into(), hours.into()),
        None => booking.remove("min_notice_hours"),
    };
    save_settings(app, &doc).await;
}

fn slot_starts(offer: &Value) -> Vec<DateTime<Utc>> {
    offer["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("no slots: {offer}"))
        .iter()
        .map(|s| s["start"].as_str().unwrap().parse().unwrap())
        .collect()
}

async fn no_slot_sooner_than_the_minimum_notice_is_offered_or_taken(app: TestApp) {
    // Given a practice open all day, with the default notice (2 hours)
    open_all_day(&app, None).await;
    assert_eq!(
        settings(&app).await["online_booking"]["min_notice_hours"],
        2
    );
    let now = app.now();
    let today = now.with_timezone(&Paris).date_naive();

    // When a patient looks for slots from today
    let offer: Value = app
        .client
        .get(app.url(&format!(
            "/public/practitioners/{DEMO}/slots?reason_id=consultation&from={today}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Then none starts within two hours
    let starts = slot_starts(&offer);
    assert!(starts[0] >= now + Duration::hours(2), "{}", starts[0]);
    assert!(starts[0] <= now + Duration::hours(3), "{}", starts[0]);
    // and one within the notice is refused
    let soon = starts[0] - Duration::minutes(40);
    let body = json!({"reason_id": "consultation", "start": soon.to_rfc3339(),
                      "patient": {"first_name": "Jeanne", "last_name": "Dupont"}});
    let refused = app
        .client
        .post(app.url(&format!("/public/practitioners/{DEMO}/appointments")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);

    // When the patient moves an appointment from the e-mail
    let id = book_for(
        &app,
        &at(monday(&app), 12, 0),
        patient(Some("jeanne@example.org"), None),
    )
    .await;
    let link = latest_modify_link(&app, &id).await;
    let offer: Value = app
        .client
        .get(format!("{link}?from={today}"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Then the same notice holds
    assert!(
        slot_starts(&offer)[0] >= now + Duration::hours(2),
        "{offer}"
    );

    // And a notice out of range is refused with its field
    let mut doc = settings(&app).await;
    doc["online_booking"]["min_notice_hours"] = 100_000.into();
    let (status, problem) = send(&app, Method::PUT, &format!("/practitioners/{DEMO}"), doc).await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"][0]["field"],
        "online_booking.min_notice_hours"
    );
}

on_each_backend!(
    an_email_only_patient_is_told_of_the_cancellation_and_rebooks_from_the_email,
    the_email_and_the_sms_lead_to_one_replacement,
    the_sms_goes_only_for_reasons_ticked_for_sms_reminders,
    nothing_is_sent_for_an_appointment_that_had_already_started,
    a_cancellation_sms_inside_quiet_hours_waits_for_their_end,
    an_absence_placed_at_noon_leaves_the_mornings_appointments_alone,
    a_patch_move_sends_a_new_confirmation_and_kills_the_old_links,
    a_mobile_added_by_patch_makes_the_sms_reminder_appear,
    a_changed_email_gets_the_confirmation_and_names_alone_send_nothing,
    patch_refusals_change_nothing,
    no_slot_sooner_than_the_minimum_notice_is_offered_or_taken,
);
