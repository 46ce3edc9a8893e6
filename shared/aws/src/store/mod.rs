//! The one store: every port of the domain (settings, agenda, communications
//! log, links, due index) written once over [`Table`], in the single-table
//! layout of [`crate::item`]. On AWS the table is DynamoDB; in local mode and
//! the tests it is the memory table: the same rules run on both.

pub mod conditions;
mod public_writes;

use crate::due_index::{self as due, ReminderItem};
use crate::item::*;
use crate::table::{
    AttributeValue, Delete, Item, Key, Put, Query, Read, SortKey, Table, TableError, Update, Write,
};
use crate::telemetry::redact;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use conditions::*;
use domain::absence::{Absence, MAX_ABSENCE_DAYS};
use domain::appointment::Appointment;
use domain::communications::{Channel, CommunicationEntry, DeliveryState, MessageKey};
use domain::grants::Members;
use domain::history::{HistoryEntry, PracticeChange, history_entry};
use domain::ids::{AppointmentId, PractitionerId};
use domain::keyed::{ContactHash, HashKey};
use domain::links::{LinkGrant, TokenHash};
use domain::ports::{
    AgendaStore, Claim, DueIndex, GrantStore, InsertError, LinkStore, LoggedMessage, MessageLog,
    PatientIndex, SendingRate, SettingsStore, StoreError,
};
use domain::reminder::{Retiming, ScheduledReminder};
use domain::settings::{MAX_DURATION_MINUTES, PractitionerSettings};
use domain::time::TimeRange;
use std::sync::Arc;

/// Entries the migration of the due index reads at once.
const MIGRATION_PAGE: usize = 100;

/// Optimistic locking of agenda days: how many times a booking re-reads and
/// retries when a concurrent booking changed the same day.
const BOOKING_ATTEMPTS: usize = 5;

/// The default of `DATA_RETENTION_DAYS` (docs/decisions.md).
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// The domain's store over one table.
pub struct TableStore<T: Table + ?Sized = dyn Table> {
    table: Arc<T>,
    /// How long appointment data outlives its appointment (SPEC §5: health
    /// data kept no longer than needed): DynamoDB's TTL deletes it then.
    retention: Duration,
    /// The due index's sweep cursor is known to exist (it never goes away).
    sweep_cursor_known: std::sync::atomic::AtomicBool,
    /// The key of the patients' index (SPEC §6.2 data rights): keyed hashes
    /// of each appointment's e-mail and mobile, written with it.
    contact_key: Option<Arc<HashKey>>,
}

impl<T: Table + ?Sized> TableStore<T> {
    pub fn new(table: Arc<T>) -> Self {
        Self {
            table,
            retention: Duration::days(i64::from(DEFAULT_RETENTION_DAYS)),
            sweep_cursor_known: std::sync::atomic::AtomicBool::new(false),
            contact_key: None,
        }
    }

    /// Indexes every appointment written by the keyed hashes of its
    /// contact under `key`, so a patient's appointments are found without
    /// a scan (SPEC §6.2).
    pub fn with_contact_key(mut self, key: HashKey) -> Self {
        self.contact_key = Some(Arc::new(key));
        self
    }

    /// The patients' index entries of `appointment`: one per contact it
    /// holds, each kept as long as the appointment.
    fn contact_entries(&self, appointment: &Appointment) -> Result<Vec<Write>, StoreError> {
        let Some(key) = &self.contact_key else {
            return Ok(Vec::new());
        };
        contact_hashes(key, appointment)
            .iter()
            .map(|hash| {
                let item = encode(&PatientIndexItem::new(appointment, hash))?;
                Ok(Write::Put(Put::new(self.kept_after(item, appointment.end))))
            })
            .collect()
    }

    /// Keeps appointment data `days` after its appointment ends.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention = Duration::days(i64::from(days));
        self
    }

    /// The table underneath (local mode and the tests read the memory
    /// table's stream, items and counters through it).
    pub fn table(&self) -> &Arc<T> {
        &self.table
    }

    /// `item` with the TTL that deletes it `retention` after `end`: an
    /// appointment, its agenda days, its log entries, an absence.
    fn kept_after(&self, mut item: Item, end: DateTime<Utc>) -> Item {
        let expires = (end + self.retention).timestamp();
        item.insert(TTL.to_string(), AttributeValue::N(expires.to_string()));
        item
    }

    /// The item of `appointment` as the store writes it (with its TTL).
    pub fn appointment_item(&self, appointment: &Appointment) -> Result<Item, StoreError> {
        Ok(self.kept_after(encode(&AppointmentItem::new(appointment))?, appointment.end))
    }
}

impl<T: Table + Default> Default for TableStore<T> {
    fn default() -> Self {
        Self::new(Arc::new(T::default()))
    }
}

fn unavailable(e: TableError) -> StoreError {
    match e {
        TableError::Throttled(text) | TableError::Unavailable(text) => {
            StoreError::Unavailable(text)
        }
        other => StoreError::Unavailable(redact(&other.to_string())),
    }
}

/// The outcome of a conditional write whose condition failing means there was
/// nothing left to do (the claim was settled, the entry replaced meanwhile).
fn unless_condition_failed(result: Result<(), TableError>) -> Result<(), StoreError> {
    match result {
        Ok(()) | Err(TableError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}

/// What takes time in the agenda.
trait HasRange {
    fn range(&self) -> TimeRange;
}
impl HasRange for Appointment {
    fn range(&self) -> TimeRange {
        Appointment::range(self)
    }
}
impl HasRange for Absence {
    fn range(&self) -> TimeRange {
        Absence::range(self)
    }
}

/// What a transaction's cancellation reason says of a part whose condition failed.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// The outcome of one attempt at a guarded write of the agenda.
enum Attempt {
    Written,
    /// A concurrent write won a race on the agenda: read again and retry.
    Lost,
    /// The condition of this extra part failed.
    Refused(usize),
}

/// Decodes `items` and keeps what overlaps `range` (sort keys bound only starts).
fn overlapping<I, V>(
    items: Vec<Item>,
    value: impl Fn(I) -> V,
    range: TimeRange,
) -> Result<Vec<V>, StoreError>
where
    I: serde::de::DeserializeOwned,
    V: HasRange,
{
    let mut found = Vec::new();
    for item in items {
        let found_value = value(decode::<I>(item)?);
        if found_value.range().overlaps(&range) {
            found.push(found_value);
        }
    }
    Ok(found)
}

impl<T: Table + ?Sized> TableStore<T> {
    async fn get(&self, key: Key) -> Result<Option<Item>, StoreError> {
        self.table
            .get(&key, Read::Consistent)
            .await
            .map_err(unavailable)
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.table.put(Put::new(item)).await.map_err(unavailable)
    }

    /// Every item of a query, all pages.
    async fn all(&self, mut query: Query) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        loop {
            let page = self.table.query(&query).await.map_err(unavailable)?;
            items.extend(page.items);
            match page.last_key {
                Some(last) => query.start_after = Some(last),
                None => return Ok(items),
            }
        }
    }

    /// The put of an agenda day, conditioned on the revision that was read.
    fn day_put(&self, mut day: AgendaDayItem, existed: bool) -> Result<Write, StoreError> {
        let read = existed.then_some(day.revision);
        day.revision += 1;
        let item = match day.date() {
            Some(date) => self.kept_after(encode(&day)?, end_of_day(date)),
            None => encode(&day)?,
        };
        Ok(Write::Put(Put::new(item).when(day_unchanged(read))))
    }

    async fn day(
        &self,
        practitioner: &PractitionerId,
        day: chrono::NaiveDate,
    ) -> Result<(AgendaDayItem, bool), StoreError> {
        let stored: Option<AgendaDayItem> = self
            .get(Key::new(practitioner_pk(practitioner), day_sk(day)))
            .await?
            .map(decode)
            .transpose()?;
        let existed = stored.is_some();
        Ok((
            stored.unwrap_or_else(|| AgendaDayItem::empty(practitioner, day)),
            existed,
        ))
    }

    /// Runs a transaction: `Ok(None)` when a concurrent write won the race.
    async fn transact(&self, writes: Vec<Write>) -> Result<Option<()>, StoreError> {
        match self.table.transact(writes).await {
            Ok(()) => Ok(Some(())),
            Err(TableError::TransactionCanceled { .. }) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// One attempt at writing appointments of one practitioner (new ones when
    /// the expected version is `None`, else their next versions) together with
    /// every agenda day they leave or occupy, each conditioned on what was
    /// read: `Ok(None)` when a concurrent write won the race. The agenda
    /// days are where "nothing booked overlaps" (SPEC §3) is decided.
    async fn try_write(
        &self,
        writes: &[(Option<u32>, &Appointment)],
    ) -> Result<Option<()>, InsertError> {
        Ok(match self.try_write_with(writes, Vec::new()).await? {
            Attempt::Written => Some(()),
            Attempt::Lost | Attempt::Refused(_) => None,
        })
    }

    /// [`Self::try_write`] with `extra` parts in the same transaction (what
    /// guards an online booking): `Refused(i)` when the condition of
    /// `extra[i]` failed, `Lost` when a race on the agenda did.
    async fn try_write_with(
        &self,
        writes: &[(Option<u32>, &Appointment)],
        extra: Vec<Write>,
    ) -> Result<Attempt, InsertError> {
        let Some((_, first)) = writes.first() else {
            return Ok(Attempt::Written);
        };
        let practitioner = &first.practitioner_id;
        let mut transaction = Vec::new();
        // Per appointment: the range it leaves (if it was booked) and the range it takes.
        let mut moves: Vec<(String, Option<TimeRange>)> = Vec::new();
        let mut days = Vec::new();
        for (expected_version, appointment) in writes {
            let put = Put::new(self.appointment_item(appointment)?);
            let (put, entry) = match expected_version {
                None => (put.when(item_is_new()), history_entry(None, appointment)),
                Some(expected) => {
                    let stored = self
                        .get(Key::new(appointment_pk(&appointment.id), APPOINTMENT_SK))
                        .await?
                        .map(decode::<AppointmentItem>)
                        .transpose()?
                        .map(|i| i.appointment)
                        .filter(|a| a.version == *expected)
                        .ok_or(InsertError::Stale)?;
                    if stored.status.is_booked() {
                        days.extend(days_of(&stored.range()));
                    }
                    (
                        put.when(at_version(*expected)),
                        history_entry(Some(&stored), appointment),
                    )
                }
            };
            transaction.push(Write::Put(put));
            // Where its patient's contact finds it (data rights), with it.
            transaction.extend(self.contact_entries(appointment)?);
            // Its line of the history, in the same transaction: both or neither.
            let line = encode(&HistoryItem::new(appointment, entry))?;
            transaction.push(Write::Put(Put::new(self.kept_after(line, appointment.end))));
            let takes = appointment.status.is_booked().then(|| appointment.range());
            if let Some(range) = takes {
                days.extend(days_of(&range));
            }
            moves.push((appointment.id.to_string(), takes));
        }
        days.sort();
        days.dedup();

        let mut overlapping = Vec::new();
        let mut absent = false;
        for day in days {
            let (mut agenda_day, existed) = self.day(practitioner, day).await?;
            for (id, _) in &moves {
                agenda_day.booked.remove(id);
            }
            for (id, takes) in &moves {
                let Some(range) = takes.filter(|r| days_of(r).contains(&day)) else {
                    continue;
                };
                overlapping.extend(agenda_day.overlapping(range));
                absent |= agenda_day.absent_during(range);
                agenda_day.booked.insert(id.clone(), range);
            }
            transaction.push(self.day_put(agenda_day, existed)?);
        }
        if !overlapping.is_empty() {
            return Err(overlap(overlapping));
        }
        if absent {
            return Err(InsertError::Absent);
        }
        let agenda_parts = transaction.len();
        transaction.extend(extra);
        match self.table.transact(transaction).await {
            Ok(()) => Ok(Attempt::Written),
            Err(TableError::TransactionCanceled { reasons }) => Ok(reasons
                .iter()
                .enumerate()
                .skip(agenda_parts)
                .find(|(_, reason)| reason.as_deref() == Some(CONDITION_FAILED))
                .map_or(Attempt::Lost, |(i, _)| Attempt::Refused(i - agenda_parts))),
            Err(e) => Err(unavailable(e).into()),
        }
    }

    async fn write(&self, writes: &[(Option<u32>, &Appointment)]) -> Result<(), InsertError> {
        // A lost race is retried on fresh reads; a stale version shows up
        // in the next attempt's read and ends the loop.
        for _ in 0..BOOKING_ATTEMPTS {
            if self.try_write(writes).await?.is_some() {
                return Ok(());
            }
        }
        Err(StoreError::Contention.into())
    }

    /// One attempt at placing an absence: its own item and its range in
    /// every agenda day it touches, refused when booked appointments it
    /// covers are there (`Absence::covers`). Placing it again changes nothing.
    async fn try_place_absence(&self, absence: &Absence) -> Result<Option<()>, InsertError> {
        let item = AbsenceItem::new(absence);
        if self
            .get(Key::new(item.pk.clone(), item.sk.clone()))
            .await?
            .is_some()
        {
            return Ok(Some(()));
        }
        let mut transaction = vec![Write::Put(
            Put::new(self.kept_after(encode(&item)?, absence.end)).when(item_is_new()),
        )];
        let range = absence.range();
        let mut overlapping = Vec::new();
        for day in days_of(&range) {
            let (mut agenda_day, existed) = self.day(&absence.practitioner_id, day).await?;
            overlapping.extend(agenda_day.covered_by(absence));
            agenda_day.absent.insert(absence.id.to_string(), range);
            transaction.push(self.day_put(agenda_day, existed)?);
        }
        if !overlapping.is_empty() {
            return Err(overlap(overlapping));
        }
        Ok(self.transact(transaction).await?)
    }
}

/// The refusal of an overlap: each appointment in the way once, in id order,
/// however many agenda days it was found in.
fn overlap(mut ids: Vec<AppointmentId>) -> InsertError {
    ids.sort();
    ids.dedup();
    InsertError::Overlap(ids)
}

#[async_trait]
impl<T: Table + ?Sized> SettingsStore for TableStore<T> {
    async fn put_settings(&self, settings: &PractitionerSettings) -> Result<(), StoreError> {
        self.put(encode(&SettingsItem::new(settings))?).await
    }

    async fn record_practice_change(
        &self,
        practitioner: &PractitionerId,
        change: &PracticeChange,
    ) -> Result<(), StoreError> {
        self.put(encode(&PracticeHistoryItem::new(practitioner, change))?)
            .await
    }

    async fn save_settings(
        &self,
        settings: &PractitionerSettings,
        change: &PracticeChange,
    ) -> Result<(), StoreError> {
        let line = encode(&PracticeHistoryItem::new(&settings.id, change))?;
        let writes = vec![
            Write::Put(Put::new(encode(&SettingsItem::new(settings))?)),
            Write::Put(Put::new(line)),
        ];
        match self.table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn settings(
        &self,
        id: &PractitionerId,
    ) -> Result<Option<PractitionerSettings>, StoreError> {
        self.get(Key::new(practitioner_pk(id), SETTINGS_SK))
            .await?
            .map(|i| decode::<SettingsItem>(i).map(|s| s.settings))
            .transpose()
    }
}

/// The keyed hashes of an appointment's contact: its e-mail's mailbox and
/// its mobile in E.164.
pub fn contact_hashes(key: &HashKey, appointment: &Appointment) -> Vec<ContactHash> {
    let patient = &appointment.patient;
    patient
        .email
        .iter()
        .map(|e| ContactHash::of_email(key, e))
        .chain(
            patient
                .mobile
                .iter()
                .map(|m| ContactHash::of_mobile(key, m)),
        )
        .collect()
}

#[async_trait]
impl<T: Table + ?Sized> PatientIndex for TableStore<T> {
    async fn appointments_of_contact(
        &self,
        practitioner: &PractitionerId,
        contact: &ContactHash,
    ) -> Result<Vec<Appointment>, StoreError> {
        let query = Query::table(practitioner_pk(practitioner))
            .sort(SortKey::BeginsWith(patient_index_prefix(contact)));
        let mut found = Vec::new();
        for item in self.all(query).await? {
            let entry: PatientIndexItem = decode(item)?;
            // An entry outlives a change of contact: only appointments that
            // still hold it are the contact's.
            if let Some(appointment) = self
                .appointment(practitioner, &entry.appointment_id)
                .await?
                && self
                    .contact_key
                    .as_ref()
                    .is_some_and(|key| contact_hashes(key, &appointment).contains(contact))
            {
                found.push(appointment);
            }
        }
        found.sort_by_key(|a| a.start);
        Ok(found)
    }
}

#[async_trait]
impl<T: Table + ?Sized> GrantStore for TableStore<T> {
    async fn members(&self, practitioner: &PractitionerId) -> Result<Members, StoreError> {
        Ok(self
            .get(Key::new(practitioner_pk(practitioner), MEMBERS_SK))
            .await?
            .map(decode::<MembersItem>)
            .transpose()?
            .map(MembersItem::members)
            .unwrap_or_default())
    }

    async fn put_members(
        &self,
        practitioner: &PractitionerId,
        members: &Members,
        change: Option<&PracticeChange>,
    ) -> Result<bool, StoreError> {
        let put = Put::new(encode(&MembersItem::new(practitioner, members))?)
            .when(members_unchanged(members.revision));
        let Some(change) = change else {
            return match self.table.put(put).await {
                Ok(()) => Ok(true),
                Err(TableError::ConditionFailed { .. }) => Ok(false),
                Err(e) => Err(unavailable(e)),
            };
        };
        let line = encode(&PracticeHistoryItem::new(practitioner, change))?;
        // The members' revision is the only condition: a cancelled
        // transaction means another change came first.
        Ok(self
            .transact(vec![Write::Put(put), Write::Put(Put::new(line))])
            .await?
            .is_some())
    }
}

#[async_trait]
impl<T: Table + ?Sized> AgendaStore for TableStore<T> {
    async fn insert_appointment(&self, appointment: &Appointment) -> Result<(), InsertError> {
        self.write(&[(None, appointment)]).await
    }

    async fn update_appointment(
        &self,
        expected_version: u32,
        appointment: &Appointment,
    ) -> Result<(), InsertError> {
        self.write(&[(Some(expected_version), appointment)]).await
    }

    async fn update_appointments(&self, updates: &[(u32, Appointment)]) -> Result<(), InsertError> {
        let writes: Vec<(Option<u32>, &Appointment)> =
            updates.iter().map(|(v, a)| (Some(*v), a)).collect();
        self.write(&writes).await
    }

    async fn rebook(
        &self,
        expected_version: u32,
        rebooked: &Appointment,
        replacement: &Appointment,
    ) -> Result<(), InsertError> {
        self.write(&[(Some(expected_version), rebooked), (None, replacement)])
            .await
    }

    async fn place_absence(&self, absence: &Absence) -> Result<(), InsertError> {
        for _ in 0..BOOKING_ATTEMPTS {
            if self.try_place_absence(absence).await?.is_some() {
                return Ok(());
            }
        }
        Err(StoreError::Contention.into())
    }

    async fn absences(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Absence>, StoreError> {
        // Sorted by start: one overlapping `range` started at most the longest
        // absence before it.
        let lowest = range.start - Duration::days(MAX_ABSENCE_DAYS);
        let mut query = Query::table(practitioner_pk(practitioner)).sort(SortKey::Between(
            format!("{ABSENCE_SK_PREFIX}{}", sortable(lowest)),
            format!("{ABSENCE_SK_PREFIX}{}", sortable(range.end)),
        ));
        query.read = Read::Eventual;
        let items = self.all(query).await?;
        overlapping(items, |i: AbsenceItem| i.absence, range)
    }

    async fn appointment(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, StoreError> {
        Ok(self
            .get(Key::new(appointment_pk(id), APPOINTMENT_SK))
            .await?
            .map(|i| decode::<AppointmentItem>(i).map(|a| a.appointment))
            .transpose()?
            .filter(|a| a.practitioner_id == *practitioner))
    }

    async fn history(
        &self,
        practitioner: &PractitionerId,
        appointment: &AppointmentId,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let query = Query::table(appointment_pk(appointment))
            .sort(SortKey::BeginsWith(HISTORY_SK_PREFIX.to_string()));
        let mut lines = Vec::new();
        for item in self.all(query).await? {
            let line: HistoryItem = decode(item)?;
            if line.practitioner_id == *practitioner {
                lines.push(line.entry);
            }
        }
        // Sort keys are versions, oldest first.
        Ok(lines)
    }

    async fn agenda(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Appointment>, StoreError> {
        // The index is sorted by start: an appointment that overlaps the range
        // started at most one maximal duration before it.
        let lowest_start = range.start - Duration::minutes(i64::from(MAX_DURATION_MINUTES));
        let query = Query::index(&crate::table::schema::GSI1, practitioner_pk(practitioner)).sort(
            SortKey::Between(sortable(lowest_start), sortable(range.end)),
        );
        let items = self.all(query).await?;
        overlapping(items, |i: AppointmentItem| i.appointment, range)
    }
}

fn message_key(key: &MessageKey) -> Key {
    Key::new(appointment_pk(&key.appointment_id), message_sk(key))
}

#[async_trait]
impl<T: Table + ?Sized> MessageLog for TableStore<T> {
    async fn claim_message(
        &self,
        key: &MessageKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let claim = Put::new(encode(&MessageItem::claimed(key, now))?)
            .when(claim_condition(now, lease))
            .returning_old_on_refusal();
        match self.table.put(claim).await {
            Ok(()) => Ok(Claim::Granted),
            Err(TableError::ConditionFailed {
                old: Some(existing),
            }) => {
                let existing: MessageItem = decode(existing)?;
                // A settled item always holds its entry; one without it is
                // not a decision anyone can read, so nobody takes it over.
                Ok(match (existing.message_state, existing.entry) {
                    (MessageState::Settled, Some(entry)) => Claim::Settled {
                        entry,
                        published: existing.published,
                    },
                    _ => Claim::InFlight,
                })
            }
            Err(TableError::ConditionFailed { old: None }) => Ok(Claim::InFlight),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn settle_message(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
        appointment_end: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put(self.kept_after(
            encode(&MessageItem::settled(key, practitioner, entry))?,
            appointment_end,
        ))
        .await
    }

    async fn hold_message(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
        appointment_end: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put(self.kept_after(
            encode(&MessageItem::held(key, practitioner, entry))?,
            appointment_end,
        ))
        .await
    }

    async fn release_message(&self, key: &MessageKey) -> Result<(), StoreError> {
        unless_condition_failed(
            self.table
                .delete(Delete::new(message_key(key)).when(still_claimed()))
                .await,
        )
    }

    async fn mark_published(&self, key: &MessageKey) -> Result<(), StoreError> {
        unless_condition_failed(
            self.table
                .update(
                    Update::new(message_key(key))
                        .set("published", AttributeValue::Bool(true))
                        .when(logged()),
                )
                .await,
        )
    }

    async fn communications(
        &self,
        practitioner: &PractitionerId,
        appointment: &AppointmentId,
    ) -> Result<Vec<CommunicationEntry>, StoreError> {
        let query = Query::table(appointment_pk(appointment))
            .sort(SortKey::BeginsWith(MESSAGE_SK_PREFIX.to_string()));
        // Every entry of the log sits in its practitioner's log partition:
        // another practitioner's id reads none of them.
        let theirs = Some(log_pk(practitioner));
        let messages = self
            .all(query)
            .await?
            .into_iter()
            .map(decode::<MessageItem>)
            .filter(|m| m.as_ref().map_or(true, |m| m.gsi1pk == theirs))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(log_entries(messages))
    }

    async fn message_sent_as(&self, message_id: &str) -> Result<Option<LoggedMessage>, StoreError> {
        // GSI3 holds keys only; the item itself is read consistently, so the
        // state a feedback decides on is the stored one.
        let query = Query::index(&crate::table::schema::GSI3, sent_as_pk(message_id)).limit(1);
        let found = self.table.query(&query).await.map_err(unavailable)?;
        let Some(keys) = found.items.into_iter().next() else {
            return Ok(None);
        };
        let key = Key::of(&keys)
            .ok_or_else(|| StoreError::Corrupt(format!("a {GSI3} entry without its keys")))?;
        Ok(self
            .get(key)
            .await?
            .map(decode::<MessageItem>)
            .transpose()?
            .and_then(MessageItem::logged))
    }

    async fn record_feedback(
        &self,
        key: &MessageKey,
        expected: DeliveryState,
        entry: &CommunicationEntry,
    ) -> Result<bool, StoreError> {
        let entry_value: AttributeValue = serde_dynamo::to_attribute_value(entry)
            .map_err(|e| StoreError::Corrupt(redact(&e.to_string())))?;
        // An update, not a put: the item keeps its TTL and its GSI3 keys.
        let update = Update::new(message_key(key))
            .set("entry", entry_value)
            .set("published", AttributeValue::Bool(false))
            .when(feedback_condition(expected));
        match self.table.update(update).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// One query of the practitioner's log partition (GSI1, paginated), over
    /// the span of the appointments' ids: ULIDs, so the entries read are those
    /// of the appointments booked between the first and the last of them.
    /// Eventually consistent, as the agenda's own read of GSI1.
    async fn communications_of(
        &self,
        practitioner: &PractitionerId,
        appointments: &[AppointmentId],
    ) -> Result<Vec<Vec<CommunicationEntry>>, StoreError> {
        let Some((pk, low, high)) = log_span(practitioner, appointments) else {
            return Ok(Vec::new());
        };
        let query = Query::index(&crate::table::schema::GSI1, pk).sort(SortKey::Between(low, high));
        let messages = self
            .all(query)
            .await?
            .into_iter()
            .map(decode::<MessageItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(logs_of(appointments, messages))
    }
}

#[async_trait]
impl<T: Table + ?Sized> LinkStore for TableStore<T> {
    async fn put_link(&self, hash: &TokenHash, grant: &LinkGrant) -> Result<(), StoreError> {
        self.put(encode(&LinkItem::new(hash, grant))?).await
    }

    async fn link(&self, hash: &TokenHash) -> Result<Option<LinkGrant>, StoreError> {
        let Some(mut item) = self.get(Key::new(link_pk(hash), LINK_SK)).await? else {
            return Ok(None);
        };
        if !item.contains_key(LINK_PRACTITIONER) {
            // A link issued before links named their practitioner: its
            // appointment says whose it is (docs/decisions.md).
            let Some(appointment) = item.get("appointment_id").and_then(|v| match v {
                AttributeValue::S(id) => AppointmentId::parse(id).ok(),
                _ => None,
            }) else {
                return Ok(None);
            };
            let Some(owner) = self
                .get(Key::new(appointment_pk(&appointment), APPOINTMENT_SK))
                .await?
                .map(decode::<AppointmentItem>)
                .transpose()?
                .map(|a| a.appointment.practitioner_id)
            else {
                return Ok(None);
            };
            item.insert(
                LINK_PRACTITIONER.to_string(),
                AttributeValue::S(owner.to_string()),
            );
        }
        decode::<LinkItem>(item).map(|l| Some(l.grant))
    }
}

#[async_trait]
impl<T: Table + ?Sized> DueIndex for TableStore<T> {
    async fn put_reminder(
        &self,
        reminder: &ScheduledReminder,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.ensure_sweep_cursor(now).await?;
        self.put(encode(&ReminderItem::new(&due::filed(reminder, now)))?)
            .await
    }

    async fn remove_reminder(
        &self,
        appointment: &AppointmentId,
        channel: Channel,
    ) -> Result<(), StoreError> {
        let (pk, sk) = due::key_of(appointment, channel);
        self.table
            .delete(Delete::new(Key::new(pk, sk)))
            .await
            .map_err(unavailable)
    }

    async fn reminders_due(
        &self,
        until: DateTime<Utc>,
        after: Option<&ScheduledReminder>,
        limit: usize,
    ) -> Result<Vec<ScheduledReminder>, StoreError> {
        // The days of the sparse GSI2 from the cursor (or the previous
        // page's last entry) to `until`, every shard: the queries read what
        // is due, never the table, and no partition holds everyone's.
        let limit = limit.max(1);
        let until_sk = format!("{}#~", sortable(until));
        if after.is_some_and(|r| due::due_sort_key(r) >= until_sk) {
            // A cursor at or past the end: nothing more.
            return Ok(Vec::new());
        }
        let first_day = match after {
            // Entries are filed by due day, so what follows an entry is in
            // its day or later.
            Some(r) => due::bucket_of(r.due_at),
            None => match self.sweep_cursor().await? {
                Some(day) => day,
                // Nothing was ever filed.
                None => return Ok(Vec::new()),
            },
        };
        let mut found = Vec::new();
        let mut day = first_day;
        while day <= due::bucket_of(until) && found.len() < limit {
            found.extend(
                self.due_in_day(day, after, &until_sk, limit - found.len())
                    .await?,
            );
            day += due::BUCKET;
        }
        Ok(found)
    }

    async fn reminder_done(&self, reminder: &ScheduledReminder) -> Result<(), StoreError> {
        let key = Key::new(
            appointment_pk(&reminder.appointment_id),
            due::entry_sk(reminder),
        );
        unless_condition_failed(
            self.table
                .delete(Delete::new(key).when(still_due(reminder)))
                .await,
        )
    }

    async fn put_retiming(&self, retiming: &Retiming) -> Result<(), StoreError> {
        self.put(encode(&RetimingItem::new(retiming))?).await
    }

    async fn retiming_done(
        &self,
        done: &Retiming,
        next: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let condition = retiming_as_read(done);
        unless_condition_failed(match next {
            Some(from) => {
                let next = Retiming {
                    from,
                    ..done.clone()
                };
                self.table
                    .put(Put::new(encode(&RetimingItem::new(&next))?).when(condition))
                    .await
            }
            None => {
                let item = RetimingItem::new(done);
                self.table
                    .delete(Delete::new(Key::new(item.pk, item.sk)).when(condition))
                    .await
            }
        })
    }

    async fn sweep_begins(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(cursor) = self.sweep_cursor().await? else {
            return Ok(());
        };
        // A day is passed once it is empty and no write can still land in
        // it (every writer files at or after its own clock).
        let mut day = cursor;
        while day + due::BUCKET + due::SETTLE <= now && self.day_is_empty(day).await? {
            day += due::BUCKET;
        }
        if day > cursor {
            let text = due::bucket_text(day);
            // Only forward: an overlapping sweep may have gone further.
            unless_condition_failed(
                self.table
                    .put(Put::new(sweep_cursor_item(&text)).when(cursor_behind(&text)))
                    .await,
            )?;
        }
        Ok(())
    }
}

/// The account's sending rate: one counter item per channel and second
/// (`RATE#{channel}` / `{second}`), a conditional increment below the
/// limit, expiring a couple of minutes later.
#[async_trait]
impl<T: Table + ?Sized> SendingRate for TableStore<T> {
    async fn take_send(
        &self,
        channel: Channel,
        second: i64,
        limit: u32,
    ) -> Result<bool, StoreError> {
        let update = Update::new(Key::new(rate_pk(channel), second.to_string()))
            .set("type", AttributeValue::S(kind::RATE.into()))
            .set(TTL, AttributeValue::N((second + 120).to_string()))
            .add("count", 1)
            .when(below_limit(limit));
        match self.table.update(update).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// What one run of the due index's migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DueMigration {
    /// Entries found under the old key.
    pub read: usize,
    /// Moved to their day and shard.
    pub moved: usize,
    /// Replaced or decided meanwhile (by the new code, or an earlier run):
    /// left as they are.
    pub already_gone: usize,
}

/// The due index's own reads and writes.
impl<T: Table + ?Sized> TableStore<T> {
    /// Moves the entries a table still holds under the due index's one old
    /// partition (`REMINDER`) to their day and shard, as written `now`.
    /// Each entry is moved by a put conditioned on it being as read, so an
    /// entry replaced or decided meanwhile is left alone (never brought
    /// back); a run stopped halfway is resumed by running it again, which
    /// finds only what is left. The claim of each message is untouched, so
    /// no reminder can go twice, whichever sweeper sees it.
    pub async fn migrate_legacy_due_entries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<DueMigration, StoreError> {
        self.ensure_sweep_cursor(now).await?;
        let mut report = DueMigration::default();
        let mut query = Query::index(&crate::table::schema::GSI2, due::LEGACY_DUE_PARTITION)
            .limit(MIGRATION_PAGE);
        loop {
            let page = self.table.query(&query).await.map_err(unavailable)?;
            for item in page.items {
                report.read += 1;
                let old = decode::<ReminderItem>(item)?;
                let moved = ReminderItem::new(&due::filed(&old.reminder, now));
                let result = self
                    .table
                    .put(Put::new(encode(&moved)?).when(still_under_legacy_key(&old.gsi2sk)))
                    .await;
                match result {
                    Ok(()) => report.moved += 1,
                    Err(TableError::ConditionFailed { .. }) => report.already_gone += 1,
                    Err(e) => return Err(unavailable(e)),
                }
            }
            match page.last_key {
                Some(last) => query.start_after = Some(last),
                None => return Ok(report),
            }
        }
    }

    /// The oldest day that may hold due entries; `None`: nothing was ever
    /// filed.
    async fn sweep_cursor(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = Key::new(due::SWEEP_CURSOR_PK, due::SWEEP_CURSOR_SK);
        let item = self
            .table
            .get(&key, Read::Consistent)
            .await
            .map_err(unavailable)?;
        Ok(
            match item.as_ref().and_then(|i| i.get(due::SWEEP_CURSOR_BUCKET)) {
                Some(AttributeValue::S(text)) => due::bucket_from_text(text),
                _ => None,
            },
        )
    }

    /// The cursor exists before the first entry is filed, at the day of the
    /// first writer's clock; once per process, since it never goes away.
    async fn ensure_sweep_cursor(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        if self.sweep_cursor_known.load(Ordering::Relaxed) {
            return Ok(());
        }
        let text = due::bucket_text(due::bucket_of(now));
        unless_condition_failed(
            self.table
                .put(Put::new(sweep_cursor_item(&text)).when(item_is_new()))
                .await,
        )?;
        self.sweep_cursor_known.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Whether every shard of `day` is empty.
    async fn day_is_empty(&self, day: DateTime<Utc>) -> Result<bool, StoreError> {
        let pages = futures::future::try_join_all((0..due::SHARDS).map(|shard| {
            let query =
                Query::index(&crate::table::schema::GSI2, due::partition(day, shard)).limit(1);
            async move { self.table.query(&query).await }
        }))
        .await
        .map_err(unavailable)?;
        Ok(pages.iter().all(|p| p.items.is_empty()))
    }

    /// The first `limit` entries of `day` due by `until_sk` and after
    /// `after`, in due order across its shards.
    async fn due_in_day(
        &self,
        day: DateTime<Utc>,
        after: Option<&ScheduledReminder>,
        until_sk: &str,
        limit: usize,
    ) -> Result<Vec<ScheduledReminder>, StoreError> {
        let after_key = after
            .map(|r| -> Result<(String, Item), StoreError> {
                let mut key = encode(&ReminderItem::new(r))?;
                key.retain(|name, _| [PK, SK, due::GSI2_PK, due::GSI2_SK].contains(&name.as_str()));
                Ok((due::due_partition(r), key))
            })
            .transpose()?;
        let pages = futures::future::try_join_all((0..due::SHARDS).map(|shard| {
            let partition = due::partition(day, shard);
            let query = match (&after_key, after) {
                // The previous page ended in this partition: go on from it.
                (Some((p, key)), _) if *p == partition => {
                    Query::index(&crate::table::schema::GSI2, partition)
                        .sort(SortKey::AtMost(until_sk.to_string()))
                        .start_after(Some(key.clone()))
                }
                // Elsewhere, what sorts after it (no other entry has its
                // sort key: it names the appointment and the channel).
                (_, Some(r)) => Query::index(&crate::table::schema::GSI2, partition)
                    .sort(SortKey::Between(due::due_sort_key(r), until_sk.to_string())),
                _ => Query::index(&crate::table::schema::GSI2, partition)
                    .sort(SortKey::AtMost(until_sk.to_string())),
            }
            .limit(limit);
            async move { self.table.query(&query).await }
        }))
        .await
        .map_err(unavailable)?;
        let mut entries = pages
            .into_iter()
            .flat_map(|p| p.items)
            .map(|i| decode::<ReminderItem>(i).map(|r| (r.gsi2sk, r.reminder)))
            .collect::<Result<Vec<_>, _>>()?;
        // Each shard gave its first `limit`: the first `limit` of them all
        // are the day's.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.truncate(limit);
        Ok(entries.into_iter().map(|(_, r)| r).collect())
    }
}

fn sweep_cursor_item(day: &str) -> Item {
    Item::from(std::collections::HashMap::from([
        (
            PK.to_string(),
            AttributeValue::S(due::SWEEP_CURSOR_PK.into()),
        ),
        (
            SK.to_string(),
            AttributeValue::S(due::SWEEP_CURSOR_SK.into()),
        ),
        (
            due::SWEEP_CURSOR_BUCKET.to_string(),
            AttributeValue::S(day.into()),
        ),
    ]))
}
