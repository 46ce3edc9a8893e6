//! Settings, bookings and agenda reads (SPEC §6.2, §6.3).

use crate::appointment::{Appointment, AppointmentRequest, Source};
use crate::ids::{AppointmentId, PractitionerId};
use crate::ports::{Clock, InsertError, Store, StoreError};
use crate::rules::online_change::patient_may_change_online;
use crate::settings::PractitionerSettings;
use crate::time::{TimeRange, Zone, parse_instant};
use crate::validation::{FieldError, FieldErrors};
use crate::views::AppointmentView;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
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

impl BookingError {
    /// How booking outcomes read over HTTP (SPEC §6).
    pub fn into_problem(self) -> crate::http::Problem {
        use crate::http::Problem;
        use lambda_http::http::StatusCode;
        match self {
            Self::PractitionerNotFound(_) => {
                Problem::not_found("This practitioner has no settings yet.")
            }
            Self::AppointmentNotFound => Problem::not_found("No such appointment."),
            Self::Invalid(errors) => Problem::invalid_fields(errors),
            Self::Overlap(ids) => {
                let mut p = Problem::conflict(
                    "This time overlaps a booked appointment; choose another time.",
                );
                p.errors = Some(
                    ids.iter()
                        .map(|id| FieldError {
                            field: "start".into(),
                            message: format!("overlaps appointment {id}"),
                        })
                        .collect(),
                );
                p
            }
            Self::Absent => {
                Problem::conflict("The practitioner is absent at this time; choose another time.")
            }
            Self::Store(StoreError::Contention) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The agenda is busy with other changes; please try again.",
            ),
            Self::Store(e) => Problem::unavailable(&e),
        }
    }
}

/// The agenda answers at most this span in one request.
const MAX_AGENDA_DAYS: i64 = 92;
const DEFAULT_AGENDA_DAYS: i64 = 7;

#[derive(Clone)]
pub struct BookingService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl BookingService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub async fn save_settings(
        &self,
        id: PractitionerId,
        settings: PractitionerSettings,
    ) -> Result<PractitionerSettings, BookingError> {
        let settings = settings.validated(id).map_err(BookingError::Invalid)?;
        self.store.put_settings(&settings).await?;
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
    ) -> Result<AppointmentView, BookingError> {
        let settings = self.settings(practitioner).await?;
        let now = self.clock.now();
        let booking = request
            .validate(&settings, now)
            .map_err(BookingError::Invalid)?;
        let appointment = booking.into_appointment(practitioner.clone(), source, None, now);
        self.store.insert_appointment(&appointment).await?;
        tracing::info!(
            practitioner = %practitioner,
            appointment = %appointment.id,
            source = ?source,
            "appointment booked"
        );
        Ok(self.view(&appointment, &settings, &[]))
    }

    pub async fn appointment(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
    ) -> Result<AppointmentView, BookingError> {
        let settings = self.settings(practitioner).await?;
        let appointment = self
            .store
            .appointment(id)
            .await?
            .filter(|a| &a.practitioner_id == practitioner)
            .ok_or(BookingError::AppointmentNotFound)?;
        let communications = self.store.communications(id).await?;
        Ok(self.view(&appointment, &settings, &communications))
    }

    /// `from` / `to` as RFC 3339 times or plain dates (read in the practitioner's
    /// zone); by default the coming week from today.
    pub async fn agenda(
        &self,
        practitioner: &PractitionerId,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<AppointmentView>, BookingError> {
        let settings = self.settings(practitioner).await?;
        let range = requested_range(
            from,
            to,
            settings.timezone,
            self.clock.now(),
            DEFAULT_AGENDA_DAYS,
            MAX_AGENDA_DAYS,
        )
        .map_err(BookingError::Invalid)?;
        let appointments = self.store.agenda(practitioner, range).await?;
        let logs = futures::future::try_join_all(
            appointments
                .iter()
                .map(|a| self.store.communications(&a.id)),
        )
        .await?;
        Ok(appointments
            .iter()
            .zip(logs)
            .map(|(a, log)| self.view(a, &settings, &log))
            .collect())
    }

    pub(crate) fn view(
        &self,
        appointment: &Appointment,
        settings: &PractitionerSettings,
        communications: &[crate::communications::CommunicationEntry],
    ) -> AppointmentView {
        let can_modify = patient_may_change_online(settings, appointment, self.clock.now()).is_ok();
        AppointmentView::new(
            appointment,
            settings,
            can_modify,
            crate::reminder::view(settings, appointment, communications),
            communications,
        )
    }
}

fn parse_bound(value: &str, zone: Zone) -> Result<DateTime<Utc>, String> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        return zone
            .0
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| "does not exist in the practitioner's time zone".to_string());
    }
    parse_instant(value, zone).map_err(|e| e.to_string())
}

/// A span asked for with `from` / `to` query parameters: `from` defaults to
/// today (local midnight), `to` to `default_days` after `from`; at most `max_days`.
pub(crate) fn requested_range(
    from: Option<&str>,
    to: Option<&str>,
    zone: Zone,
    now: DateTime<Utc>,
    default_days: i64,
    max_days: i64,
) -> Result<TimeRange, Vec<FieldError>> {
    let mut errors = FieldErrors::new();
    let today = now.with_timezone(&zone.0).date_naive().to_string();
    let from = errors.check("from", parse_bound(from.unwrap_or(&today), zone));
    let to = match (to, from) {
        (Some(to), _) => errors.check("to", parse_bound(to, zone)),
        (None, Some(from)) => Some(from + Duration::days(default_days)),
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

    #[test]
    fn agenda_range_defaults_to_the_coming_week_from_local_midnight() {
        let now: DateTime<Utc> = "2026-11-25T23:30:00Z".parse().unwrap();
        let range = requested_range(None, None, Zone::default(), now, 7, 92).unwrap();
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
                Some("2026-12-10"),
                Some("2026-12-01"),
                Zone::default(),
                now,
                7,
                92
            )
            .is_err()
        );
        assert!(
            requested_range(
                Some("2026-01-01"),
                Some("2027-01-01"),
                Zone::default(),
                now,
                7,
                92
            )
            .is_err()
        );
        assert!(requested_range(Some("yesterday"), None, Zone::default(), now, 7, 92).is_err());
    }
}
