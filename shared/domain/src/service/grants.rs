//! Who may act for a practitioner, asked on every practitioner route (SPEC
//! §6.1), and the members an owner manages (SPEC §6.2). Grants read from the
//! store are trusted for [`GRANT_CACHE_SECONDS`] by this instance, timed by
//! the practice's clock: a removed member is refused once that time passed.

use crate::grants::{
    Act, Actor, GRANT_CACHE_SECONDS, Member, MemberSub, Members, MembersError, Role,
};
use crate::history::member_change;
use crate::ids::PractitionerId;
use crate::ports::{Clock, GrantStore, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many practitioners' grants one instance keeps at most: past it, the
/// cache starts again empty (a read each, nothing wrong).
const CACHED_PRACTITIONERS: usize = 10_000;

/// Rounds of read-decide-write when another change to the members came first.
const ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No grant on this practitioner, or a role that may not do this (403).
    #[error("not allowed for this practitioner")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum MembersChangeError {
    #[error(transparent)]
    Refused(#[from] MembersError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who is calling, once admitted: the `by` of what they change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: MemberSub,
    pub role: Role,
}

type Cache = HashMap<PractitionerId, (DateTime<Utc>, Members)>;

pub struct Grants<S: ?Sized = dyn crate::ports::Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    cache: Arc<Mutex<Cache>>,
}

/// Clones share the store, the clock and the cache.
impl<S: ?Sized> Clone for Grants<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            cache: self.cache.clone(),
        }
    }
}

impl<S: GrantStore + ?Sized> Grants<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            cache: Arc::default(),
        }
    }

    /// Admits `sub` to do `act` for `practitioner`, or refuses: no grant, or
    /// a role that may not (SPEC §6.1, decided by [`Role::may`]).
    pub async fn admit(
        &self,
        practitioner: &PractitionerId,
        sub: &MemberSub,
        act: Act,
    ) -> Result<Caller, AccessError> {
        let members = self.cached(practitioner).await?;
        match members.role_of(sub) {
            Some(role) if role.may(act) => Ok(Caller {
                sub: sub.clone(),
                role,
            }),
            _ => Err(AccessError::Forbidden),
        }
    }

    /// The members, as the cache holds them while fresh.
    async fn cached(&self, practitioner: &PractitionerId) -> Result<Members, StoreError> {
        let now = self.clock.now();
        let fresh = |read: &DateTime<Utc>| {
            now >= *read && now - *read < Duration::seconds(GRANT_CACHE_SECONDS)
        };
        if let Some((read, members)) = self.lock().get(practitioner)
            && fresh(read)
        {
            return Ok(members.clone());
        }
        let members = self.store.members(practitioner).await?;
        if members.revision == 0 {
            // Nobody holds a grant yet: not kept, so the practice's first
            // owner is let in at once.
            return Ok(members);
        }
        let mut cache = self.lock();
        if cache.len() >= CACHED_PRACTITIONERS {
            cache.clear();
        }
        cache.insert(practitioner.clone(), (now, members.clone()));
        Ok(members)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic elsewhere while holding the lock leaves a cache that is
        // still a valid map: keep using it.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every member of `practitioner`, read from the store (not the cache).
    pub async fn members(&self, practitioner: &PractitionerId) -> Result<Members, StoreError> {
        self.store.members(practitioner).await
    }

    /// Adds `member`, or changes their role or name (SPEC §6.2).
    pub async fn set_member(
        &self,
        practitioner: &PractitionerId,
        member: Member,
        by: &Actor,
    ) -> Result<Members, MembersChangeError> {
        let sub = member.sub.clone();
        self.change(practitioner, &sub, by, |members| {
            members.with(member.clone())
        })
        .await
    }

    /// Removes `sub`'s grant; the last owner stays (409).
    pub async fn remove_member(
        &self,
        practitioner: &PractitionerId,
        sub: &MemberSub,
        by: &Actor,
    ) -> Result<Members, MembersChangeError> {
        self.change(practitioner, sub, by, |members| members.without(sub))
            .await
    }

    /// Stores the members `decide` makes of the stored ones, against the
    /// revision read, with the line of the practice's history that says who
    /// changed `sub`'s grant; this instance forgets what it cached.
    async fn change(
        &self,
        practitioner: &PractitionerId,
        sub: &MemberSub,
        by: &Actor,
        decide: impl Fn(&Members) -> Result<Members, MembersError>,
    ) -> Result<Members, MembersChangeError> {
        let of = |members: &Members| members.members.iter().find(|m| &m.sub == sub).cloned();
        for _ in 0..ATTEMPTS {
            let stored = self.store.members(practitioner).await?;
            let next = decide(&stored)?;
            let line = member_change(
                of(&stored).as_ref(),
                of(&next).as_ref(),
                by,
                self.clock.now(),
            );
            if self
                .store
                .put_members(practitioner, &next, line.as_ref())
                .await?
            {
                self.lock().remove(practitioner);
                return Ok(Members {
                    revision: next.revision + 1,
                    ..next
                });
            }
        }
        Err(StoreError::Contention.into())
    }

    /// The practice's grants when it has none yet (local mode's practice
    /// created by its owner, SPEC §8): `false` when it already had some.
    pub async fn found_practice(
        &self,
        practitioner: &PractitionerId,
        members: &Members,
    ) -> Result<bool, StoreError> {
        if self.store.members(practitioner).await?.revision != 0 {
            return Ok(false);
        }
        let first = Members {
            revision: 0,
            ..members.clone()
        };
        let written = self.store.put_members(practitioner, &first, None).await?;
        self.lock().remove(practitioner);
        Ok(written)
    }
}
