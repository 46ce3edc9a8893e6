//! Local mode's outbox: messages are kept for `GET /dev/outbox` instead of being sent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::communications::{Channel, MessageKind};
use domain::ids::AppointmentId;
use domain::messages::{OutgoingEmail, OutgoingSms};
use domain::ports::{Clock, Mailer, ProviderMessageId, SendError, SmsSender};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// One message as `GET /dev/outbox` shows it (SPEC §8).
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: String,
    /// The id the outbox gave the message as SES or SNS would (SPEC §8):
    /// the communications log keeps it, feedback names the message by it.
    pub message_id: String,
    pub channel: Channel,
    pub to: String,
    pub kind: MessageKind,
    /// `null` for a message about no appointment (a verification code).
    pub appointment_id: Option<AppointmentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    pub links: Vec<String>,
    /// The e-mail's files (the .ics), their text as `content` (SPEC §8).
    pub attachments: Vec<OutboxAttachment>,
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

pub struct Outbox {
    clock: Arc<dyn Clock>,
    messages: Mutex<Vec<OutboxMessage>>,
    /// Failures to return before accepting messages again (tests of retries).
    failures: Mutex<VecDeque<SendError>>,
}

impl Outbox {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            messages: Mutex::new(Vec::new()),
            failures: Mutex::new(VecDeque::new()),
        }
    }

    /// Oldest first.
    pub fn messages(&self) -> Vec<OutboxMessage> {
        self.messages.lock().expect("outbox lock").clone()
    }

    /// The next sends fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SendError>) {
        self.failures.lock().expect("outbox lock").extend(errors);
    }

    /// Failures set with [`Self::fail_next`] not returned yet.
    pub fn failures_left(&self) -> usize {
        self.failures.lock().expect("outbox lock").len()
    }

    fn take_failure(&self) -> Option<SendError> {
        self.failures.lock().expect("outbox lock").pop_front()
    }

    fn push(&self, mut message: OutboxMessage) -> ProviderMessageId {
        let mut messages = self.messages.lock().expect("outbox lock");
        message.id = format!("msg-{}", messages.len() + 1);
        message.message_id = format!("local-{}", ulid::Ulid::new().to_string().to_lowercase());
        let id = ProviderMessageId(message.message_id.clone());
        messages.push(message);
        id
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: &OutgoingEmail) -> Result<ProviderMessageId, SendError> {
        if let Some(failure) = self.take_failure() {
            return Err(failure);
        }
        Ok(self.push(OutboxMessage {
            id: String::new(),
            message_id: String::new(),
            channel: Channel::Email,
            to: email.to.as_str().to_string(),
            kind: email.kind,
            appointment_id: email.appointment_id,
            subject: Some(email.subject.clone()),
            text: email.text.clone(),
            html: Some(email.html.clone()),
            links: email.links.clone(),
            attachments: email
                .attachments
                .iter()
                .map(|a| OutboxAttachment {
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    content: a.content.clone(),
                })
                .collect(),
            sent_at: self.clock.now(),
        }))
    }
}

/// SMS land in the same outbox, with channel `sms` (SPEC §8).
#[async_trait]
impl SmsSender for Outbox {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<ProviderMessageId, SendError> {
        if let Some(failure) = self.take_failure() {
            return Err(failure);
        }
        Ok(self.push(OutboxMessage {
            id: String::new(),
            message_id: String::new(),
            channel: Channel::Sms,
            to: sms.to.e164().to_string(),
            kind: sms.kind,
            appointment_id: Some(sms.appointment_id),
            subject: None,
            text: sms.text.clone(),
            html: None,
            links: sms.links.clone(),
            attachments: Vec::new(),
            sent_at: self.clock.now(),
        }))
    }
}
