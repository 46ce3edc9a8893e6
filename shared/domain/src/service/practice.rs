//! Changes the practitioner side makes to booked appointments (SPEC §3, §4.4,
//! §4.5, §6.2): time, reason and contact, status changes and absences. The patient is told by the
//! cancellation sender, from the stream, when the change asks for it.

use super::booking::{AppointmentDetails, BookingError, BookingService};
use crate::absence::{Absence, AbsenceRequest, CoveredAppointments};
use crate::appointment::{Appointment, AppointmentPatch, Change, Status};
use crate::history::Actor;
use crate::ids::{AppointmentId, PractitionerId};
use crate::ports::{
    AgendaStore, Clock, InsertError, MAX_APPOINTMENTS_AT_ONCE, MessageLog, SettingsStore, Store,
    StoreError,
};
use crate::rules::status::{PractitionerStatus, Transition, transition};
use futures::StreamExt;
use serde::Deserialize;
use std::sync::Arc;

/// How many times a change re-reads and retries when the appointment changed
/// between its read and its write (a patient acting at the same moment).
const ATTEMPTS: usize = 3;

/// An absence placed over booked appointments is placed after moving them;
/// a booking that slips in meanwhile is moved in the next round.
const ABSENCE_ROUNDS: usize = 5;
/// Reads and writes of an absence's appointments at once: different agenda
/// days, different items (no partition takes them all).
const ABSENCE_CONCURRENCY: usize = 16;

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
                    affected.extend(
                        self.reschedule_all(practitioner, covered, change, by)
                            .await?,
                    );
                }
                Err(other) => return Err(BookingError::from(other).into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    /// Sets the booked ones of `ids` to `to_reschedule`, answering those it
    /// did (SPEC §6.2: an absence over 2,000 appointments answers in
    /// seconds). They are read and written `ABSENCE_CONCURRENCY` at a time;
    /// the appointments of one agenda day are written together (they share
    /// the day's item, so one at a time would only race), up to
    /// [`MAX_APPOINTMENTS_AT_ONCE`] a write. The notices follow from the
    /// table's stream, after the answer. Cut short, the same request
    /// finishes the job (each write is conditional on the version read).
    async fn reschedule_all(
        &self,
        practitioner: &PractitionerId,
        ids: Vec<AppointmentId>,
        change: Change,
        by: &Actor,
    ) -> Result<Vec<AppointmentId>, PracticeError> {
        let read: Vec<Result<Option<Appointment>, StoreError>> = futures::stream::iter(ids)
            .map(|id| async move { self.store.appointment(practitioner, &id).await })
            .buffer_unordered(ABSENCE_CONCURRENCY)
            .collect()
            .await;
        let mut booked = Vec::new();
        for appointment in read {
            if let Some(a) = appointment?.filter(|a| a.status.is_booked()) {
                booked.push(a);
            }
        }
        booked.sort_by_key(|a| (a.start, a.id));
        let mut days: Vec<Vec<Appointment>> = Vec::new();
        for appointment in booked {
            match days.last_mut() {
                Some(day) if day[0].start.date_naive() == appointment.start.date_naive() => {
                    day.push(appointment)
                }
                _ => days.push(vec![appointment]),
            }
        }
        // Days in parallel; a day's batches one after the other (they
        // would only race for the day's item).
        let done: Vec<Result<Vec<AppointmentId>, PracticeError>> = futures::stream::iter(days)
            .map(|day| async move {
                let mut affected = Vec::new();
                for batch in day.chunks(MAX_APPOINTMENTS_AT_ONCE) {
                    affected.extend(
                        self.reschedule_batch(practitioner, batch.to_vec(), change, by)
                            .await?,
                    );
                }
                Ok(affected)
            })
            .buffer_unordered(ABSENCE_CONCURRENCY)
            .collect()
            .await;
        let mut affected = Vec::new();
        for ids in done {
            affected.extend(ids?);
        }
        affected.sort();
        Ok(affected)
    }

    /// One write for a day's batch; when one of them changed meanwhile (the
    /// patient cancelled or moved it), one by one.
    async fn reschedule_batch(
        &self,
        practitioner: &PractitionerId,
        batch: Vec<Appointment>,
        change: Change,
        by: &Actor,
    ) -> Result<Vec<AppointmentId>, PracticeError> {
        let updates: Vec<(u32, Appointment)> = batch
            .iter()
            .map(|a| {
                (
                    a.version,
                    self.next_version(a, Status::ToReschedule, change, by),
                )
            })
            .collect();
        match self.store.update_appointments(&updates).await {
            Ok(()) => Ok(batch.iter().map(|a| a.id).collect()),
            Err(InsertError::Stale | InsertError::Store(StoreError::Contention)) => {
                let mut affected = Vec::new();
                for appointment in batch {
                    if self
                        .reschedule(practitioner, &appointment.id, change, by)
                        .await?
                    {
                        affected.push(appointment.id);
                    }
                }
                Ok(affected)
            }
            Err(other) => Err(BookingError::from(other).into()),
        }
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
