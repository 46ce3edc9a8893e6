//! The confirmation e-mail (SPEC §4.1): whether it is sent, and with which links.

use super::SkipReason;
use super::online_change::patient_may_change_online;
use crate::appointment::{Appointment, Change};
use crate::contact::Email;
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Send it to `to`, the address the rule checked; with MODIFY / CANCEL
    /// links, or with the secretariat's phone instead.
    Send {
        to: Email,
        with_links: bool,
    },
    Skip(SkipReason),
}

/// Changes that call for a confirmation: a new booking (by either side, or as a
/// replacement), a move by the patient, and a change of time, reason or
/// e-mail address by the practice (SPEC §4.5).
pub fn is_called_for(change: Change) -> bool {
    matches!(
        change,
        Change::Created | Change::MovedByPatient | Change::ChangedByPractice
    )
}

pub fn decide(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Confirmation {
    let Some(reason) = settings.reason(&appointment.reason_id) else {
        return Confirmation::Skip(SkipReason::UnknownReason);
    };
    if !appointment.status.is_booked() {
        return Confirmation::Skip(SkipReason::AppointmentNoLongerBooked);
    }
    let Some(to) = appointment.patient.email.clone() else {
        return Confirmation::Skip(SkipReason::NoEmail);
    };
    if !settings.email_service.enabled {
        return Confirmation::Skip(SkipReason::EmailServiceDisabled);
    }
    if !reason.confirmation_email {
        return Confirmation::Skip(SkipReason::ReasonNotTickedForConfirmation);
    }
    Confirmation::Send {
        to,
        with_links: patient_may_change_online(settings, appointment, now).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointment::Source;
    use crate::fixtures::dr_martin as sample;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        "2026-11-25T10:00:00Z".parse().unwrap()
    }

    fn appointment(start_in: Duration) -> Appointment {
        crate::fixtures::booked(now() + start_in, 20)
    }

    /// Sent to the patient's address of the fixtures.
    fn sent(with_links: bool) -> Confirmation {
        Confirmation::Send {
            to: appointment(Duration::days(3)).patient.email.unwrap(),
            with_links,
        }
    }

    #[test]
    fn sent_with_links_when_everything_is_ticked_and_before_the_deadline() {
        let decision = decide(&sample(), &appointment(Duration::days(3)), now());
        assert_eq!(decision, sent(true));
    }

    #[test]
    fn links_even_when_the_practitioner_side_booked() {
        let mut a = appointment(Duration::days(3));
        a.source = Source::Practitioner;
        assert_eq!(decide(&sample(), &a, now()), sent(true));
    }

    #[test]
    fn no_links_but_still_sent_when_online_change_is_not_allowed() {
        let within_deadline = appointment(Duration::hours(23));
        assert_eq!(decide(&sample(), &within_deadline, now()), sent(false));
        let mut settings = sample();
        settings.online_booking.enabled = false;
        assert_eq!(
            decide(&settings, &appointment(Duration::days(3)), now()),
            sent(false)
        );
        let mut settings = sample();
        settings.reasons[0].online_booking = false;
        assert_eq!(
            decide(&settings, &appointment(Duration::days(3)), now()),
            sent(false)
        );
    }

    #[test]
    fn skipped_with_the_reason_in_words() {
        let mut no_email = appointment(Duration::days(3));
        no_email.patient.email = None;
        assert_eq!(
            decide(&sample(), &no_email, now()),
            Confirmation::Skip(SkipReason::NoEmail)
        );
        let mut settings = sample();
        settings.email_service.enabled = false;
        assert_eq!(
            decide(&settings, &appointment(Duration::days(3)), now()),
            Confirmation::Skip(SkipReason::EmailServiceDisabled)
        );
        let mut settings = sample();
        settings.reasons[0].confirmation_email = false;
        assert_eq!(
            decide(&settings, &appointment(Duration::days(3)), now()),
            Confirmation::Skip(SkipReason::ReasonNotTickedForConfirmation)
        );
    }
}
