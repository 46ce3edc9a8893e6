//! The due index of reminders, shared by every store adapter.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | reminder | `APPT#{id}` | `REMINDER#{channel}` | GSI2 (sparse, only these items): `gsi2pk = REMINDER`, `gsi2sk = {due}#{id}#{channel}` |
//! | held notice | `APPT#{id}` | `HELD#{kind}#{channel}` | the same GSI2, `gsi2sk = {due}#{id}#{kind}#{channel}` |
//!
//! Written by the reminder scheduler (fed the stream), the cancellation sender
//! (SMS held through quiet hours) and the sweeper; read by the sweeper only,
//! by due time, so a sweep reads what is due and nothing else.

use crate::item::{appointment_pk, sortable};
use domain::communications::{Channel, MessageKind};
use domain::ids::AppointmentId;
use domain::reminder::ScheduledReminder;
use serde::{Deserialize, Serialize};

pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// The one partition of the due index. A sweep reads it from the oldest due
/// entry on; entries leave it once decided, so it holds pending reminders only.
pub const DUE_PARTITION: &str = "REMINDER";
pub const REMINDER_KIND: &str = "reminder";

pub fn reminder_sk(channel: Channel) -> String {
    format!("REMINDER#{}", channel.as_str())
}

/// A reminder's entry is replaced by the next reminder of its channel; a held
/// notice has an entry of its own beside it.
pub fn entry_sk(entry: &ScheduledReminder) -> String {
    match entry.kind {
        MessageKind::Reminder => reminder_sk(entry.channel),
        kind => format!("HELD#{}#{}", kind.as_str(), entry.channel.as_str()),
    }
}

/// Fixed-width due time first, so string order is due order.
pub fn due_sort_key(reminder: &ScheduledReminder) -> String {
    match reminder.kind {
        MessageKind::Reminder => format!(
            "{}#{}#{}",
            sortable(reminder.due_at),
            reminder.appointment_id,
            reminder.channel.as_str()
        ),
        kind => format!(
            "{}#{}#{}#{}",
            sortable(reminder.due_at),
            reminder.appointment_id,
            kind.as_str(),
            reminder.channel.as_str()
        ),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReminderItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub gsi2pk: String,
    pub gsi2sk: String,
    #[serde(flatten)]
    pub reminder: ScheduledReminder,
}

impl ReminderItem {
    pub fn new(reminder: &ScheduledReminder) -> Self {
        Self {
            pk: appointment_pk(&reminder.appointment_id),
            sk: entry_sk(reminder),
            item_type: REMINDER_KIND.into(),
            gsi2pk: DUE_PARTITION.into(),
            gsi2sk: due_sort_key(reminder),
            reminder: reminder.clone(),
        }
    }
}

pub fn key_of(appointment: &AppointmentId, channel: Channel) -> (String, String) {
    (appointment_pk(appointment), reminder_sk(channel))
}
