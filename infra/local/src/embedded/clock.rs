//! The local clock (SPEC §8): starts at the real time, or where
//! `AGENDA_CLOCK_START` says, and can be moved forward.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use domain::ports::Clock;
use std::sync::Mutex;

/// Runs at the real pace from wherever it was last moved (SPEC §8).
pub struct AdjustableClock {
    offset: Mutex<Duration>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the clock only moves forward (it is already {now})")]
pub struct ClockMovesForwardOnly {
    pub now: DateTime<Utc>,
}

/// Where local mode's clock starts instead of the real time (SPEC §8: tests
/// can run at any hour): an RFC 3339 time with its offset.
pub const AGENDA_CLOCK_START: &str = "AGENDA_CLOCK_START";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{AGENDA_CLOCK_START} must be an RFC 3339 time with its offset, such as \
     2027-03-28T01:50:00+01:00, not {given:?}"
)]
pub struct InvalidClockStart {
    pub given: String,
}

/// The clock's start as `AGENDA_CLOCK_START` gives it, with its offset:
/// `None` when it is unset or empty (the real time). A time without offset is
/// refused rather than read in some zone: the same text would start different
/// runs at different instants.
pub fn clock_start(
    given: Option<&str>,
) -> Result<Option<DateTime<FixedOffset>>, InvalidClockStart> {
    match given.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(Some)
            .map_err(|_| InvalidClockStart {
                given: text.to_string(),
            }),
    }
}

/// [`clock_start`] of this process's environment.
pub fn clock_start_from_env() -> Result<Option<DateTime<FixedOffset>>, InvalidClockStart> {
    clock_start(std::env::var(AGENDA_CLOCK_START).ok().as_deref())
}

impl AdjustableClock {
    pub fn new() -> Self {
        Self {
            offset: Mutex::new(Duration::zero()),
        }
    }
    pub fn starting_at(t: DateTime<Utc>) -> Self {
        Self {
            offset: Mutex::new(t - Utc::now()),
        }
    }
    pub fn move_to(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, ClockMovesForwardOnly> {
        let mut offset = self.offset.lock().expect("clock lock");
        let now = Utc::now() + *offset;
        if t < now {
            return Err(ClockMovesForwardOnly { now });
        }
        *offset = t - Utc::now();
        Ok(t)
    }
}

impl Default for AdjustableClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_forward_and_runs_on_but_never_goes_back() {
        let clock = AdjustableClock::new();
        let later = Utc::now() + Duration::days(10);
        clock.move_to(later).unwrap();
        assert!(clock.now() >= later);
        assert!(clock.move_to(later - Duration::hours(1)).is_err());
    }

    #[test]
    fn the_start_is_an_rfc3339_time_with_offset_or_nothing() {
        // Given the texts AGENDA_CLOCK_START may hold, when read, then
        let start = clock_start(Some("2027-10-31T01:50:00+02:00"))
            .unwrap()
            .unwrap();
        assert_eq!(
            start.to_utc(),
            "2027-10-30T23:50:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(start.to_rfc3339(), "2027-10-31T01:50:00+02:00");
        assert_eq!(clock_start(None), Ok(None));
        assert_eq!(clock_start(Some("")), Ok(None));
        for refused in ["2027-10-31T01:50:00", "tomorrow", "2027-10-31"] {
            let error = clock_start(Some(refused)).unwrap_err();
            assert!(
                error.to_string().contains(AGENDA_CLOCK_START)
                    && error.to_string().contains(refused),
                "{error}"
            );
        }
    }

    #[test]
    fn a_clock_started_at_a_time_runs_on_from_it() {
        // Given a clock started in another year, when read, then it is there
        let start: DateTime<Utc> = "2027-03-28T00:50:00Z".parse().unwrap();
        let clock = AdjustableClock::starting_at(start);
        let now = clock.now();
        assert!(now >= start && now < start + Duration::hours(1), "{now}");
    }
}
