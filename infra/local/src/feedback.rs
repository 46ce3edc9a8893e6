//! Provider feedback in local mode (SPEC §8): SES's mailbox simulator
//! addresses behave as on SES, and `POST /dev/deliveries` reports an outcome
//! for any message. Both hand the delivery-feedback function's own handler
//! the events AWS would: an SES event as its EventBridge destination
//! delivers it, an SNS SMS delivery-status line as a CloudWatch Logs
//! subscription delivers it (gzipped, base64).

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::communications::Channel;
use domain::messages::OutgoingEmail;
use domain::ports::{Clock, Mailer, ProviderMessageId, SendError};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The delivery-feedback handler as local mode calls it: the event, then
/// what it answered (or its error).
pub type FeedbackFunction =
    Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;

/// The domain of SES's mailbox simulator.
pub const SIMULATOR_DOMAIN: &str = "simulator.amazonses.com";

/// An outcome a provider reports, as `POST /dev/deliveries` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Bounced,
    Complained,
    Undelivered,
    /// SES's answer for an address on its suppression list (a bounce that
    /// says SES did not send).
    Suppressed,
}

impl Outcome {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "delivered" => Self::Delivered,
            "bounced" => Self::Bounced,
            "complained" => Self::Complained,
            "undelivered" => Self::Undelivered,
            _ => return None,
        })
    }

    /// Whether a provider of `channel` reports this (`undelivered` is the
    /// SMS carrier's word; bounces and complaints are e-mail's).
    pub fn fits(self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self != Self::Undelivered,
            Channel::Sms => matches!(self, Self::Delivered | Self::Undelivered),
        }
    }
}

/// What SES does with mail to a simulator address, in order; nothing for
/// other addresses. `name+label@` behaves as `name@`, as on SES.
pub fn simulated_outcomes(to: &str) -> Vec<Outcome> {
    let Some((local, domain)) = to.rsplit_once('@') else {
        return Vec::new();
    };
    if !domain.eq_ignore_ascii_case(SIMULATOR_DOMAIN) {
        return Vec::new();
    }
    let name = local
        .split('+')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match name.as_str() {
        "success" | "ooto" => vec![Outcome::Delivered],
        "bounce" => vec![Outcome::Bounced],
        // A complaint comes after the delivery.
        "complaint" => vec![Outcome::Delivered, Outcome::Complained],
        "suppressionlist" => vec![Outcome::Suppressed],
        _ => Vec::new(),
    }
}

/// The event AWS hands the function for `outcome` of the message
/// `message_id` sent at `sent_at` through `channel`.
pub fn provider_event(
    channel: Channel,
    message_id: &str,
    outcome: Outcome,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Value {
    match channel {
        Channel::Email => ses_event(message_id, outcome, sent_at, now),
        Channel::Sms => sms_log_batch(message_id, outcome == Outcome::Delivered, sent_at, now),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An SES event record inside the EventBridge event SES's EventBridge
/// destination puts on the default bus.
fn ses_event(
    message_id: &str,
    outcome: Outcome,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Value {
    let (event_type, detail_type) = match outcome {
        Outcome::Delivered | Outcome::Undelivered => ("Delivery", "Email Delivered"),
        Outcome::Bounced | Outcome::Suppressed => ("Bounce", "Email Bounced"),
        Outcome::Complained => ("Complaint", "Email Complaint Received"),
    };
    let recipient = "recipient@simulator.amazonses.com";
    let mut detail = json!({
        "eventType": event_type,
        "mail": {
            "timestamp": time(sent_at),
            "source": "agenda@example.org",
            "sendingAccountId": "000000000000",
            "messageId": message_id,
            "destination": [recipient],
            "headersTruncated": false,
            "tags": {"ses:configuration-set": ["local"]}
        }
    });
    match outcome {
        Outcome::Delivered | Outcome::Undelivered => {
            detail["delivery"] = json!({
                "timestamp": time(now), "processingTimeMillis": 120,
                "recipients": [recipient], "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": "a8-50.smtp-out.amazonses.com"
            });
        }
        Outcome::Bounced | Outcome::Suppressed => {
            let sub_type = if outcome == Outcome::Suppressed {
                "OnAccountSuppressionList"
            } else {
                "General"
            };
            detail["bounce"] = json!({
                "bounceType": "Permanent", "bounceSubType": sub_type,
                "bouncedRecipients": [{"emailAddress": recipient, "action": "failed",
                                       "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                "timestamp": time(now), "feedbackId": format!("local-{message_id}-bounce"),
                "reportingMTA": "dns; amazonses.com"
            });
        }
        Outcome::Complained => {
            detail["complaint"] = json!({
                "complainedRecipients": [{"emailAddress": recipient}],
                "timestamp": time(now), "feedbackId": format!("local-{message_id}-complaint"),
                "complaintFeedbackType": "abuse", "arrivalDate": time(now)
            });
        }
    }
    json!({
        "version": "0",
        "id": ulid::Ulid::new().to_string().to_lowercase(),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "000000000000",
        "time": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "local",
        "resources": ["arn:aws:ses:local:000000000000:configuration-set/local"],
        "detail": detail
    })
}

/// A CloudWatch Logs subscription batch of one SNS SMS delivery-status line.
fn sms_log_batch(
    message_id: &str,
    delivered: bool,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Value {
    let (status, group, response) = if delivered {
        (
            "SUCCESS",
            "sns/local/000000000000/DirectPublishToPhoneNumber",
            "Message has been accepted by phone carrier",
        )
    } else {
        (
            "FAILURE",
            "sns/local/000000000000/DirectPublishToPhoneNumber/Failure",
            "Unknown error attempting to reach phone",
        )
    };
    let line = json!({
        "notification": {"messageId": message_id,
                         "timestamp": sent_at.format("%Y-%m-%d %H:%M:%S%.3f").to_string()},
        "delivery": {"mnc": 0, "destination": "+33600000000", "priceInUSD": 0.05,
                     "smsType": "Transactional", "mcc": 208, "providerResponse": response,
                     "dwellTimeMs": 420, "dwellTimeMsUntilDeviceAck": 1200},
        "status": status
    });
    let data = json!({
        "messageType": "DATA_MESSAGE",
        "owner": "000000000000",
        "logGroup": group,
        "logStream": ulid::Ulid::new().to_string().to_lowercase(),
        "subscriptionFilters": ["sms-delivery-status"],
        "logEvents": [{"id": now.timestamp_millis().to_string(),
                       "timestamp": now.timestamp_millis(), "message": line.to_string()}]
    });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(data.to_string().as_bytes())
        .expect("gzip into memory");
    let bytes = gzip.finish().expect("gzip into memory");
    json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(bytes)}})
}

/// Events waiting for the feedback function, counted so local mode can tell
/// when all were handled (tests wait on it instead of sleeping).
#[derive(Clone)]
pub struct FeedbackQueue {
    tx: mpsc::UnboundedSender<Value>,
    pending: Arc<watch::Sender<usize>>,
}

impl FeedbackQueue {
    pub fn push(&self, event: Value) {
        self.pending.send_modify(|p| *p += 1);
        if self.tx.send(event).is_err() {
            self.pending.send_modify(|p| *p -= 1);
        }
    }

    pub fn progress(&self) -> crate::stream::Progress {
        crate::stream::Progress::Pending(self.pending.clone())
    }
}

/// As Lambda retries an asynchronous invocation that failed (the message is
/// not in the log yet: SES answered before the sender logged it), but
/// sooner: local mode's feedback arrives within a second.
const RETRIES: u32 = 10;
const FIRST_RETRY: Duration = Duration::from_millis(10);

/// The queue, and the task that feeds its events to `function` in order.
pub fn spawn(function: FeedbackFunction) -> (FeedbackQueue, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let pending = Arc::new(watch::Sender::new(0));
    let queue = FeedbackQueue {
        tx,
        pending: pending.clone(),
    };
    let pump = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let mut wait = FIRST_RETRY;
            for attempt in 0..=RETRIES {
                match function(event.clone()).await {
                    Ok(_) => break,
                    Err(e) if attempt == RETRIES => {
                        tracing::error!(error = %e, "delivery feedback given up");
                    }
                    Err(_) => {
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_millis(500));
                    }
                }
            }
            pending.send_modify(|p| *p = p.saturating_sub(1));
        }
    });
    (queue, pump)
}

/// A mailer that sends through `inner` (the outbox, or SES), then makes
/// SES's mailbox simulator addresses answer as they do on SES.
pub struct MailboxSimulator {
    pub inner: Arc<dyn Mailer>,
    pub queue: FeedbackQueue,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Mailer for MailboxSimulator {
    async fn send(&self, email: &OutgoingEmail) -> Result<ProviderMessageId, SendError> {
        let id = self.inner.send(email).await?;
        let now = self.clock.now();
        for outcome in simulated_outcomes(email.to.as_str()) {
            self.queue
                .push(provider_event(Channel::Email, &id.0, outcome, now, now));
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_addresses_answer_as_on_ses_and_others_do_not() {
        assert_eq!(
            simulated_outcomes("bounce@simulator.amazonses.com"),
            [Outcome::Bounced]
        );
        assert_eq!(
            simulated_outcomes("complaint+jeanne@Simulator.AmazonSES.com"),
            [Outcome::Delivered, Outcome::Complained]
        );
        assert_eq!(
            simulated_outcomes("suppressionlist@simulator.amazonses.com"),
            [Outcome::Suppressed]
        );
        assert!(simulated_outcomes("bounce@example.org").is_empty());
    }
}
