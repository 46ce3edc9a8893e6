//! The .ics attachments (SPEC §5): the confirmation puts the appointment in
//! the patient's calendar, every cancellation e-mail takes it out. One `UID`
//! per appointment, so a later file replaces or cancels the earlier one; a
//! `SEQUENCE` that follows the appointment's version, so the newest wins.

use crate::appointment::Appointment;
use crate::settings::PractitionerSettings;
use icalendar::{Calendar, Component, EventLike, EventStatus};

/// Ours, so clients and operators can tell where a file came from.
pub const PRODID: &str = "-//patient-communications//agenda//FR";

/// The stable identifier of the appointment in every calendar.
pub fn uid(appointment: &Appointment) -> String {
    format!("{}@patient-communications", appointment.id)
}

/// The appointment to add or update (`METHOD:REQUEST`).
pub fn invite(appointment: &Appointment, settings: &PractitionerSettings, title: &str) -> String {
    let mut event = event(appointment, settings, title);
    event.status(EventStatus::Confirmed);
    calendar("REQUEST", event.done())
}

/// The appointment to drop (`METHOD:CANCEL`, `STATUS:CANCELLED`).
pub fn cancellation(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    title: &str,
) -> String {
    let mut event = event(appointment, settings, title);
    event.status(EventStatus::Cancelled);
    calendar("CANCEL", event.done())
}

fn event(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    title: &str,
) -> icalendar::Event {
    let mut event = icalendar::Event::new();
    event
        .uid(&uid(appointment))
        .sequence(appointment.version)
        .summary(title)
        .starts(appointment.start)
        .ends(appointment.end);
    if let Some(address) = &settings.address {
        event.location(address);
    }
    event
}

fn calendar(method: &str, event: icalendar::Event) -> String {
    Calendar::empty()
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", method))
        .push(event)
        .done()
        .to_string()
}
