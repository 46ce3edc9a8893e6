//! SMS pacing: the SMS provider takes so many messages a second (SNS's
//! account rate), so every SMS sender spaces its sends out the same way.

use tokio::sync::Mutex;
use tokio::time::Instant;

/// How many SMS a second a sender starts by default: SNS's default
/// transactional rate for a new account is 20 a second; half leaves room
/// for the other senders running at the same time.
pub const DEFAULT_SMS_PER_SECOND: u32 = 10;

/// Spaces sends out to a rate, across the concurrent sends of one worker.
pub struct Pacer {
    interval: Option<std::time::Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    /// `None` (or zero): no limit.
    pub fn new(per_second: Option<u32>) -> Self {
        Self {
            interval: per_second
                .filter(|r| *r > 0)
                .map(|r| std::time::Duration::from_secs(1) / r),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this send's turn.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_to_the_rate() {
        let pacer = Pacer::new(Some(10));
        let started = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Paused time: the clock moves only by the waits themselves.
        assert_eq!(
            Instant::now() - started,
            std::time::Duration::from_millis(400)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_rate_no_wait() {
        let pacer = Pacer::new(None);
        let started = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        assert_eq!(Instant::now(), started);
    }
}
