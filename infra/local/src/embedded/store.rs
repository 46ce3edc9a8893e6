//! The embedded store of local mode and tests. It keeps the same items as the
//! DynamoDB table and, like DynamoDB Streams with NEW_AND_OLD_IMAGES, hands every
//! change to its subscribers as a stream record in Lambda's JSON shape.

use async_trait::async_trait;
use aws_adapters::due_index::{self as due, GSI2_PK, GSI2_SK, ReminderItem};
use aws_adapters::item::{self, *};
use chrono::{DateTime, Duration, Utc};
use domain::absence::Absence;
use domain::appointment::Appointment;
use domain::communications::Channel;
use domain::communications::{CommunicationEntry, DeliveryState, MessageKey};
use domain::ids::{AppointmentId, PractitionerId};
use domain::links::{LinkGrant, TokenHash};
use domain::ports::{
    AgendaStore, Claim, DueIndex, InsertError, LinkStore, LoggedMessage, MessageLog, SettingsStore,
    StoreError,
};
use domain::reminder::ScheduledReminder;
use domain::settings::PractitionerSettings;
use domain::time::TimeRange;
use serde_dynamo::{AttributeValue, Item};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

type Key = (String, String);

#[derive(Default)]
struct State {
    items: BTreeMap<Key, Item>,
    sequence: u64,
    subscribers: Vec<Subscriber>,
    /// The sparse due index of reminders (GSI2): `gsi2sk` -> item key.
    due_index: BTreeMap<String, Key>,
    /// The sparse index of sent messages (GSI3): `gsi3pk` -> item key.
    sent_index: BTreeMap<String, Key>,
}

struct Subscriber {
    tx: mpsc::UnboundedSender<serde_json::Value>,
    pending: Arc<watch::Sender<usize>>,
}

/// A reader of the store's stream. `pending` counts records handed over and not
/// yet marked done, so local mode can tell when every change has been handled.
pub struct StreamSubscription {
    pub records: mpsc::UnboundedReceiver<serde_json::Value>,
    pub pending: Arc<watch::Sender<usize>>,
}

impl StreamSubscription {
    /// Marks `n` received records as fully handled.
    pub fn done(&self, n: usize) {
        self.pending.send_modify(|p| *p = p.saturating_sub(n));
    }
}

/// In-memory single table. One lock guards every operation, which makes each
/// conditional write atomic as DynamoDB's are.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Items read by queries and gets, so tests can check that reads stay bounded.
    items_read: AtomicUsize,
}

fn key_of(item: &Item) -> Key {
    let s = |name: &str| match item.inner().get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    };
    (s(PK), s(SK))
}

fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.inner().get(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every change from now on, as DynamoDB stream records (Lambda's JSON shape).
    pub fn subscribe(&self) -> StreamSubscription {
        let (tx, records) = mpsc::unbounded_channel();
        let pending = Arc::new(watch::Sender::new(0));
        self.lock().subscribers.push(Subscriber {
            tx,
            pending: pending.clone(),
        });
        StreamSubscription { records, pending }
    }

    /// Every item, by key, as JSON: tests compare the whole store before and
    /// after a request that must change nothing.
    pub fn dump(&self) -> BTreeMap<Key, serde_json::Value> {
        self.lock()
            .items
            .iter()
            .map(|(key, item)| {
                let json =
                    serde_dynamo::from_item(item.clone()).expect("a stored item reads as JSON");
                (key.clone(), json)
            })
            .collect()
    }

    pub fn items_read(&self) -> usize {
        self.items_read.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("memory store lock")
    }

    fn count_reads(&self, n: usize) {
        self.items_read.fetch_add(n, Ordering::Relaxed);
    }
}

impl State {
    fn get(&self, pk: &str, sk: &str) -> Option<&Item> {
        self.items.get(&(pk.to_string(), sk.to_string()))
    }

    fn put(&mut self, item: Item) {
        let key = key_of(&item);
        let old = self.items.insert(key.clone(), item.clone());
        self.index_due(&key, old.as_ref(), Some(&item));
        self.index_sent(&key, old.as_ref(), Some(&item));
        self.emit(&key, old, Some(item));
    }

    fn delete(&mut self, pk: &str, sk: &str) {
        let key = (pk.to_string(), sk.to_string());
        if let Some(old) = self.items.remove(&key) {
            self.index_due(&key, Some(&old), None);
            self.index_sent(&key, Some(&old), None);
            self.emit(&key, Some(old), None);
        }
    }

    fn emit(&mut self, key: &Key, old: Option<Item>, new: Option<Item>) {
        self.sequence += 1;
        let event_name = match (&old, &new) {
            (None, _) => "INSERT",
            (Some(_), Some(_)) => "MODIFY",
            (Some(_), None) => "REMOVE",
        };
        let keys = Item::from(std::collections::HashMap::from([
            (PK.to_string(), AttributeValue::S(key.0.clone())),
            (SK.to_string(), AttributeValue::S(key.1.clone())),
        ]));
        let mut change = serde_json::json!({
            "ApproximateCreationDateTime": Utc::now().timestamp(),
            "Keys": keys,
            "SequenceNumber": format!("{:021}", self.sequence),
            "SizeBytes": 0,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        if let Some(new) = new {
            change["NewImage"] = serde_json::to_value(new).expect("items serialize");
        }
        if let Some(old) = old {
            change["OldImage"] = serde_json::to_value(old).expect("items serialize");
        }
        let record = serde_json::json!({
            "eventID": format!("{:032x}", self.sequence),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "local",
            "dynamodb": change,
            "eventSourceARN": "arn:aws:dynamodb:local:000000000000:table/agenda/stream/local",
        });
        self.subscribers.retain(|s| {
            s.pending.send_modify(|p| *p += 1);
            let delivered = s.tx.send(record.clone()).is_ok();
            if !delivered {
                s.pending.send_modify(|p| *p -= 1);
            }
            delivered
        });
    }

    fn absences_of(&self, practitioner: &PractitionerId) -> Result<Vec<Absence>, StoreError> {
        let pk = practitioner_pk(practitioner);
        self.items
            .range((pk.clone(), ABSENCE_SK_PREFIX.to_string())..)
            .take_while(|((p, s), _)| *p == pk && s.starts_with(ABSENCE_SK_PREFIX))
            .map(|(_, i)| decode::<AbsenceItem>(i.clone()).map(|a| a.absence))
            .collect()
    }

    /// Why `appointment` cannot occupy its time: booked appointments (other
    /// than itself) or an absence overlap it.
    fn check_free(&self, appointment: &Appointment) -> Result<(), InsertError> {
        if !appointment.status.is_booked() {
            return Ok(());
        }
        let range = appointment.range();
        let mut overlapping = Vec::new();
        for other in self.appointments_of(&appointment.practitioner_id) {
            let other = other?;
            if other.id != appointment.id
                && other.status.is_booked()
                && other.range().overlaps(&range)
            {
                overlapping.push(other.id);
            }
        }
        if !overlapping.is_empty() {
            return Err(InsertError::Overlap(overlapping));
        }
        if self
            .absences_of(&appointment.practitioner_id)?
            .iter()
            .any(|a| a.range().overlaps(&range))
        {
            return Err(InsertError::Absent);
        }
        Ok(())
    }

    fn check_version(&self, id: &AppointmentId, expected: u32) -> Result<(), InsertError> {
        let stored = self
            .get(&appointment_pk(id), APPOINTMENT_SK)
            .map(|i| decode::<AppointmentItem>(i.clone()))
            .transpose()?;
        if stored.is_none_or(|s| s.appointment.version != expected) {
            return Err(InsertError::Stale);
        }
        Ok(())
    }

    fn appointments_of<'a>(
        &'a self,
        practitioner: &'a PractitionerId,
    ) -> impl Iterator<Item = Result<Appointment, StoreError>> + 'a {
        let gsi = practitioner_pk(practitioner);
        self.items
            .values()
            .filter(move |i| string_attr(i, GSI1_PK) == Some(gsi.as_str()))
            .filter(|i| string_attr(i, "type") == Some(kind::APPOINTMENT))
            .map(|i| decode::<AppointmentItem>(i.clone()).map(|a| a.appointment))
    }
}

#[async_trait]
impl SettingsStore for MemoryStore {
    async fn put_settings(&self, settings: &PractitionerSettings) -> Result<(), StoreError> {
        let item = encode(&SettingsItem::new(settings))?;
        self.lock().put(item);
        Ok(())
    }

    async fn settings(
        &self,
        id: &PractitionerId,
    ) -> Result<Option<PractitionerSettings>, StoreError> {
        let item = self.lock().get(&practitioner_pk(id), SETTINGS_SK).cloned();
        self.count_reads(item.is_some() as usize);
        item.map(|i| decode::<SettingsItem>(i).map(|s| s.settings))
            .transpose()
    }
}

#[async_trait]
impl AgendaStore for MemoryStore {
    async fn insert_appointment(&self, appointment: &Appointment) -> Result<(), InsertError> {
        let item = encode(&AppointmentItem::new(appointment))?;
        let mut state = self.lock();
        state.check_free(appointment)?;
        state.put(item);
        Ok(())
    }

    async fn update_appointment(
        &self,
        expected_version: u32,
        appointment: &Appointment,
    ) -> Result<(), InsertError> {
        let item = encode(&AppointmentItem::new(appointment))?;
        let mut state = self.lock();
        state.check_version(&appointment.id, expected_version)?;
        state.check_free(appointment)?;
        state.put(item);
        Ok(())
    }

    async fn rebook(
        &self,
        expected_version: u32,
        rebooked: &Appointment,
        replacement: &Appointment,
    ) -> Result<(), InsertError> {
        let old = encode(&AppointmentItem::new(rebooked))?;
        let new = encode(&AppointmentItem::new(replacement))?;
        let mut state = self.lock();
        state.check_version(&rebooked.id, expected_version)?;
        state.check_free(replacement)?;
        state.put(old);
        state.put(new);
        Ok(())
    }

    async fn place_absence(&self, absence: &Absence) -> Result<(), InsertError> {
        let item = encode(&AbsenceItem::new(absence))?;
        let mut state = self.lock();
        let key = key_of(&item);
        if state.items.contains_key(&key) {
            return Ok(());
        }
        let mut overlapping = Vec::new();
        for other in state.appointments_of(&absence.practitioner_id) {
            let other = other?;
            if other.status.is_booked() && absence.covers(other.range()) {
                overlapping.push(other.id);
            }
        }
        if !overlapping.is_empty() {
            overlapping.sort();
            return Err(InsertError::Overlap(overlapping));
        }
        state.put(item);
        Ok(())
    }

    async fn absences(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Absence>, StoreError> {
        let found: Vec<Absence> = self
            .lock()
            .absences_of(practitioner)?
            .into_iter()
            .filter(|a| a.range().overlaps(&range))
            .collect();
        self.count_reads(found.len());
        Ok(found)
    }

    async fn appointment(&self, id: &AppointmentId) -> Result<Option<Appointment>, StoreError> {
        let item = self
            .lock()
            .get(&appointment_pk(id), APPOINTMENT_SK)
            .cloned();
        self.count_reads(item.is_some() as usize);
        item.map(|i| decode::<AppointmentItem>(i).map(|a| a.appointment))
            .transpose()
    }

    async fn agenda(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Appointment>, StoreError> {
        let mut found: Vec<Appointment> = self
            .lock()
            .appointments_of(practitioner)
            .filter(|a| a.as_ref().map_or(true, |a| a.range().overlaps(&range)))
            .collect::<Result<_, _>>()?;
        self.count_reads(found.len());
        found.sort_by_key(|a| (a.start, a.id));
        Ok(found)
    }
}

#[async_trait]
impl MessageLog for MemoryStore {
    async fn claim_message(
        &self,
        key: &MessageKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let mut state = self.lock();
        let (pk, sk) = (appointment_pk(&key.appointment_id), message_sk(key));
        if let Some(existing) = state.get(&pk, &sk) {
            let existing: MessageItem = decode(existing.clone())?;
            match (existing.message_state, existing.entry) {
                (MessageState::Settled, Some(entry)) => {
                    return Ok(Claim::Settled {
                        entry,
                        published: existing.published,
                    });
                }
                (MessageState::Held, _) => {} // its time came: anyone may send it
                _ if existing.claimed_at + lease > now => return Ok(Claim::InFlight),
                _ => {} // the claim's worker died: take it over
            }
        }
        state.put(encode(&MessageItem::claimed(key, now))?);
        Ok(Claim::Granted)
    }

    async fn settle_message(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
        // Local mode keeps nothing beyond its process.
        _appointment_end: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock()
            .put(encode(&MessageItem::settled(key, practitioner, entry))?);
        Ok(())
    }

    async fn hold_message(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
        _appointment_end: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock()
            .put(encode(&MessageItem::held(key, practitioner, entry))?);
        Ok(())
    }

    async fn release_message(&self, key: &MessageKey) -> Result<(), StoreError> {
        let mut state = self.lock();
        let (pk, sk) = (appointment_pk(&key.appointment_id), message_sk(key));
        let claimed = state
            .get(&pk, &sk)
            .map(|i| decode::<MessageItem>(i.clone()))
            .transpose()?
            .is_some_and(|m| m.message_state == MessageState::Claimed);
        if claimed {
            state.delete(&pk, &sk);
        }
        Ok(())
    }

    async fn mark_published(&self, key: &MessageKey) -> Result<(), StoreError> {
        let mut state = self.lock();
        let (pk, sk) = (appointment_pk(&key.appointment_id), message_sk(key));
        if let Some(existing) = state.get(&pk, &sk) {
            let mut item: MessageItem = decode(existing.clone())?;
            item.published = true;
            state.put(encode(&item)?);
        }
        Ok(())
    }

    async fn communications(
        &self,
        appointment: &AppointmentId,
    ) -> Result<Vec<CommunicationEntry>, StoreError> {
        let pk = appointment_pk(appointment);
        let items: Vec<Item> = self
            .lock()
            .items
            .range((pk.clone(), MESSAGE_SK_PREFIX.to_string())..)
            .take_while(|((p, s), _)| *p == pk && s.starts_with(MESSAGE_SK_PREFIX))
            .map(|(_, i)| i.clone())
            .collect();
        self.count_reads(items.len());
        let messages = items
            .into_iter()
            .map(decode::<MessageItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(item::log_entries(messages))
    }

    async fn message_sent_as(&self, message_id: &str) -> Result<Option<LoggedMessage>, StoreError> {
        let item = {
            let state = self.lock();
            state
                .sent_index
                .get(&sent_as_pk(message_id))
                .and_then(|key| state.items.get(key))
                .cloned()
        };
        self.count_reads(item.is_some() as usize);
        Ok(item
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
        let mut state = self.lock();
        let (pk, sk) = (appointment_pk(&key.appointment_id), message_sk(key));
        let Some(mut stored) = state
            .get(&pk, &sk)
            .map(|i| decode::<MessageItem>(i.clone()))
            .transpose()?
        else {
            return Ok(false);
        };
        if stored.entry.as_ref().is_none_or(|e| e.state != expected) {
            return Ok(false);
        }
        // As DynamoDB's update: the item keeps its keys, only the entry moves.
        stored.entry = Some(entry.clone());
        stored.published = false;
        state.put(encode(&stored)?);
        Ok(true)
    }

    /// What DynamoDB's query of the practitioner's log partition reads.
    async fn communications_of(
        &self,
        practitioner: &PractitionerId,
        appointments: &[AppointmentId],
    ) -> Result<Vec<Vec<CommunicationEntry>>, StoreError> {
        let Some((gsi, low, high)) = item::log_span(practitioner, appointments) else {
            return Ok(Vec::new());
        };
        let items: Vec<Item> = self
            .lock()
            .items
            .values()
            .filter(|i| string_attr(i, GSI1_PK) == Some(gsi.as_str()))
            .filter(|i| {
                string_attr(i, GSI1_SK)
                    .is_some_and(|sk| (low.as_str()..=high.as_str()).contains(&sk))
            })
            .cloned()
            .collect();
        self.count_reads(items.len());
        let messages = items
            .into_iter()
            .map(decode::<MessageItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(item::logs_of(appointments, messages))
    }
}

#[async_trait]
impl LinkStore for MemoryStore {
    async fn put_link(&self, hash: &TokenHash, grant: &LinkGrant) -> Result<(), StoreError> {
        let item = encode(&LinkItem::new(hash, grant))?;
        self.lock().put(item);
        Ok(())
    }

    async fn link(&self, hash: &TokenHash) -> Result<Option<LinkGrant>, StoreError> {
        let item = self.lock().get(&link_pk(hash), LINK_SK).cloned();
        item.map(|i| item::decode::<LinkItem>(i).map(|l| l.grant))
            .transpose()
    }
}

#[async_trait]
impl DueIndex for MemoryStore {
    // Reminders

    async fn put_reminder(&self, reminder: &ScheduledReminder) -> Result<(), StoreError> {
        let item = encode(&ReminderItem::new(reminder))?;
        self.lock().put(item);
        Ok(())
    }

    async fn remove_reminder(
        &self,
        appointment: &AppointmentId,
        channel: Channel,
    ) -> Result<(), StoreError> {
        let (pk, sk) = due::key_of(appointment, channel);
        self.lock().delete(&pk, &sk);
        Ok(())
    }

    async fn reminders_due(
        &self,
        until: DateTime<Utc>,
        after: Option<&ScheduledReminder>,
        limit: usize,
    ) -> Result<Vec<ScheduledReminder>, StoreError> {
        // Like a Query on GSI2: walks the index from the cursor, reads only
        // the entries it returns.
        let until = format!("{}#~", sortable(until));
        let from = match after {
            // A cursor at or past the end: nothing more (and no inverted range).
            Some(r) if due::due_sort_key(r) >= until => return Ok(Vec::new()),
            Some(r) => Bound::Excluded(due::due_sort_key(r)),
            None => Bound::Unbounded,
        };
        let items: Vec<Item> = {
            let state = self.lock();
            state
                .due_index
                .range((from, Bound::Included(until)))
                .take(limit)
                .filter_map(|(_, key)| state.items.get(key).cloned())
                .collect()
        };
        self.count_reads(items.len());
        items
            .into_iter()
            .map(|i| decode::<ReminderItem>(i).map(|r| r.reminder))
            .collect()
    }

    async fn reminder_done(&self, reminder: &ScheduledReminder) -> Result<(), StoreError> {
        let mut state = self.lock();
        let (pk, sk) = (
            appointment_pk(&reminder.appointment_id),
            due::entry_sk(reminder),
        );
        let unchanged = state
            .get(&pk, &sk)
            .is_some_and(|i| string_attr(i, GSI2_SK) == Some(due::due_sort_key(reminder).as_str()));
        if unchanged {
            state.delete(&pk, &sk);
        }
        Ok(())
    }
}

// Reminders: a way for tests to change an appointment.
impl MemoryStore {
    /// Writes `appointment` over the stored one as it is given (status,
    /// time, version), with its stream record, like the update of a move or
    /// a cancellation. For tests of what reacts to such changes; it checks
    /// no overlap.
    pub fn overwrite_appointment(&self, appointment: &Appointment) -> Result<(), StoreError> {
        let item = encode(&AppointmentItem::new(appointment))?;
        self.lock().put(item);
        Ok(())
    }
}

// Reminders: the due index, kept like DynamoDB keeps a sparse GSI.
impl State {
    /// GSI3: sent messages by their provider's id.
    fn index_sent(&mut self, key: &Key, old: Option<&Item>, new: Option<&Item>) {
        if let Some(old) = old.and_then(|i| string_attr(i, GSI3_PK)) {
            self.sent_index.remove(old);
        }
        if let Some(new) = new.and_then(|i| string_attr(i, GSI3_PK)) {
            self.sent_index.insert(new.to_string(), key.clone());
        }
    }

    fn index_due(&mut self, key: &Key, old: Option<&Item>, new: Option<&Item>) {
        let due_key = |i: &Item| {
            string_attr(i, GSI2_PK)
                .and(string_attr(i, GSI2_SK))
                .map(str::to_string)
        };
        if let Some(old) = old.and_then(due_key) {
            self.due_index.remove(&old);
        }
        if let Some(new) = new.and_then(due_key) {
            self.due_index.insert(new, key.clone());
        }
    }
}
