//! The store's rules that a write's condition decides, one function each.
//! The memory table evaluates these values and DynamoDB's renders them, so
//! both tables apply the same decision.

use crate::item::{MessageState, PK};
use crate::table::{AttributeValue, Condition, Path};
use chrono::{DateTime, Duration, Utc};
use domain::communications::DeliveryState;
use domain::reminder::ScheduledReminder;

/// The codec's own value of `value` (a state, an enum), so a condition
/// compares with what the items hold.
fn encoded<T: serde::Serialize>(value: T) -> AttributeValue {
    serde_dynamo::to_attribute_value(value).unwrap_or(AttributeValue::Null(true))
}

/// Nothing stored under the key yet: a new appointment, a new agenda day, a
/// new absence. Two writers of the same new item cannot both succeed.
pub fn item_is_new() -> Condition {
    Condition::not_exists(PK)
}

/// An agenda day as it was read: still absent when it was, or still at the
/// revision read. Two bookings that read the same day cannot both rewrite it,
/// so nothing booked overlaps (SPEC §3).
pub fn day_unchanged(read_revision: Option<u64>) -> Condition {
    match read_revision {
        None => item_is_new(),
        Some(revision) => Condition::equals("revision", AttributeValue::N(revision.to_string())),
    }
}

/// The appointment is still at the version the change was decided on, so a
/// change never overwrites one made meanwhile.
pub fn at_version(expected: u32) -> Condition {
    Condition::equals("version", AttributeValue::N(expected.to_string()))
}

/// Who may claim a message: nobody has yet; it was held (quiet hours) and
/// its time came, so anyone may send it; or its claim is older than `lease`
/// (its worker died). A settled message, or a fresh claim, refuses.
pub fn claim_condition(now: DateTime<Utc>, lease: Duration) -> Condition {
    let expired = AttributeValue::N((now - lease).timestamp_millis().to_string());
    item_is_new().or(
        Condition::equals("message_state", encoded(MessageState::Held)).or(Condition::equals(
            "message_state",
            encoded(MessageState::Claimed),
        )
        .and(Condition::at_most("claimed_at", expired))),
    )
}

/// Only a claim not yet decided is given back: a settled or held message
/// stays in the log.
pub fn still_claimed() -> Condition {
    Condition::equals("message_state", encoded(MessageState::Claimed))
}

/// Only a message that is there is marked published (an update would
/// otherwise create it).
pub fn logged() -> Condition {
    Condition::exists(PK)
}

/// A provider's report moves the entry only from the state it was decided
/// on, so two reports arriving together cannot both apply.
pub fn feedback_condition(expected: DeliveryState) -> Condition {
    Condition::equals(Path::nested(&["entry", "state"]), encoded(expected))
}

/// A decided due entry leaves the index unless it was replaced meanwhile
/// (the appointment moved, the settings changed): the new entry stays.
pub fn still_due(reminder: &ScheduledReminder) -> Condition {
    Condition::equals(
        crate::due_index::GSI2_SK,
        AttributeValue::S(crate::due_index::due_sort_key(reminder)),
    )
}

/// A due entry still under the old single partition, as read (`gsi2sk`):
/// neither replaced by a writer of the new keys nor decided meanwhile.
pub fn still_under_legacy_key(gsi2sk: &str) -> Condition {
    Condition::equals(
        crate::due_index::GSI2_PK,
        AttributeValue::S(crate::due_index::LEGACY_DUE_PARTITION.into()),
    )
    .and(Condition::equals(
        crate::due_index::GSI2_SK,
        AttributeValue::S(gsi2sk.to_string()),
    ))
}

/// A re-timing still where `retiming` says: not replaced by a newer settings
/// change, and its piece not already recorded.
pub fn retiming_as_read(retiming: &domain::reminder::Retiming) -> Condition {
    Condition::equals("from", encoded(retiming.from))
        .and(Condition::equals("until", encoded(retiming.until)))
}

/// The sweep cursor at or before `day`: it only moves forward.
pub fn cursor_behind(day: &str) -> Condition {
    Condition::not_exists(PK).or(Condition::at_most(
        crate::due_index::SWEEP_CURSOR_BUCKET,
        AttributeValue::S(day.to_string()),
    ))
}

/// A verification not yet used, with as many wrong codes as were read: a
/// use or a wrong code is counted once, and a used one books no more
/// (SPEC §6.3).
pub fn still_unused(wrong_codes: u32) -> Condition {
    Condition::equals("wrong_codes", AttributeValue::N(wrong_codes.to_string()))
        .and(Condition::not_exists("used_by"))
}

/// A quota counter below `limit` (or not counting yet): the increment is
/// refused at the limit, so a refused request is not counted (SPEC §6).
pub fn below_limit(limit: u32) -> Condition {
    let under = Condition::at_most(
        "count",
        AttributeValue::N((i64::from(limit) - 1).to_string()),
    );
    if limit == 0 {
        under
    } else {
        Condition::not_exists("count").or(under)
    }
}

/// A contact's list of future online appointments as it was read (absent,
/// or at the revision read): two bookings of one address cannot both take
/// its last place (SPEC §2, `max_future_per_patient`).
pub fn contact_unchanged(read_revision: Option<u64>) -> Condition {
    day_unchanged(read_revision)
}

/// A practitioner's members as they were read (none, or at the revision
/// read): two owners removing each other at once cannot leave no owner
/// (SPEC §6.1).
pub fn members_unchanged(read_revision: u64) -> Condition {
    day_unchanged((read_revision != 0).then_some(read_revision))
}
