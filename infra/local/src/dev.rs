//! Routes that exist in local mode only (SPEC §8): the outbox and the clock.

use crate::LocalState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::ports::Clock;
use edge::http::Problem;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// With AWS services the messages went to SES (and SNS), not to the outbox.
fn no_outbox() -> Response {
    crate::gateway::lambda_to_axum(
        Problem::new(
            StatusCode::NOT_FOUND,
            "Local mode is using AWS services (AGENDA_BACKEND=aws): messages went to SES, \
             not to the outbox."
                .to_string(),
        )
        .into_response(),
    )
}

pub async fn outbox(State(state): State<Arc<LocalState>>) -> Response {
    if state.uses_aws {
        return no_outbox();
    }
    Json(json!({ "messages": state.outbox.messages() })).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The outbox as a mailbox a person can click through.
pub async fn outbox_html(State(state): State<Arc<LocalState>>) -> Response {
    if state.uses_aws {
        return no_outbox();
    }
    let messages = state.outbox.messages();
    let mut page = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Local outbox</title><style>\
         body{font-family:system-ui,sans-serif;margin:0;padding:16px;background:#f4f5f7;color:#1f2933;overflow-wrap:anywhere}\
         details{background:#fff;border-radius:8px;margin:0 0 12px;padding:12px}\
         summary{cursor:pointer} .meta{color:#6b7280;font-size:13px}\
         pre{white-space:pre-wrap;font-size:14px} iframe{width:100%;height:480px;border:1px solid #e5e7eb}\
         </style></head><body><h1>Local outbox</h1>",
    );
    if messages.is_empty() {
        page.push_str("<p>No message yet. Book an appointment and reload this page.</p>");
    }
    for (i, m) in messages.iter().rev().enumerate() {
        let title = m
            .subject
            .clone()
            .unwrap_or_else(|| m.text.chars().take(60).collect());
        // The newest message is shown open, like a mail client's preview.
        let open = if i == 0 { " open" } else { "" };
        page.push_str(&format!(
            "<details{open}><summary><strong>{}</strong> <span class=\"meta\">{} · {} · {} · to {} · {}</span></summary>",
            escape(&title),
            m.id,
            m.channel.as_str(),
            m.kind.as_str(),
            escape(&m.to),
            m.sent_at.to_rfc3339()
        ));
        if !m.links.is_empty() {
            page.push_str("<p>Links: ");
            for link in &m.links {
                page.push_str(&format!("<a href=\"{0}\">{0}</a> ", escape(link)));
            }
            page.push_str("</p>");
        }
        if let Some(html) = &m.html {
            page.push_str(&format!("<iframe sandbox=\"allow-top-navigation-by-user-activation allow-popups\" srcdoc=\"{}\"></iframe>", escape(html)));
        }
        page.push_str(&format!("<pre>{}</pre></details>", escape(&m.text)));
    }
    page.push_str("</body></html>");
    Html(page).into_response()
}

/// A problem+json answer of the local-only routes.
fn problem(status: StatusCode, detail: String) -> Response {
    crate::gateway::lambda_to_axum(Problem::new(status, detail).into_response())
}

#[derive(Deserialize)]
pub struct MoveClock {
    now: String,
}

pub async fn move_clock(
    State(state): State<Arc<LocalState>>,
    body: Result<Json<MoveClock>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Send {\"now\": \"2026-12-01T09:00:00+01:00\"}.".into(),
        );
    };
    let Ok(target) = chrono::DateTime::parse_from_rfc3339(&body.now) else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "now must be an RFC 3339 time with offset.".into(),
        );
    };
    match state.clock.move_to(target.with_timezone(&chrono::Utc)) {
        Ok(now) => match state.sweep_reminders().await {
            Ok(reminders_sent) => {
                Json(json!({ "now": now.to_rfc3339(), "reminders_sent": reminders_sent }))
                    .into_response()
            }
            Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
        },
        Err(e) => problem(
            StatusCode::CONFLICT,
            format!("{e}; the clock only moves forward."),
        ),
    }
}

pub async fn now(State(state): State<Arc<LocalState>>) -> Response {
    Json(json!({ "now": state.clock.now().to_rfc3339() })).into_response()
}

/// `POST /dev/sweep`: runs the reminder sweep now (SPEC §8).
pub async fn sweep(State(state): State<Arc<LocalState>>) -> Response {
    match state.sweep_reminders().await {
        Ok(reminders_sent) => Json(json!({ "reminders_sent": reminders_sent })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

#[derive(Deserialize)]
pub struct ReportDelivery {
    message_id: String,
    outcome: String,
}

/// `POST /dev/deliveries` (SPEC §8): the provider's feedback for any message,
/// handed to the delivery-feedback function as SES or SNS would send it;
/// answers the message's state afterwards.
pub async fn report_delivery(
    State(state): State<Arc<LocalState>>,
    body: Result<Json<ReportDelivery>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Send {\"message_id\": \"...\", \"outcome\": \"delivered\"|\"bounced\"|\"complained\"|\"undelivered\"}.".into(),
        );
    };
    let Some(outcome) = crate::feedback::Outcome::parse(&body.outcome) else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "outcome must be delivered, bounced, complained or undelivered.".into(),
        );
    };
    let logged = match state.store.message_sent_as(&body.message_id).await {
        Ok(Some(logged)) => logged,
        Ok(None) => {
            return problem(
                StatusCode::NOT_FOUND,
                "No message was sent with this message_id.".into(),
            );
        }
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let channel = logged.key.channel;
    if !outcome.fits(channel) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "An {} provider does not report {}.",
                channel.as_str(),
                body.outcome
            ),
        );
    }
    let event = crate::feedback::provider_event(
        channel,
        &body.message_id,
        outcome,
        logged.entry.at,
        state.clock.now(),
    );
    if let Err(e) = (state.feedback)(event).await {
        return problem(StatusCode::SERVICE_UNAVAILABLE, e);
    }
    let now = match state.store.message_sent_as(&body.message_id).await {
        Ok(Some(logged)) => logged.entry.state,
        _ => logged.entry.state,
    };
    Json(json!({ "message_id": body.message_id, "outcome": body.outcome, "state": now }))
        .into_response()
}
