//! The DynamoDB adapter: one table (see [`super::item`]), conditional writes and
//! transactions for every rule that must hold under concurrency.

use super::item::*;
use crate::appointment::Appointment;
use crate::communications::{CommunicationEntry, MessageKey};
use crate::ids::{AppointmentId, PractitionerId};
use crate::links::{LinkGrant, TokenHash};
use crate::ports::{Claim, InsertError, Store, StoreError};
use crate::settings::{MAX_DURATION_MINUTES, PractitionerSettings};
use crate::telemetry::redact;
use crate::time::TimeRange;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use aws_smithy_types::error::display::DisplayErrorContext;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

type SdkItem = HashMap<String, AttributeValue>;

/// Optimistic locking of agenda days: how many times a booking re-reads and
/// retries when a concurrent booking changed the same day.
const BOOKING_ATTEMPTS: usize = 5;

pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// What the adapter calls, as IAM actions (a transaction is authorised by
    /// the actions of its parts). `tests/consistency.rs` checks this list
    /// against the calls below and against the template's policies.
    pub const IAM_ACTIONS: &[&str] = &[
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    ];
    /// Secondary indexes the adapter queries; the template must declare them.
    pub const INDEXES: &[&str] = &[GSI1];

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(redact(&DisplayErrorContext(e).to_string()))
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

    /// One attempt at a booking: `Ok(None)` when a concurrent write won the race.
    async fn try_insert(&self, appointment: &Appointment) -> Result<Option<()>, InsertError> {
        let range = appointment.range();
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_sdk(&AppointmentItem::new(appointment))?))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                )
                .build(),
        ];
        let mut overlapping = Vec::new();
        for day in days_of(&range) {
            let pk = practitioner_pk(&appointment.practitioner_id);
            let stored: Option<AgendaDayItem> = self
                .get(pk, &day_sk(day))
                .await?
                .map(from_sdk)
                .transpose()?;
            let existed = stored.is_some();
            let mut agenda_day =
                stored.unwrap_or_else(|| AgendaDayItem::empty(&appointment.practitioner_id, day));
            overlapping.extend(agenda_day.overlapping(range));
            let previous = agenda_day.revision;
            agenda_day.revision += 1;
            agenda_day.booked.insert(appointment.id.to_string(), range);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_sdk(&agenda_day)?));
            let put = if existed {
                put.condition_expression("revision = :revision")
                    .expression_attribute_values(
                        ":revision",
                        AttributeValue::N(previous.to_string()),
                    )
            } else {
                put.condition_expression("attribute_not_exists(pk)")
            };
            writes.push(
                TransactWriteItem::builder()
                    .put(
                        put.build()
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    )
                    .build(),
            );
        }
        if !overlapping.is_empty() {
            overlapping.sort();
            overlapping.dedup();
            return Err(InsertError::Overlap(overlapping));
        }
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
                    Err(unavailable(e).into())
                }
            }
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
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

    async fn insert_appointment(&self, appointment: &Appointment) -> Result<(), InsertError> {
        for _ in 0..BOOKING_ATTEMPTS {
            if self.try_insert(appointment).await?.is_some() {
                return Ok(());
            }
        }
        Err(StoreError::Contention.into())
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
        let items: Vec<SdkItem> = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(practitioner_pk(practitioner)))
            .expression_attribute_values(":lo", s(sortable(lowest_start)))
            .expression_attribute_values(":hi", s(sortable(range.end)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(unavailable)?;
        let mut found = Vec::new();
        for item in items {
            let appointment = from_sdk::<AppointmentItem>(item)?.appointment;
            if appointment.range().overlaps(&range) {
                found.push(appointment);
            }
        }
        Ok(found)
    }

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
                "attribute_not_exists(pk) OR (message_state = :claimed AND claimed_at <= :expired)",
            )
            .expression_attribute_values(":claimed", s("claimed"))
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
        entry: &CommunicationEntry,
    ) -> Result<(), StoreError> {
        let mut item = MessageItem::claimed(key, entry.at);
        item.message_state = MessageState::Settled;
        item.entry = Some(entry.clone());
        self.put(to_sdk(&item)?).await
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
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
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
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
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
        let mut entries = Vec::new();
        for item in items {
            if let Some(entry) = from_sdk::<MessageItem>(item)?.entry {
                entries.push(entry);
            }
        }
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }

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
