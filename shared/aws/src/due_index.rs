//! The due index of reminders, shared by every store adapter.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | reminder | `APPT#{id}` | `REMINDER#{channel}` | GSI2 (sparse, only these items): `gsi2pk = DUE#{yyyy-mm-dd}#{shard}`, `gsi2sk = {due}#{id}#{channel}` |
//! | held notice | `APPT#{id}` | `HELD#{kind}#{channel}` | the same GSI2, `gsi2sk = {due}#{id}#{kind}#{channel}` |
//! | sweep cursor | `DUE_SWEEP` | `CURSOR` | `bucket`: the oldest day that may still hold due entries |
//!
//! Written by the reminder scheduler (fed the stream), the cancellation sender
//! (SMS held through quiet hours) and the sweeper; read by the sweeper only,
//! by due time, so a sweep reads what is due and nothing else.
//!
//! **No hot partition.** The due entries of every practice are spread over
//! partitions of one day of due time ([`bucket_of`]) × [`SHARDS`] write
//! shards ([`shard_of`], from the entry's own key). A sweep reads the days
//! from the [cursor](SWEEP_CURSOR_PK) up to now, every shard, merging them in
//! due order. An entry is never filed before the moment it is written
//! ([`filed`]), so the days behind the cursor stay empty for good.

use crate::item::appointment_pk;
use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::communications::{Channel, MessageKind};
use domain::ids::AppointmentId;
use domain::reminder::ScheduledReminder;
use domain::time::sortable;
use serde::{Deserialize, Serialize};

pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// The one partition of the due index before it was sharded: what the
/// migration (`agenda-ops migrate-due-index`) moves out of.
pub const LEGACY_DUE_PARTITION: &str = "REMINDER";
pub const REMINDER_KIND: &str = "reminder";

/// Write shards of each day of the due index. A day's entries are written
/// at booking and deleted as fast as the account sends (its SES and SMS
/// rates); 16 shards keep each partition under DynamoDB's 1,000 writes a
/// second up to 16,000 messages a second, far above the account rates, and
/// a day of a 3× platform day (4.5 million entries) at ~280,000 items a
/// partition, while a sweep's read of a day stays 16 small queries
/// (docs/scale.md).
pub const SHARDS: u32 = 16;
/// The time span of one partition of the due index: a day keeps a sweep to
/// 16 queries (32 just after midnight), and a reader that lists far ahead
/// walks few partitions.
pub const BUCKET: Duration = Duration::days(1);
/// How long after a day ends a write may still land in it: no Lambda runs
/// longer than 15 minutes, so a writer that read its clock inside the day
/// has finished by then. Only then may the cursor pass the day.
pub const SETTLE: Duration = Duration::minutes(15);

/// The sweep cursor's item.
pub const SWEEP_CURSOR_PK: &str = "DUE_SWEEP";
pub const SWEEP_CURSOR_SK: &str = "CURSOR";
pub const SWEEP_CURSOR_BUCKET: &str = "bucket";

/// The day (UTC) of due time `at`.
pub fn bucket_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(BUCKET).unwrap_or(at)
}

/// A day as its partition keys and the cursor write it: sortable text.
pub fn bucket_text(bucket: DateTime<Utc>) -> String {
    bucket.format("%Y-%m-%d").to_string()
}

/// The day `text` names (as [`bucket_text`] writes it).
pub fn bucket_from_text(text: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The partition of shard `shard` of the day `bucket`.
pub fn partition(bucket: DateTime<Utc>, shard: u32) -> String {
    format!("DUE#{}#{shard:02}", bucket_text(bucket))
}

/// The write shard of an entry: a hash of its own key (appointment, kind,
/// channel), so that one practice's entries spread like everyone's, and a
/// replaced entry keeps its shard. FNV-1a: fixed by its definition, the same
/// in every process and version (the standard library's hasher is not).
pub fn shard_of(entry: &ScheduledReminder) -> u32 {
    let key = format!(
        "{}#{}",
        appointment_pk(&entry.appointment_id),
        entry_sk(entry)
    );
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    u32::try_from(hash % u64::from(SHARDS)).unwrap_or(0)
}

/// The partition an entry is filed in.
pub fn due_partition(entry: &ScheduledReminder) -> String {
    partition(bucket_of(entry.due_at), shard_of(entry))
}

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

/// The entry as written at `now`: one due earlier is filed as due `now`
/// (the next sweep sends it just the same, decided again at send time), so
/// that no write lands in a day the sweeps have already passed.
pub fn filed(reminder: &ScheduledReminder, now: DateTime<Utc>) -> ScheduledReminder {
    ScheduledReminder {
        due_at: reminder.due_at.max(now),
        ..reminder.clone()
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
    /// The item of an entry as filed (see [`filed`]).
    pub fn new(reminder: &ScheduledReminder) -> Self {
        Self {
            pk: appointment_pk(&reminder.appointment_id),
            sk: entry_sk(reminder),
            item_type: REMINDER_KIND.into(),
            gsi2pk: due_partition(reminder),
            gsi2sk: due_sort_key(reminder),
            reminder: reminder.clone(),
        }
    }
}

pub fn key_of(appointment: &AppointmentId, channel: Channel) -> (String, String) {
    (appointment_pk(appointment), reminder_sk(channel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_named_and_read_back() {
        let at: DateTime<Utc> = "2026-12-08T09:41:07Z".parse().unwrap();
        let bucket = bucket_of(at);
        assert_eq!(bucket_text(bucket), "2026-12-08");
        assert_eq!(bucket_from_text("2026-12-08"), Some(bucket));
        assert_eq!(partition(bucket, 3), "DUE#2026-12-08#03");
    }

    #[test]
    fn the_shards_of_many_entries_are_all_used_and_fixed() {
        let at: DateTime<Utc> = "2026-12-08T09:00:00Z".parse().unwrap();
        let shards: std::collections::BTreeSet<u32> = (0..400)
            .map(|_| shard_of(&entry(AppointmentId::new(), at)))
            .collect();
        assert_eq!(shards.len(), SHARDS as usize);
        let one = entry(AppointmentId::new(), at);
        assert_eq!(shard_of(&one), shard_of(&one.clone()));
    }

    fn entry(id: AppointmentId, due_at: DateTime<Utc>) -> ScheduledReminder {
        ScheduledReminder {
            appointment_id: id,
            practitioner_id: domain::ids::PractitionerId::parse("dr-a").unwrap(),
            kind: MessageKind::Reminder,
            channel: Channel::Sms,
            start: due_at + Duration::hours(24),
            due_at,
            version: None,
        }
    }
}
