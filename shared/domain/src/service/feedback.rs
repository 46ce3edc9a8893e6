//! Delivery feedback (SPEC §5): what the provider reports after it accepted a
//! message moves its log entry to `delivered`, `bounced`, `complained`,
//! `undelivered` (or `failed`), once per change, in any order of arrival.

// The report is a value of the log (`communications`), where `messages::wording`
// reads it too: re-exported so that callers keep their paths.
use crate::communications::{CommunicationEntry, CommunicationEvent, DeliveryState};
pub use crate::communications::{DeliveryReport, ReportedOutcome};
use crate::ids::PractitionerId;
use crate::messages::wording;
use crate::ports::{
    AgendaStore, Clock, EventPublisher, LoggedMessage, MessageLog, PublishError, SettingsStore,
    Store, StoreError,
};
use chrono::Duration;
use std::sync::Arc;

/// Feedback naming a message no log holds is retried this long after the
/// provider accepted it: the entry is written just after the send, and the
/// index that finds it follows within a second. Later, it is a message of
/// another sender of the account (SNS logs every SMS of the account) and is
/// dropped.
pub const UNKNOWN_MESSAGE_RETRY: Duration = Duration::minutes(15);

/// How many times a report is applied again when the entry changed between
/// the read and the conditional write (two reports of one message at once).
const ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// No log holds the message yet: report it again later.
    #[error("no communications log holds this message yet")]
    NotLoggedYet,
    #[error("the message's entry kept changing; try again")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The entry moved to this (and its event was published).
    Changed(CommunicationEntry),
    /// The entry already told as much or worse (a duplicate, or news that
    /// arrived out of order): it stays in this state.
    Unchanged(DeliveryState),
    /// No log holds the message, long after it was sent: not ours.
    UnknownMessage,
}

pub struct DeliveryFeedback<S: ?Sized = dyn Store> {
    pub store: Arc<S>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
}

impl<S: ?Sized> Clone for DeliveryFeedback<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            events: self.events.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<S: MessageLog + AgendaStore + SettingsStore + ?Sized> DeliveryFeedback<S> {
    /// Applies one report to the message it names: the entry moves by
    /// [`DeliveryState::after_feedback`] and one event is published per
    /// change. A report applied again changes nothing, but publishes the
    /// entry's event if an earlier attempt stopped before it did.
    pub async fn record(&self, report: &DeliveryReport) -> Result<Recorded, FeedbackError> {
        for _ in 0..ATTEMPTS {
            let Some(logged) = self.store.message_sent_as(&report.message_id).await? else {
                if self.clock.now() - report.sent_at < UNKNOWN_MESSAGE_RETRY {
                    return Err(FeedbackError::NotLoggedYet);
                }
                tracing::warn!(message_id = %report.message_id, "feedback for a message no log holds: dropped");
                return Ok(Recorded::UnknownMessage);
            };
            // Whose appointment: the event names the practitioner, the log's
            // reasons are written in the practitioner's language.
            let practitioner = self
                .store
                .appointment(&logged.practitioner, &logged.key.appointment_id)
                .await?
                .map(|a| a.practitioner_id);
            let Some(state) = logged.entry.state.after_feedback(report.outcome.state()) else {
                if !logged.published {
                    self.publish(&logged, practitioner).await?;
                }
                tracing::info!(appointment = %logged.key.appointment_id, message = %logged.key, state = ?logged.entry.state, reported = ?report.outcome, "feedback changes nothing");
                return Ok(Recorded::Unchanged(logged.entry.state));
            };
            let language = match &practitioner {
                Some(id) => self.store.settings(id).await?.map(|s| s.language),
                None => None,
            }
            .unwrap_or_default();
            let entry = CommunicationEntry {
                state,
                reason: wording::delivery_feedback(report.outcome, language).map(str::to_string),
                reason_code: report.outcome.code().map(str::to_string),
                ..logged.entry.clone()
            };
            if !self
                .store
                .record_feedback(&logged.key, logged.entry.state, &entry)
                .await?
            {
                continue; // another report moved it meanwhile: decide again
            }
            tracing::info!(appointment = %logged.key.appointment_id, message = %logged.key, from = ?logged.entry.state, to = ?state, "delivery feedback recorded");
            let changed = LoggedMessage {
                entry: entry.clone(),
                published: false,
                ..logged
            };
            self.publish(&changed, practitioner).await?;
            return Ok(Recorded::Changed(entry));
        }
        Err(FeedbackError::Contention)
    }

    async fn publish(
        &self,
        logged: &LoggedMessage,
        practitioner: Option<PractitionerId>,
    ) -> Result<(), FeedbackError> {
        let Some(practitioner_id) = practitioner else {
            // The appointment is gone (never, today): nobody reads its log.
            return Ok(());
        };
        self.events
            .publish(&CommunicationEvent {
                practitioner_id,
                appointment_id: logged.key.appointment_id,
                message: logged.key.to_string(),
                // A provider's report: nobody of the practice or the patient.
                by: crate::grants::Actor::System,
                entry: logged.entry.clone(),
            })
            .await?;
        self.store.mark_published(&logged.key).await?;
        Ok(())
    }
}
