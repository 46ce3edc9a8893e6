//! Messages to patients: what they say (templates, French and English, text and
//! HTML) and what is handed to the mailer. The reason of the appointment is
//! never given to a template, so it cannot appear in a message.

pub mod calendar;
pub mod dates;
pub mod practitioner_cancellation;
pub mod reminder;
pub mod sms;
pub mod templates;
pub mod wording;

use crate::appointment::Appointment;
use crate::communications::MessageKind;
use crate::contact::Email;
use crate::ids::AppointmentId;
use crate::settings::PractitionerSettings;
use serde::Serialize;

pub use sms::OutgoingSms;

/// A calendar file attached to an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub to: Email,
    /// Shown as the sender's name: the practitioner, so patients recognise the message.
    pub sender_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// What and for which appointment (none for a verification code): the
    /// outbox shows it, SES gets it as tags.
    pub kind: MessageKind,
    pub appointment_id: Option<AppointmentId>,
    /// Every URL the message carries.
    pub links: Vec<String>,
}

/// The practitioner as messages present them.
#[derive(Debug, Clone, Serialize)]
pub struct PractitionerCard {
    pub name: String,
    pub profession: Option<String>,
    pub address: Option<String>,
    pub secretariat_phone: String,
}

impl PractitionerCard {
    pub fn of(settings: &PractitionerSettings) -> Self {
        Self {
            name: settings.name.clone(),
            profession: settings.profession.clone(),
            address: settings.address.clone(),
            secretariat_phone: settings.secretariat_phone.for_display(),
        }
    }
}

/// MODIFY / CANCEL links of a confirmation, with the last moment they work.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeLinks {
    pub modify: String,
    pub cancel: String,
    pub until: String,
}

/// What every e-mail about an appointment can say: who, when, with whom, and
/// the MODIFY / CANCEL links when it carries them. Never the reason.
#[derive(Serialize)]
struct AppointmentContext<'a> {
    first_name: &'a str,
    last_name: &'a str,
    when: String,
    practitioner: PractitionerCard,
    links: Option<&'a ChangeLinks>,
    /// The `/r/{token}` page of a cancellation by the practice, when the
    /// patient may rebook online.
    rebook_link: Option<&'a str>,
}

/// Renders `email/{template}.*` about `appointment`, in the patient's language.
pub(crate) fn appointment_email(
    template: &str,
    kind: MessageKind,
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
    links: Option<&ChangeLinks>,
) -> OutgoingEmail {
    render_appointment_email(template, kind, appointment, settings, to, links, None)
}

fn render_appointment_email(
    template: &str,
    kind: MessageKind,
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
    links: Option<&ChangeLinks>,
    rebook_link: Option<&str>,
) -> OutgoingEmail {
    let language = appointment.language(settings);
    let context = AppointmentContext {
        first_name: appointment.patient.first_name.as_str(),
        last_name: appointment.patient.last_name.as_str(),
        when: dates::long_date_time(appointment.start, settings.timezone, language),
        practitioner: PractitionerCard::of(settings),
        links,
        rebook_link,
    };
    let rendered = templates::render_email(template, language, &context);
    OutgoingEmail {
        to,
        sender_name: settings.name.clone(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        attachments: Vec::new(),
        kind,
        appointment_id: Some(appointment.id),
        links: links
            .map(|l| vec![l.modify.clone(), l.cancel.clone()])
            .unwrap_or_default()
            .into_iter()
            .chain(rebook_link.map(str::to_string))
            .collect(),
    }
}

/// The e-mail that carries an online booker's verification code (SPEC §6.3),
/// in the practitioner's language: about no appointment, and with no link
/// (the code is typed where the booking is made).
pub fn verification_code_email(
    settings: &PractitionerSettings,
    to: Email,
    code: &crate::verification::Code,
) -> OutgoingEmail {
    #[derive(Serialize)]
    struct Context<'a> {
        code: &'a str,
        practitioner: PractitionerCard,
    }
    let rendered = templates::render_email(
        "verification_code",
        settings.language,
        &Context {
            code: code.digits(),
            practitioner: PractitionerCard::of(settings),
        },
    );
    OutgoingEmail {
        to,
        sender_name: settings.name.clone(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        attachments: Vec::new(),
        kind: MessageKind::VerificationCode,
        appointment_id: None,
        links: Vec::new(),
    }
}

/// The title of the appointment in the patient's calendar: never the reason.
fn ics(method: &str, content: String) -> Attachment {
    Attachment {
        filename: "rendez-vous.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={method}"),
        content,
    }
}

/// The confirmation e-mail of SPEC §4.1, with the appointment as a calendar file.
pub fn confirmation_email(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
    links: Option<&ChangeLinks>,
) -> OutgoingEmail {
    let title = wording::calendar_title(&settings.name, appointment.language(settings));
    OutgoingEmail {
        attachments: vec![ics(
            "REQUEST",
            calendar::invite(appointment, settings, &title),
        )],
        ..appointment_email(
            "confirmation",
            MessageKind::Confirmation,
            appointment,
            settings,
            to,
            links,
        )
    }
}

/// The .ics that takes a cancelled appointment out of the patient's calendar.
fn cancelled_in_calendar(appointment: &Appointment, settings: &PractitionerSettings) -> Attachment {
    let title = wording::calendar_title(&settings.name, appointment.language(settings));
    ics(
        "CANCEL",
        calendar::cancellation(appointment, settings, &title),
    )
}

/// The e-mail confirming a cancellation made by the patient (SPEC §4.2).
pub fn cancellation_ack_email(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
) -> OutgoingEmail {
    OutgoingEmail {
        attachments: vec![cancelled_in_calendar(appointment, settings)],
        ..appointment_email(
            "cancellation_ack",
            MessageKind::CancellationAck,
            appointment,
            settings,
            to,
            None,
        )
    }
}

/// The e-mail telling a patient the practice cancelled (SPEC §4.4): the
/// rebooking link, or the secretariat's phone, and the calendar entry dropped.
pub fn practitioner_cancellation_email(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
    rebook_link: Option<&str>,
) -> OutgoingEmail {
    OutgoingEmail {
        attachments: vec![cancelled_in_calendar(appointment, settings)],
        ..render_appointment_email(
            "practitioner_cancellation",
            MessageKind::PractitionerCancellation,
            appointment,
            settings,
            to,
            None,
            rebook_link,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Language, PersonName};
    use crate::fixtures::dr_martin as sample;

    fn appointment(language: Option<Language>) -> Appointment {
        let mut appointment =
            crate::fixtures::booked(crate::fixtures::at("2026-12-03T13:30:00Z"), 20);
        appointment.patient.language = language;
        appointment
    }

    fn links() -> ChangeLinks {
        ChangeLinks {
            modify: "http://127.0.0.1:3000/a/TOKEN/slots".into(),
            cancel: "http://127.0.0.1:3000/a/TOKEN".into(),
            until: "mercredi 2 décembre 2026 à 14h30".into(),
        }
    }

    #[test]
    fn french_confirmation_with_links_says_when_and_with_whom() {
        let mut settings = sample();
        settings.reasons[0].label = "Suivi psychiatrique".into();
        let email = confirmation_email(
            &appointment(None),
            &settings,
            Email::parse("jeanne@example.org").unwrap(),
            Some(&links()),
        );
        // HTML escapes '/' in attributes; browsers read it back as '/'.
        let html = email.html.replace("&#x2f;", "/");
        for part in [&email.text, &html] {
            assert!(part.contains("jeudi 3 décembre 2026 à 14h30"), "{part}");
            assert!(part.contains("Dr Marie Martin"), "{part}");
            assert!(part.contains("12 rue de la Paix"), "{part}");
            assert!(
                part.contains("http://127.0.0.1:3000/a/TOKEN/slots"),
                "{part}"
            );
            assert!(!part.contains("psychiatrique"), "the reason leaked: {part}");
        }
        assert!(email.subject.contains("jeudi 3 décembre 2026"));
        assert!(!email.subject.contains("psychiatrique"));
        assert!(!email.attachments[0].content.contains("psychiatrique"));
        assert!(
            email.attachments[0]
                .content
                .contains("DTSTART:20261203T133000Z")
        );
        assert_eq!(email.links.len(), 2);
    }

    #[test]
    fn without_links_the_email_gives_the_secretariats_phone() {
        let email = confirmation_email(
            &appointment(Some(Language::En)),
            &sample(),
            Email::parse("jeanne@example.org").unwrap(),
            None,
        );
        assert!(email.text.contains("Thursday 3 December 2026 at 2:30 pm"));
        assert!(email.text.contains("01 40 00 00 00"), "{}", email.text);
        assert!(!email.text.contains("/a/"));
        assert!(email.links.is_empty());
    }

    #[test]
    fn cancellation_ack_says_what_was_cancelled_without_the_reason() {
        let mut settings = sample();
        settings.reasons[0].label = "Suivi psychiatrique".into();
        let email = cancellation_ack_email(
            &appointment(None),
            &settings,
            Email::parse("jeanne@example.org").unwrap(),
        );
        assert!(email.subject.contains("annulé"), "{}", email.subject);
        for part in [&email.subject, &email.text, &email.html] {
            assert!(part.contains("jeudi 3 décembre 2026 à 14h30"), "{part}");
            assert!(!part.contains("psychiatrique"), "the reason leaked: {part}");
        }
        assert!(email.text.contains("01 40 00 00 00"));
        assert!(email.links.is_empty());
    }

    #[test]
    fn html_escapes_what_people_typed() {
        let mut a = appointment(None);
        a.patient.first_name = PersonName::stored("<b>Jeanne</b>").unwrap();
        let email = confirmation_email(
            &a,
            &sample(),
            Email::parse("jeanne@example.org").unwrap(),
            None,
        );
        assert!(!email.html.contains("<b>Jeanne"));
        assert!(email.html.contains("&lt;b&gt;Jeanne"));
    }
}
