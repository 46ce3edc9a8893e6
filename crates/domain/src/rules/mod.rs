//! The rules of SPEC §4 as pure functions: they take settings, an appointment and
//! the time, and say what to do and, when nothing is to be done, why.

pub mod cancellation;
pub mod confirmation;
pub mod online_change;
pub mod reminders;
pub mod status;

/// Why a message is not sent, as written in the communications log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    NoEmail,
    NoMobile,
    EmailServiceDisabled,
    SmsServiceDisabled,
    ReasonNotTickedForConfirmation,
    ReasonNotTickedForSmsReminder,
    CancellationSmsDisabled,
    /// "Send cancellation SMS" was not ticked when the appointment was set to reschedule.
    CancellationSmsNotRequested,
    NoReminderDelay,
    ReminderTimeAlreadyPassed,
    AppointmentNoLongerBooked,
    SupersededByLaterChange,
    UnknownReason,
    PractitionerUnknown,
    // Reminders (SPEC §4.3)
    /// The sweep came after the appointment had begun (it did not run for a while).
    AppointmentAlreadyStarted,
    /// SPEC §4.4: the practice cancelled an appointment that had already started.
    CancelledAppointmentAlreadyStarted,
    /// Quiet hours last from before the reminder time until the appointment.
    QuietHoursUntilAppointment,
}

impl SkipReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoEmail => "no_email",
            Self::NoMobile => "no_mobile",
            Self::EmailServiceDisabled => "email_service_disabled",
            Self::SmsServiceDisabled => "sms_service_disabled",
            Self::ReasonNotTickedForConfirmation => "reason_not_ticked_for_confirmation",
            Self::ReasonNotTickedForSmsReminder => "reason_not_ticked_for_sms_reminder",
            Self::CancellationSmsDisabled => "cancellation_sms_disabled",
            Self::CancellationSmsNotRequested => "cancellation_sms_not_requested",
            Self::NoReminderDelay => "no_reminder_delay",
            Self::ReminderTimeAlreadyPassed => "reminder_time_already_passed",
            Self::AppointmentNoLongerBooked => "appointment_no_longer_booked",
            Self::SupersededByLaterChange => "superseded_by_later_change",
            Self::UnknownReason => "unknown_reason",
            Self::PractitionerUnknown => "practitioner_unknown",
            Self::AppointmentAlreadyStarted => "appointment_already_started",
            Self::QuietHoursUntilAppointment => "quiet_hours_until_appointment",
            Self::CancelledAppointmentAlreadyStarted => "appointment_already_started",
        }
    }

    /// In the words of the agenda's users (the secretariat reads these).
    pub fn describe(self, language: crate::contact::Language) -> &'static str {
        use crate::contact::Language::*;
        match (self, language) {
            (Self::NoEmail, Fr) => "pas d'adresse e-mail sur la fiche contact",
            (Self::NoEmail, En) => "no e-mail address on the contact",
            (Self::NoMobile, Fr) => "pas de numéro de portable sur la fiche contact",
            (Self::NoMobile, En) => "no mobile number on the contact",
            (Self::EmailServiceDisabled, Fr) => "service e-mail désactivé",
            (Self::EmailServiceDisabled, En) => "e-mail service disabled",
            (Self::SmsServiceDisabled, Fr) => "service SMS désactivé",
            (Self::SmsServiceDisabled, En) => "SMS service disabled",
            (Self::ReasonNotTickedForConfirmation, Fr) => {
                "motif non coché pour l'e-mail de confirmation"
            }
            (Self::ReasonNotTickedForConfirmation, En) => {
                "reason not ticked for e-mail confirmation"
            }
            (Self::ReasonNotTickedForSmsReminder, Fr) => "motif non coché pour le rappel SMS",
            (Self::ReasonNotTickedForSmsReminder, En) => "reason not ticked for SMS reminders",
            (Self::CancellationSmsDisabled, Fr) => "SMS d'annulation désactivé",
            (Self::CancellationSmsDisabled, En) => "cancellation SMS disabled",
            (Self::CancellationSmsNotRequested, Fr) => {
                "SMS d'annulation non demandé lors du report"
            }
            (Self::CancellationSmsNotRequested, En) => {
                "cancellation SMS not requested when the appointment was set to reschedule"
            }
            (Self::NoReminderDelay, Fr) => "aucun délai de rappel choisi",
            (Self::NoReminderDelay, En) => "no reminder delay chosen",
            (Self::ReminderTimeAlreadyPassed, Fr) => {
                "l'heure du rappel était déjà passée à la prise du rendez-vous"
            }
            (Self::ReminderTimeAlreadyPassed, En) => {
                "the reminder time had already passed when the appointment was booked"
            }
            (Self::AppointmentNoLongerBooked, Fr) => "le rendez-vous n'est plus confirmé",
            (Self::AppointmentNoLongerBooked, En) => "the appointment is no longer booked",
            (Self::SupersededByLaterChange, Fr) => {
                "le rendez-vous a de nouveau changé avant l'envoi"
            }
            (Self::SupersededByLaterChange, En) => {
                "the appointment changed again before the message went out"
            }
            (Self::UnknownReason, Fr) => "motif de rendez-vous introuvable dans les paramètres",
            (Self::UnknownReason, En) => "reason of appointment not found in the settings",
            (Self::PractitionerUnknown, Fr) => "paramètres du praticien introuvables",
            (Self::PractitionerUnknown, En) => "practitioner settings not found",
            (Self::AppointmentAlreadyStarted, Fr) => {
                "le rendez-vous avait déjà commencé à l'heure d'envoi du rappel"
            }
            (Self::AppointmentAlreadyStarted, En) => {
                "the appointment had already begun when the reminder could be sent"
            }
            (Self::CancelledAppointmentAlreadyStarted, Fr) => "le rendez-vous avait déjà commencé",
            (Self::CancelledAppointmentAlreadyStarted, En) => "the appointment had already started",
            (Self::QuietHoursUntilAppointment, Fr) => {
                "heures de silence SMS jusqu'au rendez-vous, rappel non envoyé"
            }
            (Self::QuietHoursUntilAppointment, En) => {
                "SMS quiet hours last until the appointment, no reminder sent"
            }
        }
    }
}
