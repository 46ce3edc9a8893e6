//! Limits on public writes (SPEC §6): verification codes per source address
//! and per e-mail address, other public and patient-link posts per source
//! address, each counted per hour in the store, so they hold across Lambda
//! instances. Over a limit → 429 with `Retry-After`, and nothing changes; a
//! refused request does not count.
//!
//! Mobile carriers put many subscribers behind one address: the
//! per-address limits stay generous, the per-e-mail one does the fine work.

use crate::contact::Email;
use crate::keyed::{HashKey, mailbox};
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::net::IpAddr;

/// What a counter counts (its key's first part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quota {
    CodesPerSource,
    CodesPerEmail,
    PostsPerSource,
}

impl Quota {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodesPerSource => "codes_per_source",
            Self::CodesPerEmail => "codes_per_email",
            Self::PostsPerSource => "posts_per_source",
        }
    }
}

/// The limits, per hour (deploy parameters; local mode's `LIMIT_*`
/// variables, SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub codes_per_source: u32,
    pub codes_per_email: u32,
    pub posts_per_source: u32,
}

impl Default for Limits {
    /// SPEC §6's defaults.
    fn default() -> Self {
        Self {
            codes_per_source: 10,
            codes_per_email: 3,
            posts_per_source: 600,
        }
    }
}

/// How long a counter counts: the clock's hour.
pub const WINDOW: Duration = Duration::hours(1);

/// The hour `now` falls in, as its start.
pub fn window_of(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(WINDOW).unwrap_or(now)
}

/// One unit of one quota, for one subject in one hour: what a request is
/// counted against. The subject is a keyed hash (of the source address or
/// of the mailbox), so counters hold neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub quota: Quota,
    pub subject: String,
    pub window: DateTime<Utc>,
    pub limit: u32,
}

impl Charge {
    /// When the counter stops counting: its hour's end.
    pub fn window_end(&self) -> DateTime<Utc> {
        self.window + WINDOW
    }

    /// `Retry-After`: whole seconds until the hour ends (at least 1).
    pub fn retry_after(&self, now: DateTime<Utc>) -> u64 {
        let seconds = (self.window_end() - now).num_seconds();
        u64::try_from(seconds).unwrap_or(0).max(1)
    }
}

/// A request refused over a limit: when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverLimit {
    pub quota: Quota,
    pub retry_after_seconds: u64,
}

/// The client a public request comes from, as the edge read it (the
/// viewer's address behind a CDN, the peer's in local mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source(pub Option<IpAddr>);

/// What the limits are charged with: the key of the subjects' hashes and
/// the limits.
#[derive(Debug, Clone)]
pub struct Quotas {
    key: HashKey,
    pub limits: Limits,
}

impl Quotas {
    pub fn new(key: HashKey, limits: Limits) -> Self {
        Self { key, limits }
    }

    /// The key subjects are hashed with (shared with the verifications).
    pub fn key(&self) -> &HashKey {
        &self.key
    }

    fn source_subject(&self, source: Source) -> String {
        // Without an address (a direct invocation), every such request
        // shares one counter.
        let address = source
            .0
            .map_or_else(|| "unknown".to_string(), |a| a.to_string());
        self.key.digest("quota-source", address.as_bytes()).0
    }

    fn charge(&self, quota: Quota, subject: String, limit: u32, now: DateTime<Utc>) -> Charge {
        Charge {
            quota,
            subject,
            window: window_of(now),
            limit,
        }
    }

    /// A verification code to `email` asked from `source` (SPEC §6: 10 an
    /// hour per source address, 3 per e-mail address).
    pub fn code(&self, source: Source, email: &Email, now: DateTime<Utc>) -> Vec<Charge> {
        let mailbox = self.key.digest("quota-email", mailbox(email).as_bytes()).0;
        vec![
            self.charge(
                Quota::CodesPerSource,
                self.source_subject(source),
                self.limits.codes_per_source,
                now,
            ),
            self.charge(
                Quota::CodesPerEmail,
                mailbox,
                self.limits.codes_per_email,
                now,
            ),
        ]
    }

    /// A public or patient-link post from `source` (SPEC §6: 600 an hour).
    pub fn post(&self, source: Source, now: DateTime<Utc>) -> Charge {
        self.charge(
            Quota::PostsPerSource,
            self.source_subject(source),
            self.limits.posts_per_source,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::at;

    #[test]
    fn a_window_is_the_clock_hour_and_retry_after_runs_to_its_end() {
        let quotas = Quotas::new(HashKey::local_mode(), Limits::default());
        let now = at("2026-12-01T10:59:30Z");
        let charge = quotas.post(Source(None), now);
        assert_eq!(charge.window, at("2026-12-01T10:00:00Z"));
        assert_eq!(charge.retry_after(now), 30);
        assert_eq!(charge.retry_after(at("2026-12-01T11:00:00Z")), 1);
    }

    #[test]
    fn codes_count_per_source_and_per_mailbox_without_holding_either() {
        let quotas = Quotas::new(HashKey::local_mode(), Limits::default());
        let now = at("2026-12-01T10:00:00Z");
        let source = Source(Some("203.0.113.7".parse().unwrap()));
        let a = quotas.code(source, &Email::parse("jeanne+1@example.org").unwrap(), now);
        let b = quotas.code(source, &Email::parse("Jeanne@example.org").unwrap(), now);
        assert_eq!(a, b);
        assert_eq!(a[0].limit, 10);
        assert_eq!(a[1].limit, 3);
        assert!(!a[0].subject.contains("203.0.113.7") && !a[1].subject.contains("jeanne"));
    }
}
