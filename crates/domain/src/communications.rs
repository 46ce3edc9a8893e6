//! The communications log (SPEC §5): every decision about a message, sent or not.

use crate::ids::{AppointmentId, PractitionerId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Confirmation,
    CancellationAck,
    Reminder,
    PractitionerCancellation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Held until `at` (a cancellation SMS inside quiet hours, SPEC §4.4).
    Scheduled,
    Sent,
    Skipped,
    Failed,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::CancellationAck => "cancellation_ack",
            Self::Reminder => "reminder",
            Self::PractitionerCancellation => "practitioner_cancellation",
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
    pub at: DateTime<Utc>,
}

/// What is published on the event bus for each entry: ids and states, never
/// the patient's contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationEvent {
    pub practitioner_id: PractitionerId,
    pub appointment_id: AppointmentId,
    pub message: String,
    #[serde(flatten)]
    pub entry: CommunicationEntry,
}

impl CommunicationEvent {
    pub const SOURCE: &'static str = "patient-communications";
    pub const DETAIL_TYPE: &'static str = "Patient communication";
}
