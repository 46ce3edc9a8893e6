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

/// What changed in the practice itself (SPEC §3): its settings or its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PracticeChangeKind {
    SettingsChanged,
    MemberSet,
    MemberRemoved,
    /// A patient's data exported (SPEC §6.2): which contact field was asked.
    Exported,
}

/// One line of a practice's history: who, when, what, which fields (of the
/// settings document, or of a member's grant), never their values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeChange {
    pub at: DateTime<Utc>,
    pub by: Actor,
    pub change: PracticeChangeKind,
    pub fields: Vec<String>,
    /// The member a grant change is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<crate::grants::MemberSub>,
}

/// The line of replacing `old` settings (none: the first) by `new`: the
/// top-level fields of the document that differ.
pub fn settings_change(
    old: Option<&crate::settings::PractitionerSettings>,
    new: &crate::settings::PractitionerSettings,
    by: &Actor,
    at: DateTime<Utc>,
) -> PracticeChange {
    let document =
        |s: Option<&crate::settings::PractitionerSettings>| match s.map(serde_json::to_value) {
            Some(Ok(serde_json::Value::Object(fields))) => fields,
            _ => serde_json::Map::new(),
        };
    let (before, after) = (document(old), document(Some(new)));
    let mut fields: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    fields.sort();
    fields.dedup();
    PracticeChange {
        at,
        by: by.clone(),
        change: PracticeChangeKind::SettingsChanged,
        fields,
        member: None,
    }
}

/// The line of a change to one member's grant, `old` → `new` (none: added,
/// or removed).
pub fn member_change(
    old: Option<&crate::grants::Member>,
    new: Option<&crate::grants::Member>,
    by: &Actor,
    at: DateTime<Utc>,
) -> Option<PracticeChange> {
    let member = new.or(old)?.sub.clone();
    let (change, fields) = match (old, new) {
        (_, None) => (PracticeChangeKind::MemberRemoved, vec!["role".to_string()]),
        (None, Some(_)) => (
            PracticeChangeKind::MemberSet,
            vec!["role".to_string(), "name".to_string()],
        ),
        (Some(o), Some(n)) => {
            let mut fields = Vec::new();
            if o.role != n.role {
                fields.push("role".to_string());
            }
            if o.name != n.name {
                fields.push("name".to_string());
            }
            (PracticeChangeKind::MemberSet, fields)
        }
    };
    Some(PracticeChange {
        at,
        by: by.clone(),
        change,
        fields,
        member: Some(member),
    })
}
