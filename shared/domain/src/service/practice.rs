//! Changes the practitioner side makes to booked appointments (SPEC §3, §4.4,
//! §4.5, §6.2): time, reason and contact, status changes and absences. The patient is told by the
//! cancellation sender, from the stream, when the change asks for it.

use super::booking::{AppointmentDetails, BookingError, BookingService};
use crate::absence::{Absence, AbsenceRequest, CoveredAppointments};
use crate::appointment::{Appointment, AppointmentPatch, Change, Status};
use crate::history::Actor;
use crate::ids::{AppointmentId, PractitionerId};
use crate::ports::{AgendaStore, Clock, InsertError, MessageLog, SettingsStore, Store, StoreError};
use crate::rules::status::{PractitionerStatus, Transition, transition};
use serde::Deserialize;
use std::sync::Arc;

/// How many times a change re-reads and retries when the appointment changed
/// between its read and its write (a patient acting at the same moment).
const ATTEMPTS: usize = 3;

/// An absence placed over booked appointments is placed after moving them;
/// a booking that slips in meanwhile is moved in the next round.
const ABSENCE_ROUNDS: usize = 5;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusRequest {
    pub status: PractitionerStatus,
    #[serde(default)]
    pub send_cancellation_sms: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PracticeError {
    #[error(transparent)]
    Booking(#[from] BookingError),
    #[error("an appointment {from:?} cannot be set to {to:?}")]
    NotAllowed { from: Status, to: Status },
    #[error("booked appointments are inside the absence")]
    Covered(Vec<AppointmentId>),
    #[error("an appointment {0:?} cannot be changed")]
    NotBooked(Status),
}

impl From<StoreError> for PracticeError {
    fn from(e: StoreError) -> Self {
        Self::Booking(e.into())
    }
}

/// An absence now in the agenda, and the booked appointments it set to
/// reschedule on its way in.
#[derive(Debug, Clone)]
pub struct PlacedAbsence {
    pub absence: Absence,
    pub affected: Vec<AppointmentId>,
    /// The practitioner's zone, to show the absence's times in.
    pub zone: crate::time::Zone,
}

pub struct PracticeService<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    booking: BookingService<S>,
}

/// Clones share the store and clock.
impl<S: ?Sized> Clone for PracticeService<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            booking: self.booking.clone(),
        }
    }
}

impl<S: SettingsStore + AgendaStore + MessageLog + ?Sized> PracticeService<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self {
            booking: BookingService::new(store.clone(), clock.clone()),
            store,
            clock,
        }
    }

    pub async fn set_status(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
        request: &StatusRequest,
        by: &Actor,
    ) -> Result<AppointmentDetails, PracticeError> {
        let settings = self.booking.settings(practitioner).await?;
        for _ in 0..ATTEMPTS {
            let current = self.practitioners_appointment(practitioner, id).await?;
            let next = match transition(
                current.status,
                request.status,
                request.send_cancellation_sms,
            ) {
                None => {
                    return Err(PracticeError::NotAllowed {
                        from: current.status,
                        to: request.status.status(),
                    });
                }
                Some(Transition::Unchanged) => current.clone(),
                Some(Transition::To(status, change)) => {
                    let next = self.next_version(&current, status, change, by);
                    match self.store.update_appointment(current.version, &next).await {
                        Ok(()) => next,
                        Err(InsertError::Stale) => continue,
                        Err(other) => return Err(BookingError::from(other).into()),
                    }
                }
            };
            let communications = self.store.communications(practitioner, id).await?;
            return Ok(self.booking.details(&next, &settings, communications));
        }
        Err(StoreError::Contention.into())
    }

    /// Changes a booked appointment's time, reason or patient contact (SPEC
    /// §4.5). The new version is written against the one read, and read
    /// again when someone changed it meanwhile; what the patient is sent
    /// follows from the stream.
    pub async fn change(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
        patch: &AppointmentPatch,
        by: &Actor,
    ) -> Result<AppointmentDetails, PracticeError> {
        let settings = self.booking.settings(practitioner).await?;
        for _ in 0..ATTEMPTS {
            let current = self.practitioners_appointment(practitioner, id).await?;
            if !current.status.is_booked() {
                return Err(PracticeError::NotBooked(current.status));
            }
            let next = match patch
                .apply(&current, &settings, self.clock.now())
                .map_err(BookingError::Invalid)?
                .map(|next| next.made_by(by))
            {
                None => current,
                Some(next) => match self.store.update_appointment(current.version, &next).await {
                    Ok(()) => {
                        tracing::info!(
                            practitioner = %practitioner,
                            appointment = %next.id,
                            version = next.version,
                            change = ?next.last_change,
                            "appointment changed by the practice"
                        );
                        next
                    }
                    Err(InsertError::Stale) => continue,
                    Err(other) => return Err(BookingError::from(other).into()),
                },
            };
            let communications = self.store.communications(practitioner, id).await?;
            return Ok(self.booking.details(&next, &settings, communications));
        }
        Err(StoreError::Contention.into())
    }

    /// Places an absence. With `refuse`, booked appointments inside make it a
    /// conflict listing them; with `to_reschedule` they are set to
    /// `to_reschedule` first, then the absence is placed. Each step is one
    /// conditional write, so a request cut short leaves what it did visible
    /// (the appointments to reschedule) and the same request sent again
    /// finishes the job: the absence's id comes from its span.
    pub async fn place_absence(
        &self,
        practitioner: &PractitionerId,
        request: &AbsenceRequest,
        by: &Actor,
    ) -> Result<PlacedAbsence, PracticeError> {
        let settings = self.booking.settings(practitioner).await?;
        let absence = request
            .validate(&settings, self.clock.now())
            .map_err(BookingError::Invalid)?;
        let mut affected = Vec::new();
        for _ in 0..ABSENCE_ROUNDS {
            match self.store.place_absence(&absence).await {
                Ok(()) => {
                    tracing::info!(
                        practitioner = %practitioner,
                        absence = %absence.id,
                        moved = affected.len(),
                        "absence placed"
                    );
                    return Ok(PlacedAbsence {
                        absence,
                        affected,
                        zone: settings.timezone,
                    });
                }
                Err(InsertError::Overlap(covered)) => {
                    if request.appointments == CoveredAppointments::Refuse {
                        return Err(PracticeError::Covered(covered));
                    }
                    let change = if request.send_cancellation_sms {
                        Change::SetToReschedule
                    } else {
                        Change::SetToRescheduleWithoutSms
                    };
                    for id in covered {
                        if self.reschedule(practitioner, &id, change, by).await? {
                            affected.push(id);
                        }
                    }
                }
                Err(other) => return Err(BookingError::from(other).into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    /// Sets one booked appointment to `to_reschedule`; `false` when it was no
    /// longer booked (the patient cancelled or moved it away meanwhile).
    async fn reschedule(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
        change: Change,
        by: &Actor,
    ) -> Result<bool, PracticeError> {
        for _ in 0..ATTEMPTS {
            let Some(current) = self.store.appointment(practitioner, id).await? else {
                return Ok(false);
            };
            if !current.status.is_booked() {
                return Ok(false);
            }
            let next = self.next_version(&current, Status::ToReschedule, change, by);
            match self.store.update_appointment(current.version, &next).await {
                Ok(()) => return Ok(true),
                Err(InsertError::Stale) => continue,
                Err(other) => return Err(BookingError::from(other).into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    /// The appointment `id` of `practitioner`; another's is not found.
    async fn practitioners_appointment(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
    ) -> Result<Appointment, PracticeError> {
        Ok(self
            .store
            .appointment(practitioner, id)
            .await?
            .ok_or(BookingError::AppointmentNotFound)?)
    }

    fn next_version(
        &self,
        current: &Appointment,
        status: Status,
        change: Change,
        by: &Actor,
    ) -> Appointment {
        let mut next = current.next_version(change, self.clock.now()).made_by(by);
        next.status = status;
        next
    }
}
