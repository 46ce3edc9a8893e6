//! Messages that follow a cancellation: the e-mail confirming a patient's own
//! cancellation (SPEC §4.2), and the SMS telling a patient the practice
//! cancelled (SPEC §4.4).

use super::SkipReason;
use crate::appointment::{Appointment, Change};
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Utc};

/// Changes that call for a cancellation acknowledgement.
pub fn ack_is_called_for(change: Change) -> bool {
    change == Change::CancelledByPatient
}

/// The patient cancelled from an e-mail, so normally has an address; the
/// practitioner may since have turned the e-mail service off.
pub fn decide_ack(
    settings: &PractitionerSettings,
    appointment: &Appointment,
) -> Result<(), SkipReason> {
    if appointment.patient.email.is_none() {
        return Err(SkipReason::NoEmail);
    }
    if !settings.email_service.enabled {
        return Err(SkipReason::EmailServiceDisabled);
    }
    Ok(())
}

/// Changes that call for the practitioner-side cancellation SMS decision
/// (logged either way, so the secretariat sees why no SMS went out).
pub fn sms_is_called_for(change: Change) -> bool {
    matches!(
        change,
        Change::SetToReschedule | Change::SetToRescheduleWithoutSms
    )
}

/// What the cancellation SMS offers: a rebooking link, or the secretariat's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellationSms {
    WithRebookingLink,
    WithPhone,
}

/// SPEC §4.4: never about an appointment that has already started (its
/// status may change, the patient is not told), whatever the channel.
pub fn practice_cancellation_too_late(
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<(), SkipReason> {
    if appointment.start <= now {
        return Err(SkipReason::CancelledAppointmentAlreadyStarted);
    }
    Ok(())
}

/// SPEC §4.4: the practice asked for it, the appointment has not started, the
/// SMS service on with `cancellation_sms`, the patient has a mobile; a link
/// when the patient may rebook online, the phone otherwise.
pub fn decide_sms(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<CancellationSms, SkipReason> {
    if appointment.last_change != Change::SetToReschedule {
        return Err(SkipReason::CancellationSmsNotRequested);
    }
    practice_cancellation_too_late(appointment, now)?;
    if !settings.sms_service.enabled {
        return Err(SkipReason::SmsServiceDisabled);
    }
    if !settings.sms_service.cancellation_sms {
        return Err(SkipReason::CancellationSmsDisabled);
    }
    if appointment.patient.mobile.is_none() {
        return Err(SkipReason::NoMobile);
    }
    Ok(
        match super::online_change::patient_may_rebook_online(settings, appointment) {
            Ok(()) => CancellationSms::WithRebookingLink,
            Err(_) => CancellationSms::WithPhone,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, booked, dr_martin};

    #[test]
    fn only_a_patients_cancellation_calls_for_the_ack() {
        assert!(ack_is_called_for(Change::CancelledByPatient));
        for other in [
            Change::Created,
            Change::MovedByPatient,
            Change::SetToReschedule,
            Change::SetToRescheduleWithoutSms,
            Change::Cancelled,
            Change::Rebooked,
        ] {
            assert!(!ack_is_called_for(other), "{other:?}");
        }
    }

    #[test]
    fn the_sms_needs_the_request_the_service_the_switch_and_a_mobile() {
        let mut settings = dr_martin();
        let mut appointment = booked(at("2026-12-03T13:30:00Z"), 20);
        appointment.status = crate::appointment::Status::ToReschedule;
        appointment.last_change = Change::SetToReschedule;
        appointment.patient.mobile = Some(crate::contact::Mobile::parse("0612345678").unwrap());
        let before = at("2026-12-03T12:00:00Z");
        assert_eq!(
            decide_sms(&settings, &appointment, before),
            Ok(CancellationSms::WithRebookingLink)
        );
        settings.reasons[0].online_booking = false;
        assert_eq!(
            decide_sms(&settings, &appointment, before),
            Ok(CancellationSms::WithPhone)
        );
        settings.sms_service.cancellation_sms = false;
        assert_eq!(
            decide_sms(&settings, &appointment, before),
            Err(SkipReason::CancellationSmsDisabled)
        );
        settings.sms_service.enabled = false;
        assert_eq!(
            decide_sms(&settings, &appointment, before),
            Err(SkipReason::SmsServiceDisabled)
        );
        appointment.last_change = Change::SetToRescheduleWithoutSms;
        assert_eq!(
            decide_sms(&dr_martin(), &appointment, before),
            Err(SkipReason::CancellationSmsNotRequested)
        );
        appointment.last_change = Change::SetToReschedule;
        appointment.patient.mobile = None;
        assert_eq!(
            decide_sms(&dr_martin(), &appointment, before),
            Err(SkipReason::NoMobile)
        );
    }

    #[test]
    fn no_sms_once_the_appointment_has_started() {
        // Given a morning appointment set to reschedule with the SMS ticked
        let mut appointment = booked(at("2026-12-03T08:30:00Z"), 20);
        appointment.status = crate::appointment::Status::ToReschedule;
        appointment.last_change = Change::SetToReschedule;
        appointment.patient.mobile = Some(crate::contact::Mobile::parse("0612345678").unwrap());
        // When it is decided at noon, or the minute it starts, then nothing is sent
        for now in [at("2026-12-03T12:00:00Z"), at("2026-12-03T08:30:00Z")] {
            assert_eq!(
                decide_sms(&dr_martin(), &appointment, now),
                Err(SkipReason::CancelledAppointmentAlreadyStarted)
            );
        }
        // and a minute before, it is
        assert!(decide_sms(&dr_martin(), &appointment, at("2026-12-03T08:29:00Z")).is_ok());
    }

    #[test]
    fn the_ack_needs_an_address_and_the_email_service() {
        let mut settings = dr_martin();
        let mut appointment = booked(at("2026-12-03T13:30:00Z"), 20);
        assert_eq!(decide_ack(&settings, &appointment), Ok(()));
        settings.email_service.enabled = false;
        assert_eq!(
            decide_ack(&settings, &appointment),
            Err(SkipReason::EmailServiceDisabled)
        );
        appointment.patient.email = None;
        assert_eq!(
            decide_ack(&settings, &appointment),
            Err(SkipReason::NoEmail)
        );
    }
}
