//! SMS through Amazon SNS (transactional), straight to the patient's number.

use crate::telemetry::redact;
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_smithy_types::error::display::DisplayErrorContext;
use domain::messages::OutgoingSms;
use domain::ports::{ProviderMessageId, SendError, SmsSender};

pub struct SnsSmsSender {
    client: Client,
    /// Alphanumeric sender id shown to patients where the country allows it.
    sender_id: Option<String>,
    /// The most one SMS may cost, in USD (`SmsMaxPrice`): SNS does not send
    /// a message that would cost more, so a pumped premium number costs
    /// nothing (SPEC §4.3).
    max_price: String,
}

/// The maximum price local mode and the tests give SNS when
/// `SMS_MAX_PRICE` is unset (the template's default is the same).
pub const DEFAULT_SMS_MAX_PRICE: &str = "0.25";

impl SnsSmsSender {
    /// What `template.yaml` must grant a function that sends SMS (checked by tests/consistency.rs).
    pub const IAM_ACTIONS: &[&str] = &["sns:Publish"];

    pub fn new(client: Client, sender_id: Option<String>, max_price: String) -> Self {
        Self {
            client,
            sender_id,
            max_price,
        }
    }
}

fn string_attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

fn number_attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value)
        .build()
        .ok()
}

#[async_trait]
impl SmsSender for SnsSmsSender {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<ProviderMessageId, SendError> {
        // Transactional: delivered first and to numbers on do-not-disturb lists,
        // as appointment reminders are.
        let mut attributes = vec![
            ("AWS.SNS.SMS.SMSType", string_attribute("Transactional")),
            ("AWS.SNS.SMS.MaxPrice", number_attribute(&self.max_price)),
        ];
        if let Some(id) = &self.sender_id {
            attributes.push(("AWS.SNS.SMS.SenderID", string_attribute(id)));
        }
        let mut request = self
            .client
            .publish()
            .phone_number(sms.to.e164())
            .message(&sms.text);
        for (name, value) in attributes {
            if let Some(value) = value {
                request = request.message_attributes(name, value);
            }
        }
        match request.send().await {
            // The id SNS's delivery-status logs carry.
            Ok(out) => Ok(ProviderMessageId(out.message_id.unwrap_or_default())),
            Err(e) => {
                // SNS quotes the number in some refusals.
                let detail = redact(&DisplayErrorContext(&e).to_string());
                Err(match e.as_service_error() {
                    Some(
                        PublishError::InvalidParameterException(_)
                        | PublishError::InvalidParameterValueException(_)
                        | PublishError::EndpointDisabledException(_)
                        | PublishError::ValidationException(_),
                    ) => SendError::Rejected(detail),
                    // Throttling, outages, missing permissions: worth another try.
                    _ => SendError::Unavailable(detail),
                })
            }
        }
    }
}

/// For functions that send e-mail only (the confirmation sender): they need no
/// SNS permission, and a decision to text from them is a bug, refused for good.
pub struct NoSms;

#[async_trait]
impl SmsSender for NoSms {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<ProviderMessageId, SendError> {
        tracing::error!(appointment = %sms.appointment_id, kind = ?sms.kind, "this function sends no SMS");
        Err(SendError::Rejected("this function sends no SMS".into()))
    }
}
