//! The store's side of public writes (SPEC §6, §6.3): verifications, the
//! per-contact list of future online appointments, and the quota counters,
//! each a write conditioned in one function of [`super::conditions`].

use super::conditions::{below_limit, contact_unchanged, item_is_new, still_unused};
use super::{Attempt, TableStore, unavailable};
use crate::item::*;
use crate::table::{AttributeValue, Key, Put, Read, Table, TableError, Update, Write};
use async_trait::async_trait;
use domain::appointment::Appointment;
use domain::ids::PractitionerId;
use domain::keyed::ContactHash;
use domain::ports::{
    CountedWriteError, InsertError, OnlineGuards, OnlineWriteError, PublicWrites, StoreError,
};
use domain::quota::Charge;
use domain::verification::{ContactAppointments, Verification, VerificationId};

/// One more unit of `charge`'s counter, unless it is at the limit; the
/// counter expires at its hour's end (source addresses are kept no longer).
fn count_write(charge: &Charge) -> Update {
    let (pk, sk) = quota_key(charge);
    Update::new(Key::new(pk, sk))
        .set("type", AttributeValue::S(kind::QUOTA.into()))
        .set(
            TTL,
            AttributeValue::N(charge.window_end().timestamp().to_string()),
        )
        .add("count", 1)
        .when(below_limit(charge.limit))
}

fn verification_used(verification: &Verification) -> Result<Update, StoreError> {
    let (pk, sk) = verification_key(&verification.id);
    let used_by = verification
        .used_by
        .ok_or_else(|| StoreError::Corrupt("a use of a verification names no booking".into()))?;
    Ok(Update::new(Key::new(pk, sk))
        .set("used_by", AttributeValue::S(used_by.to_string()))
        .when(still_unused(verification.wrong_codes)))
}

impl<T: Table + ?Sized> TableStore<T> {
    fn contact_put(
        &self,
        contact: &ContactAppointments,
        keep_until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Write, StoreError> {
        let (pk, sk) = contact_key(&contact.practitioner_id, &contact.contact);
        let item = ContactItem {
            pk,
            sk,
            item_type: kind::CONTACT.into(),
            appointments: contact.appointments.clone(),
            revision: contact.revision.map_or(1, |r| r + 1),
        };
        Ok(Write::Put(
            Put::new(self.kept_after(encode(&item)?, keep_until))
                .when(contact_unchanged(contact.revision)),
        ))
    }
}

#[async_trait]
impl<T: Table + ?Sized> PublicWrites for TableStore<T> {
    async fn put_verification(
        &self,
        verification: &Verification,
        charges: &[Charge],
    ) -> Result<(), CountedWriteError> {
        let mut parts = vec![Write::Put(
            Put::new(encode(&VerificationItem::new(verification))?).when(item_is_new()),
        )];
        parts.extend(charges.iter().map(|c| Write::Update(count_write(c))));
        match self.table.transact(parts).await {
            Ok(()) => Ok(()),
            Err(TableError::TransactionCanceled { reasons }) => {
                let over = reasons
                    .iter()
                    .skip(1)
                    .position(|r| r.as_deref() == Some(super::CONDITION_FAILED))
                    .and_then(|i| charges.get(i));
                match over {
                    Some(charge) => Err(CountedWriteError::OverLimit(charge.clone())),
                    // A new random id already taken, or a conflict: retried
                    // by the caller as any store contention.
                    None => Err(StoreError::Contention.into()),
                }
            }
            Err(e) => Err(unavailable(e).into()),
        }
    }

    async fn verification(&self, id: &VerificationId) -> Result<Option<Verification>, StoreError> {
        let (pk, sk) = verification_key(id);
        self.table
            .get(&Key::new(pk, sk), Read::Consistent)
            .await
            .map_err(unavailable)?
            .map(|i| decode::<VerificationItem>(i).map(|v| v.verification))
            .transpose()
    }

    async fn wrong_code(&self, verification: &Verification) -> Result<(), StoreError> {
        let (pk, sk) = verification_key(&verification.id);
        let update = Update::new(Key::new(pk, sk))
            .add("wrong_codes", 1)
            .when(still_unused(verification.wrong_codes));
        match self.table.update(update).await {
            Ok(()) | Err(TableError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn contact_appointments(
        &self,
        practitioner: &PractitionerId,
        contact: &ContactHash,
    ) -> Result<ContactAppointments, StoreError> {
        let (pk, sk) = contact_key(practitioner, contact);
        let stored = self
            .table
            .get(&Key::new(pk, sk), Read::Consistent)
            .await
            .map_err(unavailable)?
            .map(decode::<ContactItem>)
            .transpose()?;
        Ok(ContactAppointments {
            practitioner_id: practitioner.clone(),
            contact: contact.clone(),
            appointments: stored
                .as_ref()
                .map(|c| c.appointments.clone())
                .unwrap_or_default(),
            revision: stored.map(|c| c.revision),
        })
    }

    async fn book_online(
        &self,
        appointment: &Appointment,
        guards: &OnlineGuards<'_>,
    ) -> Result<(), OnlineWriteError> {
        // The extra parts, in this order: what each refusal means.
        let mut extra = Vec::new();
        let mut meaning = Vec::new();
        if let Some(verification) = guards.verification {
            extra.push(Write::Update(
                verification_used(verification).map_err(InsertError::from)?,
            ));
            meaning.push(OnlineWriteError::VerificationChanged);
        }
        if let Some(contact) = guards.contact {
            extra.push(
                self.contact_put(contact, appointment.end)
                    .map_err(InsertError::from)?,
            );
            meaning.push(OnlineWriteError::ContactChanged);
        }
        for charge in guards.charges {
            extra.push(Write::Update(count_write(charge)));
            meaning.push(OnlineWriteError::OverLimit(charge.clone()));
        }
        for _ in 0..super::BOOKING_ATTEMPTS {
            match self
                .try_write_with(&[(None, appointment)], extra.clone())
                .await?
            {
                Attempt::Written => return Ok(()),
                Attempt::Lost => continue,
                Attempt::Refused(i) => {
                    return Err(if i < meaning.len() {
                        meaning.swap_remove(i)
                    } else {
                        OnlineWriteError::Insert(InsertError::Store(StoreError::Contention))
                    });
                }
            }
        }
        Err(InsertError::Store(StoreError::Contention).into())
    }

    async fn counted(&self, charge: &Charge) -> Result<u32, StoreError> {
        let (pk, sk) = quota_key(charge);
        let item = self
            .table
            .get(&Key::new(pk, sk), Read::Consistent)
            .await
            .map_err(unavailable)?;
        Ok(match item.as_ref().and_then(|i| i.get("count")) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(u32::MAX),
            _ => 0,
        })
    }

    async fn count(&self, charge: &Charge) -> Result<(), StoreError> {
        // At the limit already (posts racing from one address): the post
        // went through, and the counter stays at its limit.
        match self.table.update(count_write(charge)).await {
            Ok(()) | Err(TableError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
