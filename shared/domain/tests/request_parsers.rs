//! Properties of every parser a request reaches (issue 10): whatever the text,
//! none panics, and each accepts and refuses by its class — the bad-input
//! corpus over HTTP (tests/hostile_input.rs) holds the chosen cases.

use chrono::{DateTime, Datelike, Utc};
use domain::contact::{Email, InvalidName, Mobile, PersonName};
use domain::ids::{AppointmentId, PractitionerId};
use domain::links::LinkToken;
use domain::settings::PractitionerSettings;
use domain::text::{self, UncleanText};
use domain::time::{RequestedTime, WindowBound, YEARS, Zone};
use proptest::prelude::*;

/// Any text, with the characters hostile input is made of over-represented.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\r\n".to_string()),
        Just("\0".to_string()),
        Just("\u{1b}".to_string()),
        Just("\u{200B}".to_string()),
        Just("\u{FEFF}".to_string()),
        Just("<".to_string()),
        Just("@".to_string()),
        Just("[".to_string()),
        Just("\"".to_string()),
        Just(" ".to_string()),
        Just("é".to_string()),
        "[a-z0-9.+-]{1,12}",
    ];
    proptest::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

/// Dates and times as people and attackers write them.
fn time_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("+262142".to_string()),
            Just("-000001".to_string()),
            (0..10_000i32).prop_map(|y| format!("{y:04}")),
        ],
        0..15u32,
        0..35u32,
        0..26u32,
        0..62u32,
        prop_oneof![
            Just(String::new()),
            Just("Z".to_string()),
            Just("+14:00".to_string()),
            Just("-12:00".to_string()),
            Just("+99:99".to_string()),
        ],
        any::<bool>(),
    )
        .prop_map(|(year, month, day, hour, minute, offset, with_time)| {
            if with_time {
                format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:00{offset}")
            } else {
                format!("{year}-{month:02}-{day:02}")
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A time is accepted only inside the years 2000–2100, and then resolves
    /// in every zone without panicking.
    #[test]
    fn times_and_window_bounds_are_in_range_or_refused(text in prop_oneof![time_text(), hostile_text()]) {
        let zones = [Zone::default(), Zone::parse("Pacific/Kiritimati").unwrap(), Zone::parse("Pacific/Pago_Pago").unwrap()];
        if let Ok(requested) = RequestedTime::parse(&text) {
            for zone in zones {
                if let Ok(at) = requested.resolve(zone) {
                    // An instant of 2000–2100 give or take a day of offset.
                    prop_assert!((1999..=2101).contains(&at.year()), "{text} -> {at}");
                }
            }
        }
        if let Ok(bound) = WindowBound::parse(&text) {
            for zone in zones {
                if let Ok(at) = bound.resolve(zone) {
                    prop_assert!((1999..=2101).contains(&at.year()), "{text} -> {at}");
                }
            }
        }
        // Written years outside the range are always refused.
        if let Some(year) = text.split('-').next().and_then(|y| y.parse::<i32>().ok()) {
            if !YEARS.contains(&year) && !text.starts_with('-') {
                prop_assert!(RequestedTime::parse(&text).is_err(), "{text}");
                prop_assert!(WindowBound::parse(&text).is_err(), "{text}");
            }
        }
    }

    /// An accepted address is bare: no whitespace, control, quote, angle
    /// bracket or domain literal, and it is stored exactly as given (trimmed).
    #[test]
    fn an_accepted_email_is_a_bare_address(text in hostile_text()) {
        if let Ok(email) = Email::parse(&text) {
            let stored = email.as_str();
            prop_assert_eq!(stored, text.trim());
            prop_assert!(!stored.chars().any(|c| c.is_whitespace() || c.is_control()
                || matches!(c, '<' | '>' | '"' | '[' | ']' | '(' | ')')), "{:?}", stored);
            prop_assert_eq!(stored.matches('@').count(), 1);
        }
    }

    #[test]
    fn a_bare_address_made_of_atoms_is_accepted(local in "[a-z0-9][a-z0-9.+_-]{0,20}[a-z0-9]", domain in "[a-z0-9]{1,10}\\.[a-z]{2,6}") {
        let address = format!("{local}@{domain}");
        prop_assume!(!local.contains(".."));
        prop_assert!(Email::parse(&address).is_ok(), "{}", address);
    }

    /// A mobile is E.164 once accepted, and parsing it again gives itself.
    #[test]
    fn an_accepted_mobile_is_e164(text in prop_oneof![hostile_text(), "[+0-9 ]{0,20}"]) {
        if let Ok(mobile) = Mobile::parse(&text) {
            prop_assert!(mobile.e164().starts_with('+'));
            prop_assert!(mobile.e164()[1..].chars().all(|c| c.is_ascii_digit()));
            prop_assert_eq!(Mobile::parse(mobile.e164()).unwrap(), mobile.clone());
        }
    }

    /// Names: accepted exactly when clean and name-like (SPEC §5), and then
    /// free of control characters, visible, at most 100 characters, and with
    /// nothing that writes a link.
    #[test]
    fn names_are_accepted_only_when_clean(text in hostile_text()) {
        match PersonName::parse(&text) {
            Ok(name) => {
                let name = name.as_str();
                prop_assert!(!text::has_control_characters(name));
                prop_assert!(!text::is_invisible_only(name));
                prop_assert!(name.chars().count() <= text::PERSON_NAME_CHARS);
                prop_assert!(!name.chars().any(|c| c.is_ascii_digit() || "/:@<\"[".contains(c)));
            }
            Err(InvalidName::Unclean(UncleanText::Empty)) => prop_assert!(text.trim().is_empty()),
            Err(InvalidName::Unclean(UncleanText::ControlCharacters)) => prop_assert!(text::has_control_characters(&text)),
            Err(InvalidName::Unclean(UncleanText::InvisibleOnly)) => prop_assert!(text::is_invisible_only(text.trim())),
            Err(InvalidName::Unclean(UncleanText::TooLong(limit))) => prop_assert!(text.trim().chars().count() > limit),
            Err(InvalidName::NotAName) => prop_assert!(!domain::contact::reads_as_a_name(text.trim())),
        }
    }

    /// Tokens: only 22 base64url characters of 16 bytes are read; ids only slugs.
    #[test]
    fn tokens_and_ids_are_refused_unless_well_formed(text in prop_oneof![hostile_text(), "[A-Za-z0-9_-]{20,24}"]) {
        if let Some(token) = LinkToken::parse(&text) {
            prop_assert_eq!(token.as_str().len(), 22);
        }
        if PractitionerId::parse(text.clone()).is_ok() {
            prop_assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
        }
        let _ = AppointmentId::parse(&text);
    }

    /// Settings JSON with any text in its words: read and validated without a
    /// panic; saved only with clean texts.
    #[test]
    fn settings_with_any_text_are_validated_without_panic(
        name in hostile_text(),
        address in hostile_text(),
        label in hostile_text(),
        duration in any::<i64>(),
        hours in any::<i64>(),
    ) {
        let mut doc: serde_json::Value = serde_json::from_str(SETTINGS).unwrap();
        doc["name"] = name.into();
        doc["address"] = address.into();
        doc["reasons"][0]["label"] = label.into();
        doc["reasons"][0]["duration_minutes"] = duration.into();
        doc["sms_service"]["reminder_hours_before"] = hours.into();
        if let Ok(settings) = serde_json::from_value::<PractitionerSettings>(doc) {
            if let Ok(saved) = settings.validated(PractitionerId::parse("dr-martin").unwrap()) {
                prop_assert!(text::clean(&saved.name, text::LABEL_CHARS).is_ok());
                prop_assert!(saved.address.iter().all(|a| text::clean(a, text::ADDRESS_CHARS).is_ok()));
                prop_assert!(text::clean(&saved.reasons[0].label, text::LABEL_CHARS).is_ok());
            }
        }
    }
}

const SETTINGS: &str = r#"{"name": "Dr Marie Martin", "secretariat_phone": "+33140000000",
  "reasons": [{"id": "consultation", "label": "Consultation", "duration_minutes": 20}],
  "sms_service": {"enabled": true, "reminder_hours_before": 24}}"#;

#[test]
fn the_current_time_parses_back() {
    let now: DateTime<Utc> = Utc::now();
    assert!(RequestedTime::parse(&now.to_rfc3339()).is_ok());
}
