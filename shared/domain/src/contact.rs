//! The patient's contact: names, e-mail address, mobile number, language.
//! Each type can only hold a valid value (parse, don't validate).

use phonenumber::metadata::Database;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically valid e-mail address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not a valid e-mail address")]
pub struct InvalidEmail;

impl Email {
    /// A bare address only (SPEC §5): no display name (`Jeanne <j@x.org>`),
    /// comment, quoted local part, whitespace, control character or domain
    /// literal (`j@[127.0.0.1]`), and a dotted domain, as a local address
    /// ("jeanne@localhost") can never receive our mail. Stored as typed, trimmed.
    pub fn parse(s: &str) -> Result<Self, InvalidEmail> {
        let s = s.trim();
        // What the parser would accept inside quotes is refused before it:
        // any of these would reach a mail header.
        if s.len() > 254
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        {
            return Err(InvalidEmail);
        }
        let options = email_address::Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        let parsed = email_address::EmailAddress::parse_with_options(s, options)
            .map_err(|_| InvalidEmail)?;
        if parsed.email() != s {
            return Err(InvalidEmail);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Addresses are personal data: `Debug` never prints them, so they cannot
/// reach a log line by accident.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// Numbers written without a country code are read as French ones: the
/// product serves practitioners in France first.
const DEFAULT_REGION: phonenumber::country::Id = phonenumber::country::Id::FR;
const FRANCE: u16 = 33;

/// The French part of the phone-number metadata. The whole database (every
/// country's patterns, parsed when first used) costs ~90 ms of CPU and ~4 MB
/// of memory on a Lambda's first message; French numbers, nearly all of
/// them, are read with this one alone (under a millisecond), and the whole
/// database is only loaded for a number of another country.
#[allow(
    clippy::expect_used,
    reason = "a file compiled in, parsed by every test that reads a French number"
)]
static FRENCH_METADATA: std::sync::LazyLock<Database> = std::sync::LazyLock::new(|| {
    Database::parse(include_str!("contact/fr_metadata.xml")).expect("the French metadata parses")
});

/// A valid number and the metadata that knows its country.
struct PhoneNumber {
    number: phonenumber::PhoneNumber,
    metadata: &'static Database,
}

/// `+33` and nine digits, the form of every stored French number, read
/// without `phonenumber`'s parser, whose first use compiles its Unicode-wide
/// patterns (~90 ms of CPU and ~4 MB on a sender's first message, which
/// decodes the patient's mobile). The number is built from its parts as the
/// parser builds it (the crate has no other constructor; the test below
/// holds it to the parser's answers) and checked by the French metadata.
fn french_e164(s: &str) -> Option<phonenumber::PhoneNumber> {
    let national = s.strip_prefix("+33")?;
    if national.len() != 9 || !national.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let national: u64 = national.parse().ok()?;
    serde_json::from_value(serde_json::json!({
        "code": { "value": FRANCE, "source": "plus" },
        "national": { "value": national },
        "extension": null,
        "carrier": null,
    }))
    .ok()
}

fn parse_phone(s: &str) -> Option<PhoneNumber> {
    let s = s.trim();
    if let Some(number) = french_e164(s) {
        let metadata: &'static Database = &FRENCH_METADATA;
        return number
            .is_valid_with(metadata)
            .then_some(PhoneNumber { number, metadata });
    }
    let metadata: &'static Database =
        match phonenumber::parse_with(&FRENCH_METADATA, Some(DEFAULT_REGION), s) {
            Ok(n) if n.code().value() == FRANCE => &FRENCH_METADATA,
            _ => &phonenumber::metadata::DATABASE,
        };
    let number = phonenumber::parse_with(metadata, Some(DEFAULT_REGION), s).ok()?;
    number
        .is_valid_with(metadata)
        .then_some(PhoneNumber { number, metadata })
}

impl PhoneNumber {
    /// What `phonenumber` writes in its E.164 mode, without its formatter,
    /// whose first use costs as much as the whole database (~90 ms).
    fn e164(&self) -> String {
        format!("+{}{}", self.number.code().value(), self.number.national())
    }

    /// As dialled in the number's country: the two formats of the French
    /// metadata for its nine-digit numbers written out ("01 40 00 00 00",
    /// "0 800 12 34 56"), `phonenumber`'s formatter for other countries.
    fn for_display(&self) -> String {
        let national = self.number.national().to_string();
        match (self.number.code().value(), national.as_bytes()) {
            (FRANCE, [b'8', ..]) if national.len() == 9 => format!(
                "0 {} {} {} {}",
                &national[..3],
                &national[3..5],
                &national[5..7],
                &national[7..]
            ),
            (FRANCE, _) if national.len() == 9 => format!(
                "0{} {} {} {} {}",
                &national[..1],
                &national[1..3],
                &national[3..5],
                &national[5..7],
                &national[7..]
            ),
            _ => self
                .number
                .format_with(self.metadata)
                .mode(phonenumber::Mode::International)
                .to_string(),
        }
    }
}

/// A mobile phone number that can receive SMS, held in E.164 (`+33612345678`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mobile(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not a valid mobile phone number")]
pub struct InvalidMobile;

impl Mobile {
    pub fn parse(s: &str) -> Result<Self, InvalidMobile> {
        use phonenumber::Type;
        let phone = parse_phone(s).ok_or(InvalidMobile)?;
        match phone.number.number_type(phone.metadata) {
            Type::Mobile | Type::FixedLineOrMobile => Ok(Self(phone.e164())),
            _ => Err(InvalidMobile),
        }
    }
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The ISO 3166 code of the number's country or territory (`FR`, `RE`,
    /// `GB`), by the phone metadata's own ranges: the overseas departments
    /// have codes of their own (`+262` is Réunion or Mayotte by its digits).
    /// A French number is read with the French metadata alone.
    pub fn country(&self) -> Option<String> {
        let phone = parse_phone(&self.0)?;
        phone
            .number
            .metadata(phone.metadata)
            .map(|m| m.id().to_string())
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mobile(<redacted>)")
    }
}
impl TryFrom<String> for Mobile {
    type Error = InvalidMobile;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Mobile> for String {
    fn from(m: Mobile) -> String {
        m.0
    }
}

/// Any valid phone number (the secretariat's), held in E.164 and shown to
/// patients the way it is dialled in its own country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "+33140000000"))]
pub struct Phone(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not a valid phone number")]
pub struct InvalidPhone;

impl Phone {
    pub fn parse(s: &str) -> Result<Self, InvalidPhone> {
        parse_phone(s).map(|n| Self(n.e164())).ok_or(InvalidPhone)
    }
    pub fn e164(&self) -> &str {
        &self.0
    }
    /// "01 40 00 00 00" for a French number; international form otherwise.
    pub fn for_display(&self) -> String {
        parse_phone(&self.0).map_or_else(|| self.0.clone(), |n| n.for_display())
    }
}
impl TryFrom<String> for Phone {
    type Error = InvalidPhone;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// A first or last name: clean text of 1 to 100 characters (SPEC §5) that
/// reads as a name, so it cannot carry a link into a message sent from the
/// practice.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidName {
    #[error(transparent)]
    Unclean(#[from] crate::text::UncleanText),
    #[error("may hold only letters, spaces, apostrophes, hyphens and a full stop ending a word")]
    NotAName,
}

impl PersonName {
    /// A name typed in a request, on every route (SPEC §5): clean text, in
    /// Unicode NFC, then [`reads_as_a_name`]. Stored as normalised.
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        let clean = crate::text::clean(s, crate::text::PERSON_NAME_CHARS)?;
        let composed = icu_normalizer::ComposingNormalizerBorrowed::new_nfc()
            .normalize(&clean)
            .into_owned();
        if !reads_as_a_name(&composed) {
            return Err(InvalidName::NotAName);
        }
        Ok(Self(composed))
    }

    /// A name as stored: clean text only. Names stored before the rule of
    /// [`reads_as_a_name`] are kept as they are, and reading never re-checks
    /// them (SPEC §5).
    pub fn stored(s: &str) -> Result<Self, crate::text::UncleanText> {
        crate::text::clean(s, crate::text::PERSON_NAME_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SPEC §5: letters of any script (with the marks that follow them),
/// spaces, apostrophes (`'`, `’`), hyphens, and a full stop that ends a word
/// (« Jr. »). No digit, `/`, `:`, `@`, and no full stop inside a word, so
/// neither `https://…` nor `evil.com` fits in a name.
pub fn reads_as_a_name(name: &str) -> bool {
    use icu_properties::props::{GeneralCategory, GeneralCategoryGroup};
    let categories = icu_properties::CodePointMapData::<GeneralCategory>::new();
    let mut after_letter = false;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        let category = categories.get(c);
        after_letter = if GeneralCategoryGroup::Letter.contains(category) {
            true
        } else if GeneralCategoryGroup::Mark.contains(category) {
            if !after_letter {
                return false;
            }
            true
        } else if c == '.' {
            // A full stop ends a word: after a letter, before a space or the end.
            if !after_letter || chars.peek().is_some_and(|next| !next.is_whitespace()) {
                return false;
            }
            false
        } else if c.is_whitespace() || matches!(c, '\'' | '’' | '-' | '\u{2010}' | '\u{2011}') {
            false
        } else {
            return false;
        };
    }
    true
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}
/// Reading a stored name (and any deserialisation) checks clean text only:
/// names stored before the name rule stay readable. Requests go through
/// [`PersonName::parse`].
impl TryFrom<String> for PersonName {
    type Error = crate::text::UncleanText;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::stored(&s)
    }
}
impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.0
    }
}

/// The languages messages and pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }
}

/// The patient's contact as the agenda holds it for one appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub first_name: PersonName,
    pub last_name: PersonName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<Mobile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hold_letters_of_any_script_and_nothing_that_makes_a_link() {
        // Given names as people write them, when parsed, then accepted
        for name in [
            "Jeanne",
            "Marie-Hélène",
            "O'Brien",
            "D’Artagnan",
            "Jr.",
            "John Smith Jr.",
            "Жанна",
            "王秀英",
            "प्रिया",
            "Nguyễn",
            "Ærøskøbing",
            "St. John",
        ] {
            assert!(PersonName::parse(name).is_ok(), "{name}");
        }
        // And names that carry links, addresses or digits are refused
        for name in [
            "https://evil.com",
            "evil.com",
            "Jeanne2",
            "jeanne@example.org",
            "a/b",
            "a:b",
            ".Jeanne",
            "Jeanne.Dupont",
            "Call 0612345678",
            "www.evil.com",
            "😀",
        ] {
            assert_eq!(
                PersonName::parse(name),
                Err(InvalidName::NotAName),
                "{name}"
            );
        }
    }

    #[test]
    fn names_are_read_in_nfc_and_stored_names_are_kept_as_they_are() {
        // Given « é » written as e + combining acute, when parsed
        let decomposed = "Ele\u{301}onore";
        let name = PersonName::parse(decomposed).unwrap();
        // Then it is the composed name
        assert_eq!(name.as_str(), "Eléonore");
        // And a name stored before the rule still reads back
        let stored: PersonName = serde_json::from_value(serde_json::json!("Dr Who 2")).unwrap();
        assert_eq!(stored.as_str(), "Dr Who 2");
    }

    #[test]
    fn a_mobile_knows_its_country_overseas_departments_included() {
        for (number, country) in [
            ("+33612345678", "FR"),
            ("+447400123456", "GB"),
            ("+262692123456", "RE"),
            ("+262639012345", "YT"),
            ("+590690123456", "GP"),
            ("+596696123456", "MQ"),
            ("+594694123456", "GF"),
        ] {
            assert_eq!(
                Mobile::parse(number).unwrap().country().as_deref(),
                Some(country),
                "{number}"
            );
        }
    }

    #[test]
    fn mobiles_are_normalised_to_e164() {
        for written in [
            "06 12 34 56 78",
            "0612345678",
            "+33 6 12 34 56 78",
            "+33612345678",
        ] {
            assert_eq!(
                Mobile::parse(written).unwrap().e164(),
                "+33612345678",
                "{written}"
            );
        }
        assert_eq!(
            Mobile::parse("+44 7911 123456").unwrap().e164(),
            "+447911123456"
        );
    }

    #[test]
    fn landlines_and_garbage_are_not_mobiles() {
        for bad in [
            "01 40 00 00 00",
            "12",
            "not a number",
            "",
            "+33 1 40 00 00 00",
        ] {
            assert_eq!(Mobile::parse(bad), Err(InvalidMobile), "{bad}");
        }
    }

    #[test]
    fn secretariat_phone_is_shown_as_dialled() {
        let phone = Phone::parse("+33140000000").unwrap();
        assert_eq!(phone.for_display(), "01 40 00 00 00");
    }

    /// What the crate's whole database answers, as `contact` did before it
    /// read French numbers with the French metadata alone.
    fn whole_database(s: &str) -> (Option<String>, Option<String>, Option<String>) {
        use phonenumber::{Mode, Type, metadata::DATABASE};
        let Some(n) = phonenumber::parse(Some(DEFAULT_REGION), s.trim())
            .ok()
            .filter(|n| n.is_valid())
        else {
            return (None, None, None);
        };
        let e164 = n.format().mode(Mode::E164).to_string();
        let mobile = matches!(
            n.number_type(&DATABASE),
            Type::Mobile | Type::FixedLineOrMobile
        )
        .then(|| e164.clone());
        // Shown from what is stored: the E.164 form.
        let n = phonenumber::parse(None, &e164).unwrap();
        let shown = if n.country().id() == Some(DEFAULT_REGION) {
            n.format().mode(Mode::National).to_string()
        } else {
            n.format().mode(Mode::International).to_string()
        };
        (mobile, Some(e164), Some(shown))
    }

    #[test]
    fn french_numbers_read_with_the_french_metadata_as_with_the_whole_database() {
        // Every 3-digit start of a national number (the French patterns tell
        // number types apart by at most their first three digits), written
        // nationally, internationally and in E.164, of the right length and one digit
        // short or long; then numbers of other countries and garbage.
        let mut written = Vec::new();
        for start in 0..1000 {
            for rest in ["123456", "987654", "12345", "1234567"] {
                let national = format!("{start:03}{rest}");
                written.push(format!("0{national}"));
                written.push(format!("+33 {national}"));
                written.push(format!("+33{national}"));
                written.push(format!("0033{national}"));
            }
        }
        written.extend(
            [
                "+44 7911 123456",
                "+1 202 555 0143",
                "+32 470 12 34 56",
                "+41 21 123 45 67",
                "+262 692 12 34 56",
                "+590 690 00 11 22",
                "0044 7911 123456",
                "+33",
                "06",
                "tel:+33612345678",
                "06 12 34 56 78 ext. 12",
                "not a number",
                "",
            ]
            .map(String::from),
        );
        for s in &written {
            let (mobile, phone, shown) = whole_database(s);
            assert_eq!(Mobile::parse(s).ok().map(|m| m.0), mobile, "{s}");
            assert_eq!(Phone::parse(s).ok().map(|p| p.0.clone()), phone, "{s}");
            assert_eq!(Phone::parse(s).ok().map(|p| p.for_display()), shown, "{s}");
        }
    }

    #[test]
    fn emails_must_be_deliverable_looking() {
        assert!(Email::parse("jeanne@example.org").is_ok());
        for bad in [
            "jeanne",
            "jeanne@",
            "@example.org",
            "jeanne@localhost",
            "a b@example.org",
            "x\r\nBcc: a@evil.example <victim@example.org>",
            "Jeanne <j@example.org>",
            "j@[127.0.0.1]",
            "\"a b\"@example.org",
            "jeanne@example.org (Jeanne)",
            "jeanne@exa mple.org",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn personal_data_never_shows_in_debug_output() {
        let patient = Patient {
            first_name: PersonName::parse("Jeanne").unwrap(),
            last_name: PersonName::parse("Dupont").unwrap(),
            email: Some(Email::parse("jeanne@example.org").unwrap()),
            mobile: Some(Mobile::parse("0612345678").unwrap()),
            language: None,
        };
        let printed = format!("{patient:?}");
        for secret in ["Jeanne", "Dupont", "jeanne@", "612345678"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
