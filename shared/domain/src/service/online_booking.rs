//! Online booking by patients (SPEC §6.3): the free slots, the verification
//! of the booker's e-mail address, and booking one of the slots. Only what is
//! offered can be booked; the store settles races, and counts each public
//! write against its limits (SPEC §6) in the same write.

use super::availability;
use super::booking::{BookingError, requested_range};
use crate::appointment::{Appointment, AppointmentRequest, Source as Origin};
use crate::contact::Email;
use crate::ids::{AppointmentId, PractitionerId, ReasonId};
use crate::keyed::{ContactHash, HashKey};
use crate::messages::verification_code_email;
use crate::ports::{
    AgendaStore, Clock, CountedWriteError, InsertError, Mailer, OnlineGuards, OnlineWriteError,
    PublicWrites, SendError, SettingsStore, Store,
};
use crate::quota::{Charge, OverLimit, Quotas, Source};
use crate::settings::{PractitionerSettings, Reason};
use crate::slots;
use crate::time::{TimeRange, WindowRequest};
use crate::validation::FieldError;
use crate::verification::{
    Code, ContactAppointments, Unverified, Verification, VerificationId, VerificationProof,
    VerificationRequest, may_hold_another,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;

/// How many times a booking reads its verification and its contact's
/// appointments again when a concurrent request changed them meanwhile.
const GUARD_ATTEMPTS: usize = 3;

/// The body of `POST /public/practitioners/{pid}/appointments`: the
/// practice's booking body (SPEC §6.2) and, while `verify_email` is on, the
/// proof of the patient's address.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnlineBookingRequest {
    #[serde(flatten)]
    pub booking: AppointmentRequest,
    #[serde(default)]
    pub verification: Option<VerificationProof>,
}

/// A verification code sent: its id, and when it stops working.
#[derive(Debug, Clone)]
pub struct CodeSent {
    pub id: VerificationId,
    pub expires_at: DateTime<Utc>,
}

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
    /// The verification does not prove the patient's address (SPEC §6.3).
    #[error("unverified: {0:?}")]
    Unverified(Unverified),
    /// The verified address already holds `max_future_per_patient` future
    /// online appointments with this practitioner.
    #[error("too many future appointments for this address")]
    TooManyFuture,
    /// Over a limit of SPEC §6: nothing changed.
    #[error("over the limit of {}", .0.quota.as_str())]
    OverLimit(OverLimit),
    /// The e-mail with the code could not be sent (the address refused, or
    /// the mail service unavailable).
    #[error("the code could not be sent: {0}")]
    CodeNotSent(SendError),
    #[error(transparent)]
    Booking(#[from] BookingError),
}

/// Clones share the store, clock and mailer.
impl<S: ?Sized> Clone for OnlineBooking<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            mailer: self.mailer.clone(),
            quotas: self.quotas.clone(),
        }
    }
}

pub struct OnlineBooking<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    /// Sends verification codes, through the same mailer as every e-mail.
    mailer: Arc<dyn Mailer>,
    quotas: Quotas,
}

impl<S: SettingsStore + AgendaStore + PublicWrites + ?Sized> OnlineBooking<S> {
    pub fn new(
        store: Arc<S>,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        quotas: Quotas,
    ) -> Self {
        Self {
            store,
            clock,
            mailer,
            quotas,
        }
    }

    fn key(&self) -> &HashKey {
        self.quotas.key()
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

    /// SPEC §6.3: sends a 6-digit code to the address, valid 10 minutes,
    /// counted against the code limits of SPEC §6 in the same write as the
    /// verification (over a limit: nothing stored, nothing sent).
    pub async fn request_code(
        &self,
        practitioner: &PractitionerId,
        request: &VerificationRequest,
        source: Source,
    ) -> Result<CodeSent, OnlineError> {
        let settings = self.offering(practitioner).await?;
        if !settings.online_booking.verify_email {
            return Err(OnlineError::NotOffered);
        }
        let email = Email::parse(&request.email).map_err(|e| {
            BookingError::Invalid(vec![FieldError {
                field: "email".into(),
                message: e.to_string(),
            }])
        })?;
        let now = self.clock.now();
        let code = Code::generate();
        let verification = Verification::new(self.key(), practitioner, &email, &code, now);
        let charges = self.quotas.code(source, &email, now);
        match self.store.put_verification(&verification, &charges).await {
            Ok(()) => {}
            Err(CountedWriteError::OverLimit(charge)) => return Err(over(&charge, now)),
            Err(CountedWriteError::Store(e)) => return Err(BookingError::from(e).into()),
        }
        // The code exists only in this request: sent once, here.
        let email = verification_code_email(&settings, email, &code);
        self.mailer
            .send(&email)
            .await
            .map_err(OnlineError::CodeNotSent)?;
        tracing::info!(practitioner = %practitioner, verification = %verification.id, "verification code sent");
        Ok(CodeSent {
            id: verification.id,
            expires_at: verification.expires_at,
        })
    }

    /// Books the offered slot the request starts at; source `online`. While
    /// `verify_email` is on, the patient's e-mail is required and must be the
    /// verified one, and the address may hold at most
    /// `max_future_per_patient` future online appointments. The settings
    /// come back with it, to show its times in the practitioner's zone.
    pub async fn book(
        &self,
        practitioner: &PractitionerId,
        request: &OnlineBookingRequest,
        source: Source,
    ) -> Result<(PractitionerSettings, Appointment), OnlineError> {
        let settings = self.offering(practitioner).await?;
        let now = self.clock.now();
        let booking = request
            .booking
            .validate(&settings, now)
            .map_err(BookingError::Invalid)?;
        let verify = settings.online_booking.verify_email;
        if verify && booking.patient.email.is_none() {
            return Err(BookingError::Invalid(vec![FieldError {
                field: "patient.email".into(),
                message: "is required to book online".into(),
            }])
            .into());
        }
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
        // Over the limit, nothing is read or tried further: a brute force of
        // codes stops here too.
        let charge = self.quotas.post(source, now);
        self.within(&charge, now).await?;
        let appointment = booking.into_appointment(practitioner.clone(), Origin::Online, None, now);
        for _ in 0..GUARD_ATTEMPTS {
            let (verification, contact) = match verify {
                true => {
                    let verification = self.verified(&settings, request, &appointment, now).await?;
                    let contact = self
                        .contact_with(&settings, &verification, &appointment, now)
                        .await?;
                    (Some(verification), Some(contact))
                }
                false => (None, None),
            };
            let used = verification.as_ref().map(|v| v.used_for(&appointment));
            let guards = OnlineGuards {
                verification: used.as_ref(),
                contact: contact.as_ref(),
                charges: std::slice::from_ref(&charge),
            };
            match self.store.book_online(&appointment, &guards).await {
                Ok(()) => {
                    tracing::info!(practitioner = %practitioner, appointment = %appointment.id, "booked online");
                    return Ok((settings, appointment));
                }
                Err(OnlineWriteError::Insert(InsertError::Overlap(_) | InsertError::Absent)) => {
                    return Err(OnlineError::Taken);
                }
                Err(OnlineWriteError::Insert(other)) => {
                    return Err(BookingError::from(other).into());
                }
                Err(OnlineWriteError::OverLimit(charge)) => return Err(over(&charge, now)),
                // Read again: used or tried meanwhile, or another booking of
                // the same address went first.
                Err(OnlineWriteError::VerificationChanged | OnlineWriteError::ContactChanged) => {}
            }
        }
        Err(BookingError::from(crate::ports::StoreError::Contention).into())
    }

    /// Refused when `charge`'s counter is already at its limit.
    async fn within(&self, charge: &Charge, now: DateTime<Utc>) -> Result<(), OnlineError> {
        let counted = self
            .store
            .counted(charge)
            .await
            .map_err(BookingError::from)?;
        if counted >= charge.limit {
            return Err(over(charge, now));
        }
        Ok(())
    }

    /// The request's verification, read and checked (SPEC §6.3); a wrong
    /// code (or address) is counted on it before the refusal.
    async fn verified(
        &self,
        settings: &PractitionerSettings,
        request: &OnlineBookingRequest,
        appointment: &Appointment,
        now: DateTime<Utc>,
    ) -> Result<Verification, OnlineError> {
        let missing = || OnlineError::Unverified(Unverified::Missing);
        let proof = request.verification.as_ref().ok_or_else(missing)?;
        let id = VerificationId::parse(proof.id.trim()).ok_or_else(missing)?;
        // Another practitioner's verification proves nothing here.
        let verification = self
            .store
            .verification(&id)
            .await
            .map_err(BookingError::from)?
            .filter(|v| v.practitioner_id == settings.id)
            .ok_or_else(missing)?;
        let code = Code::parse(&proof.code);
        match verification.check(
            self.key(),
            code.as_ref(),
            appointment.patient.email.as_ref(),
            now,
        ) {
            Ok(()) => Ok(verification),
            Err(Unverified::WrongCode) => {
                self.store
                    .wrong_code(&verification)
                    .await
                    .map_err(BookingError::from)?;
                tracing::info!(verification = %verification.id, wrong_codes = verification.wrong_codes + 1, "wrong verification code");
                Err(OnlineError::Unverified(Unverified::WrongCode))
            }
            Err(other) => Err(OnlineError::Unverified(other)),
        }
    }

    /// The contact's future online appointments with the new one added
    /// (SPEC §2, `max_future_per_patient`): those listed are checked again,
    /// and only the booked ones still to come are kept.
    async fn contact_with(
        &self,
        settings: &PractitionerSettings,
        verification: &Verification,
        appointment: &Appointment,
        now: DateTime<Utc>,
    ) -> Result<ContactAppointments, OnlineError> {
        let contact: &ContactHash = &verification.contact;
        let mut listed = self
            .store
            .contact_appointments(&settings.id, contact)
            .await
            .map_err(BookingError::from)?;
        let mut held: Vec<AppointmentId> = Vec::new();
        for id in &listed.appointments {
            let still = self
                .store
                .appointment(&settings.id, id)
                .await
                .map_err(BookingError::from)?
                .is_some_and(|a| a.status.is_booked() && a.start > now);
            if still {
                held.push(*id);
            }
        }
        if !may_hold_another(held.len(), settings.online_booking.max_future_per_patient) {
            return Err(OnlineError::TooManyFuture);
        }
        held.push(appointment.id);
        listed.appointments = held;
        Ok(listed)
    }
}

/// The refusal of a request over `charge`'s limit.
fn over(charge: &Charge, now: DateTime<Utc>) -> OnlineError {
    OnlineError::OverLimit(OverLimit {
        quota: charge.quota,
        retry_after_seconds: charge.retry_after(now),
    })
}
