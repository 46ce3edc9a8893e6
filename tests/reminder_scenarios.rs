//! Reminders over HTTP against the local server (SPEC §4.3, §8): the agenda
//! shows them, moving the local clock sends them, the outbox shows both the
//! e-mail and the SMS.

use acceptance::{Backend, DEMO, TestApp, on_each_backend};
use chrono::Weekday;
use serde_json::{Value, json};

/// Next week's Thursday on the app's clock at 14:30 in Paris, as the front
/// end writes it.
fn next_thursday_afternoon(app: &TestApp) -> String {
    let day = app.first_after(7, Weekday::Thu);
    format!("{day}T14:30:00")
}

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let response = app
        .client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn reminders_of(app: &TestApp, id: &str) -> Value {
    app.outbox().await; // every change has reached the scheduler
    app.appointment(DEMO, id).await["reminders"].clone()
}

async fn book_move_the_clock_and_find_the_reminders_in_the_outbox(app: TestApp) {
    // Given an appointment next Thursday at 14:30 with an e-mail and a mobile
    let (status, appointment) = app
        .book(
            DEMO,
            &json!({"reason_id": "consultation", "start": next_thursday_afternoon(&app),
                    "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                                "email": "jeanne@example.org", "mobile": acceptance::mobile()}}),
        )
        .await;
    assert_eq!(status, 201, "{appointment}");
    let id = appointment["id"].as_str().unwrap();

    // Then the agenda shows both reminders scheduled, 48 h and 24 h before
    let reminders = reminders_of(&app, id).await;
    assert_eq!(reminders["email"]["state"], "scheduled");
    assert_eq!(reminders["sms"]["state"], "scheduled");
    let email_due = reminders["email"]["due_at"].as_str().unwrap().to_string();
    let sms_due = reminders["sms"]["due_at"].as_str().unwrap().to_string();
    assert!(email_due.ends_with("T14:30:00+01:00") || email_due.ends_with("T14:30:00+02:00"));
    // and nothing was sent at booking but the confirmation
    assert_eq!(app.outbox().await.len(), 1);
    assert_eq!(
        post(&app, "/dev/sweep", json!({})).await["reminders_sent"],
        0
    );

    // When the local clock reaches the e-mail's time
    let moved = post(&app, "/dev/clock", json!({ "now": email_due })).await;

    // Then the e-mail reminder is in the outbox
    assert_eq!(moved["reminders_sent"], 1, "{moved}");
    let outbox = app.outbox().await;
    let email = outbox.last().unwrap();
    assert_eq!(
        (email["kind"].as_str(), email["channel"].as_str()),
        (Some("reminder"), Some("email"))
    );
    assert_eq!(email["appointment_id"], id);
    assert!(email["links"].as_array().unwrap().is_empty());

    // And when it reaches the SMS's time, the SMS is there too, once
    assert_eq!(
        post(&app, "/dev/clock", json!({ "now": sms_due })).await["reminders_sent"],
        1
    );
    assert_eq!(
        post(&app, "/dev/sweep", json!({})).await["reminders_sent"],
        0
    );
    let outbox = app.outbox().await;
    let sms = outbox.last().unwrap();
    assert_eq!(
        (sms["kind"].as_str(), sms["channel"].as_str()),
        (Some("reminder"), Some("sms"))
    );
    assert_eq!(sms["to"], appointment["patient"]["mobile"]);
    assert!(sms["subject"].is_null() && sms["html"].is_null());
    assert!(sms["text"].as_str().unwrap().contains("14h30"), "{sms}");
    assert_eq!(outbox.len(), 3);

    // and the agenda says they were sent
    let reminders = reminders_of(&app, id).await;
    assert_eq!(reminders["email"]["state"], "sent");
    assert_eq!(reminders["sms"]["state"], "sent");
    if app.backend == Backend::Moto {
        return; // moto's own data was read above; there is no outbox page
    }
    let page = app
        .client
        .get(app.url("/dev/outbox.html"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("· sms · reminder ·"), "{page}");
}

async fn an_appointment_without_mobile_shows_no_sms_reminder(app: TestApp) {
    let (_, appointment) = app
        .book(
            DEMO,
            &json!({"reason_id": "consultation", "start": next_thursday_afternoon(&app),
                    "patient": {"first_name": "Jeanne", "last_name": "Dupont",
                                "email": "jeanne@example.org"}}),
        )
        .await;
    let reminders = reminders_of(&app, appointment["id"].as_str().unwrap()).await;
    assert_eq!(reminders["sms"], Value::Null);
    assert_eq!(reminders["email"]["state"], "scheduled");
}

on_each_backend!(
    book_move_the_clock_and_find_the_reminders_in_the_outbox,
    an_appointment_without_mobile_shows_no_sms_reminder,
);
