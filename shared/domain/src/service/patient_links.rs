//! What a patient can do from the links of the latest confirmation e-mail
//! (SPEC §4.2, §6.4): see the appointment, see free slots, cancel, move.
//!
//! Opening a link reads and never writes (e-mail scanners open links). An
//! action re-checks every condition at the moment it is posted, and writes the
//! appointment's next version only if nobody changed it meanwhile; that new
//! version kills every earlier link at once.

use super::availability;
use crate::appointment::{Appointment, Change, Status};
use crate::contact::Language;
pub use crate::links::Gone;
use crate::links::{LinkGrant, LinkPurpose, LinkToken};
use crate::ports::{AgendaStore, Clock, InsertError, LinkStore, SettingsStore, Store, StoreError};
use crate::rules::confirmation::{self, Confirmation};
pub use crate::rules::online_change::Refusal;
use crate::rules::online_change::{WhyNot, patient_may_change_online, patient_may_rebook_online};
use crate::settings::{PractitionerSettings, Reason};
use crate::time::{RequestedTime, TimeRange, WindowRequest};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Slots are shown a week at a time, and never more than a month at once.
const DEFAULT_SLOT_DAYS: i64 = 7;
const MAX_SLOT_DAYS: i64 = 31;

/// A link that leads somewhere: its grant, the appointment and the practitioner.
#[derive(Debug, Clone)]
pub struct Linked {
    pub grant: LinkGrant,
    pub appointment: Appointment,
    pub settings: PractitionerSettings,
}

impl Linked {
    pub fn language(&self) -> Language {
        self.appointment.language(&self.settings)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Malformed, made up, or for another purpose: nothing to say about it.
    #[error("unknown link")]
    Unknown,
    /// A real link that no longer works; what it was for is known, so the page
    /// can speak the patient's language and give the secretariat's phone.
    #[error("link no longer valid: {1:?}")]
    Gone(Box<Linked>, Gone),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The `from` / `to` of a slots request cannot be read.
    #[error("invalid fields")]
    Invalid(Vec<crate::validation::FieldError>),
    #[error("refused: {why:?}")]
    Refused { linked: Box<Linked>, why: Refusal },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The free slots a patient may move to, and why none when moving is not allowed.
#[derive(Debug, Clone)]
pub struct MoveOffer {
    pub window: TimeRange,
    pub slots: Vec<TimeRange>,
    pub not_allowed: Option<WhyNot>,
    /// When the offer was made: nothing earlier is offered.
    pub now: DateTime<Utc>,
}

/// Clones share the store and clock.
impl<S: ?Sized> Clone for PatientLinks<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
        }
    }
}

pub struct PatientLinks<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
}

impl<S: SettingsStore + AgendaStore + LinkStore + ?Sized> PatientLinks<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Follows a link of `purpose`: only the latest link of an appointment,
    /// before the appointment is over, leads to it.
    pub async fn open(&self, token: &LinkToken, purpose: LinkPurpose) -> Result<Linked, LinkError> {
        let grant = self
            .store
            .link(&token.hash())
            .await?
            .filter(|g| g.purpose == purpose)
            .ok_or(LinkError::Unknown)?;
        let appointment = self
            .store
            .appointment(&grant.practitioner_id, &grant.appointment_id)
            .await?
            .ok_or(LinkError::Unknown)?;
        let settings = self
            .store
            .settings(&appointment.practitioner_id)
            .await?
            .ok_or(LinkError::Unknown)?;
        let linked = Linked {
            grant,
            appointment,
            settings,
        };
        if linked.appointment.links_version() != linked.grant.version {
            let gone = Gone::after_change(linked.grant.purpose, linked.appointment.status);
            return Err(LinkError::Gone(Box::new(linked), gone));
        }
        if self.now() >= linked.grant.expires_at {
            return Err(LinkError::Gone(Box::new(linked), Gone::Expired));
        }
        Ok(linked)
    }

    /// Whether the patient may still change the appointment, right now.
    /// `Ok`: the appointment's reason, which the offered slots are made of.
    pub fn may_change<'l>(&self, linked: &'l Linked) -> Result<&'l Reason, WhyNot> {
        patient_may_change_online(&linked.settings, &linked.appointment, self.now())
    }

    /// Whether a confirmation e-mail (with new links) follows the change the
    /// patient just made: the confirmation rule, decided now (SPEC §4.1).
    pub fn confirmation_follows(&self, linked: &Linked) -> bool {
        matches!(
            confirmation::decide(&linked.settings, &linked.appointment, self.now()),
            Confirmation::Send { .. }
        )
    }

    /// The slots the patient may move to within `from`..`to` (a week by default).
    pub async fn move_offer(
        &self,
        linked: &Linked,
        window: WindowRequest,
    ) -> Result<MoveOffer, ActionError> {
        let allowed = self.may_change(linked);
        self.offer(linked, window, allowed, Some(linked.appointment.id))
            .await
    }

    /// The slots a patient whose appointment was cancelled by the practice may
    /// book instead (SPEC §4.4).
    pub async fn rebook_offer(
        &self,
        linked: &Linked,
        window: WindowRequest,
    ) -> Result<MoveOffer, ActionError> {
        let allowed = patient_may_rebook_online(&linked.settings, &linked.appointment);
        self.offer(linked, window, allowed, None).await
    }

    async fn offer(
        &self,
        linked: &Linked,
        window: WindowRequest,
        allowed: Result<&Reason, WhyNot>,
        moving: Option<crate::ids::AppointmentId>,
    ) -> Result<MoveOffer, ActionError> {
        let now = self.now();
        let window = super::booking::requested_range(
            window,
            linked.settings.timezone,
            now,
            DEFAULT_SLOT_DAYS,
            MAX_SLOT_DAYS,
        )
        .map_err(ActionError::Invalid)?;
        let reason = match allowed {
            Ok(reason) => reason,
            Err(why) => {
                return Ok(MoveOffer {
                    window,
                    slots: Vec::new(),
                    not_allowed: Some(why),
                    now,
                });
            }
        };
        let slots = availability::free_slots(
            self.store.as_ref(),
            &linked.settings,
            reason,
            window,
            now,
            moving,
        )
        .await?
        .into_iter()
        .filter(|slot| !is_its_own_time(linked, moving, slot))
        .collect();
        Ok(MoveOffer {
            window,
            slots,
            not_allowed: None,
            now,
        })
    }

    /// Books a replacement at the offered slot `start` for an appointment the
    /// practice cancelled: a new booked appointment that `replaces` it, the
    /// old one `rebooked`, in one step. The link works once: the old
    /// appointment's new version kills it.
    pub async fn rebook(
        &self,
        linked: Linked,
        start: RequestedTime,
    ) -> Result<(Linked, Appointment), ActionError> {
        let allowed = patient_may_rebook_online(&linked.settings, &linked.appointment);
        let slot = self.chosen_slot(&linked, allowed, start, None).await?;
        let now = self.now();
        let old = &linked.appointment;
        let replacement = Appointment {
            id: crate::ids::AppointmentId::new(),
            practitioner_id: old.practitioner_id.clone(),
            reason_id: old.reason_id.clone(),
            start: slot.start,
            end: slot.end,
            patient: old.patient.clone(),
            status: Status::Booked,
            source: crate::appointment::Source::Online,
            version: 1,
            replaces: Some(old.id),
            last_change: Change::Created,
            created_at: now,
            updated_at: now,
            links_version: None,
            by: crate::history::Actor::Patient,
        };
        let mut rebooked = old.next_version(Change::Rebooked, now);
        rebooked.status = Status::Rebooked;
        match self
            .store
            .rebook(old.version, &rebooked, &replacement)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    appointment = %replacement.id,
                    replaces = %old.id,
                    "replacement booked by the patient"
                );
                Ok((
                    Linked {
                        appointment: rebooked,
                        ..linked
                    },
                    replacement,
                ))
            }
            Err(refused) => Err(write_refused(linked, refused)),
        }
    }

    /// Cancels the appointment (status `cancelled_by_patient`); the
    /// cancellation e-mail follows from the stream.
    pub async fn cancel(&self, linked: Linked) -> Result<Linked, ActionError> {
        self.allowed(&linked)?;
        let mut next = linked.appointment.clone();
        next.status = Status::CancelledByPatient;
        self.write(linked, next, Change::CancelledByPatient).await
    }

    /// Moves the appointment to the offered slot starting at `start`; the new
    /// confirmation, with new links, follows from the stream.
    pub async fn move_to(
        &self,
        linked: Linked,
        start: RequestedTime,
    ) -> Result<Linked, ActionError> {
        let allowed = self.may_change(&linked);
        let slot = self
            .chosen_slot(&linked, allowed, start, Some(linked.appointment.id))
            .await?;
        let mut next = linked.appointment.clone();
        next.start = slot.start;
        next.end = slot.end;
        self.write(linked, next, Change::MovedByPatient).await
    }

    /// The slot the patient posted, re-checked now: the action is still
    /// `allowed`, and `start` is one of the slots offered at this moment.
    async fn chosen_slot(
        &self,
        linked: &Linked,
        allowed: Result<&Reason, WhyNot>,
        start: RequestedTime,
        moving: Option<crate::ids::AppointmentId>,
    ) -> Result<TimeRange, ActionError> {
        let refuse = |why| ActionError::Refused {
            linked: Box::new(linked.clone()),
            why,
        };
        let reason = allowed.map_err(|why| refuse(Refusal::NotAllowed(why)))?;
        let start = start
            .resolve(linked.settings.timezone)
            .map_err(|_| refuse(Refusal::InvalidStart))?;
        availability::offered_slot(
            self.store.as_ref(),
            &linked.settings,
            reason,
            start,
            self.now(),
            moving,
        )
        .await?
        .filter(|slot| !is_its_own_time(linked, moving, slot))
        .ok_or_else(|| refuse(Refusal::SlotNotOffered))
    }

    fn allowed(&self, linked: &Linked) -> Result<(), ActionError> {
        self.may_change(linked)
            .map(|_| ())
            .map_err(|why| ActionError::Refused {
                linked: Box::new(linked.clone()),
                why: Refusal::NotAllowed(why),
            })
    }

    async fn write(
        &self,
        linked: Linked,
        next: Appointment,
        change: Change,
    ) -> Result<Linked, ActionError> {
        let next = Appointment {
            start: next.start,
            end: next.end,
            status: next.status,
            ..linked.appointment.next_version(change, self.now())
        };
        match self
            .store
            .update_appointment(linked.appointment.version, &next)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    appointment = %next.id,
                    version = next.version,
                    change = ?change,
                    "appointment changed by the patient"
                );
                Ok(Linked {
                    appointment: next,
                    ..linked
                })
            }
            Err(refused) => Err(write_refused(linked, refused)),
        }
    }
}
/// What a refused write of a patient's action means for the patient.
fn write_refused(linked: Linked, refused: InsertError) -> ActionError {
    match refused {
        InsertError::Overlap(_) | InsertError::Absent => ActionError::Refused {
            linked: Box::new(linked),
            why: Refusal::SlotTaken,
        },
        // Changed between our read and our write: this link is now stale.
        InsertError::Stale => {
            let gone = Gone::after_change(linked.grant.purpose, linked.appointment.status);
            LinkError::Gone(Box::new(linked), gone).into()
        }
        InsertError::Store(e) => e.into(),
    }
}

/// Moving an appointment to the time it already has is not a move: the slot
/// is not offered (it would send an identical confirmation and kill the
/// patient's links for nothing).
fn is_its_own_time(
    linked: &Linked,
    moving: Option<crate::ids::AppointmentId>,
    slot: &TimeRange,
) -> bool {
    moving.is_some() && slot.start == linked.appointment.start
}
