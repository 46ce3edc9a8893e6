//! The limit on public and patient-link posts (SPEC §6: 600 an hour per
//! source address by default): asked before a post acts, counted once it
//! succeeded, so a refused post never counts and changes nothing. Under
//! concurrent posts from one address the count may pass the limit by the
//! posts in flight (docs/decisions.md): the verification codes and online
//! bookings, whose writes are the store's own, are counted in that write.

use crate::ports::Clock;
use crate::ports::{PublicWrites, Store, StoreError};
use crate::quota::{Charge, OverLimit, Quotas, Source};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum PostRefused {
    #[error("over the limit of {}", .0.quota.as_str())]
    OverLimit(OverLimit),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct PublicPosts<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    quotas: Quotas,
}

impl<S: ?Sized> Clone for PublicPosts<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            quotas: self.quotas.clone(),
        }
    }
}

impl<S: PublicWrites + ?Sized> PublicPosts<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>, quotas: Quotas) -> Self {
        Self {
            store,
            clock,
            quotas,
        }
    }

    /// May `source` post now? The charge to count once the post succeeded.
    pub async fn admit(&self, source: Source) -> Result<Charge, PostRefused> {
        let now = self.clock.now();
        let charge = self.quotas.post(source, now);
        if self.store.counted(&charge).await? >= charge.limit {
            return Err(PostRefused::OverLimit(OverLimit {
                quota: charge.quota,
                retry_after_seconds: charge.retry_after(now),
            }));
        }
        Ok(charge)
    }

    /// Counts a post that succeeded.
    pub async fn succeeded(&self, charge: &Charge) -> Result<(), StoreError> {
        self.store.count(charge).await
    }
}
