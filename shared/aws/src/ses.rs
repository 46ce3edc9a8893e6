//! E-mail through Amazon SES v2, as a raw MIME message (text, HTML and the .ics).

use crate::telemetry::redact;
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use aws_smithy_types::error::display::DisplayErrorContext;
use domain::messages::OutgoingEmail;
use domain::ports::{Mailer, ProviderMessageId, SendError};
use mail_builder::MessageBuilder;

pub struct SesMailer {
    client: Client,
    from_address: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// What the adapter calls, as IAM actions: SES v2 `SendEmail` is
    /// authorised by `ses:SendEmail` whatever its content (raw MIME here).
    pub const IAM_ACTIONS: &[&str] = &["ses:SendEmail"];

    pub fn new(client: Client, from_address: String, configuration_set: Option<String>) -> Self {
        Self {
            client,
            from_address,
            configuration_set,
        }
    }
}

/// The MIME message: multipart/alternative text + HTML, with attachments.
pub fn mime(email: &OutgoingEmail, from_address: &str) -> Result<Vec<u8>, SendError> {
    let mut message = MessageBuilder::new()
        .from((email.sender_name.as_str(), from_address))
        .to(email.to.as_str())
        .subject(email.subject.as_str());
    // Ids, never contact details: lets support (and tests reading what SES
    // received) tell which message of which appointment this is.
    if let Some(appointment) = email.appointment_id {
        message = message.header(
            "X-Appointment-Id",
            mail_builder::headers::raw::Raw::new(appointment.to_string()),
        );
    }
    let mut message = message
        .header(
            "X-Message-Kind",
            mail_builder::headers::raw::Raw::new(email.kind.as_str()),
        )
        .text_body(email.text.as_str())
        .html_body(email.html.as_str());
    for attachment in &email.attachments {
        message = message.attachment(
            attachment.content_type.as_str(),
            attachment.filename.as_str(),
            attachment.content.as_bytes(),
        );
    }
    message
        .write_to_vec()
        .map_err(|e| SendError::Rejected(format!("the message cannot be written: {e}")))
}

fn tag(name: &str, value: &str) -> Option<MessageTag> {
    MessageTag::builder().name(name).value(value).build().ok()
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<ProviderMessageId, SendError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mime(email, &self.from_address)?))
            .build()
            .map_err(|e| SendError::Rejected(e.to_string()))?;
        let result = self
            .client
            .send_email()
            .from_email_address(&self.from_address)
            .destination(
                Destination::builder()
                    .to_addresses(email.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .set_email_tags(Some(
                [
                    tag("kind", email.kind.as_str()),
                    email
                        .appointment_id
                        .and_then(|a| tag("appointment", &a.to_string())),
                ]
                .into_iter()
                .flatten()
                .collect(),
            ))
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            // SES always answers the id its events will carry; an answer
            // without one still means the message was accepted.
            Ok(out) => Ok(ProviderMessageId(out.message_id.unwrap_or_default())),
            Err(e) => {
                // SES quotes addresses in its messages (sandbox refusals).
                let detail = redact(&DisplayErrorContext(&e).to_string());
                Err(match e.as_service_error() {
                    Some(
                        SendEmailError::MessageRejected(_)
                        | SendEmailError::MailFromDomainNotVerifiedException(_)
                        | SendEmailError::BadRequestException(_),
                    ) => SendError::Rejected(detail),
                    // Throttling, paused sending, network trouble: worth another try.
                    _ => SendError::Unavailable(detail),
                })
            }
        }
    }
}
