//! Reminders by e-mail and SMS (SPEC §4.3): whether one applies, when it is
//! due (quiet hours for SMS), and what to do with it when its time comes.
//! The scheduler, the sweeper and the API all ask these functions, so the
//! agenda shows exactly what will be sent.

use super::SkipReason;
use crate::appointment::{Appointment, Change};
use crate::communications::Channel;
use crate::settings::PractitionerSettings;
use crate::time::Zone;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

pub const CHANNELS: [Channel; 2] = [Channel::Email, Channel::Sms];

/// "Just before the quiet period starts": this long before it, so that a sweep
/// every few minutes sends the SMS before the quiet period begins.
pub const QUIET_MARGIN: Duration = Duration::minutes(15);

/// When the appointment got its current time: a reminder due before this
/// moment was "already past when the appointment was booked".
pub fn booked_at(appointment: &Appointment) -> DateTime<Utc> {
    match appointment.last_change {
        Change::MovedByPatient | Change::ChangedByPractice => appointment.updated_at,
        _ => appointment.created_at,
    }
}

/// The practitioner's reminder delay for `channel`, when that service is on.
pub fn delay(settings: &PractitionerSettings, channel: Channel) -> Result<Duration, SkipReason> {
    let (enabled, hours, disabled) = match channel {
        Channel::Email => (
            settings.email_service.enabled,
            settings.email_service.reminder_hours_before,
            SkipReason::EmailServiceDisabled,
        ),
        Channel::Sms => (
            settings.sms_service.enabled,
            settings.sms_service.reminder_hours_before,
            SkipReason::SmsServiceDisabled,
        ),
    };
    if !enabled {
        return Err(disabled);
    }
    hours
        .map(|h| Duration::hours(i64::from(h)))
        .ok_or(SkipReason::NoReminderDelay)
}

/// Whether a reminder of `channel` applies to this appointment, whatever the
/// time: the service is on with a delay, the reason is ticked (SMS), the
/// contact has the address, or a mobile of a country the practice texts
/// ([`super::may_text`]). Answers the delay.
pub fn applies(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    channel: Channel,
) -> Result<Duration, SkipReason> {
    let delay = delay(settings, channel)?;
    let reason = settings
        .reason(&appointment.reason_id)
        .ok_or(SkipReason::UnknownReason)?;
    match channel {
        Channel::Email if appointment.patient.email.is_none() => Err(SkipReason::NoEmail),
        Channel::Sms if !reason.sms_reminder => Err(SkipReason::ReasonNotTickedForSmsReminder),
        Channel::Sms => match &appointment.patient.mobile {
            None => Err(SkipReason::NoMobile),
            Some(mobile) => super::may_text(settings, mobile).map(|()| delay),
        },
        _ => Ok(delay),
    }
}

/// When a reminder goes out, as decided from the time the appointment was booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Due(DateTime<Utc>),
    /// `start - delay` had already passed at booking: skipped, not sent late.
    TooLate {
        nominal: DateTime<Utc>,
    },
    /// An SMS whose time falls in quiet hours that last until the appointment.
    QuietUntilAppointment {
        nominal: DateTime<Utc>,
    },
}

impl Timing {
    /// The time shown to the agenda: the due time, or the nominal one when skipped.
    pub fn shown(self) -> DateTime<Utc> {
        match self {
            Self::Due(t)
            | Self::TooLate { nominal: t }
            | Self::QuietUntilAppointment { nominal: t } => t,
        }
    }
}

/// A quiet period, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A local wall-clock time on a date ([`Zone::instant`]).
fn at_local(zone: Zone, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    zone.instant(date.and_time(time))
}

/// The quiet period (SPEC §2, default 21:00–08:00 local) that `t` falls in, if any.
pub fn quiet_period_at(settings: &PractitionerSettings, t: DateTime<Utc>) -> Option<QuietPeriod> {
    let zone = settings.timezone;
    let (qs, qe) = (settings.quiet_hours.start.0, settings.quiet_hours.end.0);
    if qs == qe {
        return None;
    }
    let local = t.with_timezone(&zone.0);
    let (date, tod) = (local.date_naive(), local.time());
    let began_on = if qs < qe {
        (qs <= tod && tod < qe).then_some(date)
    } else if tod >= qs {
        Some(date)
    } else if tod < qe {
        date.pred_opt()
    } else {
        None
    }?;
    let ends_on = if qs < qe {
        began_on
    } else {
        began_on.succ_opt()?
    };
    Some(QuietPeriod {
        start: at_local(zone, began_on, qs),
        end: at_local(zone, ends_on, qe),
    })
}

/// When the reminder of `channel` is due, given the practitioner's `delay`.
pub fn timing(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    channel: Channel,
    delay: Duration,
) -> Timing {
    let nominal = appointment.start - delay;
    let booked = booked_at(appointment);
    if nominal <= booked {
        return Timing::TooLate { nominal };
    }
    if channel == Channel::Sms {
        if let Some(quiet) = quiet_period_at(settings, nominal) {
            let brought_forward = quiet.start - QUIET_MARGIN;
            if brought_forward > booked {
                return Timing::Due(brought_forward);
            }
            if quiet.end < appointment.start {
                return Timing::Due(quiet.end);
            }
            return Timing::QuietUntilAppointment { nominal };
        }
    }
    Timing::Due(nominal)
}

/// When the sweep should look at the reminder of `channel`: `None` when the
/// practitioner sends no such reminder (or the appointment is not booked), so
/// nothing is indexed. A reminder skipped from the start (its time had passed
/// at booking) is looked at at once, so that the skip is logged.
pub fn schedule(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    channel: Channel,
) -> Option<DateTime<Utc>> {
    if !appointment.status.is_booked() {
        return None;
    }
    let delay = delay(settings, channel).ok()?;
    match timing(settings, appointment, channel, delay) {
        Timing::Due(t) => Some(t),
        Timing::TooLate { .. } | Timing::QuietUntilAppointment { .. } => {
            Some(booked_at(appointment))
        }
    }
}

/// What the sweep does with a reminder, on the current appointment and settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    Skip(SkipReason),
    /// Not due yet (the settings or quiet hours put it later): look again then.
    NotYet(DateTime<Utc>),
}

pub fn decide(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    channel: Channel,
    now: DateTime<Utc>,
) -> Decision {
    if !appointment.status.is_booked() {
        return Decision::Skip(SkipReason::AppointmentNoLongerBooked);
    }
    let delay = match applies(settings, appointment, channel) {
        Ok(delay) => delay,
        Err(reason) => return Decision::Skip(reason),
    };
    match timing(settings, appointment, channel, delay) {
        Timing::TooLate { .. } => return Decision::Skip(SkipReason::ReminderTimeAlreadyPassed),
        Timing::QuietUntilAppointment { .. } => {
            return Decision::Skip(SkipReason::QuietHoursUntilAppointment);
        }
        Timing::Due(t) if t > now => return Decision::NotYet(t),
        Timing::Due(_) => {}
    }
    if now >= appointment.start {
        return Decision::Skip(SkipReason::AppointmentAlreadyStarted);
    }
    // A late sweep never sends an SMS inside quiet hours.
    if channel == Channel::Sms {
        if let Some(quiet) = quiet_period_at(settings, now) {
            return if quiet.end < appointment.start {
                Decision::NotYet(quiet.end)
            } else {
                Decision::Skip(SkipReason::QuietHoursUntilAppointment)
            };
        }
    }
    Decision::Send
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointment::Status;
    use crate::contact::Mobile;
    use crate::fixtures::{at, dr_martin};

    /// Booked at `booked`, starting at `start`, with an e-mail and a mobile.
    fn appointment(booked: &str, start: &str) -> Appointment {
        let mut a = crate::fixtures::booked(at(start), 20);
        a.patient.mobile = Some(Mobile::parse("0612345678").unwrap());
        a.created_at = at(booked);
        a.updated_at = at(booked);
        a
    }

    fn sms_due(booked: &str, start: &str) -> Timing {
        let s = dr_martin(); // SMS 24 h before, quiet hours 21:00-08:00 Paris
        timing(
            &s,
            &appointment(booked, start),
            Channel::Sms,
            Duration::hours(24),
        )
    }

    #[test]
    fn email_and_sms_are_due_their_delay_before_the_appointment() {
        let s = dr_martin();
        let a = appointment("2026-11-25T10:00:00Z", "2026-12-03T13:30:00Z");
        assert_eq!(
            schedule(&s, &a, Channel::Email),
            Some(at("2026-12-01T13:30:00Z"))
        );
        assert_eq!(
            schedule(&s, &a, Channel::Sms),
            Some(at("2026-12-02T13:30:00Z"))
        );
    }

    #[test]
    fn an_sms_due_in_quiet_hours_is_brought_forward_to_just_before_them() {
        // 07:30 Paris on 3 Dec -> due 07:30 on 2 Dec, inside 21:00-08:00:
        // brought forward to 20:45 Paris on 1 Dec.
        assert_eq!(
            sms_due("2026-11-25T10:00:00Z", "2026-12-03T06:30:00Z"),
            Timing::Due(at("2026-12-01T19:45:00Z"))
        );
        // 22:00 Paris on 3 Dec -> due 22:00 on 2 Dec -> 20:45 on 2 Dec.
        assert_eq!(
            sms_due("2026-11-25T10:00:00Z", "2026-12-03T21:00:00Z"),
            Timing::Due(at("2026-12-02T19:45:00Z"))
        );
    }

    #[test]
    fn when_just_before_quiet_hours_is_already_past_the_sms_goes_when_they_end() {
        // Booked at 21:30 Paris on 1 Dec for 09:30 on 3 Dec: due 09:30 on 2 Dec
        // is fine (not quiet).
        assert_eq!(
            sms_due("2026-12-01T20:30:00Z", "2026-12-03T08:30:00Z"),
            Timing::Due(at("2026-12-02T08:30:00Z"))
        );
        // Booked at 21:30 Paris on 1 Dec for 23:00 on 2 Dec: due 23:00 on 1 Dec
        // is quiet, 20:45 on 1 Dec has passed, quiet ends 08:00 on 2 Dec.
        assert_eq!(
            sms_due("2026-12-01T20:30:00Z", "2026-12-02T22:00:00Z"),
            Timing::Due(at("2026-12-02T07:00:00Z"))
        );
    }

    #[test]
    fn an_sms_whose_quiet_hours_last_until_the_appointment_is_skipped() {
        let s = dr_martin();
        // Booked 21:10 Paris, appointment 07:00 next day, delay 9 h: due 22:00,
        // quiet until 08:00, after the appointment.
        let a = appointment("2026-12-01T20:10:00Z", "2026-12-02T06:00:00Z");
        assert_eq!(
            timing(&s, &a, Channel::Sms, Duration::hours(9)),
            Timing::QuietUntilAppointment {
                nominal: at("2026-12-01T21:00:00Z")
            }
        );
    }

    #[test]
    fn a_reminder_already_due_at_booking_is_skipped_not_sent_late() {
        let s = dr_martin();
        let a = appointment("2026-12-02T10:00:00Z", "2026-12-03T09:00:00Z");
        // E-mail 48 h before: already past at booking; decided at once.
        assert_eq!(
            schedule(&s, &a, Channel::Email),
            Some(at("2026-12-02T10:00:00Z"))
        );
        assert_eq!(
            decide(&s, &a, Channel::Email, at("2026-12-02T10:05:00Z")),
            Decision::Skip(SkipReason::ReminderTimeAlreadyPassed)
        );
    }

    #[test]
    fn decisions_follow_the_current_status_settings_and_contact() {
        let s = dr_martin();
        let a = appointment("2026-11-25T10:00:00Z", "2026-12-03T13:30:00Z");
        let due = at("2026-12-02T13:30:00Z");
        assert_eq!(decide(&s, &a, Channel::Sms, due), Decision::Send);
        assert_eq!(
            decide(&s, &a, Channel::Sms, due - Duration::minutes(5)),
            Decision::NotYet(due)
        );
        let mut cancelled = a.clone();
        cancelled.status = Status::CancelledByPatient;
        assert_eq!(
            decide(&s, &cancelled, Channel::Sms, due),
            Decision::Skip(SkipReason::AppointmentNoLongerBooked)
        );
        let mut off = s.clone();
        off.sms_service.enabled = false;
        assert_eq!(
            decide(&off, &a, Channel::Sms, due),
            Decision::Skip(SkipReason::SmsServiceDisabled)
        );
        let mut not_ticked = s.clone();
        not_ticked.reasons[0].sms_reminder = false;
        assert_eq!(
            decide(&not_ticked, &a, Channel::Sms, due),
            Decision::Skip(SkipReason::ReasonNotTickedForSmsReminder)
        );
        let mut no_mobile = a.clone();
        no_mobile.patient.mobile = None;
        assert_eq!(
            decide(&s, &no_mobile, Channel::Sms, due),
            Decision::Skip(SkipReason::NoMobile)
        );
        // A sweep that comes after the appointment has begun sends nothing.
        assert_eq!(
            decide(&s, &a, Channel::Sms, a.start + Duration::minutes(1)),
            Decision::Skip(SkipReason::AppointmentAlreadyStarted)
        );
        // A longer delay puts it earlier: due now; a shorter one later: not yet.
        let mut shorter = s.clone();
        shorter.sms_service.reminder_hours_before = Some(2);
        assert_eq!(
            decide(&shorter, &a, Channel::Sms, due),
            Decision::NotYet(at("2026-12-03T11:30:00Z"))
        );
    }

    #[test]
    fn a_late_sweep_never_sends_an_sms_inside_quiet_hours() {
        let s = dr_martin();
        let a = appointment("2026-11-25T10:00:00Z", "2026-12-03T13:30:00Z");
        // Due 14:30 Paris on 2 Dec; the sweep only comes at 23:00 Paris.
        assert_eq!(
            decide(&s, &a, Channel::Sms, at("2026-12-02T22:00:00Z")),
            Decision::NotYet(at("2026-12-03T07:00:00Z"))
        );
        // The e-mail has no quiet hours.
        assert_eq!(
            decide(&s, &a, Channel::Email, at("2026-12-02T22:00:00Z")),
            Decision::Send
        );
    }

    #[test]
    fn quiet_hours_follow_the_local_clock_across_dst() {
        let s = dr_martin();
        // 22:00 Paris in summer is 20:00 UTC.
        let q = quiet_period_at(&s, at("2026-07-01T20:00:00Z")).unwrap();
        assert_eq!(q.start, at("2026-07-01T19:00:00Z"));
        assert_eq!(q.end, at("2026-07-02T06:00:00Z"));
        assert!(quiet_period_at(&s, at("2026-07-01T18:59:00Z")).is_none());
        // 07:00 Paris on the night clocks go back (25 Oct 2026).
        let q = quiet_period_at(&s, at("2026-10-25T06:00:00Z")).unwrap();
        assert_eq!(q.start, at("2026-10-24T19:00:00Z"));
        assert_eq!(q.end, at("2026-10-25T07:00:00Z"));
    }
}
