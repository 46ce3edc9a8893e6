//! The communications log (SPEC §5): every decision about a message, sent or not.

use crate::ids::{AppointmentId, PractitionerId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MessageKind {
    Confirmation,
    CancellationAck,
    Reminder,
    PractitionerCancellation,
    /// The code that proves an online booker's e-mail address (SPEC §6.3):
    /// on no appointment's log.
    VerificationCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    Email,
    Sms,
}

/// What became of a message (SPEC §5): decided at sending time (`sent`,
/// `skipped`, `failed`), then moved by the provider's feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryState {
    /// Held until `at` (a cancellation SMS inside quiet hours, SPEC §4.4).
    Scheduled,
    Sent,
    Skipped,
    Failed,
    /// The recipient's mail server or the phone carrier took it.
    Delivered,
    /// E-mail: the recipient's server refused it.
    Bounced,
    /// E-mail: delivered, then marked as spam by the patient.
    Complained,
    /// SMS: the carrier could not reach the phone.
    Undelivered,
}

impl DeliveryState {
    /// A message in this state did not reach the patient, or the patient
    /// rejected it: the secretariat should call (SPEC §5, `attention`).
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            Self::Failed | Self::Bounced | Self::Complained | Self::Undelivered
        )
    }

    /// The state a message moves to when the provider reports `reported`
    /// while it is in `self`; `None`: the report changes nothing.
    ///
    /// The one rule of precedence for feedback, whatever order reports
    /// arrive in: a report only moves a message to worse news. `sent` <
    /// `delivered` < `complained` < `bounced` = `undelivered` = `failed`; a
    /// report of the same rank (a duplicate, or a `delivered` after a
    /// `bounced`) changes nothing. `skipped` messages were never sent and
    /// take no feedback.
    pub fn after_feedback(self, reported: DeliveryState) -> Option<DeliveryState> {
        fn rank(state: DeliveryState) -> Option<u8> {
            match state {
                DeliveryState::Sent => Some(0),
                DeliveryState::Delivered => Some(1),
                DeliveryState::Complained => Some(2),
                DeliveryState::Bounced | DeliveryState::Undelivered | DeliveryState::Failed => {
                    Some(3)
                }
                DeliveryState::Skipped | DeliveryState::Scheduled => None,
            }
        }
        match (rank(self), rank(reported)) {
            (Some(now), Some(new)) if new > now => Some(reported),
            _ => None,
        }
    }
}

/// What a provider reported about one message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The provider's `MessageId`, as logged at sending time.
    pub message_id: String,
    pub outcome: ReportedOutcome,
    /// When the provider accepted the message (its own timestamp).
    pub sent_at: DateTime<Utc>,
}

/// The provider's verdict, in the product's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedOutcome {
    /// The recipient's server, or the phone carrier, took it.
    Delivered,
    /// The recipient's server refused it; `permanent`: the address is bad.
    Bounced { permanent: bool },
    /// SES did not send it: the address is on the account's suppression list.
    Suppressed,
    /// SES refused it after accepting the call (content).
    Rejected,
    /// Delivered, then marked as spam by the patient.
    Complained,
    /// The carrier could not reach the phone.
    Undelivered,
}

impl ReportedOutcome {
    /// The state the report stands for. A message SES did not send at all
    /// (suppressed, rejected) is `failed`, like one refused at the call.
    pub fn state(self) -> DeliveryState {
        match self {
            Self::Delivered => DeliveryState::Delivered,
            Self::Bounced { .. } => DeliveryState::Bounced,
            Self::Suppressed | Self::Rejected => DeliveryState::Failed,
            Self::Complained => DeliveryState::Complained,
            Self::Undelivered => DeliveryState::Undelivered,
        }
    }

    /// The log's `reason_code`; `None` for a delivery.
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            Self::Delivered => return None,
            Self::Bounced { permanent: true } => "bounced_permanent",
            Self::Bounced { permanent: false } => "bounced_transient",
            Self::Suppressed => "on_suppression_list",
            Self::Rejected => "rejected_by_provider",
            Self::Complained => "complained",
            Self::Undelivered => "undelivered",
        })
    }
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::CancellationAck => "cancellation_ack",
            Self::Reminder => "reminder",
            Self::PractitionerCancellation => "practitioner_cancellation",
            Self::VerificationCode => "verification_code",
        }
    }
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

/// Identifies one message that one event calls for: the same key is never sent
/// twice. `occasion` tells events of one kind apart (the appointment version for a
/// confirmation, the due time for a reminder).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub appointment_id: AppointmentId,
    pub kind: MessageKind,
    pub channel: Channel,
    pub occasion: String,
}

impl MessageKey {
    pub fn for_version(
        appointment_id: AppointmentId,
        kind: MessageKind,
        channel: Channel,
        version: u32,
    ) -> Self {
        Self {
            appointment_id,
            kind,
            channel,
            occasion: format!("v{version:06}"),
        }
    }
}

impl MessageKey {
    /// The key back from its text (`kind#channel#occasion`, see `Display`).
    pub fn parse(appointment_id: AppointmentId, text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '#');
        let (kind, channel) = (parts.next()?, parts.next()?);
        let kind = [
            MessageKind::Confirmation,
            MessageKind::CancellationAck,
            MessageKind::Reminder,
            MessageKind::PractitionerCancellation,
        ]
        .into_iter()
        .find(|k| k.as_str() == kind)?;
        let channel = [Channel::Email, Channel::Sms]
            .into_iter()
            .find(|c| c.as_str() == channel)?;
        Some(Self {
            appointment_id,
            kind,
            channel,
            occasion: parts.next()?.to_string(),
        })
    }
}

impl fmt::Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}#{}#{}",
            self.kind.as_str(),
            self.channel.as_str(),
            self.occasion
        )
    }
}

/// One entry of an appointment's log, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationEntry {
    pub kind: MessageKind,
    pub channel: Channel,
    pub state: DeliveryState,
    /// Why it was skipped or failed, in words a secretariat understands.
    pub reason: Option<String>,
    /// A stable code for `reason`, for the front end (`no_email`, `service_disabled`, ...).
    #[serde(default)]
    pub reason_code: Option<String>,
    /// The id the provider gave the message when it accepted it (SES's or
    /// SNS's `MessageId`, the outbox's locally): its feedback names it.
    #[serde(default)]
    pub message_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// The messages of a log that did not reach the patient, newest first
/// (SPEC §5 `attention`): whom the secretariat should call.
pub fn attention(log: &[CommunicationEntry]) -> Vec<CommunicationEntry> {
    let mut found: Vec<CommunicationEntry> = log
        .iter()
        .filter(|e| e.state.needs_attention())
        .cloned()
        .collect();
    found.sort_by_key(|e| std::cmp::Reverse(e.at));
    found
}

/// What is published on the event bus for each entry: ids and states, never
/// the patient's contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationEvent {
    pub practitioner_id: PractitionerId,
    pub appointment_id: AppointmentId,
    pub message: String,
    /// Who made the appointment's change the message followed (`patient`,
    /// `system`, or a member's `sub`): the version it was decided on.
    #[serde(default)]
    pub by: crate::grants::Actor,
    #[serde(flatten)]
    pub entry: CommunicationEntry,
}

impl CommunicationEvent {
    pub const SOURCE: &'static str = "patient-communications";
    pub const DETAIL_TYPE: &'static str = "Patient communication";
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryState::*;

    /// The state after `reports` arrive in that order, from `sent`.
    fn after(reports: &[DeliveryState]) -> DeliveryState {
        reports
            .iter()
            .fold(Sent, |state, r| state.after_feedback(*r).unwrap_or(state))
    }

    #[test]
    fn a_delivery_after_a_bounce_does_not_hide_the_bounce() {
        // Given a bounced e-mail, when a late delivery report arrives
        // Then it changes nothing
        assert_eq!(Bounced.after_feedback(Delivered), None);
        assert_eq!(after(&[Bounced, Delivered]), Bounced);
        // And the other way round, the bounce wins too
        assert_eq!(after(&[Delivered, Bounced]), Bounced);
    }

    #[test]
    fn a_report_received_twice_changes_the_entry_once() {
        for state in [Delivered, Bounced, Complained, Undelivered, Failed] {
            assert_eq!(Sent.after_feedback(state), Some(state));
            assert_eq!(state.after_feedback(state), None, "{state:?} twice");
        }
    }

    #[test]
    fn every_order_of_arrival_ends_in_the_same_state() {
        let email = [Delivered, Complained, Bounced];
        let sms = [Delivered, Undelivered];
        for reports in [&email[..], &sms[..]] {
            let expected = after(reports);
            let mut orders = vec![reports.to_vec()];
            for i in 0..reports.len() {
                for j in 0..reports.len() {
                    let mut order = reports.to_vec();
                    order.swap(i, j);
                    orders.push(order.clone());
                    order.push(order[0]); // and a duplicate at the end
                    orders.push(order);
                }
            }
            for order in orders {
                assert_eq!(after(&order), expected, "{order:?}");
            }
        }
        assert_eq!(after(&email), Bounced);
        assert_eq!(after(&sms), Undelivered);
    }

    #[test]
    fn a_complaint_follows_a_delivery_and_yields_to_a_bounce() {
        assert_eq!(Delivered.after_feedback(Complained), Some(Complained));
        assert_eq!(Complained.after_feedback(Delivered), None);
        assert_eq!(Complained.after_feedback(Bounced), Some(Bounced));
    }

    #[test]
    fn skipped_and_failed_messages_take_no_feedback() {
        for reported in [Delivered, Bounced, Complained, Undelivered] {
            assert_eq!(Skipped.after_feedback(reported), None);
            assert_eq!(Failed.after_feedback(reported), None);
        }
    }

    #[test]
    fn attention_lists_what_did_not_reach_the_patient_newest_first() {
        let entry = |state, minute: u32| CommunicationEntry {
            kind: MessageKind::Reminder,
            channel: Channel::Sms,
            state,
            reason: None,
            reason_code: None,
            message_id: None,
            at: DateTime::parse_from_rfc3339(&format!("2026-12-01T10:{minute:02}:00Z"))
                .unwrap()
                .into(),
        };
        let log = [
            entry(Failed, 1),
            entry(Delivered, 2),
            entry(Bounced, 3),
            entry(Skipped, 4),
            entry(Sent, 5),
            entry(Undelivered, 6),
            entry(Complained, 7),
        ];
        let states: Vec<DeliveryState> = attention(&log).iter().map(|e| e.state).collect();
        assert_eq!(states, [Complained, Undelivered, Bounced, Failed]);
    }

    #[test]
    fn a_message_key_reads_back_from_its_text() {
        let key = MessageKey::for_version(
            AppointmentId::new(),
            MessageKind::PractitionerCancellation,
            Channel::Sms,
            3,
        );
        assert_eq!(
            MessageKey::parse(key.appointment_id, &key.to_string()),
            Some(key.clone())
        );
        assert_eq!(
            MessageKey::parse(key.appointment_id, "reminder#fax#x"),
            None
        );
    }
}
