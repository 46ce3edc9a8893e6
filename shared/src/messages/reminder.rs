//! The reminder messages (SPEC §4.3): an e-mail and an SMS saying when and with
//! whom. Neither carries MODIFY / CANCEL links, and neither is given the reason.

use super::sms::{self, OutgoingSms};
use super::{OutgoingEmail, PractitionerCard, dates, templates};
use crate::appointment::Appointment;
use crate::communications::MessageKind;
use crate::contact::{Email, Mobile};
use crate::settings::PractitionerSettings;
use serde::Serialize;

#[derive(Serialize)]
struct EmailContext<'a> {
    first_name: &'a str,
    last_name: &'a str,
    when: String,
    practitioner: PractitionerCard,
}

pub fn reminder_email(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
) -> OutgoingEmail {
    let language = appointment.language(settings);
    let context = EmailContext {
        first_name: appointment.patient.first_name.as_str(),
        last_name: appointment.patient.last_name.as_str(),
        when: dates::long_date_time(appointment.start, settings.timezone, language),
        practitioner: PractitionerCard::of(settings),
    };
    let rendered = templates::render_email("reminder", language, &context);
    OutgoingEmail {
        to,
        sender_name: settings.name.clone(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        attachments: Vec::new(),
        kind: MessageKind::Reminder,
        appointment_id: appointment.id,
        links: Vec::new(),
    }
}

#[derive(Serialize)]
struct SmsContext<'a> {
    with_greeting: bool,
    name: String,
    when: &'a str,
    practitioner: &'a str,
    phone: Option<&'a str>,
}

pub fn reminder_sms(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Mobile,
) -> OutgoingSms {
    let language = appointment.language(settings);
    let when = dates::long_date_time(appointment.start, settings.timezone, language);
    let phone = settings.secretariat_phone.for_display();
    let patient = &appointment.patient;
    let full_name = format!(
        "{} {}",
        patient.first_name.as_str(),
        patient.last_name.as_str()
    );
    let context = |with_greeting, name: &str, phone| SmsContext {
        with_greeting,
        name: name.to_string(),
        when: &when,
        practitioner: &settings.name,
        phone,
    };
    // From the richest wording to the shortest: the secretariat's phone goes
    // first, then the last name, then the greeting, so that long names keep
    // what matters (date, time, practitioner) in one segment.
    let candidates = [
        context(true, &full_name, Some(phone.as_str())),
        context(true, &full_name, None),
        context(true, patient.first_name.as_str(), None),
        context(false, "", None),
    ]
    .map(|c| templates::render_sms("reminder", language, &c));
    OutgoingSms {
        to,
        text: sms::compose(candidates),
        kind: MessageKind::Reminder,
        appointment_id: appointment.id,
        links: Vec::new(),
    }
}
