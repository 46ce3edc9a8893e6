//! Messages that follow a cancellation: the e-mail confirming a patient's own
//! cancellation (SPEC §4.2), and the SMS and e-mail telling a patient the
//! practice cancelled (SPEC §4.4).

use super::SkipReason;
use crate::appointment::{Appointment, Change};
use crate::contact::{Email, Mobile};
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Utc};

/// Changes that call for a cancellation acknowledgement.
pub fn ack_is_called_for(change: Change) -> bool {
    change == Change::CancelledByPatient
}

/// The patient cancelled from an e-mail, so normally has an address; the
/// practitioner may since have turned the e-mail service off. `Ok`: the
/// address to send the acknowledgement to.
pub fn decide_ack(
    settings: &PractitionerSettings,
    appointment: &Appointment,
) -> Result<Email, SkipReason> {
    let Some(to) = appointment.patient.email.clone() else {
        return Err(SkipReason::NoEmail);
    };
    if !settings.email_service.enabled {
        return Err(SkipReason::EmailServiceDisabled);
    }
    Ok(to)
}

/// Changes that call for the practice's cancellation notice decisions (SMS
/// and e-mail, logged either way, so the secretariat sees why nothing went out).
pub fn notice_is_called_for(change: Change) -> bool {
    matches!(
        change,
        Change::SetToReschedule | Change::SetToRescheduleWithoutSms
    )
}

/// What a cancellation notice offers: a rebooking link, or the secretariat's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebookingOffer {
    WithRebookingLink,
    WithPhone,
}

/// A cancellation notice to send: to the address or mobile the rule checked,
/// with what it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice<To> {
    pub to: To,
    pub offer: RebookingOffer,
}

/// SPEC §4.4, for both channels: the practice asked to tell the patient, and
/// the appointment had not started yet when the notice goes.
fn notice_requested(appointment: &Appointment, now: DateTime<Utc>) -> Result<(), SkipReason> {
    if appointment.last_change != Change::SetToReschedule {
        return Err(SkipReason::CancellationSmsNotRequested);
    }
    if now >= appointment.start {
        return Err(SkipReason::CancelledAfterStart);
    }
    Ok(())
}

/// A link when the patient may rebook online, the phone otherwise.
fn offer(settings: &PractitionerSettings, appointment: &Appointment) -> RebookingOffer {
    match super::online_change::patient_may_rebook_online(settings, appointment) {
        Ok(_) => RebookingOffer::WithRebookingLink,
        Err(_) => RebookingOffer::WithPhone,
    }
}

/// SPEC §4.4, the SMS, as in the source: the SMS service on with
/// `cancellation_sms`, the reason ticked for SMS reminders, a mobile. When it
/// goes is [`held_through_quiet_hours`]'s answer.
pub fn decide_sms(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<Notice<Mobile>, SkipReason> {
    notice_requested(appointment, now)?;
    if !settings.sms_service.enabled {
        return Err(SkipReason::SmsServiceDisabled);
    }
    if !settings.sms_service.cancellation_sms {
        return Err(SkipReason::CancellationSmsDisabled);
    }
    if !settings
        .reason(&appointment.reason_id)
        .is_some_and(|r| r.sms_reminder)
    {
        return Err(SkipReason::ReasonNotTickedForSmsReminder);
    }
    let Some(to) = appointment.patient.mobile.clone() else {
        return Err(SkipReason::NoMobile);
    };
    super::may_text(settings, &to)?;
    Ok(Notice {
        to,
        offer: offer(settings, appointment),
    })
}

/// SPEC §4.4: quiet hours hold every SMS. A cancellation SMS decided inside
/// them is held until they end, unless the appointment starts before then:
/// the patient must hear before coming, so it goes at once. `None`: now.
pub fn held_through_quiet_hours(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let quiet = super::reminders::quiet_period_at(settings, now)?;
    (quiet.end < appointment.start).then_some(quiet.end)
}

/// SPEC §4.4, the e-mail (beyond the source, so that a patient without a
/// mobile is told too): the e-mail service on and an address; sent at once.
pub fn decide_email(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<Notice<Email>, SkipReason> {
    notice_requested(appointment, now)?;
    if !settings.email_service.enabled {
        return Err(SkipReason::EmailServiceDisabled);
    }
    let Some(to) = appointment.patient.email.clone() else {
        return Err(SkipReason::NoEmail);
    };
    Ok(Notice {
        to,
        offer: offer(settings, appointment),
    })
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

    fn to_reschedule() -> (PractitionerSettings, Appointment) {
        let mut appointment = booked(at("2026-12-03T13:30:00Z"), 20);
        appointment.status = crate::appointment::Status::ToReschedule;
        appointment.last_change = Change::SetToReschedule;
        appointment.patient.mobile = Some(crate::contact::Mobile::parse("0612345678").unwrap());
        (dr_martin(), appointment)
    }

    fn before() -> DateTime<Utc> {
        at("2026-12-01T10:00:00Z")
    }

    #[test]
    fn the_sms_needs_the_request_the_service_the_switch_the_reason_and_a_mobile() {
        let (mut settings, mut appointment) = to_reschedule();
        let now = before();
        let mobile = appointment.patient.mobile.clone().unwrap();
        assert_eq!(
            decide_sms(&settings, &appointment, now),
            Ok(Notice {
                to: mobile.clone(),
                offer: RebookingOffer::WithRebookingLink
            })
        );
        settings.reasons[0].online_booking = false;
        assert_eq!(
            decide_sms(&settings, &appointment, now),
            Ok(Notice {
                to: mobile,
                offer: RebookingOffer::WithPhone
            })
        );
        settings.reasons[0].sms_reminder = false;
        assert_eq!(
            decide_sms(&settings, &appointment, now),
            Err(SkipReason::ReasonNotTickedForSmsReminder)
        );
        settings.sms_service.cancellation_sms = false;
        assert_eq!(
            decide_sms(&settings, &appointment, now),
            Err(SkipReason::CancellationSmsDisabled)
        );
        settings.sms_service.enabled = false;
        assert_eq!(
            decide_sms(&settings, &appointment, now),
            Err(SkipReason::SmsServiceDisabled)
        );
        appointment.last_change = Change::SetToRescheduleWithoutSms;
        assert_eq!(
            decide_sms(&dr_martin(), &appointment, now),
            Err(SkipReason::CancellationSmsNotRequested)
        );
        appointment.last_change = Change::SetToReschedule;
        appointment.patient.mobile = None;
        assert_eq!(
            decide_sms(&dr_martin(), &appointment, now),
            Err(SkipReason::NoMobile)
        );
    }

    #[test]
    fn the_email_needs_the_request_the_service_and_an_address() {
        let (mut settings, mut appointment) = to_reschedule();
        appointment.patient.mobile = None;
        let now = before();
        assert_eq!(
            decide_email(&settings, &appointment, now),
            Ok(Notice {
                to: appointment.patient.email.clone().unwrap(),
                offer: RebookingOffer::WithRebookingLink
            })
        );
        appointment.patient.email = None;
        assert_eq!(
            decide_email(&settings, &appointment, now),
            Err(SkipReason::NoEmail)
        );
        settings.email_service.enabled = false;
        assert_eq!(
            decide_email(&settings, &appointment, now),
            Err(SkipReason::EmailServiceDisabled)
        );
    }

    #[test]
    fn nothing_is_sent_once_the_appointment_has_started() {
        let (settings, appointment) = to_reschedule();
        let started = appointment.start + chrono::Duration::minutes(5);
        assert_eq!(
            decide_sms(&settings, &appointment, started),
            Err(SkipReason::CancelledAfterStart)
        );
        assert_eq!(
            decide_email(&settings, &appointment, started),
            Err(SkipReason::CancelledAfterStart)
        );
    }

    #[test]
    fn an_sms_decided_in_quiet_hours_waits_for_their_end_unless_the_appointment_comes_first() {
        // Paris, quiet 21:00–08:00; the appointment is on 3 December at 14:30.
        let (settings, appointment) = to_reschedule();
        let evening = at("2026-12-01T21:30:00Z"); // 22:30 in Paris
        assert_eq!(
            held_through_quiet_hours(&settings, &appointment, evening),
            Some(at("2026-12-02T07:00:00Z")),
            "held until 08:00 Paris time"
        );
        assert_eq!(
            held_through_quiet_hours(&settings, &appointment, at("2026-12-01T10:00:00Z")),
            None,
            "outside quiet hours it goes at once"
        );
        let mut early = appointment.clone();
        early.start = at("2026-12-02T06:45:00Z"); // 07:45, before the quiet hours end
        assert_eq!(
            held_through_quiet_hours(&settings, &early, evening),
            None,
            "an appointment before the end of the quiet hours is told at once"
        );
        let mut no_quiet = settings.clone();
        no_quiet.quiet_hours.end = no_quiet.quiet_hours.start;
        assert_eq!(
            held_through_quiet_hours(&no_quiet, &appointment, evening),
            None
        );
    }

    #[test]
    fn the_ack_needs_an_address_and_the_email_service() {
        let mut settings = dr_martin();
        let mut appointment = booked(at("2026-12-03T13:30:00Z"), 20);
        assert_eq!(
            decide_ack(&settings, &appointment),
            appointment.patient.email.clone().ok_or(SkipReason::NoEmail)
        );
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
