//! Pending reminders: the due-index entry the sweep reads, the key that makes
//! a reminder go out once, and what the agenda shows of them (SPEC §4.3, §6.5).

use crate::appointment::Appointment;
use crate::communications::{Channel, CommunicationEntry, DeliveryState, MessageKey, MessageKind};
use crate::ids::{AppointmentId, PractitionerId};
use crate::rules::reminders::{self, Timing};
use crate::settings::PractitionerSettings;
use crate::time::sortable;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What is left of re-timing a practitioner's reminders after a settings
/// change (SPEC §2: settings apply to every reminder not yet sent): the
/// coming appointments from `from` to `until`, done a piece at a time, each
/// piece idempotent, so that a year of reminders never hangs on one
/// invocation. A newer settings change replaces it (from its own now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retiming {
    pub practitioner_id: PractitionerId,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// One entry of the due index: the message of `kind` on `channel` for the
/// appointment that starts at `start`, to be looked at from `due_at` on. Most
/// are reminders; the others are the practice's cancellation SMS held through
/// quiet hours (SPEC §4.4), about one `version` of the appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledReminder {
    pub appointment_id: AppointmentId,
    pub practitioner_id: PractitionerId,
    /// Entries stored before held notices existed are reminders.
    #[serde(default = "reminder_kind")]
    pub kind: MessageKind,
    pub channel: Channel,
    /// The appointment time the reminder is about: a move makes a new reminder.
    pub start: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// The version a held notice is about (`None` for reminders).
    #[serde(default)]
    pub version: Option<u32>,
}

fn reminder_kind() -> MessageKind {
    MessageKind::Reminder
}

impl ScheduledReminder {
    /// The entry for the appointment as it stands, `None` when no reminder
    /// of `channel` is to be looked at (see [`reminders::schedule`]).
    pub fn of(
        settings: &PractitionerSettings,
        appointment: &Appointment,
        channel: Channel,
    ) -> Option<Self> {
        reminders::schedule(settings, appointment, channel).map(|due_at| Self {
            appointment_id: appointment.id,
            practitioner_id: appointment.practitioner_id.clone(),
            kind: MessageKind::Reminder,
            channel,
            start: appointment.start,
            due_at,
            version: None,
        })
    }

    /// The practice's cancellation notice on `channel` about this version of
    /// the appointment, held until `due_at` (quiet hours, SPEC §4.4).
    pub fn held_notice(appointment: &Appointment, channel: Channel, due_at: DateTime<Utc>) -> Self {
        Self {
            appointment_id: appointment.id,
            practitioner_id: appointment.practitioner_id.clone(),
            kind: MessageKind::PractitionerCancellation,
            channel,
            start: appointment.start,
            due_at,
            version: Some(appointment.version),
        }
    }

    /// The message this entry sends: the key its claim and log entry use.
    pub fn key(&self) -> MessageKey {
        match (self.kind, self.version) {
            (MessageKind::Reminder, _) | (_, None) => {
                MessageKey::for_reminder(self.appointment_id, self.channel, self.start)
            }
            (kind, Some(version)) => {
                MessageKey::for_version(self.appointment_id, kind, self.channel, version)
            }
        }
    }
}

impl MessageKey {
    /// One reminder per channel and appointment time: neither a second sweep
    /// nor a settings change can send it twice; a move makes a new one.
    pub fn for_reminder(
        appointment_id: AppointmentId,
        channel: Channel,
        start: DateTime<Utc>,
    ) -> Self {
        Self {
            appointment_id,
            kind: MessageKind::Reminder,
            channel,
            occasion: sortable(start),
        }
    }
}

/// What the agenda shows of one channel's reminder (the "green phone").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderOutlook {
    pub due_at: DateTime<Utc>,
    pub state: ReminderState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReminderState {
    Scheduled,
    Sent,
    Skipped,
    Failed,
    Cancelled,
    Delivered,
    Bounced,
    Complained,
    Undelivered,
}

impl From<DeliveryState> for ReminderState {
    fn from(state: DeliveryState) -> Self {
        match state {
            DeliveryState::Scheduled => Self::Scheduled,
            DeliveryState::Sent => Self::Sent,
            DeliveryState::Skipped => Self::Skipped,
            DeliveryState::Failed => Self::Failed,
            DeliveryState::Delivered => Self::Delivered,
            DeliveryState::Bounced => Self::Bounced,
            DeliveryState::Complained => Self::Complained,
            DeliveryState::Undelivered => Self::Undelivered,
        }
    }
}

/// Per channel: `None` when no reminder of that channel applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reminders {
    pub email: Option<ReminderOutlook>,
    pub sms: Option<ReminderOutlook>,
}

/// The reminders of an appointment as the agenda shows them: per channel,
/// `None` when no reminder of that channel applies, else its due time and state.
pub fn outlook(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    log: &[CommunicationEntry],
) -> Reminders {
    let one = |channel| channel_outlook(settings, appointment, log, channel);
    Reminders {
        email: one(Channel::Email),
        sms: one(Channel::Sms),
    }
}

fn channel_outlook(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    log: &[CommunicationEntry],
    channel: Channel,
) -> Option<ReminderOutlook> {
    // Entries logged since the appointment got its current time are about it.
    let since = reminders::booked_at(appointment);
    let entry = log
        .iter()
        .rev()
        .find(|e| e.kind == MessageKind::Reminder && e.channel == channel && e.at >= since);
    if let Some(e) = entry.filter(|e| e.state != DeliveryState::Skipped) {
        return Some(ReminderOutlook {
            due_at: e.at,
            state: e.state.into(),
        });
    }
    let delay = reminders::applies(settings, appointment, channel).ok()?;
    let timing = reminders::timing(settings, appointment, channel, delay);
    let state = match (entry, timing) {
        (Some(e), _) => e.state.into(),
        _ if !appointment.status.is_booked() => ReminderState::Cancelled,
        (None, Timing::Due(_)) => ReminderState::Scheduled,
        (None, _) => ReminderState::Skipped,
    };
    Some(ReminderOutlook {
        due_at: timing.shown(),
        state,
    })
}
