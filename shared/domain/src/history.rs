//! Who did what to an appointment (SPEC §3, §6.2 history): each version
//! records its actor, and each change which fields it touched, never their
//! values (the history outlives an erasure; the values are the patient's).

use crate::appointment::Appointment;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::grants::Actor;

/// What a change was, as the history names it (SPEC §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChangeKind {
    Created,
    Moved,
    ContactChanged,
    ReasonChanged,
    StatusSet,
    AttendanceConfirmed,
    Erased,
}

/// One line of an appointment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub by: Actor,
    pub change: ChangeKind,
    /// The appointment's fields this change touched (`start`,
    /// `patient.mobile`…), never their values.
    pub fields: Vec<String>,
    /// The version it produced.
    pub version: u32,
}

/// The fields that differ between two versions, by name.
fn changed_fields(old: &Appointment, new: &Appointment) -> Vec<String> {
    let mut fields = Vec::new();
    let mut differs = |name: &str, changed: bool| {
        if changed {
            fields.push(name.to_string());
        }
    };
    differs("start", old.start != new.start);
    differs("end", old.end != new.end);
    differs("reason_id", old.reason_id != new.reason_id);
    differs("status", old.status != new.status);
    let (a, b) = (&old.patient, &new.patient);
    differs("patient.first_name", a.first_name != b.first_name);
    differs("patient.last_name", a.last_name != b.last_name);
    differs("patient.email", a.email != b.email);
    differs("patient.mobile", a.mobile != b.mobile);
    differs("patient.language", a.language != b.language);
    fields
}

/// The history line of writing `new` over `old` (none: a new appointment),
/// as the store records it in the same write.
pub fn history_entry(old: Option<&Appointment>, new: &Appointment) -> HistoryEntry {
    let (change, fields) = match old {
        None => (ChangeKind::Created, Vec::new()),
        Some(old) => {
            let fields = changed_fields(old, new);
            let touched = |name: &str| fields.iter().any(|f| f == name);
            let change = if touched("status") {
                ChangeKind::StatusSet
            } else if touched("start") || touched("end") {
                ChangeKind::Moved
            } else if touched("reason_id") {
                ChangeKind::ReasonChanged
            } else {
                ChangeKind::ContactChanged
            };
            (change, fields)
        }
    };
    HistoryEntry {
        at: new.updated_at,
        by: new.by.clone(),
        change,
        fields,
        version: new.version,
    }
}
