//! Patient links over HTTP against the local server (SPEC §4.2, §6.4): a patient
//! follows the MODIFY / CANCEL links of the confirmation in the outbox.

use acceptance::{DEMO, TestApp, on_each_backend};
use chrono::{DateTime, Duration, Utc, Weekday};
use serde_json::{Value, json};

/// Next week's Thursday of the practice's day (the app's clock) at
/// `hour`:`minute` in Paris, as the front end writes it.
fn next_week_at(app: &TestApp, hour: u32, minute: u32) -> String {
    let day = app.first_after(7, Weekday::Thu);
    format!("{day}T{hour:02}:{minute:02}:00")
}

fn booking(start: &str) -> Value {
    json!({"reason_id": "consultation", "start": start,
           "patient": {"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@example.org"}})
}

/// What the patient received: the links of the latest confirmation of `id`.
struct Links {
    /// `/a/{token}`: the appointment page with its cancel form (CANCEL).
    page: String,
    /// `/a/{token}/slots`: free slots to move to (MODIFY).
    slots: String,
}

impl Links {
    fn cancel(&self) -> String {
        format!("{}/cancel", self.page)
    }
    fn move_to(&self) -> String {
        format!("{}/move", self.page)
    }
}

async fn latest_confirmation_links(app: &TestApp, id: &str) -> Links {
    let outbox = app.outbox().await;
    let email = outbox
        .iter()
        .rev()
        .find(|m| m["kind"] == "confirmation" && m["appointment_id"] == id)
        .expect("a confirmation in the outbox");
    let links: Vec<String> = email["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let slots = links
        .iter()
        .find(|l| l.ends_with("/slots"))
        .unwrap()
        .clone();
    let page = links
        .iter()
        .find(|l| !l.ends_with("/slots"))
        .unwrap()
        .clone();
    assert_eq!(slots, format!("{page}/slots"));
    Links { page, slots }
}

async fn book(app: &TestApp, start: &str) -> (String, Links) {
    let (status, appointment) = app.book(DEMO, &booking(start)).await;
    assert_eq!(status, 201, "{appointment}");
    let id = appointment["id"].as_str().unwrap().to_string();
    let links = latest_confirmation_links(app, &id).await;
    (id, links)
}

async fn get_json(app: &TestApp, url: &str) -> (u16, Value) {
    let response = app
        .client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_page(app: &TestApp, url: &str) -> (u16, String) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // HTML-escaped slashes in attributes read as slashes, as in a browser.
    (
        status,
        response.text().await.unwrap().replace("&#x2f;", "/"),
    )
}

/// What an HTML form sends.
async fn post_form(app: &TestApp, url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app
        .client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.text().await.unwrap().replace("&#x2f;", "/"),
    )
}

async fn post_json(app: &TestApp, url: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(url)
        .header("accept", "application/json")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The appointment as the practitioner's agenda shows it, after the senders ran.
async fn agenda_view(app: &TestApp, id: &str) -> Value {
    app.outbox().await;
    app.appointment(DEMO, id).await
}

fn kinds(outbox: &[Value], id: &str) -> Vec<String> {
    outbox
        .iter()
        .filter(|m| m["appointment_id"] == id)
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn cancelling_from_the_email_frees_the_slot_sends_one_acknowledgement_and_kills_the_links(
    app: TestApp,
) {
    // Given a booked appointment and its confirmation
    let (id, links) = book(&app, &next_week_at(&app, 14, 30)).await;

    // When the patient follows CANCEL and posts the form
    let (status, page) = get_page(&app, &links.page).await;
    assert_eq!(status, 200);
    assert!(page.contains("Annuler ce rendez-vous"), "{page}");
    assert!(
        page.contains(&format!("action=\"{}\"", links.cancel())),
        "{page}"
    );
    let (status, page) = post_form(&app, &links.cancel(), &[]).await;

    // Then the appointment is cancelled by the patient
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Votre rendez-vous est annulé"), "{page}");
    let appointment = agenda_view(&app, &id).await;
    assert_eq!(appointment["status"], "cancelled_by_patient");
    assert_eq!(appointment["version"], 2);
    // and exactly one cancellation e-mail arrives, without the reason
    let outbox = app.outbox().await;
    assert_eq!(kinds(&outbox, &id), ["confirmation", "cancellation_ack"]);
    let ack = &outbox[1];
    assert!(ack["subject"].as_str().unwrap().contains("annulé"));
    assert!(!ack["text"].as_str().unwrap().contains("Consultation"));
    // and the log shows it
    let log: Vec<(String, String)> = appointment["communications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().into(),
                c["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        log.contains(&("cancellation_ack".into(), "sent".into())),
        "{log:?}"
    );
    // and every link of that e-mail is dead, its page saying the appointment
    // is cancelled (not "it changed, use the latest e-mail": that one has no links)
    let (status, page) = get_page(&app, &links.page).await;
    assert_eq!(status, 410);
    assert!(page.contains("Ce rendez-vous a été annulé"), "{page}");
    assert_eq!(get_json(&app, &links.slots).await.0, 410);
    assert_eq!(post_form(&app, &links.cancel(), &[]).await.0, 410);
    assert_eq!(
        post_json(
            &app,
            &links.move_to(),
            &json!({"start": next_week_at(&app, 9, 0)})
        )
        .await
        .0,
        410
    );
    assert_eq!(agenda_view(&app, &id).await["version"], 2);
    assert_eq!(app.outbox().await.len(), 2, "nothing more was sent");
}

async fn moving_from_the_email_sends_a_new_confirmation_with_new_links_and_kills_the_old_ones(
    app: TestApp,
) {
    // Given a booked appointment at 14:30 and its confirmation
    let (id, old) = book(&app, &next_week_at(&app, 14, 30)).await;

    // When the patient follows MODIFY, sees the free slots, and posts one
    let (status, page) = get_page(&app, &old.slots).await;
    assert_eq!(status, 200);
    assert!(page.contains("type=\"radio\" name=\"start\""), "{page}");
    assert!(
        page.contains(&format!("action=\"{}\"", old.move_to())),
        "{page}"
    );
    let (status, offer) = get_json(
        &app,
        &format!("{}?from={}", old.slots, &next_week_at(&app, 0, 0)[..10]),
    )
    .await;
    assert_eq!(status, 200, "{offer}");
    let target = offer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .find(|s| s.contains("T16:00:00"))
        .expect("16:00 is free on that Thursday");
    let (status, page) = post_form(&app, &old.move_to(), &[("start", &target)]).await;

    // Then the appointment moved (same id, next version)
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Votre rendez-vous est déplacé au"), "{page}");
    assert!(page.contains("16h00"), "{page}");
    let appointment = agenda_view(&app, &id).await;
    assert_eq!(appointment["start"], target);
    assert_eq!(appointment["version"], 2);
    assert_eq!(appointment["status"], "booked");
    // and a new confirmation carries the new date and new links
    let outbox = app.outbox().await;
    assert_eq!(kinds(&outbox, &id), ["confirmation", "confirmation"]);
    assert!(outbox[1]["text"].as_str().unwrap().contains("à 16h00"));
    let new = latest_confirmation_links(&app, &id).await;
    assert_ne!(new.page, old.page);
    // and the old links answer 410 and change nothing
    assert_eq!(get_json(&app, &old.page).await.0, 410);
    assert_eq!(post_form(&app, &old.cancel(), &[]).await.0, 410);
    let earlier = offer["slots"][0]["start"].as_str().unwrap();
    assert_eq!(
        post_form(&app, &old.move_to(), &[("start", earlier)])
            .await
            .0,
        410
    );
    assert_eq!(agenda_view(&app, &id).await["start"], target);
    // while the new ones work
    let (status, view) = get_json(&app, &new.page).await;
    assert_eq!(status, 200);
    assert_eq!(view["start"], target);
    assert_eq!(view["can_cancel"], true);
    // and the freed time is offered again
    let (_, offer) = get_json(
        &app,
        &format!("{}?from={}", new.slots, &next_week_at(&app, 0, 0)[..10]),
    )
    .await;
    assert!(
        offer["slots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["start"].as_str().unwrap().contains("T14:20:00")),
        "{offer}"
    );
}

async fn opening_links_any_number_of_times_changes_nothing(app: TestApp) {
    let (id, links) = book(&app, &next_week_at(&app, 10, 0)).await;
    let before = agenda_view(&app, &id).await;
    let sent = app.outbox().await.len();

    for _ in 0..5 {
        assert_eq!(get_page(&app, &links.page).await.0, 200);
        assert_eq!(get_page(&app, &links.slots).await.0, 200);
        assert_eq!(get_json(&app, &links.page).await.0, 200);
        assert_eq!(get_json(&app, &links.slots).await.0, 200);
        // A scanner guessing at the action URLs with GET gets nowhere either.
        assert_eq!(
            app.client
                .get(links.cancel())
                .send()
                .await
                .unwrap()
                .status(),
            405
        );
        assert_eq!(
            app.client
                .get(links.move_to())
                .send()
                .await
                .unwrap()
                .status(),
            405
        );
    }

    assert_eq!(agenda_view(&app, &id).await, before);
    assert_eq!(app.outbox().await.len(), sent);
}

async fn after_the_deadline_both_actions_are_refused_with_the_reason_and_the_phone(app: TestApp) {
    // Given an appointment whose confirmation carries links
    let start = next_week_at(&app, 11, 0);
    let (id, links) = book(&app, &start).await;
    let before = agenda_view(&app, &id).await;
    let slots = get_json(&app, &links.slots).await.1["slots"].clone();
    let free = slots[0]["start"].as_str().unwrap().to_string();

    // When the local clock passes the deadline (24 hours before)
    let starts_at: DateTime<Utc> = before["start"].as_str().unwrap().parse().unwrap();
    let after_deadline = starts_at - Duration::hours(24) + Duration::minutes(1);
    let moved = app
        .client
        .post(app.url("/dev/clock"))
        .json(&json!({"now": after_deadline.to_rfc3339()}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);

    // Then the page still shows the appointment, says why, and gives the phone
    let (status, view) = get_json(&app, &links.page).await;
    assert_eq!(status, 200);
    assert_eq!(
        (view["can_cancel"].as_bool(), view["can_modify"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(
        view["why_not"].as_str().unwrap().contains("délai"),
        "{view}"
    );
    assert_eq!(view["secretariat_phone"], "+33140000000");
    let (_, page) = get_page(&app, &links.page).await;
    assert!(
        page.contains("01 40 00 00 00") && !page.contains("Annuler ce rendez-vous"),
        "{page}"
    );
    // and both actions are refused, in words, with the phone
    let (status, page) = post_form(&app, &links.cancel(), &[]).await;
    assert_eq!(status, 409);
    assert!(
        page.contains("délai") && page.contains("01 40 00 00 00"),
        "{page}"
    );
    let (status, problem) = post_json(&app, &links.move_to(), &json!({"start": free})).await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("délai"),
        "{problem}"
    );
    assert_eq!(problem["secretariat_phone"], "+33140000000");
    // and nothing changed
    let after = agenda_view(&app, &id).await;
    for field in ["status", "version", "start"] {
        assert_eq!(after[field], before[field], "{field}");
    }
    // (moving the clock ran the reminder sweep; no cancellation was acknowledged)
    assert!(
        !after["communications"]
            .to_string()
            .contains("cancellation_ack"),
        "{after}"
    );
    assert_eq!(after["patient_can_modify_online"], false);
}

async fn tokens_that_are_not_this_appointments_latest_change_nothing(app: TestApp) {
    // Given two booked appointments
    let (first, first_links) = book(&app, &next_week_at(&app, 9, 0)).await;
    let (second, second_links) = book(&app, &next_week_at(&app, 9, 40)).await;
    let before = (
        agenda_view(&app, &first).await,
        agenda_view(&app, &second).await,
    );
    let token = first_links.page.rsplit('/').next().unwrap().to_string();
    let base = first_links.page.trim_end_matches(&token).to_string();

    // A token with one character changed, and a made-up one
    let flipped = {
        let mut chars: Vec<char> = token.chars().collect();
        chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    for bad in [
        flipped.as_str(),
        "AAAAAAAAAAAAAAAAAAAAAA",
        "not-a-token",
        "x",
    ] {
        let page = format!("{base}{bad}");
        assert_eq!(get_page(&app, &page).await.0, 404, "{bad}");
        assert_eq!(
            get_json(&app, &format!("{page}/slots")).await.0,
            404,
            "{bad}"
        );
        let (status, body) = post_form(&app, &format!("{page}/cancel"), &[]).await;
        assert_eq!(status, 404, "{bad}");
        assert!(
            body.contains("secrétariat"),
            "the page says what to do: {body}"
        );
        assert_eq!(
            post_json(
                &app,
                &format!("{page}/move"),
                &json!({"start": next_week_at(&app, 16, 0)})
            )
            .await
            .0,
            404
        );
    }
    assert_eq!(
        (
            agenda_view(&app, &first).await,
            agenda_view(&app, &second).await
        ),
        before
    );

    // The second appointment's token acts on the second appointment only
    assert_eq!(post_form(&app, &second_links.cancel(), &[]).await.0, 200);
    assert_eq!(agenda_view(&app, &first).await, before.0);
    assert_eq!(
        agenda_view(&app, &second).await["status"],
        "cancelled_by_patient"
    );
}

async fn a_slot_that_is_not_offered_or_taken_meanwhile_is_refused_and_nothing_changes(
    app: TestApp,
) {
    // (14:20 is on the 20-minute grid of the afternoon, so it could be offered)
    let (id, links) = book(&app, &next_week_at(&app, 14, 20)).await;
    let before = agenda_view(&app, &id).await;
    let (_, offer) = get_json(
        &app,
        &format!("{}?from={}", links.slots, &next_week_at(&app, 0, 0)[..10]),
    )
    .await;
    let wanted = offer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .find(|s| s.contains("T15:00:00"))
        .unwrap();
    // Its own time is not offered: choosing it would change nothing but the links
    let own: Vec<_> = offer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["start"]
                .as_str()
                .unwrap()
                .starts_with(&next_week_at(&app, 14, 20))
        })
        .collect();
    assert!(own.is_empty(), "{own:?}");

    // Off the grid, outside opening hours, unreadable, its own time
    for start in [
        next_week_at(&app, 15, 5),
        next_week_at(&app, 20, 0),
        "tomorrow".to_string(),
        next_week_at(&app, 14, 20),
    ] {
        let (status, problem) = post_json(&app, &links.move_to(), &json!({"start": start})).await;
        assert!(
            status == 409 || status == 422,
            "{start}: {status} {problem}"
        );
    }
    // Taken by the secretariat between display and post
    let (status, _) = app.book(DEMO, &booking(&wanted)).await;
    assert_eq!(status, 201);
    let (status, page) = post_form(&app, &links.move_to(), &[("start", &wanted)]).await;
    assert_eq!(status, 409);
    assert!(
        page.contains("Ce créneau") || page.contains("pas proposé"),
        "{page}"
    );
    assert!(
        page.contains("type=\"radio\""),
        "the slots are shown again: {page}"
    );

    assert_eq!(agenda_view(&app, &id).await, before);
}

on_each_backend!(
    cancelling_from_the_email_frees_the_slot_sends_one_acknowledgement_and_kills_the_links,
    moving_from_the_email_sends_a_new_confirmation_with_new_links_and_kills_the_old_ones,
    opening_links_any_number_of_times_changes_nothing,
    after_the_deadline_both_actions_are_refused_with_the_reason_and_the_phone,
    tokens_that_are_not_this_appointments_latest_change_nothing,
    a_slot_that_is_not_offered_or_taken_meanwhile_is_refused_and_nothing_changes,
);
