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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The secretariat changed the time, the reason or the e-mail address
    /// (SPEC §4.5): a new confirmation with new links.
    ChangedByPractice,
    /// The secretariat changed the names, mobile or language only: nothing is
    /// sent, the patient's links keep working, reminders are decided again.
    ContactChangedByPractice,
}

impl Change {
    /// Who made a change when nobody said: the patient for what only
    /// patients do (their links, online booking), else the system.
    pub fn actor(self, source: Source) -> crate::grants::Actor {
        use crate::grants::Actor;
        match self {
            Change::MovedByPatient | Change::CancelledByPatient | Change::Rebooked => {
                Actor::Patient
            }
            Change::Created if source != Source::Practitioner => Actor::Patient,
            _ => Actor::System,
        }
    }

    /// Whether the patient's links outlive this change: only a contact fix
    /// that sends no new confirmation leaves them working.
    pub fn keeps_links(self) -> bool {
        self == Change::ContactChangedByPractice
    }
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
    /// The version the patient's links were issued for, when a later change
    /// kept them ([`Change::keeps_links`]); `None`: this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links_version: Option<u32>,
    /// Who made this version (SPEC §3): its line of the history says so.
    #[serde(default)]
    pub by: crate::grants::Actor,
}

impl Appointment {
    pub fn range(&self) -> TimeRange {
        TimeRange {
            start: self.start,
            end: self.end,
        }
    }
    /// The version links must be bound to for them to work now.
    pub fn links_version(&self) -> u32 {
        self.links_version.unwrap_or(self.version)
    }
    /// The next version of the appointment, produced by `change` at `now`:
    /// every writer goes through here, so links follow the rule of
    /// [`Change::keeps_links`].
    pub fn next_version(&self, change: Change, now: DateTime<Utc>) -> Appointment {
        let mut next = self.clone();
        next.version = self.version + 1;
        next.last_change = change;
        next.updated_at = now;
        next.links_version = change.keeps_links().then(|| self.links_version());
        // The patient's own changes say so; the practice's callers name
        // their member ([`Appointment::made_by`]).
        next.by = change.actor(self.source);
        next
    }
    /// This version, as made by `by`.
    pub fn made_by(mut self, by: &crate::grants::Actor) -> Appointment {
        self.by = by.clone();
        self
    }
    /// The patient's language, else the practitioner's (SPEC §5).
    pub fn language(&self, settings: &PractitionerSettings) -> Language {
        self.patient.language.unwrap_or(settings.language)
    }
}

/// The body of `POST .../appointments`, as sent: every field is checked and all
/// errors are reported together.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentRequest {
    pub reason_id: String,
    pub start: String,
    pub patient: PatientRequest,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        let language = given(&p.language).and_then(|l| parse_language(&mut errors, l));
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
            links_version: None,
            by: Change::Created.actor(source),
        }
    }
}

/// The body of `PATCH .../appointments/{id}` (SPEC §4.5, §6.2): any of the
/// time, the reason and the patient's contact. A field left out is kept; an
/// optional contact field sent as `null` or blank is removed.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentPatch {
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub reason_id: Option<String>,
    #[serde(default)]
    pub patient: Option<PatientPatch>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientPatch {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub language: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`: remove it) from a field left
/// out (`None`, by `#[serde(default)]`: keep it).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn parse_language(errors: &mut FieldErrors, value: &str) -> Option<Language> {
    let parsed = Language::parse(value);
    if parsed.is_none() {
        errors.add("patient.language", "must be \"fr\" or \"en\"");
    }
    parsed
}

impl AppointmentPatch {
    /// The next version of `current` this request makes, checked in full
    /// (every invalid field reported together), or `None` when it changes
    /// nothing. Which [`Change`] it is decides what the patient is sent
    /// (SPEC §4.5): a new time, reason or e-mail address calls for a new
    /// confirmation with new links; names, mobile or language alone do not.
    pub fn apply(
        &self,
        current: &Appointment,
        settings: &PractitionerSettings,
        now: DateTime<Utc>,
    ) -> Result<Option<Appointment>, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let reason = match &self.reason_id {
            None => settings.reason(&current.reason_id),
            Some(id) => {
                let reason = ReasonId::parse(id.trim())
                    .ok()
                    .and_then(|id| settings.reason(&id));
                if reason.is_none() {
                    errors.add("reason_id", "is not one of the practitioner's reasons");
                }
                reason
            }
        };
        let start = match &self.start {
            None => Some(current.start),
            Some(text) => {
                let start = errors.check("start", parse_instant(text, settings.timezone));
                if start.is_some_and(|s| s < now) {
                    errors.add("start", "is in the past");
                }
                start
            }
        };
        let mut patient = current.patient.clone();
        if let Some(p) = &self.patient {
            if let Some(name) = &p.first_name {
                if let Some(name) = errors.check("patient.first_name", PersonName::parse(name)) {
                    patient.first_name = name;
                }
            }
            if let Some(name) = &p.last_name {
                if let Some(name) = errors.check("patient.last_name", PersonName::parse(name)) {
                    patient.last_name = name;
                }
            }
            if let Some(email) = &p.email {
                patient.email =
                    given(email).and_then(|e| errors.check("patient.email", Email::parse(e)));
            }
            if let Some(mobile) = &p.mobile {
                patient.mobile =
                    given(mobile).and_then(|m| errors.check("patient.mobile", Mobile::parse(m)));
            }
            if let Some(language) = &p.language {
                patient.language = given(language).and_then(|l| parse_language(&mut errors, l));
            }
        }
        let (Some(reason), Some(start)) = (reason, start) else {
            return Err(errors.into_vec());
        };
        if !errors.is_empty() {
            return Err(errors.into_vec());
        }
        let end = start + Duration::minutes(i64::from(reason.duration_minutes));
        let terms_changed = start != current.start
            || end != current.end
            || reason.id != current.reason_id
            || patient.email != current.patient.email;
        let change = if terms_changed {
            Change::ChangedByPractice
        } else if patient != current.patient {
            Change::ContactChangedByPractice
        } else {
            return Ok(None);
        };
        let mut next = current.next_version(change, now);
        next.reason_id = reason.id.clone();
        next.start = start;
        next.end = end;
        next.patient = patient;
        Ok(Some(next))
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
