//! The providers' delivery feedback, read into the domain's reports: SES
//! events (through the configuration set's EventBridge destination) and SNS
//! SMS delivery-status logs (through a CloudWatch Logs subscription). These
//! payloads hold the patient's address or number: they are never logged.

use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::communications::MessageKind;
use domain::service::feedback::{DeliveryReport, ReportedOutcome};
use serde::Deserialize;

/// The `source` of SES events on EventBridge.
pub const SES_SOURCE: &str = "aws.ses";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedbackEventError {
    #[error("neither an SES event nor a CloudWatch Logs batch")]
    UnknownShape,
    #[error("an SES event that cannot be read: {0}")]
    Ses(String),
    #[error("a CloudWatch Logs batch that cannot be read: {0}")]
    Logs(String),
}

/// Every report an invocation carries: one for an SES event (none for the
/// events that change nothing: sends, delays, opens), one per log line of a
/// CloudWatch Logs batch.
pub fn reports(event: &serde_json::Value) -> Result<Vec<DeliveryReport>, FeedbackEventError> {
    if event.get("source").and_then(|s| s.as_str()) == Some(SES_SOURCE) {
        let detail: SesEvent = serde_json::from_value(event["detail"].clone())
            .map_err(|e| FeedbackEventError::Ses(e.to_string()))?;
        return Ok(detail.report().into_iter().collect());
    }
    if event.get("awslogs").is_some() {
        // Its deserializer borrows the base64 text: read from the JSON text.
        let batch: LogsEvent = serde_json::from_str(&event.to_string())
            .map_err(|e| FeedbackEventError::Logs(e.to_string()))?;
        let mut reports = Vec::new();
        for line in &batch.aws_logs.data.log_events {
            match serde_json::from_str::<SmsDeliveryLog>(&line.message) {
                Ok(log) => reports.extend(log.report()),
                // Not a delivery-status line (the group holds nothing else
                // today): skipped, by its id only.
                Err(_) => {
                    tracing::warn!(log_event = %line.id, "a log line that is not an SMS delivery status")
                }
            }
        }
        return Ok(reports);
    }
    Err(FeedbackEventError::UnknownShape)
}

/// An SES event record (the `detail` of the EventBridge event): only what
/// the feedback needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    event_type: String,
    mail: SesMail,
    #[serde(default)]
    bounce: Option<SesBounce>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesMail {
    message_id: String,
    timestamp: DateTime<Utc>,
    /// The message's tags (`kind`, `appointment`), as SES events carry them.
    #[serde(default)]
    tags: std::collections::HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesBounce {
    bounce_type: String,
    #[serde(default)]
    bounce_sub_type: String,
}

impl SesEvent {
    fn report(self) -> Option<DeliveryReport> {
        // A verification code is on no appointment's log (SPEC §6.3): its
        // reports have no entry to move, and waiting for one would only
        // retry them for a quarter of an hour.
        let kind = MessageKind::VerificationCode.as_str();
        if self
            .mail
            .tags
            .get("kind")
            .is_some_and(|kinds| kinds.iter().any(|k| k == kind))
        {
            return None;
        }
        let outcome = match self.event_type.as_str() {
            "Delivery" => ReportedOutcome::Delivered,
            "Bounce" => match self.bounce {
                // SES did not send: the address is on the account's (or
                // SES's global) suppression list.
                Some(b)
                    if b.bounce_sub_type == "OnAccountSuppressionList"
                        || b.bounce_sub_type == "Suppressed" =>
                {
                    ReportedOutcome::Suppressed
                }
                Some(b) => ReportedOutcome::Bounced {
                    permanent: b.bounce_type == "Permanent",
                },
                None => ReportedOutcome::Bounced { permanent: false },
            },
            "Complaint" => ReportedOutcome::Complained,
            "Reject" => ReportedOutcome::Rejected,
            // Send, DeliveryDelay (SES keeps trying; a bounce follows if it
            // gives up), Open, Click, Rendering Failure, Subscription.
            _ => return None,
        };
        Some(DeliveryReport {
            message_id: self.mail.message_id,
            outcome,
            sent_at: self.mail.timestamp,
        })
    }
}

/// One line of SNS's SMS delivery-status log (`DirectPublishToPhoneNumber`
/// and its `/Failure` group).
#[derive(Debug, Deserialize)]
struct SmsDeliveryLog {
    notification: SmsNotification,
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SmsNotification {
    message_id: String,
    /// `2016-06-28 00:40:34.558`, UTC.
    timestamp: String,
}

impl SmsDeliveryLog {
    fn report(self) -> Option<DeliveryReport> {
        let outcome = match self.status.as_str() {
            "SUCCESS" => ReportedOutcome::Delivered,
            "FAILURE" => ReportedOutcome::Undelivered,
            _ => return None,
        };
        // Unreadable: as if long ago, so an unknown id is not retried.
        let sent_at =
            NaiveDateTime::parse_from_str(&self.notification.timestamp, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc())
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
        Some(DeliveryReport {
            message_id: self.notification.message_id,
            outcome,
            sent_at,
        })
    }
}

#[cfg(test)]
mod verification_code_reports {
    use super::*;

    /// The sample SES delivery event, tagged as the mailer tags `kind`.
    fn delivery_of(kind: &str) -> serde_json::Value {
        let mut event: serde_json::Value = serde_json::from_str(include_str!(
            "../../../events/delivery-feedback-ses-delivery.json"
        ))
        .unwrap();
        event["detail"]["mail"]["tags"]["kind"] = serde_json::json!([kind]);
        event
    }

    #[test]
    fn reports_of_verification_codes_are_not_looked_up() {
        // Given SES's report of a confirmation, then it is read
        assert_eq!(reports(&delivery_of("confirmation")).unwrap().len(), 1);
        // Given the same report of a verification code (on no log), then none
        assert!(
            reports(&delivery_of("verification_code"))
                .unwrap()
                .is_empty()
        );
    }
}
