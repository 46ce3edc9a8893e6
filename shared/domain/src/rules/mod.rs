//! The rules of SPEC §4 as pure functions: they take settings, an appointment and
//! the time, and say what to do and, when nothing is to be done, why.

pub mod cancellation;
pub mod confirmation;
pub mod online_change;
pub mod reminders;
pub mod status;

/// Why a message is not sent, as written in the communications log (its words:
/// `messages::wording::skip_reason`).
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
    /// Quiet hours last from before the reminder time until the appointment.
    QuietHoursUntilAppointment,
    /// The practice cancelled after the appointment had begun (SPEC §4.4).
    CancelledAfterStart,
    /// The mobile is of a country not in `sms_service.countries` (SPEC §4.3).
    CountryNotTexted,
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
            Self::CancelledAfterStart => "appointment_had_started",
            Self::CountryNotTexted => "country_not_texted",
        }
    }
}

/// SPEC §2, §4.3: an SMS goes only to a mobile of one of the practice's
/// `sms_service.countries`, decided when it is sent (settings changed since
/// the booking apply), so high-cost numbers of other countries cannot be
/// pumped through the practice's reminders. A number whose country the
/// metadata cannot tell is not texted either.
pub fn may_text(
    settings: &crate::settings::PractitionerSettings,
    mobile: &crate::contact::Mobile,
) -> Result<(), SkipReason> {
    let country = mobile.country();
    if country.is_some_and(|c| settings.sms_service.countries.contains(&c)) {
        Ok(())
    } else {
        Err(SkipReason::CountryNotTexted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Mobile;

    #[test]
    fn only_mobiles_of_the_practices_countries_are_texted() {
        // Given a practice with the default countries
        let mut settings = crate::fixtures::dr_martin();
        let uk = Mobile::parse("+447400123456").unwrap();
        let reunion = Mobile::parse("+262692123456").unwrap();
        // Then a French or Réunion mobile is texted, a UK one is not
        assert_eq!(
            may_text(&settings, &Mobile::parse("0612345678").unwrap()),
            Ok(())
        );
        assert_eq!(may_text(&settings, &reunion), Ok(()));
        assert_eq!(may_text(&settings, &uk), Err(SkipReason::CountryNotTexted));
        // And once the practice adds GB, the UK mobile is
        settings.sms_service.countries.push("GB".into());
        assert_eq!(may_text(&settings, &uk), Ok(()));
    }
}
