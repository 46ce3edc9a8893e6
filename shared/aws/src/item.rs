//! The single-table layout, shared by every store adapter.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | settings | `PRAC#{pid}` | `SETTINGS` | the §6.5 document under `settings` |
//! | members | `PRAC#{pid}` | `MEMBERS` | the grants on the practitioner (SPEC §6.1): `members: [{sub, role, name?}]`, with a `revision` |
//! | agenda day | `PRAC#{pid}` | `DAY#{yyyy-mm-dd}` | booked ranges of one UTC day, with a `revision` for optimistic locking |
//! | appointment | `APPT#{id}` | `APPT` | GSI1: `gsi1pk = PRAC#{pid}`, `gsi1sk = {start}#{id}` (agenda reads) |
//! | message | `APPT#{id}` | `MSG#{kind}#{channel}#{occasion}` | claim + communications log entry; once settled, GSI1: `gsi1pk = LOG#{pid}`, `gsi1sk = {id}#MSG#…` (the agenda reads a window's logs in one query); GSI3 (sparse, keys only): `gsi3pk = SENT#{provider message id}`, `gsi3sk` = its `sk`, once the provider accepted it (delivery feedback finds it by that id) |
//! | history | `APPT#{id}` | `HIST#{version, 10 digits}` | who made that version, when, which fields it changed (never values); written with the version |
//! | practice history | `PRAC#{pid}` | `HIST#{at}#{ulid}` | who changed the settings or a member's grant, when, which fields |
//! | patients' index | `PRAC#{pid}` | `PATIENT#{contact hash}#{appointment id}` | one per contact (keyed hash of the e-mail's mailbox, of the mobile in E.164) of each appointment, written with it: data rights find a patient's appointments without a scan |
//! | link | `LINK#{sha256}` | `LINK` | grant of a patient link; `ttl` expires it |
//! | absence | `PRAC#{pid}` | `ABS#{start}#{id}` | also listed in the `absent` map of each agenda day it touches |
//! | reminder | `APPT#{id}` | `REMINDER#{channel}` | due-index entry; GSI2 (sparse): `gsi2pk = DUE#{yyyy-mm-dd}#{shard}`, `gsi2sk = {due}#{id}#{channel}` (see [`crate::due_index`]) |
//! | sweep cursor | `DUE_SWEEP` | `CURSOR` | the oldest day of the due index that may hold entries |
//! | verification | `VERIF#{id}` | `VERIF` | an online booker's verification: keyed hashes of the code and the address, wrong codes, the booking it was used for; `ttl` a day after it expires |
//! | contact | `PRAC#{pid}` | `CONTACT#{contact hash}` | the future online appointments of one verified contact (`max_future_per_patient`), with a `revision` |
//! | quota counter | `QUOTA#{quota}#{subject hash}` | `{hour}` | `count` of one hour; `ttl` at the hour's end |
//! | re-timing | `PRAC#{pid}` | `RETIME` | what is left of re-timing the practitioner's reminders after a settings change (`from`, `until`); each write's stream record carries it on a piece |
//! | sending rate | `RATE#{channel}` | `{unix second}` | `count` of the account's sends on the channel in that second; `ttl` two minutes later |

use chrono::{DateTime, NaiveDate, Utc};
use domain::absence::Absence;
use domain::appointment::Appointment;
use domain::communications::{CommunicationEntry, MessageKey};
use domain::grants::{Member, Members};
use domain::history::{HistoryEntry, PracticeChange};
use domain::ids::{AppointmentId, PractitionerId};
use domain::keyed::ContactHash;
use domain::links::{LinkGrant, TokenHash};
use domain::ports::{LoggedMessage, StoreError};
use domain::quota::Charge;
use domain::settings::PractitionerSettings;
use domain::time::TimeRange;
use domain::verification::{Verification, VerificationId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_dynamo::Item;
use std::collections::BTreeMap;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const TTL: &str = "ttl";
/// Sparse index of messages by their provider's id (delivery feedback).
pub const GSI3: &str = "gsi3";
pub const GSI3_PK: &str = "gsi3pk";
pub const GSI3_SK: &str = "gsi3sk";

/// The GSI3 partition of a message the provider knows as `message_id`.
pub fn sent_as_pk(message_id: &str) -> String {
    format!("SENT#{message_id}")
}

/// The `type` attribute of each item; stream filters select on it.
pub mod kind {
    pub const SETTINGS: &str = "settings";
    pub const MEMBERS: &str = "members";
    pub const HISTORY: &str = "history";
    pub const PRACTICE_HISTORY: &str = "practice_history";
    pub const PATIENT_INDEX: &str = "patient_index";
    pub const AGENDA_DAY: &str = "agenda_day";
    pub const APPOINTMENT: &str = "appointment";
    pub const MESSAGE: &str = "message";
    pub const LINK: &str = "link";
    pub const ABSENCE: &str = "absence";
    pub const VERIFICATION: &str = "verification";
    pub const CONTACT: &str = "contact";
    pub const QUOTA: &str = "quota";
    pub const RATE: &str = "rate";
    pub const RETIME: &str = "retime";
}

pub const RETIME_SK: &str = "RETIME";

/// A settings change's re-timing still to do (one per practitioner): its
/// writes are the stream records that carry the re-timing on, a piece each.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetimingItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    #[serde(flatten)]
    pub retiming: domain::reminder::Retiming,
}

impl RetimingItem {
    pub fn new(retiming: &domain::reminder::Retiming) -> Self {
        Self {
            pk: practitioner_pk(&retiming.practitioner_id),
            sk: RETIME_SK.into(),
            item_type: kind::RETIME.into(),
            retiming: retiming.clone(),
        }
    }
}

/// The partition of the account's sending rate on `channel`: one item a
/// second in it (see `SendingRate` in the store).
pub fn rate_pk(channel: domain::communications::Channel) -> String {
    format!("RATE#{}", channel.as_str())
}

pub fn verification_key(id: &VerificationId) -> (String, String) {
    (format!("VERIF#{id}"), "VERIF".into())
}
pub fn contact_key(practitioner: &PractitionerId, contact: &ContactHash) -> (String, String) {
    (
        practitioner_pk(practitioner),
        format!("CONTACT#{}", contact.0),
    )
}
pub fn quota_key(charge: &Charge) -> (String, String) {
    (
        format!("QUOTA#{}#{}", charge.quota.as_str(), charge.subject),
        sortable(charge.window),
    )
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerificationItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    #[serde(flatten)]
    pub verification: Verification,
    /// A day after it stops working: long enough to answer "expired"
    /// rather than "unknown" to a late booking.
    pub ttl: i64,
}

impl VerificationItem {
    pub fn new(verification: &Verification) -> Self {
        let (pk, sk) = verification_key(&verification.id);
        Self {
            pk,
            sk,
            item_type: kind::VERIFICATION.into(),
            verification: verification.clone(),
            ttl: verification.expires_at.timestamp() + 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub appointments: Vec<AppointmentId>,
    pub revision: u64,
}

pub fn practitioner_pk(id: &PractitionerId) -> String {
    format!("PRAC#{id}")
}
pub fn appointment_pk(id: &AppointmentId) -> String {
    format!("APPT#{id}")
}
pub const SETTINGS_SK: &str = "SETTINGS";
pub const MEMBERS_SK: &str = "MEMBERS";
pub const APPOINTMENT_SK: &str = "APPT";
pub const MESSAGE_SK_PREFIX: &str = "MSG#";
/// The end of a UTC day (agenda days are UTC days).
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt()
        .unwrap_or(day)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}
pub fn day_sk(day: NaiveDate) -> String {
    format!("DAY#{}", day.format("%Y-%m-%d"))
}
pub fn message_sk(key: &MessageKey) -> String {
    format!("{MESSAGE_SK_PREFIX}{key}")
}
/// The GSI1 partition of a practitioner's communications logs.
pub fn log_pk(id: &PractitionerId) -> String {
    format!("LOG#{id}")
}
/// Where an appointment's log entries sort in [`log_pk`]: by appointment id
/// (a ULID, so in booking order), then message.
pub fn log_sk(appointment: &AppointmentId, message_sk: &str) -> String {
    format!("{appointment}#{message_sk}")
}
pub fn link_pk(hash: &TokenHash) -> String {
    format!("LINK#{}", hash.0)
}
pub const LINK_SK: &str = "LINK";
/// The attribute of a link item naming whose appointment it leads to.
pub const LINK_PRACTITIONER: &str = "practitioner_id";
pub const ABSENCE_SK_PREFIX: &str = "ABS#";
pub fn absence_sk(absence: &Absence) -> String {
    format!(
        "{ABSENCE_SK_PREFIX}{}#{}",
        sortable(absence.start),
        absence.id
    )
}

pub use domain::time::sortable;

/// Codec errors can quote the value they choke on: they are redacted.
fn corrupt(e: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(crate::telemetry::redact(&e.to_string()))
}

pub fn encode<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(corrupt)
}

pub fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(corrupt)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingsItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub settings: PractitionerSettings,
}

impl SettingsItem {
    pub fn new(settings: &PractitionerSettings) -> Self {
        Self {
            pk: practitioner_pk(&settings.id),
            sk: SETTINGS_SK.into(),
            item_type: kind::SETTINGS.into(),
            settings: settings.clone(),
        }
    }
}

pub const HISTORY_SK_PREFIX: &str = "HIST#";

/// One line of an appointment's history, in its partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    /// Whose appointment: the history is read as that practitioner's only.
    pub practitioner_id: PractitionerId,
    #[serde(flatten)]
    pub entry: HistoryEntry,
}

impl HistoryItem {
    pub fn new(appointment: &Appointment, entry: HistoryEntry) -> Self {
        Self {
            pk: appointment_pk(&appointment.id),
            sk: format!("{HISTORY_SK_PREFIX}{:010}", entry.version),
            item_type: kind::HISTORY.into(),
            practitioner_id: appointment.practitioner_id.clone(),
            entry,
        }
    }
}

/// Where the patients' index of a practitioner starts for one contact.
pub fn patient_index_prefix(contact: &ContactHash) -> String {
    format!("PATIENT#{}#", contact.0)
}

/// One appointment of one contact, in the practitioner's partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatientIndexItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub appointment_id: AppointmentId,
}

impl PatientIndexItem {
    pub fn new(appointment: &Appointment, contact: &ContactHash) -> Self {
        Self {
            pk: practitioner_pk(&appointment.practitioner_id),
            sk: format!("{}{}", patient_index_prefix(contact), appointment.id),
            item_type: kind::PATIENT_INDEX.into(),
            appointment_id: appointment.id,
        }
    }
}

/// One line of a practice's history (settings, members).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PracticeHistoryItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    #[serde(flatten)]
    pub change: PracticeChange,
}

impl PracticeHistoryItem {
    pub fn new(practitioner: &PractitionerId, change: &PracticeChange) -> Self {
        Self {
            pk: practitioner_pk(practitioner),
            sk: format!(
                "{HISTORY_SK_PREFIX}{}#{}",
                sortable(change.at),
                ulid::Ulid::new()
            ),
            item_type: kind::PRACTICE_HISTORY.into(),
            change: change.clone(),
        }
    }
}

/// The grants on one practitioner, one item so that a change is decided on
/// all of them (the last owner stays).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembersItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub members: Vec<Member>,
    pub revision: u64,
}

impl MembersItem {
    pub fn new(practitioner: &PractitionerId, members: &Members) -> Self {
        Self {
            pk: practitioner_pk(practitioner),
            sk: MEMBERS_SK.into(),
            item_type: kind::MEMBERS.into(),
            members: members.members.clone(),
            revision: members.revision + 1,
        }
    }

    pub fn members(self) -> Members {
        Members {
            members: self.members,
            revision: self.revision,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppointmentItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    #[serde(flatten)]
    pub appointment: Appointment,
}

impl AppointmentItem {
    pub fn new(appointment: &Appointment) -> Self {
        Self {
            pk: appointment_pk(&appointment.id),
            sk: APPOINTMENT_SK.into(),
            item_type: kind::APPOINTMENT.into(),
            gsi1pk: practitioner_pk(&appointment.practitioner_id),
            gsi1sk: format!("{}#{}", sortable(appointment.start), appointment.id),
            appointment: appointment.clone(),
        }
    }
}

/// The booked ranges of one practitioner on one UTC day. Every booking rewrites
/// the days it touches with a condition on `revision`, so two concurrent bookings
/// of overlapping times cannot both succeed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgendaDayItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub revision: u64,
    #[serde(default)]
    pub booked: BTreeMap<String, TimeRange>,
    /// Absences touching the day, by absence id.
    #[serde(default)]
    pub absent: BTreeMap<String, TimeRange>,
}

impl AgendaDayItem {
    pub fn empty(practitioner: &PractitionerId, day: NaiveDate) -> Self {
        Self {
            pk: practitioner_pk(practitioner),
            sk: day_sk(day),
            item_type: kind::AGENDA_DAY.into(),
            revision: 0,
            booked: BTreeMap::new(),
            absent: BTreeMap::new(),
        }
    }
    /// The day this item is about, from its sort key.
    pub fn date(&self) -> Option<NaiveDate> {
        let date = self.sk.strip_prefix("DAY#")?;
        NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
    }
    pub fn overlapping(&self, range: TimeRange) -> impl Iterator<Item = AppointmentId> + '_ {
        self.booked_where(move |r| r.overlaps(&range))
    }
    /// The booked appointments of the day that `absence` covers.
    pub fn covered_by<'a>(
        &'a self,
        absence: &'a Absence,
    ) -> impl Iterator<Item = AppointmentId> + 'a {
        self.booked_where(move |r| absence.covers(*r))
    }
    fn booked_where<'a>(
        &'a self,
        keep: impl Fn(&TimeRange) -> bool + 'a,
    ) -> impl Iterator<Item = AppointmentId> + 'a {
        self.booked
            .iter()
            .filter(move |(_, r)| keep(r))
            .filter_map(|(id, _)| AppointmentId::parse(id).ok())
    }
    pub fn absent_during(&self, range: TimeRange) -> bool {
        self.absent.values().any(|r| r.overlaps(&range))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbsenceItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    #[serde(flatten)]
    pub absence: Absence,
}

impl AbsenceItem {
    pub fn new(absence: &Absence) -> Self {
        Self {
            pk: practitioner_pk(&absence.practitioner_id),
            sk: absence_sk(absence),
            item_type: kind::ABSENCE.into(),
            absence: absence.clone(),
        }
    }
}

/// The UTC days a range touches (its end is excluded).
pub fn days_of(range: &TimeRange) -> Vec<NaiveDate> {
    let last = (range.end - chrono::Duration::nanoseconds(1)).date_naive();
    range
        .start
        .date_naive()
        .iter_days()
        .take_while(|d| *d <= last)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    Claimed,
    Settled,
    /// Logged `scheduled` (held through quiet hours); anyone may claim it.
    Held,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    pub message_state: MessageState,
    /// Epoch milliseconds, so the claim's lease can be compared in a condition.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub claimed_at: DateTime<Utc>,
    #[serde(default)]
    pub entry: Option<CommunicationEntry>,
    #[serde(default)]
    pub published: bool,
    /// Set once settled: the entry is then in its practitioner's log
    /// partition of GSI1 ([`log_pk`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    /// Set once the provider accepted it: GSI3 holds sent messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
}

/// The communications log out of an appointment's message items, oldest first:
/// claims not yet decided hold no entry.
pub fn log_entries(items: impl IntoIterator<Item = MessageItem>) -> Vec<CommunicationEntry> {
    let mut entries: Vec<CommunicationEntry> = items.into_iter().filter_map(|i| i.entry).collect();
    entries.sort_by_key(|e| e.at);
    entries
}

/// The keys of the log-partition query of `appointments` (GSI1): its
/// partition and the first and last sort keys, over the span of their ids;
/// `None` for no appointment.
pub fn log_span(
    practitioner: &PractitionerId,
    appointments: &[AppointmentId],
) -> Option<(String, String, String)> {
    let first = appointments.iter().min()?;
    let last = appointments.iter().max()?;
    // `~` sorts after every character of a message's sort key.
    Some((log_pk(practitioner), log_sk(first, ""), log_sk(last, "~")))
}

/// The logs of `appointments`, in their order, out of message items of any
/// appointments (those of others are left out).
pub fn logs_of(
    appointments: &[AppointmentId],
    items: impl IntoIterator<Item = MessageItem>,
) -> Vec<Vec<CommunicationEntry>> {
    let mut by_pk: std::collections::HashMap<String, Vec<MessageItem>> = Default::default();
    for item in items {
        by_pk.entry(item.pk.clone()).or_default().push(item);
    }
    appointments
        .iter()
        .map(|id| log_entries(by_pk.remove(&appointment_pk(id)).unwrap_or_default()))
        .collect()
}

impl MessageItem {
    pub fn claimed(key: &MessageKey, now: DateTime<Utc>) -> Self {
        Self {
            pk: appointment_pk(&key.appointment_id),
            sk: message_sk(key),
            item_type: kind::MESSAGE.into(),
            message_state: MessageState::Claimed,
            claimed_at: now,
            entry: None,
            published: false,
            gsi1pk: None,
            gsi1sk: None,
            gsi3pk: None,
            gsi3sk: None,
        }
    }

    /// The claim of `key` settled with `entry`, in `practitioner`'s log
    /// partition, and found by its provider's id when it has one.
    pub fn settled(
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
    ) -> Self {
        let mut item = Self {
            message_state: MessageState::Settled,
            ..Self::in_log(key, practitioner, entry)
        };
        if let Some(id) = &entry.message_id {
            item.gsi3pk = Some(sent_as_pk(id));
            item.gsi3sk = Some(item.sk.clone());
        }
        item
    }

    /// The message this item logs, once decided.
    pub fn logged(self) -> Option<LoggedMessage> {
        let appointment = self.pk.strip_prefix("APPT#")?;
        let key = MessageKey::parse(
            AppointmentId::parse(appointment).ok()?,
            self.sk.strip_prefix(MESSAGE_SK_PREFIX)?,
        )?;
        let practitioner = self.gsi1pk.as_deref()?.strip_prefix("LOG#")?;
        Some(LoggedMessage {
            key,
            practitioner: PractitionerId::parse(practitioner).ok()?,
            entry: self.entry?,
            published: self.published,
        })
    }

    /// A message held until `entry.at`: shown in the log (and in
    /// `practitioner`'s log partition), claimable by whoever sends it.
    pub fn held(
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
    ) -> Self {
        Self {
            message_state: MessageState::Held,
            ..Self::in_log(key, practitioner, entry)
        }
    }

    /// `entry` in the log of `key`'s appointment and in `practitioner`'s log partition.
    fn in_log(key: &MessageKey, practitioner: &PractitionerId, entry: &CommunicationEntry) -> Self {
        let claimed = Self::claimed(key, entry.at);
        Self {
            gsi1pk: Some(log_pk(practitioner)),
            gsi1sk: Some(log_sk(&key.appointment_id, &claimed.sk)),
            entry: Some(entry.clone()),
            ..claimed
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkItem {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "type")]
    pub item_type: String,
    #[serde(flatten)]
    pub grant: LinkGrant,
    /// Epoch seconds: DynamoDB's TTL deletes the item some time after expiry;
    /// readers check `expires_at` themselves.
    pub ttl: i64,
}

impl LinkItem {
    pub fn new(hash: &TokenHash, grant: &LinkGrant) -> Self {
        Self {
            pk: link_pk(hash),
            sk: LINK_SK.into(),
            item_type: kind::LINK.into(),
            grant: grant.clone(),
            ttl: grant.expires_at.timestamp() + 7 * 24 * 3600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_touches_the_days_it_covers_end_excluded() {
        let r = |a, b| TimeRange::new(utc(a), utc(b)).unwrap();
        assert_eq!(
            days_of(&r("2026-12-03T10:00:00Z", "2026-12-03T10:20:00Z")).len(),
            1
        );
        assert_eq!(
            days_of(&r("2026-12-03T23:50:00Z", "2026-12-04T00:00:00Z")).len(),
            1
        );
        assert_eq!(
            days_of(&r("2026-12-03T23:50:00Z", "2026-12-04T00:10:00Z")).len(),
            2
        );
        assert_eq!(
            days_of(&r("2026-12-01T08:00:00Z", "2026-12-05T18:00:00Z")).len(),
            5
        );
    }
}
