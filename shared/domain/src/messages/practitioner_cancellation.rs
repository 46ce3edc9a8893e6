//! The SMS telling a patient the practice cancelled their appointment (SPEC §4.4):
//! date, time, practitioner, and a rebooking link or the secretariat's phone.
//! One GSM-7 segment, the link always whole, never the reason.

use super::sms::{self, OutgoingSms};
use super::{dates, templates};
use crate::appointment::Appointment;
use crate::communications::MessageKind;
use crate::contact::Mobile;
use crate::settings::PractitionerSettings;
use serde::Serialize;

#[derive(Serialize)]
struct Context<'a> {
    style: u8,
    name: &'a str,
    when: &'a str,
    practitioner: &'a str,
    link: Option<&'a str>,
    phone: &'a str,
}

/// `rebook_link` is the `/r/{token}` URL when the patient may rebook online.
pub fn practitioner_cancellation_sms(
    appointment: &Appointment,
    settings: &PractitionerSettings,
    to: Mobile,
    rebook_link: Option<&str>,
) -> OutgoingSms {
    let language = appointment.language(settings);
    let zone = settings.timezone;
    let long = dates::long_date_time(appointment.start, zone, language);
    let short = dates::short_date_time(appointment.start, zone, language);
    let name = [
        &appointment.patient.first_name,
        &appointment.patient.last_name,
    ]
    .iter()
    .filter_map(|n| sms::writable_name(n.as_str()))
    .collect::<Vec<_>>()
    .join(" ");
    let phone = settings.secretariat_phone.for_display();
    let render = |style, when: &str, practitioner: &str| {
        sms::to_gsm7(&templates::render_sms(
            "practitioner_cancellation",
            language,
            &Context {
                style,
                name: &name,
                when,
                practitioner,
                link: rebook_link,
                phone: &phone,
            },
        ))
    };
    // From the richest wording to the shortest (the greeting only when the
    // name can be written); then the practitioner's name is shortened, never
    // the link, the date or the time.
    let greeting = (!name.is_empty()).then_some((0, &long));
    let text = greeting
        .into_iter()
        .chain([(1, &long), (2, &long), (2, &short)])
        .map(|(style, when)| render(style, when, &settings.name))
        .find(|t| sms::fits_one_segment(t))
        .or_else(|| {
            let fits = |shortened: &str| {
                let candidate = render(2, &short, shortened);
                sms::fits_one_segment(&candidate).then_some(candidate)
            };
            longest_fitting_prefix(&sms::to_gsm7(&settings.name), fits)
        });
    OutgoingSms {
        to,
        text: text.unwrap_or_else(|| sms::compose([render(2, &short, "")])),
        kind: MessageKind::PractitionerCancellation,
        appointment_id: appointment.id,
        links: rebook_link.map(str::to_string).into_iter().collect(),
    }
}

/// The text for the longest prefix of `name` that `fits` accepts, found by
/// halving (`fits` is monotonic: a longer prefix never takes fewer septets).
/// A name longer than a segment can never fit whole, so it is cut to one
/// first: the work stays linear in the name's length (issue 10: a
/// 19,603-character name took 69 s when cut one character at a time).
fn longest_fitting_prefix(name: &str, fits: impl Fn(&str) -> Option<String>) -> Option<String> {
    let chars: Vec<char> = name.chars().take(sms::SEGMENT_SEPTETS).collect();
    let prefix = |n: usize| chars[..n].iter().collect::<String>().trim_end().to_string();
    // Invariant: a prefix of `low` characters fits (0 when none is tried yet).
    let (mut low, mut high) = (0, chars.len());
    while low < high {
        let middle = (low + high).div_ceil(2);
        if fits(&prefix(middle)).is_some() {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    fits(&prefix(low))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Language, PersonName};
    use crate::fixtures::{at, booked, dr_martin};
    use crate::messages::sms::{fits_one_segment, is_gsm7};

    /// As long as links get: the execute-api URL of the API, and a 22-character token.
    const LINK: &str =
        "https://abcdefghij.execute-api.eu-west-3.amazonaws.com/r/q8Wm3vT0bZ1xY2cD4eF5gA";

    #[test]
    fn every_cancellation_sms_fits_one_segment_with_the_link_whole() {
        let names = [
            ("Marie-Bénédicte", "Île-de-Saint-Hippolyte-Dû"),
            ("Jean-Christophe-Ange", "Ôzbek-Çelik-Nguyễn-Ö"),
        ];
        let practitioners = [
            "Dr Marie Martin",
            "Dr Marie-Christine de La Tour-d'Auvergne-Lauraguais",
        ];
        for (first, last) in names {
            for practitioner in practitioners {
                for language in [Language::Fr, Language::En] {
                    for link in [Some(LINK), None] {
                        let mut settings = dr_martin();
                        settings.name = practitioner.into();
                        settings.reasons[0].label = "Suivi psychiatrique".into();
                        let mut a = booked(at("2026-09-30T21:45:00Z"), 20);
                        a.patient.first_name = PersonName::parse(first).unwrap();
                        a.patient.last_name = PersonName::parse(last).unwrap();
                        a.patient.language = Some(language);
                        let sms = practitioner_cancellation_sms(
                            &a,
                            &settings,
                            Mobile::parse("0612345678").unwrap(),
                            link,
                        );
                        let text = &sms.text;
                        assert!(is_gsm7(text) && fits_one_segment(text), "{text}");
                        assert!(!text.contains("psychiatrique"), "{text}");
                        assert!(text.contains("Dr Marie"), "{text}");
                        assert!(
                            text.contains("23h45") || text.contains("11:45 pm"),
                            "{text}"
                        );
                        match link {
                            Some(link) => assert!(text.ends_with(link), "{text}"),
                            None => assert!(text.contains("01 40 00 00 00"), "{text}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_very_long_practitioner_name_is_cut_and_the_link_kept_whole() {
        // Issue 10: 19,603 characters (stored before the length limits).
        let mut settings = dr_martin();
        settings.name = "Dr Ézéchiel ".repeat(1634);
        let sms = practitioner_cancellation_sms(
            &booked(at("2026-12-03T13:30:00Z"), 20),
            &settings,
            Mobile::parse("0612345678").unwrap(),
            Some(LINK),
        );
        assert!(fits_one_segment(&sms.text), "{}", sms.text);
        assert!(
            sms.text.ends_with(LINK) && sms.text.contains("Dr Ézéchiel"),
            "{}",
            sms.text
        );
    }

    #[test]
    fn a_cyrillic_name_is_greeted_in_latin_letters() {
        let mut a = booked(at("2026-12-03T13:30:00Z"), 20);
        a.patient.first_name = PersonName::parse("Жанна").unwrap();
        a.patient.last_name = PersonName::parse("Дюпон").unwrap();
        let sms = practitioner_cancellation_sms(
            &a,
            &dr_martin(),
            Mobile::parse("0612345678").unwrap(),
            None,
        );
        assert!(
            sms.text.starts_with("Bonjour Zhanna Dyupon, "),
            "{}",
            sms.text
        );
        assert!(!sms.text.contains('?'), "{}", sms.text);
    }

    #[test]
    fn the_usual_sms_says_it_all_and_greets_the_patient_when_there_is_room() {
        let a = booked(at("2026-12-03T13:30:00Z"), 20);
        let sms = practitioner_cancellation_sms(
            &a,
            &dr_martin(),
            Mobile::parse("0612345678").unwrap(),
            Some("https://rdv.example.org/r/q8Wm3vT0bZ1xY2cD4eF5gA"),
        );
        assert_eq!(
            sms.text,
            "Votre RDV du jeudi 3 décembre 2026 à 14h30 avec Dr Marie Martin est annulé. Reprendre RDV : https://rdv.example.org/r/q8Wm3vT0bZ1xY2cD4eF5gA"
        );
        assert_eq!(sms.links.len(), 1);
        // Without a link there is room to greet the patient.
        let sms = practitioner_cancellation_sms(
            &a,
            &dr_martin(),
            Mobile::parse("0612345678").unwrap(),
            None,
        );
        assert_eq!(
            sms.text,
            "Bonjour Jeanne Dupont, votre rendez-vous du jeudi 3 décembre 2026 à 14h30 avec Dr Marie Martin est annulé. Pour un autre RDV : 01 40 00 00 00"
        );
        assert!(sms.links.is_empty());
    }
}
