//! DynamoDB stream records, as Lambda delivers them to the senders: decoding
//! appointment changes and reporting partial batch failures.

use crate::item::{AppointmentItem, RetimingItem, SettingsItem, kind};
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use domain::appointment::Appointment;
use domain::appointment::AppointmentChange;
use domain::settings::PractitionerSettings;
use serde_dynamo::{AttributeValue, Item};
use std::future::Future;

fn is_appointment(image: &Item) -> bool {
    matches!(image.inner().get("type"), Some(AttributeValue::S(t)) if t == kind::APPOINTMENT)
}

fn decode_image(image: &Item) -> Result<Option<Appointment>, serde_dynamo::Error> {
    if image.inner().is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item::<_, AppointmentItem>(image.clone()).map(|i| Some(i.appointment))
}

/// `None` for records of other items (settings, messages, links...).
pub fn appointment_change(
    record: &EventRecord,
) -> Result<Option<AppointmentChange>, serde_dynamo::Error> {
    let images = &record.change;
    if !is_appointment(&images.new_image) && !is_appointment(&images.old_image) {
        return Ok(None);
    }
    Ok(Some(AppointmentChange {
        old: decode_image(&images.old_image)?,
        new: decode_image(&images.new_image)?,
    }))
}

/// Hands each appointment change of the batch to `handle`, in stream order. At the
/// first failure it stops and reports that record: Lambda retries the batch from
/// there, so later changes of the same appointment never overtake it.
pub async fn process_in_order<F, Fut, E>(event: Event, handle: F) -> DynamoDbEventResponse
where
    F: FnMut(AppointmentChange) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    process_records_in_order(event, appointment_change, handle).await
}

/// The same for any kind of record `decode` reads (`Ok(None)`: not for this
/// handler). An unreadable image cannot be repaired by a retry: it is logged
/// and skipped.
pub async fn process_records_in_order<T, D, F, Fut, E>(
    event: Event,
    decode: D,
    mut handle: F,
) -> DynamoDbEventResponse
where
    D: Fn(&EventRecord) -> Result<Option<T>, serde_dynamo::Error>,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        record_age(&record);
        let sequence = record.change.sequence_number.clone();
        let change = match decode(&record) {
            Ok(Some(change)) => change,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(
                    error = %crate::telemetry::redact(&e.to_string()),
                    sequence = ?sequence,
                    "unreadable image skipped"
                );
                continue;
            }
        };
        if let Err(e) = handle(change).await {
            tracing::warn!(error = %e, sequence = ?sequence, "record will be retried");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence;
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// How old the change was when read (`StreamRecordAge`); records without
/// their creation time (unset: the epoch) tell nothing.
fn record_age(record: &EventRecord) {
    let created = record.change.approximate_creation_date_time;
    if created.timestamp() > 0 {
        crate::metrics::stream_record_age(chrono::Utc::now() - created);
    }
}

/// One stream record as the reminder scheduler reads it: an appointment
/// changed, or a practitioner's settings were saved.
pub enum TableChange {
    Appointment(Box<AppointmentChange>),
    Settings(Box<PractitionerSettings>),
    /// A piece of re-timing to do (what is left after a settings change).
    Retiming(Box<domain::reminder::Retiming>),
}

fn item_type(record: &EventRecord) -> Option<&str> {
    [&record.change.new_image, &record.change.old_image]
        .into_iter()
        .find_map(|image| match image.inner().get("type") {
            Some(AttributeValue::S(t)) => Some(t.as_str()),
            _ => None,
        })
}

/// `None` for records of other items (messages, links, due entries...).
pub fn table_change(record: &EventRecord) -> Result<Option<TableChange>, serde_dynamo::Error> {
    match item_type(record) {
        Some(kind::APPOINTMENT) => {
            Ok(appointment_change(record)?.map(|c| TableChange::Appointment(Box::new(c))))
        }
        Some(kind::SETTINGS) if !record.change.new_image.inner().is_empty() => {
            let item: SettingsItem = serde_dynamo::from_item(record.change.new_image.clone())?;
            Ok(Some(TableChange::Settings(Box::new(item.settings))))
        }
        Some(kind::RETIME) if !record.change.new_image.inner().is_empty() => {
            let item: RetimingItem = serde_dynamo::from_item(record.change.new_image.clone())?;
            Ok(Some(TableChange::Retiming(Box::new(item.retiming))))
        }
        _ => Ok(None),
    }
}

/// A Lambda fed the table's stream that hands each appointment change, in
/// stream order, to its sender (the confirmation and cancellation senders).
pub struct ChangeFunction<S: ?Sized> {
    sender: std::sync::Arc<S>,
}

impl<S: ?Sized> Clone for ChangeFunction<S> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
        }
    }
}

impl<S: domain::service::OnAppointmentChange> ChangeFunction<S> {
    pub fn new(sender: S) -> Self {
        Self {
            sender: std::sync::Arc::new(sender),
        }
    }

    /// Reports the records to retry (partial batch failure), never fails the
    /// whole batch.
    pub async fn handle(
        &self,
        event: lambda_runtime::LambdaEvent<Event>,
    ) -> Result<DynamoDbEventResponse, std::convert::Infallible> {
        Ok(process_in_order(event.payload, |change| self.sender.on_change(change)).await)
    }
}
