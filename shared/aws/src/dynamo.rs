//! The DynamoDB adapter: one table (see [`super::item`]), conditional writes and
//! transactions for every rule that must hold under concurrency.

use crate::due_index::{self as due, ReminderItem};
use crate::item::*;
use crate::telemetry::redact;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use aws_smithy_types::error::display::DisplayErrorContext;
use chrono::{DateTime, Duration, Utc};
use domain::absence::{Absence, MAX_ABSENCE_DAYS};
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
use domain::settings::{MAX_DURATION_MINUTES, PractitionerSettings};
use domain::time::TimeRange;
use std::collections::HashMap;

type SdkItem = HashMap<String, AttributeValue>;

/// Optimistic locking of agenda days: how many times a booking re-reads and
/// retries when a concurrent booking changed the same day.
const BOOKING_ATTEMPTS: usize = 5;

pub struct DynamoStore {
    client: Client,
    table: String,
    /// How long appointment data outlives its appointment (SPEC §5: health
    /// data kept no longer than needed): DynamoDB's TTL deletes it then.
    retention: Duration,
}

/// The default of `DATA_RETENTION_DAYS` (docs/decisions.md).
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// The table's IAM actions, for functions to declare theirs (`Needs::table_actions`).
pub const GET_ITEM: &str = "dynamodb:GetItem";
pub const PUT_ITEM: &str = "dynamodb:PutItem";
pub const UPDATE_ITEM: &str = "dynamodb:UpdateItem";
pub const DELETE_ITEM: &str = "dynamodb:DeleteItem";
pub const QUERY: &str = "dynamodb:Query";

impl DynamoStore {
    /// What the adapter calls, as IAM actions (a transaction is authorised by
    /// the actions of its parts). `tests/consistency.rs` records the calls
    /// of every operation below on moto against this list, and checks the
    /// template's policies against it.
    pub const IAM_ACTIONS: &[&str] = &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM, QUERY];
    /// Secondary indexes the adapter queries; the template must declare them.
    pub const INDEXES: &[&str] = &[GSI1, due::GSI2, GSI3];

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retention: Duration::days(i64::from(DEFAULT_RETENTION_DAYS)),
        }
    }

    /// Keeps appointment data `days` after its appointment ends.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention = Duration::days(i64::from(days));
        self
    }

    /// `item` with the TTL that deletes it `retention` after `end`: an
    /// appointment, its agenda days, its log entries, an absence.
    fn kept_after(&self, mut item: SdkItem, end: DateTime<Utc>) -> SdkItem {
        let expires = (end + self.retention).timestamp();
        item.insert(TTL.to_string(), AttributeValue::N(expires.to_string()));
        item
    }
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(redact(&DisplayErrorContext(e).to_string()))
}

/// The outcome of a conditional write whose condition failing means there was
/// nothing left to do (the claim was settled, the entry replaced meanwhile).
fn unless_condition_failed<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().and_then(|se| se.code())
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(())
        }
        Err(e) => Err(unavailable(e)),
    }
}

fn to_sdk<T: serde::Serialize>(value: &T) -> Result<SdkItem, StoreError> {
    encode(value).map(Into::into)
}

fn from_sdk<T: serde::de::DeserializeOwned>(item: SdkItem) -> Result<T, StoreError> {
    decode(item.into())
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

impl DynamoStore {
    async fn get(&self, pk: String, sk: &str) -> Result<Option<SdkItem>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    async fn put(&self, item: SdkItem) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Every item of one partition (of the table, or of `index`) whose sort
    /// key lies between `low` and `high`, all pages.
    async fn between(
        &self,
        index: Option<&str>,
        (pk_name, pk): (&str, String),
        (sk_name, low): (&str, String),
        high: String,
    ) -> Result<Vec<SdkItem>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression(format!("{pk_name} = :pk AND {sk_name} BETWEEN :lo AND :hi"))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":lo", s(low))
            .expression_attribute_values(":hi", s(high))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(unavailable)
    }

    fn conditional_put(
        put: aws_sdk_dynamodb::types::builders::PutBuilder,
    ) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .put(
                put.build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
            .build())
    }

    /// The put of an agenda day, conditioned on the revision that was read.
    fn day_put(
        &self,
        mut day: AgendaDayItem,
        existed: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let previous = day.revision;
        day.revision += 1;
        let item = match day.date() {
            Some(date) => self.kept_after(to_sdk(&day)?, end_of_day(date)),
            None => to_sdk(&day)?,
        };
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = if existed {
            put.condition_expression("revision = :revision")
                .expression_attribute_values(":revision", AttributeValue::N(previous.to_string()))
        } else {
            put.condition_expression("attribute_not_exists(pk)")
        };
        Self::conditional_put(put)
    }

    async fn day(
        &self,
        practitioner: &PractitionerId,
        day: chrono::NaiveDate,
    ) -> Result<(AgendaDayItem, bool), StoreError> {
        let stored: Option<AgendaDayItem> = self
            .get(practitioner_pk(practitioner), &day_sk(day))
            .await?
            .map(from_sdk)
            .transpose()?;
        let existed = stored.is_some();
        Ok((
            stored.unwrap_or_else(|| AgendaDayItem::empty(practitioner, day)),
            existed,
        ))
    }

    /// Runs a transaction: `Ok(None)` when a concurrent write won the race.
    async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<Option<()>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(Some(())),
            Err(e) => {
                let lost_race = e.as_service_error().is_some_and(|se| {
                    se.is_transaction_canceled_exception()
                        || se.code() == Some("TransactionConflict")
                });
                if lost_race {
                    Ok(None)
                } else {
                    Err(unavailable(e))
                }
            }
        }
    }

    /// One attempt at writing appointments of one practitioner (new ones when
    /// the expected version is `None`, else their next versions) together with
    /// every agenda day they leave or occupy, each conditioned on what was
    /// read: `Ok(None)` when a concurrent write won the race.
    async fn try_write(
        &self,
        writes: &[(Option<u32>, &Appointment)],
    ) -> Result<Option<()>, InsertError> {
        let Some((_, first)) = writes.first() else {
            return Ok(Some(()));
        };
        let practitioner = &first.practitioner_id;
        let mut transaction = Vec::new();
        // Per appointment: the range it leaves (if it was booked) and the range it takes.
        let mut moves: Vec<(String, Option<TimeRange>)> = Vec::new();
        let mut days = Vec::new();
        for (expected_version, appointment) in writes {
            let put = Put::builder().table_name(&self.table).set_item(Some(
                self.kept_after(to_sdk(&AppointmentItem::new(appointment))?, appointment.end),
            ));
            let put = match expected_version {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some(expected) => {
                    let stored = self
                        .get(appointment_pk(&appointment.id), APPOINTMENT_SK)
                        .await?
                        .map(from_sdk::<AppointmentItem>)
                        .transpose()?
                        .map(|i| i.appointment)
                        .filter(|a| a.version == *expected)
                        .ok_or(InsertError::Stale)?;
                    if stored.status.is_booked() {
                        days.extend(days_of(&stored.range()));
                    }
                    put.condition_expression("version = :version")
                        .expression_attribute_values(
                            ":version",
                            AttributeValue::N(expected.to_string()),
                        )
                }
            };
            transaction.push(Self::conditional_put(put)?);
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
            overlapping.sort();
            overlapping.dedup();
            return Err(InsertError::Overlap(overlapping));
        }
        if absent {
            return Err(InsertError::Absent);
        }
        Ok(self.transact(transaction).await?)
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

    async fn try_place_absence(&self, absence: &Absence) -> Result<Option<()>, InsertError> {
        let item = AbsenceItem::new(absence);
        if self.get(item.pk.clone(), &item.sk).await?.is_some() {
            return Ok(Some(()));
        }
        let mut transaction = vec![Self::conditional_put(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(self.kept_after(to_sdk(&item)?, absence.end)))
                .condition_expression("attribute_not_exists(pk)"),
        )?];
        let range = absence.range();
        let mut overlapping = Vec::new();
        for day in days_of(&range) {
            let (mut agenda_day, existed) = self.day(&absence.practitioner_id, day).await?;
            overlapping.extend(agenda_day.covered_by(absence));
            agenda_day.absent.insert(absence.id.to_string(), range);
            transaction.push(self.day_put(agenda_day, existed)?);
        }
        if !overlapping.is_empty() {
            overlapping.sort();
            overlapping.dedup();
            return Err(InsertError::Overlap(overlapping));
        }
        Ok(self.transact(transaction).await?)
    }
}

/// Decodes `items` and keeps what overlaps `range` (sort keys bound only starts).
fn overlapping<I, T>(
    items: Vec<SdkItem>,
    value: impl Fn(I) -> T,
    range: TimeRange,
) -> Result<Vec<T>, StoreError>
where
    I: serde::de::DeserializeOwned,
    T: HasRange,
{
    let mut found = Vec::new();
    for item in items {
        let found_value = value(from_sdk::<I>(item)?);
        if found_value.range().overlaps(&range) {
            found.push(found_value);
        }
    }
    Ok(found)
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

#[async_trait]
impl SettingsStore for DynamoStore {
    async fn put_settings(&self, settings: &PractitionerSettings) -> Result<(), StoreError> {
        self.put(to_sdk(&SettingsItem::new(settings))?).await
    }

    async fn settings(
        &self,
        id: &PractitionerId,
    ) -> Result<Option<PractitionerSettings>, StoreError> {
        self.get(practitioner_pk(id), SETTINGS_SK)
            .await?
            .map(|i| from_sdk::<SettingsItem>(i).map(|s| s.settings))
            .transpose()
    }
}

#[async_trait]
impl AgendaStore for DynamoStore {
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
        let items = self
            .between(
                None,
                ("pk", practitioner_pk(practitioner)),
                ("sk", format!("{ABSENCE_SK_PREFIX}{}", sortable(lowest))),
                format!("{ABSENCE_SK_PREFIX}{}", sortable(range.end)),
            )
            .await?;
        overlapping(items, |i: AbsenceItem| i.absence, range)
    }

    async fn appointment(&self, id: &AppointmentId) -> Result<Option<Appointment>, StoreError> {
        self.get(appointment_pk(id), APPOINTMENT_SK)
            .await?
            .map(|i| from_sdk::<AppointmentItem>(i).map(|a| a.appointment))
            .transpose()
    }

    async fn agenda(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Appointment>, StoreError> {
        // The index is sorted by start: an appointment that overlaps the range
        // started at most one maximal duration before it.
        let lowest_start = range.start - Duration::minutes(i64::from(MAX_DURATION_MINUTES));
        let items = self
            .between(
                Some(GSI1),
                (GSI1_PK, practitioner_pk(practitioner)),
                (GSI1_SK, sortable(lowest_start)),
                sortable(range.end),
            )
            .await?;
        overlapping(items, |i: AppointmentItem| i.appointment, range)
    }
}

#[async_trait]
impl MessageLog for DynamoStore {
    async fn claim_message(
        &self,
        key: &MessageKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(&MessageItem::claimed(key, now))?))
            .condition_expression(
                "attribute_not_exists(pk) OR message_state = :held \
                 OR (message_state = :claimed AND claimed_at <= :expired)",
            )
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":held", s("held"))
            .expression_attribute_values(
                ":expired",
                AttributeValue::N((now - lease).timestamp_millis().to_string()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Granted),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(refused)) => {
                    let Some(existing) = refused.item.clone() else {
                        return Ok(Claim::InFlight);
                    };
                    let existing: MessageItem = from_sdk(existing)?;
                    Ok(match (existing.message_state, existing.entry) {
                        (MessageState::Settled, Some(entry)) => Claim::Settled {
                            entry,
                            published: existing.published,
                        },
                        _ => Claim::InFlight,
                    })
                }
                _ => Err(unavailable(e)),
            },
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
            to_sdk(&MessageItem::settled(key, practitioner, entry))?,
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
            to_sdk(&MessageItem::held(key, practitioner, entry))?,
            appointment_end,
        ))
        .await
    }

    async fn release_message(&self, key: &MessageKey) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(appointment_pk(&key.appointment_id)))
            .key(SK, s(message_sk(key)))
            .condition_expression("message_state = :claimed")
            .expression_attribute_values(":claimed", s("claimed"))
            .send()
            .await;
        unless_condition_failed(result)
    }

    async fn mark_published(&self, key: &MessageKey) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(appointment_pk(&key.appointment_id)))
            .key(SK, s(message_sk(key)))
            .update_expression("SET published = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await;
        unless_condition_failed(result)
    }

    async fn communications(
        &self,
        appointment: &AppointmentId,
    ) -> Result<Vec<CommunicationEntry>, StoreError> {
        let items: Vec<SdkItem> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(appointment_pk(appointment)))
            .expression_attribute_values(":prefix", s(MESSAGE_SK_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(unavailable)?;
        let messages = items
            .into_iter()
            .map(from_sdk::<MessageItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(log_entries(messages))
    }

    async fn message_sent_as(&self, message_id: &str) -> Result<Option<LoggedMessage>, StoreError> {
        // GSI3 holds keys only; the item itself is read consistently, so the
        // state a feedback decides on is the stored one.
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI3)
            .key_condition_expression("gsi3pk = :pk")
            .expression_attribute_values(":pk", s(sent_as_pk(message_id)))
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(keys) = found.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let key_text = |name: &str| match keys.get(name) {
            Some(AttributeValue::S(v)) => Ok(v.clone()),
            _ => Err(StoreError::Corrupt(format!(
                "a {GSI3} entry without {name}"
            ))),
        };
        let item = self.get(key_text(PK)?, &key_text(SK)?).await?;
        Ok(item
            .map(from_sdk::<MessageItem>)
            .transpose()?
            .and_then(MessageItem::logged))
    }

    async fn record_feedback(
        &self,
        key: &MessageKey,
        expected: DeliveryState,
        entry: &CommunicationEntry,
    ) -> Result<bool, StoreError> {
        let text = |value: DeliveryState| {
            serde_json::to_value(value)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let entry_value: AttributeValue = serde_dynamo::to_attribute_value(entry)
            .map_err(|e| StoreError::Corrupt(redact(&e.to_string())))?;
        // An update, not a put: the item keeps its TTL and its GSI3 keys.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(appointment_pk(&key.appointment_id)))
            .key(SK, s(message_sk(key)))
            .update_expression("SET #entry = :entry, published = :no")
            .condition_expression("#entry.#state = :expected")
            .expression_attribute_names("#entry", "entry")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":entry", entry_value)
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":expected", s(text(expected)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
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
        let items = self
            .between(Some(GSI1), (GSI1_PK, pk), (GSI1_SK, low), high)
            .await?;
        let messages = items
            .into_iter()
            .map(from_sdk::<MessageItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(logs_of(appointments, messages))
    }
}

#[async_trait]
impl LinkStore for DynamoStore {
    async fn put_link(&self, hash: &TokenHash, grant: &LinkGrant) -> Result<(), StoreError> {
        self.put(to_sdk(&LinkItem::new(hash, grant))?).await
    }

    async fn link(&self, hash: &TokenHash) -> Result<Option<LinkGrant>, StoreError> {
        self.get(link_pk(hash), LINK_SK)
            .await?
            .map(|i| from_sdk::<LinkItem>(i).map(|l| l.grant))
            .transpose()
    }
}

#[async_trait]
impl DueIndex for DynamoStore {
    // Reminders

    async fn put_reminder(&self, reminder: &ScheduledReminder) -> Result<(), StoreError> {
        self.put(to_sdk(&ReminderItem::new(reminder))?).await
    }

    async fn remove_reminder(
        &self,
        appointment: &AppointmentId,
        channel: Channel,
    ) -> Result<(), StoreError> {
        let (pk, sk) = due::key_of(appointment, channel);
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn reminders_due(
        &self,
        until: DateTime<Utc>,
        after: Option<&ScheduledReminder>,
        limit: usize,
    ) -> Result<Vec<ScheduledReminder>, StoreError> {
        // The sparse GSI2 holds pending reminders only, in due order: the
        // query reads what is due, never the table.
        let start_key = after.map(|r| {
            let item = ReminderItem::new(r);
            HashMap::from([
                (PK.to_string(), s(item.pk)),
                (SK.to_string(), s(item.sk)),
                (due::GSI2_PK.to_string(), s(item.gsi2pk)),
                (due::GSI2_SK.to_string(), s(item.gsi2sk)),
            ])
        });
        let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(due::GSI2)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk <= :until")
            .expression_attribute_values(":pk", s(due::DUE_PARTITION))
            .expression_attribute_values(":until", s(format!("{}#~", sortable(until))))
            .set_exclusive_start_key(start_key)
            .limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| from_sdk::<ReminderItem>(i).map(|r| r.reminder))
            .collect()
    }

    async fn reminder_done(&self, reminder: &ScheduledReminder) -> Result<(), StoreError> {
        let (pk, sk) = (
            appointment_pk(&reminder.appointment_id),
            due::entry_sk(reminder),
        );
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            // Replaced meanwhile (moved, settings changed): keep the new entry.
            .condition_expression("gsi2sk = :read")
            .expression_attribute_values(":read", s(due::due_sort_key(reminder)))
            .send()
            .await;
        unless_condition_failed(result)
    }
}
