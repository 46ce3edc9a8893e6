//! The local clock (SPEC §8): starts at the real time and can be moved forward.

use chrono::{DateTime, Duration, Utc};
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
}
