//! Delivery feedback over HTTP against the local server (SPEC §5, §6.2, §8):
//! SES's mailbox simulator addresses answer by themselves, `POST
//! /dev/deliveries` reports an outcome for any message, the appointment's
//! `attention` lists what did not reach the patient and `?attention=true`
//! keeps those appointments in the agenda.
//!
//! On moto the messages go to moto's SES, which publishes no events (SES
//! does): local mode's mailbox simulator stands in for SES's event
//! destination on both backends, and the feedback function reads the table's
//! GSI3 on moto as on AWS.

use acceptance::{Backend, DEMO, TestApp, on_each_backend};
use chrono::{Duration, NaiveDate, Weekday};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Instant;

/// The Tuesday of the week after next on the app's clock, in Paris.
fn tuesday(app: &TestApp) -> NaiveDate {
    app.first_after(8, Weekday::Tue)
}

async fn book(app: &TestApp, hour: u32, email: &str) -> String {
    let body = json!({
        "reason_id": "consultation",
        "start": format!("{}T{hour:02}:00:00", tuesday(app)),
        "patient": {"first_name": "Jeanne", "last_name": "Dupont", "email": email}
    });
    let (status, appointment) = app.book(DEMO, &body).await;
    assert_eq!(status, 201, "{appointment}");
    appointment["id"].as_str().unwrap().to_string()
}

/// The appointment once its `attention` is not empty, polled until a
/// deadline: a second in local mode (SPEC §8), longer on moto, whose stream
/// is polled.
async fn with_attention(app: &TestApp, id: &str) -> Value {
    let deadline = match app.backend {
        Backend::Embedded => std::time::Duration::from_secs(1),
        Backend::Moto => std::time::Duration::from_secs(30),
    };
    let start = Instant::now();
    loop {
        let appointment = app.appointment(DEMO, id).await;
        if appointment["attention"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            return appointment;
        }
        assert!(
            start.elapsed() < deadline,
            "nothing under attention after {deadline:?}: {appointment}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn report(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/dev/deliveries"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn agenda(app: &TestApp, query: &str) -> (u16, Value) {
    let day = tuesday(app);
    let response = app
        .as_practitioner(
            Method::GET,
            DEMO,
            &format!(
                "/practitioners/{DEMO}/appointments?from={day}&to={}{query}",
                day + Duration::days(1)
            ),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

on_each_backend!(
    a_bounce_reaches_attention_by_itself,
    the_agenda_keeps_the_appointments_that_need_attention,
    an_outcome_reported_for_any_message_moves_its_entry,
);

async fn a_bounce_reaches_attention_by_itself(app: TestApp) {
    // Given a patient whose address bounces (SES's mailbox simulator)
    let id = book(&app, 9, "bounce@simulator.amazonses.com").await;

    // When the confirmation goes out, SES's bounce follows by itself
    let appointment = with_attention(&app, &id).await;

    // Then the appointment lists it under attention, with the provider's id
    let attention = appointment["attention"].as_array().unwrap();
    assert_eq!(attention.len(), 1, "{appointment}");
    let bounced = &attention[0];
    assert_eq!(bounced["kind"], "confirmation");
    assert_eq!(bounced["channel"], "email");
    assert_eq!(bounced["state"], "bounced");
    assert_eq!(bounced["reason_code"], "bounced_permanent");
    assert!(bounced["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let logged = &appointment["communications"][0];
    assert_eq!(logged["state"], "bounced");
    assert!(logged["message_id"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(bounced["message_id"], logged["message_id"]);
    // And the change was published on the bus, once
    let events = app.published_events().await;
    let bounces: Vec<&Value> = events
        .iter()
        .filter(|e| e["appointment_id"] == id.as_str() && e["state"] == "bounced")
        .collect();
    assert_eq!(bounces.len(), 1, "{events:?}");
}

async fn the_agenda_keeps_the_appointments_that_need_attention(app: TestApp) {
    // Given three patients: one reached, one whose address bounces, one on
    // SES's suppression list (SES accepts the call and sends nothing)
    let reached = book(&app, 10, "success@simulator.amazonses.com").await;
    let bounced = book(&app, 11, "bounce@simulator.amazonses.com").await;
    let suppressed = book(&app, 12, "suppressionlist@simulator.amazonses.com").await;
    with_attention(&app, &bounced).await;
    let suppressed = with_attention(&app, &suppressed).await;
    assert_eq!(suppressed["attention"][0]["state"], "failed");
    assert_eq!(
        suppressed["attention"][0]["reason_code"],
        "on_suppression_list"
    );

    // When the secretariat asks for the appointments that need attention
    let (status, all) = agenda(&app, "").await;
    assert_eq!(status, 200, "{all}");
    let (status, needing) = agenda(&app, "&attention=true").await;
    assert_eq!(status, 200, "{needing}");

    // Then the reached patient is left out, the two others are listed
    let ids = |agenda: &Value| -> Vec<String> {
        agenda["appointments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&all).len(), 3, "{all}");
    assert_eq!(
        ids(&needing),
        [bounced, suppressed["id"].as_str().unwrap().to_string()]
    );
    assert!(!ids(&needing).contains(&reached));
    let (_, everything) = agenda(&app, "&attention=false").await;
    assert_eq!(ids(&everything).len(), 3);
    // And a value that is not a boolean is refused
    let (status, problem) = agenda(&app, "&attention=maybe").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "attention");
}

async fn an_outcome_reported_for_any_message_moves_its_entry(app: TestApp) {
    // Given a confirmation sent to an ordinary address: it stays "sent"
    let id = book(&app, 14, "jeanne.dupont@example.org").await;
    app.senders_done().await;
    let appointment = app.appointment(DEMO, &id).await;
    let logged = &appointment["communications"][0];
    assert_eq!(logged["state"], "sent", "{appointment}");
    let message_id = logged["message_id"].as_str().unwrap().to_string();
    if matches!(app.backend, Backend::Embedded) {
        // The outbox shows the same id
        let outbox = app.outbox().await;
        assert!(
            outbox
                .iter()
                .any(|m| m["message_id"] == message_id.as_str())
        );
    }

    // When the provider reports it delivered, then a complaint, then the
    // delivery again (late and duplicated)
    for (outcome, state) in [
        ("delivered", "delivered"),
        ("complained", "complained"),
        ("delivered", "complained"),
    ] {
        let (status, answer) =
            report(&app, json!({"message_id": message_id, "outcome": outcome})).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["state"], state, "after {outcome}: {answer}");
    }

    // Then the complaint is what the appointment shows under attention
    let appointment = app.appointment(DEMO, &id).await;
    assert_eq!(appointment["communications"][0]["state"], "complained");
    assert_eq!(appointment["attention"][0]["state"], "complained");
    assert_eq!(
        appointment["attention"][0]["message_id"],
        message_id.as_str()
    );

    // And what no provider would report is refused, changing nothing
    let (status, _) = report(
        &app,
        json!({"message_id": "no-such-message", "outcome": "bounced"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = report(&app, json!({"message_id": message_id, "outcome": "lost"})).await;
    assert_eq!(status, 422);
    let (status, _) = report(
        &app,
        json!({"message_id": message_id, "outcome": "undelivered"}),
    )
    .await;
    assert_eq!(status, 422, "an e-mail is bounced, not undelivered");
    let (status, _) = report(&app, json!({"message_id": message_id})).await;
    assert_eq!(status, 400);
    let appointment = app.appointment(DEMO, &id).await;
    assert_eq!(appointment["communications"][0]["state"], "complained");
}
