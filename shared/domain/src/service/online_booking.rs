//! Online booking by patients (SPEC §6.3): the free slots, and booking one of
//! them. Only what is offered can be booked; the store settles races.

use super::availability;
use super::booking::{BookingError, requested_range};
use crate::appointment::{Appointment, AppointmentRequest, Source};
use crate::ids::{PractitionerId, ReasonId};
use crate::ports::{AgendaStore, Clock, InsertError, SettingsStore, Store};
use crate::settings::{PractitionerSettings, Reason};
use crate::slots;
use crate::time::{TimeRange, WindowRequest};
use crate::validation::FieldError;
use std::sync::Arc;

const DEFAULT_SLOT_DAYS: i64 = 7;
const MAX_SLOT_DAYS: i64 = 31;

#[derive(Debug, thiserror::Error)]
pub enum OnlineError {
    /// Online booking is off for the practitioner or the reason (or neither exists).
    #[error("online booking is not offered here")]
    NotOffered,
    /// The start is not a time that could be offered (off the grid, closed,
    /// past, beyond the horizon).
    #[error("not an offered slot")]
    NotASlot,
    /// The slot is taken (possibly by a concurrent booking).
    #[error("the slot is taken")]
    Taken,
    #[error(transparent)]
    Booking(#[from] BookingError),
}

/// Clones share the store and clock.
impl<S: ?Sized> Clone for OnlineBooking<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
        }
    }
}

pub struct OnlineBooking<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
}

impl<S: SettingsStore + AgendaStore + ?Sized> OnlineBooking<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    async fn offering(
        &self,
        practitioner: &PractitionerId,
    ) -> Result<PractitionerSettings, OnlineError> {
        let settings = self
            .store
            .settings(practitioner)
            .await
            .map_err(BookingError::from)?
            .ok_or(OnlineError::NotOffered)?;
        if !settings.online_booking.enabled {
            return Err(OnlineError::NotOffered);
        }
        Ok(settings)
    }

    fn online_reason<'a>(settings: &'a PractitionerSettings, id: &ReasonId) -> Option<&'a Reason> {
        settings.reason(id).filter(|r| r.online_booking)
    }

    /// Free slots for `reason_id` within `from`..`to` (a week by default).
    pub async fn slots(
        &self,
        practitioner: &PractitionerId,
        reason_id: &ReasonId,
        window: WindowRequest,
    ) -> Result<(PractitionerSettings, Vec<TimeRange>), OnlineError> {
        let settings = self.offering(practitioner).await?;
        let reason = Self::online_reason(&settings, reason_id).ok_or(OnlineError::NotOffered)?;
        let now = self.clock.now();
        let window = requested_range(
            window,
            settings.timezone,
            now,
            DEFAULT_SLOT_DAYS,
            MAX_SLOT_DAYS,
        )
        .map_err(BookingError::Invalid)?;
        let slots =
            availability::free_slots(self.store.as_ref(), &settings, reason, window, now, None)
                .await
                .map_err(BookingError::from)?;
        Ok((settings, slots))
    }

    /// Books the offered slot the request starts at; source `online`. The
    /// settings come back with it, to show its times in the practitioner's zone.
    pub async fn book(
        &self,
        practitioner: &PractitionerId,
        request: &AppointmentRequest,
    ) -> Result<(PractitionerSettings, Appointment), OnlineError> {
        let settings = self.offering(practitioner).await?;
        let now = self.clock.now();
        let booking = request
            .validate(&settings, now)
            .map_err(BookingError::Invalid)?;
        let Some(reason) = Self::online_reason(&settings, &booking.reason_id) else {
            return Err(BookingError::Invalid(vec![FieldError {
                field: "reason_id".into(),
                message: "is not offered for online booking".into(),
            }])
            .into());
        };
        let start = booking.range.start;
        let offered =
            availability::offered_slot(self.store.as_ref(), &settings, reason, start, now, None)
                .await
                .map_err(BookingError::from)?;
        if offered.is_none() {
            // Free or not, is it a time that could ever be offered?
            let on_the_grid = slots::offered_slot(&settings, reason, &[], start, now).is_some();
            return Err(if on_the_grid {
                OnlineError::Taken
            } else {
                OnlineError::NotASlot
            });
        }
        let appointment = booking.into_appointment(practitioner.clone(), Source::Online, None, now);
        match self.store.insert_appointment(&appointment).await {
            Ok(()) => {}
            Err(InsertError::Overlap(_) | InsertError::Absent) => return Err(OnlineError::Taken),
            Err(other) => return Err(BookingError::from(other).into()),
        }
        tracing::info!(practitioner = %practitioner, appointment = %appointment.id, "booked online");
        Ok((settings, appointment))
    }
}
