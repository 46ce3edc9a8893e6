//! Time: zones, local clock times, ranges, and reading times sent by the front end.

#[cfg(test)]
use chrono::Offset;
use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An IANA time zone (`Europe/Paris`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "Europe/Paris"))]
pub struct Zone(pub Tz);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not an IANA time zone such as Europe/Paris")]
pub struct InvalidZone;

impl Zone {
    pub fn parse(s: &str) -> Result<Self, InvalidZone> {
        s.parse::<Tz>().map(Self).map_err(|_| InvalidZone)
    }
    /// The instant a wall-clock time of this zone stands for: the project's one
    /// conversion from local to absolute time (slots, bookings, windows,
    /// reminders and quiet hours all go through it). Daylight saving makes two
    /// kinds of wall-clock time odd, and this is the one policy for both:
    /// - a time the autumn change shows twice is the first of the two;
    /// - a time the spring change skips is the moment the clocks jump, the
    ///   first minute that exists after it, so a period that straddles the gap
    ///   keeps its real length and nothing is ever an hour late.
    ///
    /// Times people type are checked with [`Zone::exists`] first: a skipped
    /// time in a request is refused rather than moved.
    pub fn instant(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // Gaps are whole minutes and at most a day long (Samoa, 2011).
                let mut probe = local;
                for _ in 0..=24 * 60 {
                    probe += chrono::Duration::minutes(1);
                    if let Some(t) = self.0.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                // Unreachable for any zone of the database; read as UTC.
                Utc.from_utc_datetime(&local)
            }
        }
    }

    /// Whether the clocks of this zone ever show `local` (false in the
    /// spring-forward gap).
    pub fn exists(self, local: NaiveDateTime) -> bool {
        !matches!(self.0.from_local_datetime(&local), LocalResult::None)
    }

    /// `2026-12-03T14:30:00+01:00`: what the API answers.
    pub fn rfc3339(self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self(chrono_tz::Europe::Paris)
    }
}
impl TryFrom<String> for Zone {
    type Error = InvalidZone;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Zone> for String {
    fn from(z: Zone) -> String {
        z.0.name().to_string()
    }
}

/// A wall-clock time of day, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9]{2}:[0-9]{2}$", example = "09:00"))]
pub struct LocalTime(pub NaiveTime);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not a time of day written HH:MM")]
pub struct InvalidLocalTime;

impl LocalTime {
    pub fn parse(s: &str) -> Result<Self, InvalidLocalTime> {
        NaiveTime::parse_from_str(s, "%H:%M")
            .map(Self)
            .map_err(|_| InvalidLocalTime)
    }
    /// `None` for a time no day has (`25:00`).
    pub fn hm(h: u32, m: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(h, m, 0).map(Self)
    }
}
impl TryFrom<String> for LocalTime {
    type Error = InvalidLocalTime;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<LocalTime> for String {
    fn from(t: LocalTime) -> String {
        t.0.format("%H:%M").to_string()
    }
}

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeRange {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }
    /// Two ranges overlap when each starts before the other ends: back-to-back
    /// appointments (one ends at 10:20, the next starts at 10:20) do not.
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidInstant {
    #[error("is not a date and time such as 2026-12-03T14:30:00+01:00")]
    Malformed,
    #[error("does not exist in {0} (the clocks skip it)")]
    Skipped(String),
    #[error("must be in the years 2000 to 2100")]
    OutOfRange,
}

/// The years a request may name (SPEC §6): beyond them date arithmetic is
/// never needed, and overflows cannot happen.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A time as the front end sends it (SPEC §6): with an offset, or a local
/// time read in the practitioner's zone, which the request does not know yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedTime {
    At(DateTime<Utc>),
    Local(NaiveDateTime),
}

impl RequestedTime {
    pub fn parse(s: &str) -> Result<Self, InvalidInstant> {
        let s = s.trim();
        let parsed = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            // The year as written: 2000-01-01T00:00+14:00 is in range.
            if !YEARS.contains(&t.year()) {
                return Err(InvalidInstant::OutOfRange);
            }
            Self::At(t.with_timezone(&Utc))
        } else {
            [
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(Self::Local)
            .ok_or(InvalidInstant::Malformed)?
        };
        match parsed {
            Self::Local(t) if !YEARS.contains(&t.year()) => Err(InvalidInstant::OutOfRange),
            parsed => Ok(parsed),
        }
    }

    /// The instant meant, given the practitioner's zone. A local time the
    /// spring change skips is refused: nobody meant it.
    pub fn resolve(self, zone: Zone) -> Result<DateTime<Utc>, InvalidInstant> {
        match self {
            Self::At(t) => Ok(t),
            Self::Local(local) if zone.exists(local) => Ok(zone.instant(local)),
            Self::Local(_) => Err(InvalidInstant::Skipped(zone.0.name().to_string())),
        }
    }
}

/// Reads an RFC 3339 time; a time without offset is read in `zone` (SPEC §6).
pub fn parse_instant(s: &str, zone: Zone) -> Result<DateTime<Utc>, InvalidInstant> {
    RequestedTime::parse(s)?.resolve(zone)
}

/// One end of a `from` / `to` window as the front end writes it: a day (its
/// local midnight), or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowBound {
    Day(NaiveDate),
    Time(RequestedTime),
}

impl WindowBound {
    pub fn parse(s: &str) -> Result<Self, InvalidInstant> {
        match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(day) if YEARS.contains(&day.year()) => Ok(Self::Day(day)),
            Ok(_) => Err(InvalidInstant::OutOfRange),
            Err(_) => RequestedTime::parse(s).map(Self::Time),
        }
    }

    pub fn resolve(self, zone: Zone) -> Result<DateTime<Utc>, InvalidInstant> {
        match self {
            Self::Day(day) => Ok(zone.instant(day.and_time(NaiveTime::MIN))),
            Self::Time(t) => t.resolve(zone),
        }
    }
}

/// A `from` / `to` window as asked for; the service fills in the defaults and
/// checks the span (it knows the zone, the day and the limits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowRequest {
    pub from: Option<WindowBound>,
    pub to: Option<WindowBound>,
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.start.to_rfc3339(), self.end.to_rfc3339())
    }
}

/// Fixed-width UTC, so that string order is time order (sort keys, message keys).
pub fn sortable(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn times_without_offset_are_read_in_the_practitioners_zone() {
        let paris = Zone::default();
        assert_eq!(
            parse_instant("2026-12-03T14:30:00", paris).unwrap(),
            utc("2026-12-03T13:30:00Z")
        );
        assert_eq!(
            parse_instant("2026-07-03T14:30", paris).unwrap(),
            utc("2026-07-03T12:30:00Z")
        );
        assert_eq!(
            parse_instant("2026-12-03T14:30:00-05:00", paris).unwrap(),
            utc("2026-12-03T19:30:00Z")
        );
    }

    #[test]
    fn the_skipped_spring_hour_is_refused_and_the_doubled_autumn_hour_is_the_first() {
        let paris = Zone::default();
        assert!(matches!(
            parse_instant("2026-03-29T02:30", paris),
            Err(InvalidInstant::Skipped(_))
        ));
        assert_eq!(
            parse_instant("2026-10-25T02:30", paris).unwrap(),
            utc("2026-10-25T00:30:00Z")
        );
    }

    #[test]
    fn back_to_back_ranges_do_not_overlap() {
        let a = TimeRange::new(utc("2026-12-03T10:00:00Z"), utc("2026-12-03T10:20:00Z")).unwrap();
        let b = TimeRange::new(utc("2026-12-03T10:20:00Z"), utc("2026-12-03T10:40:00Z")).unwrap();
        let c = TimeRange::new(utc("2026-12-03T10:10:00Z"), utc("2026-12-03T10:30:00Z")).unwrap();
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&c) && c.overlaps(&b) && c.overlaps(&a));
    }

    #[test]
    fn answers_carry_the_practitioners_offset() {
        let paris = Zone::default();
        assert_eq!(
            paris.rfc3339(utc("2026-12-03T13:30:00Z")),
            "2026-12-03T14:30:00+01:00"
        );
        assert_eq!(
            paris.rfc3339(utc("2026-07-03T12:30:00Z")),
            "2026-07-03T14:30:00+02:00"
        );
    }

    /// The zones of the issue: both hemispheres, a 30-minute-offset-free
    /// European one, an American one, and Chatham's 45-minute offset.
    const ZONES: [Tz; 4] = [
        chrono_tz::Europe::Paris,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Sydney,
        chrono_tz::Pacific::Chatham,
    ];

    /// The local days of `year` on which `zone` changes its offset.
    fn change_days(zone: Tz, year: i32) -> Vec<NaiveDate> {
        let mut days = Vec::new();
        let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        while day.year() == year {
            let offset_at = |d: NaiveDate| {
                zone.offset_from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
                    .fix()
            };
            if offset_at(day) != offset_at(day.succ_opt().unwrap()) {
                days.push(day.succ_opt().unwrap());
                days.push(day);
            }
            day = day.succ_opt().unwrap();
        }
        days
    }

    #[test]
    fn every_zone_of_the_tests_changes_its_clocks_twice_a_year() {
        for zone in ZONES {
            assert_eq!(change_days(zone, 2026).len(), 4, "{zone}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Around both changes of 2026 and 2027 in each zone: the conversion
        /// keeps wall-clock order, reads an existing time exactly, the first of
        /// a doubled time, and for a skipped time the first minute after the gap.
        #[test]
        fn local_times_convert_by_the_one_policy(
            zone_index in 0..ZONES.len(),
            year in 2026..=2027i32,
            change in 0..4usize,
            minute in 0..(2 * 24 * 60i64),
            later_by in 1..180i64,
        ) {
            let zone = Zone(ZONES[zone_index]);
            let day = change_days(zone.0, year)[change];
            let local = day.and_time(NaiveTime::MIN) + chrono::Duration::minutes(minute - 12 * 60);
            let later = local + chrono::Duration::minutes(later_by);
            let instant = zone.instant(local);
            // Never backwards: a later wall-clock time is never an earlier instant.
            proptest::prop_assert!(zone.instant(later) >= instant);
            let shown = instant.with_timezone(&zone.0).naive_local();
            match zone.0.from_local_datetime(&local) {
                LocalResult::Single(_) => proptest::prop_assert_eq!(shown, local),
                LocalResult::Ambiguous(first, second) => {
                    proptest::prop_assert_eq!(shown, local);
                    proptest::prop_assert_eq!(instant, first.with_timezone(&Utc));
                    proptest::prop_assert!(instant < second.with_timezone(&Utc));
                }
                LocalResult::None => {
                    proptest::prop_assert!(!zone.exists(local));
                    // The moment the clocks jump: after the asked time on the
                    // wall, and one minute earlier is still before the gap.
                    proptest::prop_assert!(shown > local);
                    let before = (instant - chrono::Duration::minutes(1))
                        .with_timezone(&zone.0)
                        .naive_local();
                    proptest::prop_assert!(before < local);
                    // A skipped time typed by a person is refused, not moved.
                    proptest::prop_assert!(RequestedTime::Local(local).resolve(zone).is_err());
                }
            }
        }
    }

    #[test]
    fn years_outside_2000_to_2100_are_refused_before_any_arithmetic() {
        for text in [
            "+262142-12-31",
            "1999-12-31T23:00:00Z",
            "2101-01-01",
            "0000-01-01T00:00",
        ] {
            assert!(WindowBound::parse(text).is_err(), "{text}");
        }
        assert!(WindowBound::parse("2100-12-31").is_ok());
        assert!(RequestedTime::parse("2000-01-01T00:00:00+14:00").is_ok());
    }
}
