//! Appointments (SPEC §3) and the request that books one.

use crate::contact::{Email, Language, Mobile, Patient, PersonName};
use crate::ids::{AppointmentId, PractitionerId, ReasonId};
use crate::settings::PractitionerSettings;
use crate::time::{TimeRange, parse_instant};
use crate::validation::{FieldError, FieldErrors};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Booked,
    CancelledByPatient,
    /// « A reporter, à prévenir »: cancelled by the practitioner side, patient to be told.
    ToReschedule,
    /// Cancelled by the practitioner side, nobody told.
    Cancelled,
    /// A `to_reschedule` appointment for which the patient booked a replacement.
    Rebooked,
}

impl Status {
    /// Only booked appointments occupy the agenda, get reminders, can be modified.
    pub fn is_booked(self) -> bool {
        self == Status::Booked
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Entered in the agenda by the practitioner or the secretariat.
    Practitioner,
    /// Booked by the patient.
    Online,
}

/// What produced the appointment's current version. The senders read it from
/// the stream to know which message a change calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    MovedByPatient,
    CancelledByPatient,
    /// Set to `to_reschedule` with "send cancellation SMS" ticked.
    SetToReschedule,
    /// Set to `to_reschedule` without the SMS: the secretariat tells the patient.
    SetToRescheduleWithoutSms,
    Cancelled,
    Rebooked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub practitioner_id: PractitionerId,
    pub reason_id: ReasonId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub patient: Patient,
    pub status: Status,
    pub source: Source,
    /// Starts at 1 and increases at every change: links are bound to one version.
    pub version: u32,
    #[serde(default)]
    pub replaces: Option<AppointmentId>,
    pub last_change: Change,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Appointment {
    pub fn range(&self) -> TimeRange {
        TimeRange {
            start: self.start,
            end: self.end,
        }
    }
    /// The patient's language, else the practitioner's (SPEC §5).
    pub fn language(&self, settings: &PractitionerSettings) -> Language {
        self.patient.language.unwrap_or(settings.language)
    }
}

/// The body of `POST .../appointments`, as sent: every field is checked and all
/// errors are reported together.
#[derive(Debug, Clone, Deserialize)]
pub struct AppointmentRequest {
    pub reason_id: String,
    pub start: String,
    pub patient: PatientRequest,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PatientRequest {
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
}

/// A request that passed every check: it can be stored as is.
#[derive(Debug, Clone)]
pub struct ValidBooking {
    pub reason_id: ReasonId,
    pub range: TimeRange,
    pub patient: Patient,
}

/// Empty strings stand for "not given" (forms send them for blank fields).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AppointmentRequest {
    pub fn validate(
        &self,
        settings: &PractitionerSettings,
        now: DateTime<Utc>,
    ) -> Result<ValidBooking, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let reason = ReasonId::parse(self.reason_id.trim())
            .ok()
            .and_then(|id| settings.reason(&id));
        if reason.is_none() {
            errors.add("reason_id", "is not one of the practitioner's reasons");
        }
        let start = errors.check("start", parse_instant(&self.start, settings.timezone));
        if start.is_some_and(|s| s < now) {
            errors.add("start", "is in the past");
        }
        let p = &self.patient;
        let first_name = errors.check("patient.first_name", PersonName::parse(&p.first_name));
        let last_name = errors.check("patient.last_name", PersonName::parse(&p.last_name));
        let email = given(&p.email).and_then(|e| errors.check("patient.email", Email::parse(e)));
        let mobile =
            given(&p.mobile).and_then(|m| errors.check("patient.mobile", Mobile::parse(m)));
        let language = given(&p.language).and_then(|l| {
            let parsed = Language::parse(l);
            if parsed.is_none() {
                errors.add("patient.language", "must be \"fr\" or \"en\"");
            }
            parsed
        });
        match (reason, start, first_name, last_name) {
            (Some(reason), Some(start), Some(first_name), Some(last_name)) if errors.is_empty() => {
                let end = start + Duration::minutes(i64::from(reason.duration_minutes));
                Ok(ValidBooking {
                    reason_id: reason.id.clone(),
                    range: TimeRange { start, end },
                    patient: Patient {
                        first_name,
                        last_name,
                        email,
                        mobile,
                        language,
                    },
                })
            }
            _ => Err(errors.into_vec()),
        }
    }
}

impl ValidBooking {
    pub fn into_appointment(
        self,
        practitioner_id: PractitionerId,
        source: Source,
        replaces: Option<AppointmentId>,
        now: DateTime<Utc>,
    ) -> Appointment {
        Appointment {
            id: AppointmentId::new(),
            practitioner_id,
            reason_id: self.reason_id,
            start: self.range.start,
            end: self.range.end,
            patient: self.patient,
            status: Status::Booked,
            source,
            version: 1,
            replaces,
            last_change: Change::Created,
            created_at: now,
            updated_at: now,
        }
    }
}

/// An appointment before and after one write.
#[derive(Debug, Clone)]
pub struct AppointmentChange {
    pub old: Option<Appointment>,
    pub new: Option<Appointment>,
}

impl AppointmentChange {
    /// The appointment as written, when the write produced a new version of it.
    pub fn new_version(&self) -> Option<&Appointment> {
        let new = self.new.as_ref()?;
        match &self.old {
            Some(old) if old.version >= new.version => None,
            _ => Some(new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::dr_martin as sample;

    fn request(start: &str, email: Option<&str>, mobile: Option<&str>) -> AppointmentRequest {
        AppointmentRequest {
            reason_id: "consultation".into(),
            start: start.into(),
            patient: PatientRequest {
                first_name: "Jeanne".into(),
                last_name: "Dupont".into(),
                email: email.map(Into::into),
                mobile: mobile.map(Into::into),
                language: None,
            },
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_valid_request_ends_after_the_reasons_duration() {
        let booking = request(
            "2026-12-03T14:30:00+01:00",
            Some("jeanne@example.org"),
            Some("06 12 34 56 78"),
        )
        .validate(&sample(), now())
        .unwrap();
        assert_eq!(
            booking.range.end - booking.range.start,
            Duration::minutes(20)
        );
        assert_eq!(booking.patient.mobile.unwrap().e164(), "+33612345678");
    }

    #[test]
    fn all_invalid_fields_are_reported_together() {
        let mut req = request(
            "2026-11-01T10:00:00+01:00",
            Some("not-an-email"),
            Some("01 40 00 00 00"),
        );
        req.reason_id = "unknown".into();
        let errors = req.validate(&sample(), now()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["reason_id", "start", "patient.email", "patient.mobile"]
        );
    }

    #[test]
    fn blank_optional_fields_mean_not_given() {
        let booking = request("2026-12-03T14:30", Some(""), Some("  "))
            .validate(&sample(), now())
            .unwrap();
        assert!(booking.patient.email.is_none() && booking.patient.mobile.is_none());
    }
}
