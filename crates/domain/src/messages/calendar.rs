//! The .ics attachment of confirmations: the appointment in the patient's calendar.

use crate::appointment::Appointment;
use crate::settings::PractitionerSettings;
use icalendar::{Calendar, Component, EventLike};

pub fn invite(appointment: &Appointment, settings: &PractitionerSettings, title: &str) -> String {
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("{}@patient-communications", appointment.id))
        .sequence(appointment.version)
        .summary(title)
        .starts(appointment.start)
        .ends(appointment.end);
    if let Some(address) = &settings.address {
        event.location(address);
    }
    Calendar::new().push(event.done()).done().to_string()
}
