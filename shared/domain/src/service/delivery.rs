//! Delivering one message exactly once: claim it, decide, send, log, publish.
//!
//! Every sender goes through [`Delivery::deliver`], so the guarantees of SPEC §7
//! live in one place: a message key is claimed with a conditional write before
//! anything is sent, so a record delivered twice, or two overlapping workers,
//! send it once; a send that fails for a passing reason gives the claim back
//! and the caller reports the record for retry, so nothing is lost.

use crate::appointment::Appointment;
use crate::communications::{CommunicationEntry, CommunicationEvent, DeliveryState, MessageKey};
use crate::grants::Actor;
use crate::ids::PractitionerId;
use crate::links::{LinkGrant, TokenHash};
use crate::messages::{OutgoingEmail, OutgoingSms, wording};
use crate::ports::{
    AgendaStore, Claim, Clock, EventPublisher, LinkStore, Mailer, MessageLog, SendError,
    SettingsStore, SmsSender, Store, StoreError,
};
use crate::rules::SkipReason;
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// A claim older than this belongs to a worker that died mid-send and may be
/// taken over. Well above the senders' timeout in template.yaml (15 s), so a
/// live worker is never overtaken.
pub const CLAIM_LEASE: Duration = Duration::minutes(2);

/// A message called for by a change and still refused for a passing reason
/// (throttling, an outage) this long after the change is logged `failed`
/// instead of retried: the secretariat learns the patient was not told while
/// it can still phone. The stream event sources retry until a record is an
/// hour old (template.yaml), so this attempt always comes (docs/decisions.md).
pub const GIVE_UP_AFTER: Duration = Duration::minutes(30);

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("another worker is sending this message")]
    InFlight,
    #[error("the message could not be sent now: {0}")]
    SendLater(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] crate::ports::PublishError),
}

/// What to do with a message, decided on the appointment as it stands now.
pub enum Outcome {
    /// Send this e-mail; the links it carries are stored first so they work
    /// as soon as it arrives.
    Email {
        email: OutgoingEmail,
        links: Vec<(TokenHash, LinkGrant)>,
    },
    /// Send this SMS; the links it carries are stored first.
    Sms {
        sms: OutgoingSms,
        links: Vec<(TokenHash, LinkGrant)>,
    },
    Skip(SkipReason),
    /// Not now: nothing is logged and the claim is given back, so the message
    /// can be delivered later (a reminder whose time moved).
    Defer,
    /// Held until this time (quiet hours): logged `scheduled`, and the claim
    /// is left for whoever sends it then. The caller puts the due entry.
    Hold(DateTime<Utc>),
}

/// What became of a message handed to [`Delivery::deliver_current`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Decided now (sent, skipped or failed) and logged.
    Decided(CommunicationEntry),
    /// Decided earlier, by this worker or another one.
    AlreadyDecided,
    /// `compose` answered [`Outcome::Defer`].
    Deferred,
    /// `compose` answered [`Outcome::Hold`]: logged `scheduled` until then.
    Held(DateTime<Utc>),
}

/// What a message goes out through. `S` is the store: the settings, the
/// appointment, the communications log and the links are what delivery uses.
pub struct Delivery<S: ?Sized = dyn Store> {
    pub store: Arc<S>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
}

/// Clones share every adapter.
impl<S: ?Sized> Clone for Delivery<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            mailer: self.mailer.clone(),
            sms: self.sms.clone(),
            events: self.events.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<S: SettingsStore + AgendaStore + MessageLog + LinkStore + ?Sized> Delivery<S> {
    /// Delivers the message `key` about `appointment` (as the triggering record saw
    /// it). `compose` decides, given the current settings and appointment.
    pub async fn deliver<F>(
        &self,
        key: MessageKey,
        appointment: &Appointment,
        compose: F,
    ) -> Result<Delivered, DeliveryError>
    where
        F: FnOnce(&PractitionerSettings, &Appointment, DateTime<Utc>) -> Outcome,
    {
        self.deliver_current(
            key,
            &appointment.practitioner_id,
            Some(appointment.version),
            Some(appointment.updated_at),
            compose,
        )
        .await
    }

    /// Delivers the message `key` about the appointment as it stands when the
    /// claim is granted: whatever its version for messages that no one change
    /// called for (reminders), or only `expected_version` of it for a message held
    /// since its change (a cancellation SMS held through quiet hours).
    /// `compose` sees the current appointment and settings. `called_at`: when
    /// the change that called for it was made, if one did (then
    /// [`GIVE_UP_AFTER`] applies).
    pub async fn deliver_current<F>(
        &self,
        key: MessageKey,
        practitioner: &PractitionerId,
        expected_version: Option<u32>,
        called_at: Option<DateTime<Utc>>,
        compose: F,
    ) -> Result<Delivered, DeliveryError>
    where
        F: FnOnce(&PractitionerSettings, &Appointment, DateTime<Utc>) -> Outcome,
    {
        let now = self.clock.now();
        match self.store.claim_message(&key, now, CLAIM_LEASE).await? {
            Claim::Granted => {}
            Claim::Settled {
                published: true, ..
            } => {
                tracing::info!(appointment = %key.appointment_id, message = %key, "already delivered");
                return Ok(Delivered::AlreadyDecided);
            }
            Claim::Settled {
                entry,
                published: false,
            } => {
                // Its event was lost: sent again, with the actor it names.
                let by = self
                    .store
                    .appointment(practitioner, &key.appointment_id)
                    .await?
                    .map(|a| a.by)
                    .unwrap_or_default();
                self.publish(&key, practitioner, entry, by).await?;
                return Ok(Delivered::AlreadyDecided);
            }
            Claim::InFlight => return Err(DeliveryError::InFlight),
        }

        let settings = self.store.settings(practitioner).await?;
        let current = self
            .store
            .appointment(practitioner, &key.appointment_id)
            .await?;
        let language = settings.as_ref().map(|s| s.language).unwrap_or_default();
        // The log entry is kept as long as its appointment.
        let appointment_end = current.as_ref().map_or(now, |a| a.end);
        let outcome = match (&settings, &current) {
            (None, _) => Outcome::Skip(SkipReason::PractitionerUnknown),
            (_, None) => Outcome::Skip(SkipReason::AppointmentNoLongerBooked),
            (Some(_), Some(current)) if expected_version.is_some_and(|v| v != current.version) => {
                Outcome::Skip(SkipReason::SupersededByLaterChange)
            }
            (Some(settings), Some(current)) => compose(settings, current, now),
        };

        let sent = match outcome {
            Outcome::Skip(reason) => Err(reason),
            Outcome::Defer => {
                self.store.release_message(&key).await?;
                return Ok(Delivered::Deferred);
            }
            Outcome::Hold(until) => {
                let entry = CommunicationEntry {
                    kind: key.kind,
                    channel: key.channel,
                    state: DeliveryState::Scheduled,
                    reason: Some(wording::held_through_quiet_hours(language).to_string()),
                    reason_code: Some("quiet_hours".into()),
                    message_id: None,
                    at: until,
                };
                self.store
                    .hold_message(&key, practitioner, &entry, appointment_end)
                    .await?;
                tracing::info!(appointment = %key.appointment_id, message = %key, %until, "message held through quiet hours");
                self.publish(&key, practitioner, entry, by_of(&current))
                    .await?;
                return Ok(Delivered::Held(until));
            }
            Outcome::Email { email, links } => {
                self.store_links(&links).await?;
                Ok(self.mailer.send(&email).await)
            }
            Outcome::Sms { sms, links } => {
                self.store_links(&links).await?;
                Ok(self.sms.send_sms(&sms).await)
            }
        };
        let entry = match sent {
            Err(reason) => CommunicationEntry {
                kind: key.kind,
                channel: key.channel,
                state: DeliveryState::Skipped,
                reason: Some(wording::skip_reason(reason, language).to_string()),
                reason_code: Some(reason.code().to_string()),
                message_id: None,
                at: now,
            },
            Ok(sent) => match sent {
                Ok(id) => CommunicationEntry {
                    kind: key.kind,
                    channel: key.channel,
                    state: DeliveryState::Sent,
                    reason: None,
                    reason_code: None,
                    message_id: Some(id.0).filter(|id| !id.is_empty()),
                    at: self.clock.now(),
                },
                Err(SendError::Rejected(detail)) => {
                    tracing::warn!(appointment = %key.appointment_id, message = %key, %detail, "message refused");
                    CommunicationEntry {
                        kind: key.kind,
                        channel: key.channel,
                        state: DeliveryState::Failed,
                        reason: Some(wording::refused_by_provider(language).to_string()),
                        reason_code: Some("refused_by_provider".into()),
                        message_id: None,
                        at: self.clock.now(),
                    }
                }
                Err(SendError::Unavailable(detail)) => {
                    let now = self.clock.now();
                    if !called_at.is_some_and(|at| gives_up(at, now)) {
                        self.store.release_message(&key).await?;
                        return Err(DeliveryError::SendLater(detail));
                    }
                    tracing::error!(appointment = %key.appointment_id, message = %key, %detail, "sending service unavailable for too long: message failed");
                    CommunicationEntry {
                        kind: key.kind,
                        channel: key.channel,
                        state: DeliveryState::Failed,
                        reason: Some(
                            wording::unavailable_too_long(key.channel, language).to_string(),
                        ),
                        reason_code: Some("service_unavailable_too_long".into()),
                        message_id: None,
                        at: now,
                    }
                }
            },
        };
        self.store
            .settle_message(&key, practitioner, &entry, appointment_end)
            .await?;
        tracing::info!(
            appointment = %key.appointment_id,
            message = %key,
            state = ?entry.state,
            reason = entry.reason_code.as_deref().unwrap_or("-"),
            "message decided"
        );
        self.publish(&key, practitioner, entry.clone(), by_of(&current))
            .await?;
        Ok(Delivered::Decided(entry))
    }

    /// Links are stored before the message leaves, so they work when it arrives.
    async fn store_links(&self, links: &[(TokenHash, LinkGrant)]) -> Result<(), StoreError> {
        for (hash, grant) in links {
            self.store.put_link(hash, grant).await?;
        }
        Ok(())
    }

    async fn publish(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: CommunicationEntry,
        by: Actor,
    ) -> Result<(), DeliveryError> {
        let event = CommunicationEvent {
            practitioner_id: practitioner.clone(),
            appointment_id: key.appointment_id,
            message: key.to_string(),
            by,
            entry,
        };
        self.events.publish(&event).await?;
        self.store.mark_published(key).await?;
        Ok(())
    }
}

/// The actor of the appointment's version a message was decided on.
fn by_of(current: &Option<Appointment>) -> Actor {
    current.as_ref().map(|a| a.by.clone()).unwrap_or_default()
}

/// Whether a message called for at `called_for` and still not sendable at
/// `now` is given up (logged `failed`) rather than retried.
pub fn gives_up(called_for: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - called_for >= GIVE_UP_AFTER
}
