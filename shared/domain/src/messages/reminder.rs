//! The reminder messages (SPEC §4.3): an e-mail and an SMS saying when and with
//! whom. Neither carries MODIFY / CANCEL links, and neither is given the reason.

use super::sms::{self, OutgoingSms};
use super::{OutgoingEmail, dates, templates};
use crate::appointment::Appointment;
use crate::communications::MessageKind;
use crate::contact::{Email, Mobile};
use crate::settings::PractitionerSettings;
use serde::Serialize;

/// The reminder e-mail: when and with whom, no links.
pub fn reminder_email(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Email,
) -> OutgoingEmail {
    super::appointment_email(
        "reminder",
        MessageKind::Reminder,
        appointment,
        settings,
        to,
        None,
    )
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
    // Names as GSM-7 can write them; one that cannot be written is left out.
    let first = sms::writable_name(patient.first_name.as_str());
    let last = sms::writable_name(patient.last_name.as_str());
    let full_name = [first.clone(), last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
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
    let mut candidates = Vec::new();
    if !full_name.is_empty() {
        candidates.push(context(true, &full_name, Some(phone.as_str())));
        candidates.push(context(true, &full_name, None));
    }
    if let Some(first) = &first {
        candidates.push(context(true, first, None));
    }
    candidates.push(context(false, "", None));
    let candidates = candidates
        .iter()
        .map(|c| templates::render_sms("reminder", language, c));
    OutgoingSms {
        to,
        text: sms::compose(candidates),
        kind: MessageKind::Reminder,
        appointment_id: appointment.id,
        links: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Language, PersonName};
    use crate::fixtures::{at, dr_martin};
    use crate::messages::sms::{fits_one_segment, is_gsm7};
    use chrono::Duration;

    fn appointment(first: &str, last: &str, language: Language) -> Appointment {
        let mut a = crate::fixtures::booked(at("2026-12-03T13:30:00Z"), 20);
        a.patient.first_name = PersonName::parse(first).unwrap();
        a.patient.last_name = PersonName::parse(last).unwrap();
        a.patient.language = Some(language);
        a
    }

    fn mobile() -> Mobile {
        Mobile::parse("0612345678").unwrap()
    }

    /// Every kind of SMS the product sends, for one appointment. A new kind
    /// (the practitioner's cancellation SMS) joins this list.
    fn every_sms(a: &Appointment, settings: &PractitionerSettings) -> Vec<OutgoingSms> {
        vec![reminder_sms(a, settings, mobile())]
    }

    #[test]
    fn every_sms_is_gsm7_in_one_segment_with_long_names_in_both_languages() {
        let mut settings = dr_martin();
        settings.reasons[0].label = "Suivi psychiatrique".into();
        // 40 characters for first + last name, with letters GSM-7 lacks.
        let names = [
            ("Marie-Bénédicte", "Île-de-Saint-Hippolyte-Dû"),
            ("Jean-Christophe-Ange", "Ôzbek-Çelik-Nguyễn-Ö"),
            ("Annie", "de La Rochefoucauld-Montmorency-Œuf"),
        ];
        for (first, last) in names {
            assert_eq!(first.chars().count() + last.chars().count(), 40);
            for language in [Language::Fr, Language::En] {
                // The longest dates: every weekday and month, two-digit days, late times.
                for days in (0..366).step_by(7) {
                    let mut a = appointment(first, last, language);
                    a.start = at("2026-01-01T22:45:00Z")
                        + Duration::days(days)
                        + Duration::hours(days % 5);
                    for sms in every_sms(&a, &settings) {
                        let text = &sms.text;
                        assert!(is_gsm7(text), "{text}");
                        assert!(
                            fits_one_segment(text),
                            "{} septets: {text}",
                            text.chars().count()
                        );
                        assert!(text.contains("Dr Marie Martin"), "{text}");
                        // names up to 40 characters are kept whole
                        assert!(text.contains(&sms::to_gsm7(last)), "{text}");
                        let time = dates::time_of_day(a.start, settings.timezone, language);
                        assert!(text.contains(&time), "{text}");
                        assert!(!text.contains("psychiatrique"), "{text}");
                        assert!(!text.contains("http"), "{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_reminder_sms_names_the_patient_when_it_fits() {
        let a = appointment("Jeanne", "Dupont", Language::Fr);
        let sms = reminder_sms(&a, &dr_martin(), mobile());
        assert_eq!(
            sms.text,
            "Bonjour Jeanne Dupont, rappel : rendez-vous le jeudi 3 décembre 2026 à 14h30 avec Dr Marie Martin. Empechement : 01 40 00 00 00"
        );
        let a = appointment("Jeanne", "Dupont", Language::En);
        let sms = reminder_sms(&a, &dr_martin(), mobile());
        assert!(sms.text.starts_with("Hello Jeanne Dupont, reminder: appointment on Thursday 3 December 2026 at 2:30 pm with Dr Marie Martin."), "{}", sms.text);
        assert!(sms.links.is_empty());
    }

    #[test]
    fn names_longer_than_forty_characters_still_fit_one_segment() {
        let long = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft";
        let a = appointment(long, long, Language::Fr);
        let sms = reminder_sms(&a, &dr_martin(), mobile());
        assert!(fits_one_segment(&sms.text), "{}", sms.text);
        assert!(
            sms.text.contains("jeudi 3 décembre 2026 à 14h30"),
            "{}",
            sms.text
        );
    }

    #[test]
    fn the_reminder_email_says_when_and_with_whom_without_links_or_reason() {
        let mut settings = dr_martin();
        settings.reasons[0].label = "Suivi psychiatrique".into();
        let a = appointment("Jeanne", "Dupont", Language::Fr);
        let email = reminder_email(&a, &settings, Email::parse("jeanne@example.org").unwrap());
        assert_eq!(email.kind, MessageKind::Reminder);
        assert!(email.subject.contains("jeudi 3 décembre 2026 à 14h30"));
        for part in [&email.text, &email.html] {
            assert!(part.contains("Dr Marie Martin"), "{part}");
            assert!(part.contains("01 40 00 00 00"), "{part}");
            assert!(!part.contains("psychiatrique"), "{part}");
            assert!(!part.contains("/a/"), "{part}");
        }
        assert!(email.links.is_empty() && email.attachments.is_empty());
    }
}
