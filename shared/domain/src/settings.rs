//! Practitioner settings (SPEC §2): one document per practitioner, validated on the way in.

use crate::contact::{Language, Phone};
use crate::ids::{PractitionerId, ReasonId};
use crate::text;
use crate::time::{LocalTime, Zone};
use crate::validation::{FieldError, FieldErrors};
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// The settings document, exactly as the API reads and answers it (SPEC §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PractitionerSettings {
    /// Comes from the path; any `id` in a request body is ignored.
    #[serde(default = "placeholder_id")]
    pub id: PractitionerId,
    pub name: String,
    #[serde(default)]
    pub profession: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    pub secretariat_phone: Phone,
    #[serde(default)]
    pub timezone: Zone,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub reasons: Vec<Reason>,
    #[serde(default)]
    pub email_service: EmailService,
    #[serde(default)]
    pub sms_service: SmsService,
    #[serde(default)]
    pub online_booking: OnlineBooking,
    #[serde(default)]
    pub opening_hours: OpeningHours,
    #[serde(default)]
    pub quiet_hours: QuietHours,
}

fn placeholder_id() -> PractitionerId {
    PractitionerId::unset()
}

/// A reason (motif) of appointment and its switches ("coché OUI").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    pub id: ReasonId,
    /// Shown in the agenda only: the label is medical information and never
    /// appears in an SMS or an e-mail (SPEC §5).
    pub label: String,
    pub duration_minutes: u32,
    #[serde(default)]
    pub confirmation_email: bool,
    #[serde(default)]
    pub online_booking: bool,
    #[serde(default)]
    pub sms_reminder: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailService {
    #[serde(default)]
    pub enabled: bool,
    /// `None`: no e-mail reminder.
    #[serde(default)]
    pub reminder_hours_before: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsService {
    #[serde(default)]
    pub enabled: bool,
    /// `None`: no SMS reminder.
    #[serde(default)]
    pub reminder_hours_before: Option<u32>,
    #[serde(default)]
    pub cancellation_sms: bool,
    /// ISO codes of the countries whose mobiles may be texted (SPEC §2,
    /// §4.3); settings stored without the field get the default.
    #[serde(default = "default_sms_countries")]
    pub countries: Vec<String>,
}

/// France and its overseas departments (SPEC §2): where a French practice's
/// patients' mobiles are, and nowhere a pumped premium number would be.
pub const DEFAULT_SMS_COUNTRIES: [&str; 6] = ["FR", "GP", "MQ", "GF", "RE", "YT"];

fn default_sms_countries() -> Vec<String> {
    DEFAULT_SMS_COUNTRIES
        .iter()
        .map(|c| c.to_string())
        .collect()
}

impl Default for SmsService {
    fn default() -> Self {
        Self {
            enabled: false,
            reminder_hours_before: None,
            cancellation_sms: false,
            countries: default_sms_countries(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnlineBooking {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_deadline_hours")]
    pub modify_cancel_deadline_hours: u32,
    #[serde(default = "default_horizon_days")]
    pub booking_horizon_days: u32,
    /// How soon at the earliest a slot may be taken online (SPEC §2, §6.3).
    #[serde(default = "default_min_notice_hours")]
    pub min_notice_hours: u32,
    /// An online booker proves their e-mail address with a code first
    /// (SPEC §2, §6.3); on by default, for settings stored before too.
    #[serde(default = "default_verify_email")]
    pub verify_email: bool,
    /// Future online appointments one verified address may hold with this
    /// practitioner; applied only while `verify_email` is on.
    #[serde(default = "default_max_future_per_patient")]
    pub max_future_per_patient: u32,
}

fn default_deadline_hours() -> u32 {
    24
}
fn default_horizon_days() -> u32 {
    60
}
fn default_min_notice_hours() -> u32 {
    2
}
fn default_verify_email() -> bool {
    true
}
fn default_max_future_per_patient() -> u32 {
    2
}

impl Default for OnlineBooking {
    fn default() -> Self {
        Self {
            enabled: false,
            modify_cancel_deadline_hours: default_deadline_hours(),
            booking_horizon_days: default_horizon_days(),
            min_notice_hours: default_min_notice_hours(),
            verify_email: default_verify_email(),
            max_future_per_patient: default_max_future_per_patient(),
        }
    }
}

/// A period of a day, in the practitioner's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub start: LocalTime,
    pub end: LocalTime,
}

/// Where online slots may be offered, per weekday.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpeningHours {
    #[serde(default)]
    pub monday: Vec<Period>,
    #[serde(default)]
    pub tuesday: Vec<Period>,
    #[serde(default)]
    pub wednesday: Vec<Period>,
    #[serde(default)]
    pub thursday: Vec<Period>,
    #[serde(default)]
    pub friday: Vec<Period>,
    #[serde(default)]
    pub saturday: Vec<Period>,
    #[serde(default)]
    pub sunday: Vec<Period>,
}

impl OpeningHours {
    pub fn on(&self, day: Weekday) -> &[Period] {
        match day {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }
    fn days(&self) -> [(&'static str, &[Period]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

/// No SMS is sent inside this window (SPEC §4.3); it may wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuietHours {
    pub start: LocalTime,
    pub end: LocalTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        // Checked when the crate compiles: a time no day has fails the build.
        #[allow(clippy::expect_used, reason = "evaluated at compile time")]
        const NIGHT: (NaiveTime, NaiveTime) = (
            NaiveTime::from_hms_opt(21, 0, 0).expect("a time of day"),
            NaiveTime::from_hms_opt(8, 0, 0).expect("a time of day"),
        );
        Self {
            start: LocalTime(NIGHT.0),
            end: LocalTime(NIGHT.1),
        }
    }
}

/// Upper bounds that keep a typo from scheduling something absurd.
pub const MAX_DURATION_MINUTES: u32 = 12 * 60;
const MAX_REMINDER_HOURS: u32 = 30 * 24;
const MAX_HORIZON_DAYS: u32 = 366;
/// Well above a family's needs; a typo of 1000 would switch the limit off.
const MAX_FUTURE_PER_PATIENT: u32 = 50;

impl PractitionerSettings {
    /// Checks what the types alone cannot: ranges, unique reason ids, ordered periods.
    pub fn validated(mut self, id: PractitionerId) -> Result<Self, Vec<FieldError>> {
        self.id = id;
        let mut errors = FieldErrors::new();
        // Clean text (SPEC §5): each reaches messages, pages or calendars.
        if let Some(name) = errors.check("name", text::clean(&self.name, text::LABEL_CHARS)) {
            self.name = name;
        }
        if let Some(profession) = errors.check(
            "profession",
            text::clean_optional(self.profession.as_deref(), text::LABEL_CHARS),
        ) {
            self.profession = profession;
        }
        if let Some(address) = errors.check(
            "address",
            text::clean_optional(self.address.as_deref(), text::ADDRESS_CHARS),
        ) {
            self.address = address;
        }
        for (i, reason) in self.reasons.iter().enumerate() {
            let field = |f: &str| format!("reasons[{i}].{f}");
            if self.reasons[..i].iter().any(|r| r.id == reason.id) {
                errors.add(field("id"), "is used by another reason");
            }
            if let Err(e) = text::clean(&reason.label, text::LABEL_CHARS) {
                errors.add(field("label"), e);
            }
            if !(1..=MAX_DURATION_MINUTES).contains(&reason.duration_minutes) {
                errors.add(
                    field("duration_minutes"),
                    format!("must be between 1 and {MAX_DURATION_MINUTES}"),
                );
            }
        }
        let hours = [
            (
                "email_service.reminder_hours_before",
                self.email_service.reminder_hours_before,
            ),
            (
                "sms_service.reminder_hours_before",
                self.sms_service.reminder_hours_before,
            ),
        ];
        for (field, value) in hours {
            if value.is_some_and(|h| !(1..=MAX_REMINDER_HOURS).contains(&h)) {
                errors.add(
                    field,
                    format!("must be between 1 and {MAX_REMINDER_HOURS}, or null"),
                );
            }
        }
        if self.online_booking.modify_cancel_deadline_hours > MAX_REMINDER_HOURS {
            errors.add(
                "online_booking.modify_cancel_deadline_hours",
                format!("must be between 0 and {MAX_REMINDER_HOURS}"),
            );
        }
        if self.online_booking.min_notice_hours > MAX_REMINDER_HOURS {
            errors.add(
                "online_booking.min_notice_hours",
                format!("must be between 0 and {MAX_REMINDER_HOURS}"),
            );
        }
        if !(1..=MAX_FUTURE_PER_PATIENT).contains(&self.online_booking.max_future_per_patient) {
            errors.add(
                "online_booking.max_future_per_patient",
                format!("must be between 1 and {MAX_FUTURE_PER_PATIENT}"),
            );
        }
        for (i, country) in self.sms_service.countries.iter().enumerate() {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                errors.add(
                    format!("sms_service.countries[{i}]"),
                    "must be an ISO 3166 country code of two capital letters (FR, RE, ...)",
                );
            }
        }
        if !(1..=MAX_HORIZON_DAYS).contains(&self.online_booking.booking_horizon_days) {
            errors.add(
                "online_booking.booking_horizon_days",
                format!("must be between 1 and {MAX_HORIZON_DAYS}"),
            );
        }
        for (day, periods) in self.opening_hours.days() {
            let mut sorted = periods.to_vec();
            sorted.sort_by_key(|p| p.start);
            for (i, p) in periods.iter().enumerate() {
                if p.start >= p.end {
                    errors.add(
                        format!("opening_hours.{day}[{i}]"),
                        "must end after it starts",
                    );
                }
            }
            if sorted.windows(2).any(|w| w[1].start < w[0].end) {
                errors.add(format!("opening_hours.{day}"), "periods overlap");
            }
        }
        for reason in &mut self.reasons {
            reason.label = reason.label.trim().to_string();
        }
        if self.quiet_hours.start == self.quiet_hours.end {
            errors.add("quiet_hours", "must start and end at different times");
        }
        errors.finish(|| self)
    }

    pub fn reason(&self, id: &ReasonId) -> Option<&Reason> {
        self.reasons.iter().find(|r| &r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::{dr_martin as sample, settings_json as sample_json};

    #[test]
    fn the_spec_document_reads_and_answers_the_same_fields() {
        let settings = sample();
        assert_eq!(settings.timezone, Zone::default());
        let answered = serde_json::to_value(&settings).unwrap();
        assert_eq!(answered["id"], "dr-martin");
        assert_eq!(answered["opening_hours"]["monday"][1]["end"], "18:00");
        assert_eq!(answered["sms_service"]["reminder_hours_before"], 24);
        assert_eq!(answered["secretariat_phone"], "+33140000000");
        assert_eq!(answered["online_booking"]["min_notice_hours"], 2);
    }

    #[test]
    fn min_notice_defaults_to_two_hours_and_stays_within_a_month() {
        let mut doc = sample_json();
        doc["online_booking"]
            .as_object_mut()
            .unwrap()
            .remove("min_notice_hours");
        let settings: PractitionerSettings = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(settings.online_booking.min_notice_hours, 2);
        doc["online_booking"]["min_notice_hours"] = (MAX_REMINDER_HOURS + 1).into();
        let settings: PractitionerSettings = serde_json::from_value(doc).unwrap();
        let errors = settings
            .validated(PractitionerId::parse("dr-martin").unwrap())
            .unwrap_err();
        assert_eq!(errors[0].field, "online_booking.min_notice_hours");
    }

    #[test]
    fn settings_stored_before_the_abuse_rules_get_their_defaults() {
        // Given a document without countries, verify_email or max_future_per_patient
        let mut doc = sample_json();
        doc["sms_service"]
            .as_object_mut()
            .unwrap()
            .remove("countries");
        doc["online_booking"]
            .as_object_mut()
            .unwrap()
            .remove("verify_email");
        let settings: PractitionerSettings = serde_json::from_value(doc).unwrap();
        // Then France and its overseas departments are texted, and online
        // bookers verify their address, two future appointments each
        assert_eq!(settings.sms_service.countries, DEFAULT_SMS_COUNTRIES);
        assert!(settings.online_booking.verify_email);
        assert_eq!(settings.online_booking.max_future_per_patient, 2);
    }

    #[test]
    fn countries_are_two_capital_letters() {
        let mut doc = sample_json();
        doc["sms_service"]["countries"] = serde_json::json!(["FR", "gb", "FRA"]);
        let settings: PractitionerSettings = serde_json::from_value(doc).unwrap();
        let errors = settings
            .validated(PractitionerId::parse("dr-martin").unwrap())
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["sms_service.countries[1]", "sms_service.countries[2]"]
        );
    }

    #[test]
    fn every_semantic_error_is_reported_with_its_field() {
        let mut doc = sample_json();
        doc["name"] = "  ".into();
        doc["reasons"][0]["duration_minutes"] = 0.into();
        let duplicate = doc["reasons"][0].clone();
        doc["reasons"].as_array_mut().unwrap().push(duplicate);
        doc["opening_hours"]["monday"][0]["end"] = "15:00".into();
        let settings: PractitionerSettings = serde_json::from_value(doc).unwrap();
        let errors = settings
            .validated(PractitionerId::parse("dr-martin").unwrap())
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "reasons[0].duration_minutes",
                "reasons[1].id",
                "reasons[1].duration_minutes",
                "opening_hours.monday"
            ]
        );
    }
}
