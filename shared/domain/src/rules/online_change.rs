//! Whether the patient may still modify or cancel online (SPEC §4.1 links, §4.2).
//! One rule, used both to decide if a confirmation carries links and to allow
//! the action when the patient follows them.

use crate::appointment::{Appointment, Status};
use crate::settings::{PractitionerSettings, Reason};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhyNot {
    NotBooked(Status),
    OnlineBookingOff,
    ReasonNotOnline,
    DeadlinePassed { deadline: DateTime<Utc> },
}

/// Why an action posted from a link is refused (the page explains; nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotAllowed(WhyNot),
    /// The start is not a time the patient could have been offered.
    SlotNotOffered,
    /// The slot was free when shown and was taken before the patient posted.
    SlotTaken,
    /// The start could not be read.
    InvalidStart,
}

/// The last moment the patient may act: `start - modify_cancel_deadline_hours`.
pub fn deadline(settings: &PractitionerSettings, appointment: &Appointment) -> DateTime<Utc> {
    appointment.start
        - Duration::hours(i64::from(
            settings.online_booking.modify_cancel_deadline_hours,
        ))
}

/// Whether the patient may still change the appointment online. `Ok`: the
/// appointment's reason, which the rule found ticked for online booking: the
/// slots offered are made of it.
pub fn patient_may_change_online<'s>(
    settings: &'s PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<&'s Reason, WhyNot> {
    if appointment.status != Status::Booked {
        return Err(WhyNot::NotBooked(appointment.status));
    }
    let reason = online_for(settings, appointment)?;
    let deadline = deadline(settings, appointment);
    if now >= deadline {
        return Err(WhyNot::DeadlinePassed { deadline });
    }
    Ok(reason)
}

/// Whether the patient may book a replacement from a rebooking link (SPEC
/// §4.4). `Ok`: the reason to book it for, as [`patient_may_change_online`].
pub fn patient_may_rebook_online<'s>(
    settings: &'s PractitionerSettings,
    appointment: &Appointment,
) -> Result<&'s Reason, WhyNot> {
    if appointment.status != Status::ToReschedule {
        return Err(WhyNot::NotBooked(appointment.status));
    }
    online_for(settings, appointment)
}

/// Online booking is on, and the appointment's reason is ticked for it.
fn online_for<'s>(
    settings: &'s PractitionerSettings,
    appointment: &Appointment,
) -> Result<&'s Reason, WhyNot> {
    if !settings.online_booking.enabled {
        return Err(WhyNot::OnlineBookingOff);
    }
    settings
        .reason(&appointment.reason_id)
        .filter(|r| r.online_booking)
        .ok_or(WhyNot::ReasonNotOnline)
}
