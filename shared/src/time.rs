//! Time: zones, local clock times, ranges, and reading times sent by the front end.

use chrono::{DateTime, LocalResult, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An IANA time zone (`Europe/Paris`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(pub Tz);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not an IANA time zone such as Europe/Paris")]
pub struct InvalidZone;

impl Zone {
    pub fn parse(s: &str) -> Result<Self, InvalidZone> {
        s.parse::<Tz>().map(Self).map_err(|_| InvalidZone)
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
    pub fn hm(h: u32, m: u32) -> Self {
        Self(NaiveTime::from_hms_opt(h, m, 0).expect("valid time of day"))
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
}

/// Reads an RFC 3339 time; a time without offset is read in `zone` (SPEC §6).
/// In the autumn hour that happens twice, the first one is meant.
pub fn parse_instant(s: &str, zone: Zone) -> Result<DateTime<Utc>, InvalidInstant> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .ok_or(InvalidInstant::Malformed)?;
    match zone.0.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(InvalidInstant::Skipped(zone.0.name().to_string())),
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.start.to_rfc3339(), self.end.to_rfc3339())
    }
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
}
