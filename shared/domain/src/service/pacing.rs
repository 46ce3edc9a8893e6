//! Pacing: the providers take so many messages a second (SES's and SNS's
//! account rates). Each sender spaces its own sends out ([`Pacer`]), and
//! every send of the account is counted against one rate per channel
//! ([`AccountRate`], through [`RatedMailer`] and [`RatedSms`]), so the rate
//! holds however many instances send at once.

use crate::communications::Channel;
use crate::messages::{OutgoingEmail, OutgoingSms};
use crate::ports::{Mailer, ProviderMessageId, SendError, SendingRate, SmsSender};
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long a send waits for a second with room in the account's rate
/// before it is handed back as throttled (the sweeper leaves it to the next
/// sweep, in due order; a stream record is retried).
pub const MAX_RATE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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

/// One channel's account-wide rate: a send goes once the shared counter of
/// the current second took it. Seconds are the machine's (Lambda's clocks
/// are synchronised), read through the runtime's monotonic clock from one
/// origin, so a paused test clock pauses them too.
pub struct AccountRate {
    counter: Arc<dyn SendingRate>,
    channel: Channel,
    per_second: u32,
    /// This instance never goes faster than the account may.
    local: Pacer,
    origin_ms: i64,
    origin: Instant,
}

impl AccountRate {
    pub fn new(counter: Arc<dyn SendingRate>, channel: Channel, per_second: u32) -> Self {
        let origin_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
            .unwrap_or(0);
        Self::from(counter, channel, per_second, origin_ms)
    }

    /// With the machine's time given (`origin_ms`, Unix milliseconds now).
    pub fn from(
        counter: Arc<dyn SendingRate>,
        channel: Channel,
        per_second: u32,
        origin_ms: i64,
    ) -> Self {
        Self {
            counter,
            channel,
            per_second: per_second.max(1),
            local: Pacer::new(Some(per_second.max(1))),
            origin_ms,
            origin: Instant::now(),
        }
    }

    fn now_ms(&self) -> i64 {
        self.origin_ms + i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(0)
    }

    /// Waits for a second with room; `Err` after [`MAX_RATE_WAIT`] (the
    /// account is busy: the caller sends later). A counter that cannot be
    /// reached does not stop sending: this instance's own pace still holds.
    pub async fn wait(&self) -> Result<(), SendError> {
        self.local.wait().await;
        let started = Instant::now();
        loop {
            let now = self.now_ms();
            let second = now.div_euclid(1000);
            match self
                .counter
                .take_send(self.channel, second, self.per_second)
                .await
            {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(channel = self.channel.as_str(), error = %e, "account rate not counted");
                    return Ok(());
                }
            }
            if started.elapsed() >= MAX_RATE_WAIT {
                return Err(SendError::Unavailable(format!(
                    "the account's {} rate is used up",
                    self.channel.as_str()
                )));
            }
            let to_next_second = u64::try_from((second + 1) * 1000 - now).unwrap_or(1);
            tokio::time::sleep(std::time::Duration::from_millis(to_next_second.max(1))).await;
        }
    }
}

/// The mailer, under the account's e-mail rate.
pub struct RatedMailer {
    pub inner: Arc<dyn Mailer>,
    pub rate: AccountRate,
}

#[async_trait]
impl Mailer for RatedMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<ProviderMessageId, SendError> {
        self.rate.wait().await?;
        self.inner.send(email).await
    }
}

/// The SMS sender, under the account's SMS rate.
pub struct RatedSms {
    pub inner: Arc<dyn SmsSender>,
    pub rate: AccountRate,
}

#[async_trait]
impl SmsSender for RatedSms {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<ProviderMessageId, SendError> {
        self.rate.wait().await?;
        self.inner.send_sms(sms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::StoreError;
    use std::sync::Mutex as StdMutex;

    /// The shared counter of many instances: seconds and their counts.
    #[derive(Default)]
    struct Counter(StdMutex<std::collections::HashMap<i64, u32>>);

    #[async_trait]
    impl SendingRate for Counter {
        async fn take_send(
            &self,
            _channel: Channel,
            second: i64,
            limit: u32,
        ) -> Result<bool, StoreError> {
            let mut seconds = self.0.lock().unwrap();
            let count = seconds.entry(second).or_default();
            if *count >= limit {
                return Ok(false);
            }
            *count += 1;
            Ok(true)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn many_instances_together_keep_the_account_rate() {
        // Given four instances, each pacing itself at the account's 10 a
        // second, sharing one counter
        let counter = Arc::new(Counter::default());
        let instances: Vec<AccountRate> = (0..4)
            .map(|_| AccountRate::from(counter.clone(), Channel::Sms, 10, 1_000_000))
            .collect();
        // When each sends 10
        let started = Instant::now();
        futures::future::join_all(instances.iter().map(|rate| async move {
            for _ in 0..10 {
                rate.wait().await.unwrap();
            }
        }))
        .await;
        // Then no second counted more than 10, and the 40 took 4 seconds
        let seconds = counter.0.lock().unwrap().clone();
        assert!(seconds.values().all(|n| *n <= 10), "{seconds:?}");
        assert_eq!(seconds.values().sum::<u32>(), 40);
        assert!(Instant::now() - started >= std::time::Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_account_hands_the_send_back_after_a_while() {
        let counter = Arc::new(Counter::default());
        let busy = AccountRate::from(counter.clone(), Channel::Email, 1, 0);
        // Someone else takes every second's one send.
        for second in 0..10 {
            counter.take_send(Channel::Email, second, 1).await.unwrap();
        }
        assert!(matches!(busy.wait().await, Err(SendError::Unavailable(_))));
    }

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
