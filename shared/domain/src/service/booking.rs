//! Settings, bookings and agenda reads (SPEC §6.2, §6.3).

use crate::appointment::{Appointment, AppointmentRequest, Source};
use crate::communications::CommunicationEntry;
use crate::contact::Language;
use crate::ids::{AppointmentId, PractitionerId};
use crate::ports::{AgendaStore, Clock, InsertError, MessageLog, SettingsStore, Store, StoreError};
use crate::reminder::Reminders;
use crate::rules::online_change::patient_may_change_online;
use crate::settings::PractitionerSettings;
use crate::time::{TimeRange, WindowBound, WindowRequest, Zone};
use crate::validation::{FieldError, FieldErrors};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("no practitioner {0}")]
    PractitionerNotFound(PractitionerId),
    #[error("no such appointment")]
    AppointmentNotFound,
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the time is taken")]
    Overlap(Vec<AppointmentId>),
    #[error("the practitioner is absent then")]
    Absent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<InsertError> for BookingError {
    fn from(e: InsertError) -> Self {
        match e {
            InsertError::Overlap(ids) => Self::Overlap(ids),
            InsertError::Store(e) => Self::Store(e),
            InsertError::Absent => Self::Absent,
            // A new appointment has no earlier version to be stale against.
            InsertError::Stale => Self::Store(StoreError::Contention),
        }
    }
}

/// The agenda answers at most this span in one request.
const MAX_AGENDA_DAYS: i64 = 92;
const DEFAULT_AGENDA_DAYS: i64 = 7;

/// Clones share the store and clock.
impl<S: ?Sized> Clone for BookingService<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
        }
    }
}

pub struct BookingService<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
}

impl<S: SettingsStore + AgendaStore + MessageLog + ?Sized> BookingService<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub async fn save_settings(
        &self,
        id: PractitionerId,
        settings: PractitionerSettings,
        by: &crate::history::Actor,
    ) -> Result<PractitionerSettings, BookingError> {
        let settings = settings.validated(id).map_err(BookingError::Invalid)?;
        // Which fields changed, for the practice's history (never values).
        let old = self.store.settings(&settings.id).await?;
        let line = crate::history::settings_change(old.as_ref(), &settings, by, self.clock.now());
        self.store.save_settings(&settings, &line).await?;
        tracing::info!(practitioner = %settings.id, "settings saved");
        Ok(settings)
    }

    pub async fn settings(
        &self,
        id: &PractitionerId,
    ) -> Result<PractitionerSettings, BookingError> {
        self.store
            .settings(id)
            .await?
            .ok_or_else(|| BookingError::PractitionerNotFound(id.clone()))
    }

    /// Books an appointment; the confirmation follows from the stream.
    pub async fn book(
        &self,
        practitioner: &PractitionerId,
        request: &AppointmentRequest,
        source: Source,
        by: &crate::history::Actor,
    ) -> Result<AppointmentDetails, BookingError> {
        let settings = self.settings(practitioner).await?;
        let now = self.clock.now();
        let booking = request
            .validate(&settings, now)
            .map_err(BookingError::Invalid)?;
        let appointment = booking
            .into_appointment(practitioner.clone(), source, None, now)
            .made_by(by);
        self.store.insert_appointment(&appointment).await?;
        tracing::info!(
            practitioner = %practitioner,
            appointment = %appointment.id,
            source = ?source,
            "appointment booked"
        );
        Ok(self.details(&appointment, &settings, Vec::new()))
    }

    pub async fn appointment(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
    ) -> Result<AppointmentDetails, BookingError> {
        let settings = self.settings(practitioner).await?;
        let appointment = self
            .store
            .appointment(practitioner, id)
            .await?
            .ok_or(BookingError::AppointmentNotFound)?;
        let communications = self.store.communications(practitioner, id).await?;
        Ok(self.details(&appointment, &settings, communications))
    }

    /// The history of one of `practitioner`'s appointments, oldest first
    /// (SPEC §6.2): 404 for an appointment that is not theirs.
    pub async fn history(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
    ) -> Result<Vec<crate::history::HistoryEntry>, BookingError> {
        self.store
            .appointment(practitioner, id)
            .await?
            .ok_or(BookingError::AppointmentNotFound)?;
        Ok(self.store.history(practitioner, id).await?)
    }

    /// The appointments of a window (by default the coming week from today).
    pub async fn agenda(
        &self,
        practitioner: &PractitionerId,
        window: WindowRequest,
    ) -> Result<Vec<AppointmentDetails>, BookingError> {
        let settings = self.settings(practitioner).await?;
        let range = requested_range(
            window,
            settings.timezone,
            self.clock.now(),
            DEFAULT_AGENDA_DAYS,
            MAX_AGENDA_DAYS,
        )
        .map_err(BookingError::Invalid)?;
        let appointments = self.store.agenda(practitioner, range).await?;
        let ids: Vec<AppointmentId> = appointments.iter().map(|a| a.id).collect();
        let logs = self.store.communications_of(practitioner, &ids).await?;
        Ok(appointments
            .iter()
            .zip(logs)
            .map(|(a, log)| self.details(a, &settings, log))
            .collect())
    }

    pub(crate) fn details(
        &self,
        appointment: &Appointment,
        settings: &PractitionerSettings,
        communications: Vec<CommunicationEntry>,
    ) -> AppointmentDetails {
        AppointmentDetails {
            patient_can_modify_online: patient_may_change_online(
                settings,
                appointment,
                self.clock.now(),
            )
            .is_ok(),
            reminders: crate::reminder::outlook(settings, appointment, &communications),
            zone: settings.timezone,
            language: appointment.language(settings),
            appointment: appointment.clone(),
            attention: crate::communications::attention(&communications),
            communications,
        }
    }
}

/// An appointment as the practice reads it (SPEC §6.2): with what the patient
/// was told, what reminders are coming, and whether the patient may still
/// change it online.
#[derive(Debug, Clone)]
pub struct AppointmentDetails {
    pub appointment: Appointment,
    /// The practitioner's zone, in which times are shown.
    pub zone: Zone,
    /// The language the patient is written to in.
    pub language: Language,
    pub patient_can_modify_online: bool,
    pub reminders: Reminders,
    /// The communications log, oldest first.
    pub communications: Vec<CommunicationEntry>,
    /// The messages that did not reach the patient, newest first (SPEC §5).
    pub attention: Vec<CommunicationEntry>,
}

/// The span a `from` / `to` window asks for, in the practitioner's zone:
/// `from` defaults to today (local midnight), `to` to `default_days` after
/// `from`; at most `max_days` (SPEC §6: 92).
pub(crate) fn requested_range(
    window: WindowRequest,
    zone: Zone,
    now: DateTime<Utc>,
    default_days: i64,
    max_days: i64,
) -> Result<TimeRange, Vec<FieldError>> {
    let mut errors = FieldErrors::new();
    let today = WindowBound::Day(now.with_timezone(&zone.0).date_naive());
    let from = errors.check("from", window.from.unwrap_or(today).resolve(zone));
    let to = match (window.to, from) {
        (Some(to), _) => errors.check("to", to.resolve(zone)),
        // Checked, though the years 2000–2100 leave room: no request panics.
        (None, Some(from)) => from
            .checked_add_signed(Duration::days(default_days))
            .or_else(|| {
                errors.add("from", crate::time::InvalidInstant::OutOfRange);
                None
            }),
        (None, None) => None,
    };
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            errors.add("to", "must be after from");
        } else if to - from > Duration::days(max_days) {
            errors.add("to", format!("must be at most {max_days} days after from"));
        }
    }
    match (from, to) {
        (Some(start), Some(end)) if errors.is_empty() => Ok(TimeRange { start, end }),
        _ => Err(errors.into_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str) -> WindowRequest {
        WindowRequest {
            from: Some(WindowBound::parse(from).unwrap()),
            to: Some(WindowBound::parse(to).unwrap()),
        }
    }

    #[test]
    fn agenda_range_defaults_to_the_coming_week_from_local_midnight() {
        let now: DateTime<Utc> = "2026-11-25T23:30:00Z".parse().unwrap();
        let range = requested_range(WindowRequest::default(), Zone::default(), now, 7, 92).unwrap();
        // 23:30 UTC is already the 26th in Paris.
        assert_eq!(
            range.start,
            "2026-11-25T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(range.end - range.start, Duration::days(7));
    }

    #[test]
    fn agenda_range_refuses_reversed_or_huge_spans() {
        let now = Utc::now();
        assert!(
            requested_range(
                window("2026-12-10", "2026-12-01"),
                Zone::default(),
                now,
                7,
                92
            )
            .is_err()
        );
        assert!(
            requested_range(
                window("2026-01-01", "2027-01-01"),
                Zone::default(),
                now,
                7,
                92
            )
            .is_err()
        );
        assert!(WindowBound::parse("yesterday").is_err());
        assert!(WindowBound::parse("+262142-12-31").is_err());
    }
}
