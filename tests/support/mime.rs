//! Reads an e-mail as SES received it (raw MIME) back into the fields local
//! mode's outbox shows, so one scenario can check both.

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};

/// Every http(s) URL of the text part, in order, once each.
pub fn links(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        if word.starts_with("http://") || word.starts_with("https://") {
            let url = word.trim_end_matches(['.', ',', ')', ';']).to_string();
            if !found.contains(&url) {
                found.push(url);
            }
        }
    }
    found
}

/// `{channel, to, subject, text, html, links, appointment_id}`; the
/// appointment id is the one of the calendar attachment's UID, when there is one.
pub fn outbox_shape(raw: &str) -> Value {
    let message = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("SES received a MIME message");
    let text = message
        .body_text(0)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_string());
    let appointment_id = header("X-Appointment-Id").or_else(|| {
        message
            .attachments()
            .filter(|a| {
                a.content_type()
                    .is_some_and(|c| c.subtype() == Some("calendar"))
            })
            .find_map(|a| {
                let ics = String::from_utf8_lossy(a.contents()).to_string();
                ics.lines()
                    .find_map(|l| l.strip_prefix("UID:"))
                    .and_then(|uid| uid.trim().split('@').next().map(str::to_string))
            })
    });
    let attachments: Vec<Value> = message
        .attachments()
        .map(|a| {
            json!({
                "filename": a.attachment_name(),
                "content_type": a.content_type().map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{sub}", c.ctype()),
                    None => c.ctype().to_string(),
                }),
                "content": String::from_utf8_lossy(a.contents()),
            })
        })
        .collect();
    json!({
        "channel": "email",
        "attachments": attachments,
        "to": message.to().and_then(|to| to.first()).and_then(|a| a.address()),
        "subject": message.subject(),
        "links": links(&text),
        "text": text,
        "html": message.body_html(0).map(|h| h.to_string()),
        "appointment_id": appointment_id,
        "kind": header("X-Message-Kind"),
    })
}
