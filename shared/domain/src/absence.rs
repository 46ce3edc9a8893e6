//! Absences (SPEC §3): times the practitioner is away. No appointment may
//! overlap one; placing one over booked appointments needs a choice.

use crate::ids::PractitionerId;
use crate::settings::PractitionerSettings;
use crate::text;
use crate::time::{TimeRange, parse_instant};
use crate::validation::FieldErrors;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// An absence lasts at most this long (longer ones are placed in parts); it
/// bounds how far back the agenda must look for absences overlapping a time.
pub const MAX_ABSENCE_DAYS: i64 = 92;

/// Derived from the practitioner and the time span, so posting the same absence
/// again (a retry) names the same absence instead of placing a second one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AbsenceId(String);

impl AbsenceId {
    pub fn of(practitioner: &PractitionerId, range: TimeRange) -> Self {
        let digest = Sha256::digest(format!("{practitioner}|{range}").as_bytes());
        Self(digest[..12].iter().map(|b| format!("{b:02x}")).collect())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AbsenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub id: AbsenceId,
    pub practitioner_id: PractitionerId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(default)]
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Absence {
    pub fn range(&self) -> TimeRange {
        TimeRange {
            start: self.start,
            end: self.end,
        }
    }

    /// Whether a booked appointment at `appointment` is the absence's
    /// business (SPEC §3): it overlaps the absence and had not started when
    /// the absence was placed. One already started is left as it is: not
    /// moved, not listed, never a reason to refuse.
    pub fn covers(&self, appointment: TimeRange) -> bool {
        appointment.overlaps(&self.range()) && appointment.start >= self.created_at
    }
}

/// What to do with the booked appointments an absence covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CoveredAppointments {
    /// Place nothing and list them (the default).
    #[default]
    Refuse,
    /// Set them to `to_reschedule`, with or without the cancellation SMS.
    ToReschedule,
}

/// The body of `POST /practitioners/{pid}/absences`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsenceRequest {
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub appointments: CoveredAppointments,
    #[serde(default)]
    pub send_cancellation_sms: bool,
}

impl AbsenceRequest {
    pub fn validate(
        &self,
        settings: &PractitionerSettings,
        now: DateTime<Utc>,
    ) -> Result<Absence, Vec<crate::validation::FieldError>> {
        let mut errors = FieldErrors::new();
        let start = errors.check("start", parse_instant(&self.start, settings.timezone));
        let end = errors.check("end", parse_instant(&self.end, settings.timezone));
        let label = errors
            .check(
                "label",
                text::clean_optional(self.label.as_deref(), text::LABEL_CHARS),
            )
            .flatten();
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                errors.add("end", "must be after start");
            } else if end - start > Duration::days(MAX_ABSENCE_DAYS) {
                errors.add(
                    "end",
                    format!("an absence lasts at most {MAX_ABSENCE_DAYS} days; place longer ones in parts"),
                );
            } else if end <= now {
                errors.add("end", "is in the past");
            }
        }
        match (start, end) {
            (Some(start), Some(end)) if errors.is_empty() => {
                let range = TimeRange { start, end };
                Ok(Absence {
                    id: AbsenceId::of(&settings.id, range),
                    practitioner_id: settings.id.clone(),
                    start,
                    end,
                    label,
                    created_at: now,
                })
            }
            _ => Err(errors.into_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, dr_martin};

    fn request(start: &str, end: &str) -> AbsenceRequest {
        AbsenceRequest {
            start: start.into(),
            end: end.into(),
            label: Some("  Congrès  ".into()),
            appointments: CoveredAppointments::Refuse,
            send_cancellation_sms: false,
        }
    }

    #[test]
    fn the_same_span_names_the_same_absence() {
        let now = at("2026-11-25T10:00:00Z");
        let a = request("2026-12-07T09:00", "2026-12-07T12:00")
            .validate(&dr_martin(), now)
            .unwrap();
        let b = request("2026-12-07T08:00:00Z", "2026-12-07T11:00:00Z")
            .validate(&dr_martin(), now)
            .unwrap();
        assert_eq!(a.id, b.id, "local 9:00 in Paris is 8:00 UTC");
        assert_eq!(a.label.as_deref(), Some("Congrès"));
        let c = request("2026-12-07T09:00", "2026-12-07T12:30")
            .validate(&dr_martin(), now)
            .unwrap();
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn reversed_endless_or_past_absences_are_refused() {
        let now = at("2026-11-25T10:00:00Z");
        for (start, end) in [
            ("2026-12-07T12:00", "2026-12-07T09:00"),
            ("2026-12-07T09:00", "2027-06-07T09:00"),
            ("2026-11-20T09:00", "2026-11-21T09:00"),
            ("soon", "later"),
        ] {
            assert!(
                request(start, end).validate(&dr_martin(), now).is_err(),
                "{start}"
            );
        }
    }
}
