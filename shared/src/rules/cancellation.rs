//! The e-mail confirming a patient's own cancellation (SPEC §4.2).

use super::SkipReason;
use crate::appointment::{Appointment, Change};
use crate::settings::PractitionerSettings;

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
            Change::Cancelled,
            Change::Rebooked,
        ] {
            assert!(!ack_is_called_for(other), "{other:?}");
        }
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
