//! The JSON shapes of SPEC §6.5, built from the domain. Times are shown in the
//! practitioner's zone, with its offset.

use domain::appointment::{Appointment, Source, Status};
use domain::communications::{Channel, CommunicationEntry, DeliveryState, MessageKind};
use domain::contact::Language;
use domain::reminder::{ReminderOutlook, ReminderState};
use domain::service::booking::AppointmentDetails;
use domain::service::practice::PlacedAbsence;
use domain::settings::PractitionerSettings;
use domain::time::Zone;
use serde::Serialize;

/// The appointment as the practice sees it: the summary, then everything else.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentView {
    #[serde(flatten)]
    pub summary: AppointmentSummary,
    pub version: u32,
    pub replaces: Option<String>,
    pub patient: PatientView,
    pub patient_can_modify_online: bool,
    pub reminders: RemindersView,
    pub communications: Vec<CommunicationView>,
    /// The messages that did not reach the patient, newest first (SPEC §5).
    pub attention: Vec<CommunicationView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientView {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub language: Language,
}

/// `null` per channel when no reminder of that channel applies.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemindersView {
    pub email: Option<ReminderView>,
    pub sms: Option<ReminderView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderView {
    pub due_at: String,
    pub state: ReminderState,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunicationView {
    pub kind: MessageKind,
    pub channel: Channel,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
    /// The provider's id of the message (SPEC §5), once it accepted it.
    pub message_id: Option<String>,
    pub at: String,
}

impl CommunicationView {
    pub fn new(entry: &CommunicationEntry, zone: Zone) -> Self {
        Self {
            kind: entry.kind,
            channel: entry.channel,
            state: entry.state,
            reason: entry.reason.clone(),
            reason_code: entry.reason_code.clone(),
            message_id: entry.message_id.clone(),
            at: zone.rfc3339(entry.at),
        }
    }
}

impl AppointmentView {
    pub fn new(details: &AppointmentDetails) -> Self {
        let zone = details.zone;
        let appointment = &details.appointment;
        let patient = &appointment.patient;
        let reminder = |r: Option<ReminderOutlook>| {
            r.map(|r| ReminderView {
                due_at: zone.rfc3339(r.due_at),
                state: r.state,
            })
        };
        Self {
            summary: AppointmentSummary::new(appointment, zone),
            version: appointment.version,
            replaces: appointment.replaces.map(|id| id.to_string()),
            patient: PatientView {
                first_name: patient.first_name.as_str().to_string(),
                last_name: patient.last_name.as_str().to_string(),
                email: patient.email.as_ref().map(|e| e.as_str().to_string()),
                mobile: patient.mobile.as_ref().map(|m| m.e164().to_string()),
                language: details.language,
            },
            patient_can_modify_online: details.patient_can_modify_online,
            reminders: RemindersView {
                email: reminder(details.reminders.email),
                sms: reminder(details.reminders.sms),
            },
            communications: details
                .communications
                .iter()
                .map(|c| CommunicationView::new(c, zone))
                .collect(),
            attention: details
                .attention
                .iter()
                .map(|c| CommunicationView::new(c, zone))
                .collect(),
        }
    }
}

/// The agenda: `GET /practitioners/{pid}/appointments` (SPEC §6.2).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgendaView {
    pub appointments: Vec<AppointmentView>,
}

impl AgendaView {
    pub fn new(appointments: &[AppointmentDetails]) -> Self {
        Self {
            appointments: appointments.iter().map(AppointmentView::new).collect(),
        }
    }
}

/// `GET …/appointments/{id}/history` (SPEC §6.2): oldest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryView {
    pub changes: Vec<ChangeView>,
}

/// One change: when, by whom (`patient`, `system` or a member's `sub`), what
/// kind, and which fields, never their values.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeView {
    /// RFC 3339, UTC.
    pub at: String,
    pub by: String,
    pub change: domain::history::ChangeKind,
    pub fields: Vec<String>,
    pub version: u32,
}

impl HistoryView {
    pub fn new(changes: &[domain::history::HistoryEntry]) -> Self {
        Self {
            changes: changes
                .iter()
                .map(|c| ChangeView {
                    at: c.at.to_rfc3339(),
                    by: c.by.to_string(),
                    change: c.change,
                    fields: c.fields.clone(),
                    version: c.version,
                })
                .collect(),
        }
    }
}

/// `GET …/patients/export` (SPEC §6.2): every appointment of one contact,
/// with its communications and its history.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportView {
    pub appointments: Vec<ExportedView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedView {
    #[serde(flatten)]
    pub appointment: AppointmentView,
    pub history: Vec<ChangeView>,
}

impl ExportView {
    pub fn new(exported: &[domain::service::data_rights::Exported]) -> Self {
        Self {
            appointments: exported
                .iter()
                .map(|e| ExportedView {
                    appointment: AppointmentView::new(&e.details),
                    history: HistoryView::new(&e.history).changes,
                })
                .collect(),
        }
    }
}

/// `GET /practitioners/{pid}/members` (SPEC §6.2): every grant, by `sub`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembersView {
    pub members: Vec<domain::grants::Member>,
}

impl MembersView {
    pub fn new(members: &domain::grants::Members) -> Self {
        Self {
            members: members.members.clone(),
        }
    }
}

/// The practitioner as patient pages show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PractitionerView {
    pub name: String,
    pub address: Option<String>,
}

/// `GET /a/{token}` (and the answer of its actions), SPEC §6.5.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientLinkView {
    pub status: Status,
    pub start: String,
    pub end: String,
    pub practitioner: PractitionerView,
    pub can_modify: bool,
    pub can_cancel: bool,
    pub why_not: Option<String>,
    pub secretariat_phone: String,
}

impl PatientLinkView {
    pub fn new(
        appointment: &Appointment,
        settings: &PractitionerSettings,
        why_not: Option<String>,
    ) -> Self {
        let zone = settings.timezone;
        Self {
            status: appointment.status,
            start: zone.rfc3339(appointment.start),
            end: zone.rfc3339(appointment.end),
            practitioner: PractitionerView {
                name: settings.name.clone(),
                address: settings.address.clone(),
            },
            can_modify: why_not.is_none(),
            can_cancel: why_not.is_none(),
            why_not,
            secretariat_phone: settings.secretariat_phone.e164().to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotView {
    pub start: String,
    pub end: String,
}

/// `{"slots": [{start, end}]}` (SPEC §6.5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotsView {
    pub slots: Vec<SlotView>,
    /// Why no slot is offered, when the patient may not move (patient links).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

impl SlotsView {
    pub fn new(slots: &[domain::time::TimeRange], settings: &PractitionerSettings) -> Self {
        let zone = settings.timezone;
        Self {
            slots: slots
                .iter()
                .map(|s| SlotView {
                    start: zone.rfc3339(s.start),
                    end: zone.rfc3339(s.end),
                })
                .collect(),
            why_not: None,
        }
    }
}

/// The appointment a rebooking link is about (SPEC §6.5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelledView {
    pub start: String,
    pub end: String,
    pub practitioner: PractitionerView,
}

/// `GET /r/{token}` (SPEC §6.5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RebookView {
    pub cancelled: CancelledView,
    pub can_rebook: bool,
    pub slots: Vec<SlotView>,
    pub secretariat_phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

impl RebookView {
    pub fn new(
        cancelled: &Appointment,
        settings: &PractitionerSettings,
        slots: &[domain::time::TimeRange],
        why_not: Option<String>,
    ) -> Self {
        let zone = settings.timezone;
        Self {
            cancelled: CancelledView {
                start: zone.rfc3339(cancelled.start),
                end: zone.rfc3339(cancelled.end),
                practitioner: PractitionerView {
                    name: settings.name.clone(),
                    address: settings.address.clone(),
                },
            },
            can_rebook: why_not.is_none(),
            slots: SlotsView::new(slots, settings).slots,
            secretariat_phone: settings.secretariat_phone.e164().to_string(),
            why_not,
        }
    }
}

/// What anyone may see of an appointment: no patient, no log. An online
/// booking answers 201 with it (SPEC §6.3); [`AppointmentView`] begins with it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppointmentSummary {
    pub id: String,
    pub practitioner_id: String,
    pub reason_id: String,
    pub start: String,
    pub end: String,
    pub status: Status,
    pub source: Source,
}

impl AppointmentSummary {
    pub fn new(appointment: &Appointment, zone: Zone) -> Self {
        Self {
            id: appointment.id.to_string(),
            practitioner_id: appointment.practitioner_id.to_string(),
            reason_id: appointment.reason_id.to_string(),
            start: zone.rfc3339(appointment.start),
            end: zone.rfc3339(appointment.end),
            status: appointment.status,
            source: appointment.source,
        }
    }
}

/// `{id, start, end, label, affected_appointments}` (SPEC §6.5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsenceView {
    pub id: String,
    pub start: String,
    pub end: String,
    pub label: Option<String>,
    pub affected_appointments: Vec<String>,
}

impl AbsenceView {
    pub fn new(placed: &PlacedAbsence) -> Self {
        let absence = &placed.absence;
        Self {
            id: absence.id.to_string(),
            start: placed.zone.rfc3339(absence.start),
            end: placed.zone.rfc3339(absence.end),
            label: absence.label.clone(),
            affected_appointments: placed.affected.iter().map(ToString::to_string).collect(),
        }
    }
}

/// `POST /r/{token}` answers 201 with the replacement (SPEC §6.5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplacementView {
    pub id: String,
    pub start: String,
    pub end: String,
    pub status: Status,
}

/// `POST /public/practitioners/{pid}/verifications` → 202 (SPEC §6.3): the
/// id to book with, and when the code stops working.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationView {
    pub id: String,
    pub expires_at: String,
}

impl VerificationView {
    pub fn new(sent: &domain::service::online_booking::CodeSent) -> Self {
        Self {
            id: sent.id.as_str().to_string(),
            expires_at: sent
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}
