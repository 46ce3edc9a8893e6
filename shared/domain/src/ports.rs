//! Ports: what the rules need from the outside world, as small traits. Each has an
//! AWS adapter and an in-memory one (local mode and tests).

use crate::absence::Absence;
use crate::appointment::Appointment;
use crate::communications::{
    Channel, CommunicationEntry, CommunicationEvent, DeliveryState, MessageKey,
};
use crate::grants::Members;
use crate::ids::{AppointmentId, PractitionerId};
use crate::keyed::ContactHash;
use crate::links::{LinkGrant, TokenHash};
use crate::messages::{OutgoingEmail, OutgoingSms};
use crate::quota::Charge;
use crate::reminder::{Retiming, ScheduledReminder};
use crate::settings::PractitionerSettings;
use crate::time::TimeRange;
use crate::verification::{ContactAppointments, Verification, VerificationId};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored item cannot be read: {0}")]
    Corrupt(String),
    #[error("too many concurrent changes to the same agenda; try again")]
    Contention,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The range is taken: these booked appointments overlap it.
    #[error("the time overlaps {} booked appointment(s)", .0.len())]
    Overlap(Vec<AppointmentId>),
    /// The practitioner is absent at that time.
    #[error("the practitioner is absent at that time")]
    Absent,
    /// The appointment is no longer at the version the change was based on.
    #[error("the appointment changed meanwhile")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of claiming the right to send one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody sent it yet: the caller sends it, then settles or releases the claim.
    Granted,
    /// Already decided (sent, skipped or failed); `published` says whether its
    /// event reached the bus.
    Settled {
        entry: CommunicationEntry,
        published: bool,
    },
    /// Another worker holds a fresh claim: try again later.
    InFlight,
}

/// Practitioners' settings documents (SPEC §2).
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn put_settings(&self, settings: &PractitionerSettings) -> Result<(), StoreError>;
    /// Stores `settings` and its line of the practice's history, both or
    /// neither (SPEC §3).
    async fn save_settings(
        &self,
        settings: &PractitionerSettings,
        change: &crate::history::PracticeChange,
    ) -> Result<(), StoreError>;
    /// A line of the practice's history on its own (an export).
    async fn record_practice_change(
        &self,
        practitioner: &PractitionerId,
        change: &crate::history::PracticeChange,
    ) -> Result<(), StoreError>;
    async fn settings(
        &self,
        id: &PractitionerId,
    ) -> Result<Option<PractitionerSettings>, StoreError>;
}

/// Appointments and absences: the agenda, whose writes keep SPEC §3's
/// promise that nothing booked ever overlaps.
#[async_trait]
pub trait AgendaStore: Send + Sync {
    /// Stores a new booked appointment unless it overlaps another booked one of the
    /// same practitioner, atomically with respect to concurrent inserts.
    async fn insert_appointment(&self, appointment: &Appointment) -> Result<(), InsertError>;
    /// Replaces a stored appointment by its next version (same id), provided the
    /// stored one is still at `expected_version`, so a change decided on what the
    /// caller read never overwrites one made meanwhile. A booked new version must
    /// not overlap another booked appointment; the agenda follows atomically.
    async fn update_appointment(
        &self,
        expected_version: u32,
        appointment: &Appointment,
    ) -> Result<(), InsertError>;
    /// Replaces several stored appointments of one practitioner by their
    /// next versions in one step: all or none, each still at its expected
    /// version (`Stale` otherwise), the agenda following. At most
    /// [`MAX_APPOINTMENTS_AT_ONCE`] (bulk work: an absence over thousands).
    async fn update_appointments(&self, updates: &[(u32, Appointment)]) -> Result<(), InsertError>;
    /// Books `replacement` and stores `rebooked` (the next version of the
    /// cancelled appointment it replaces) in one step: both or neither. Refused
    /// like an insert, and when the cancelled one is no longer at `expected_version`.
    async fn rebook(
        &self,
        expected_version: u32,
        rebooked: &Appointment,
        replacement: &Appointment,
    ) -> Result<(), InsertError>;
    /// One of `practitioner`'s appointments: another practitioner's id finds
    /// nothing, so no caller has to remember to check whose it is.
    async fn appointment(
        &self,
        practitioner: &PractitionerId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, StoreError>;
    /// The history of one of `practitioner`'s appointments, oldest first
    /// (empty for another practitioner's): written with each version.
    async fn history(
        &self,
        practitioner: &PractitionerId,
        appointment: &AppointmentId,
    ) -> Result<Vec<crate::history::HistoryEntry>, StoreError>;
    /// Appointments of one practitioner that overlap `range`, in start order.
    async fn agenda(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Appointment>, StoreError>;

    /// Places an absence unless booked appointments overlap it (`Overlap` lists
    /// them), atomically with respect to concurrent bookings. Placing the same
    /// absence again changes nothing.
    async fn place_absence(&self, absence: &Absence) -> Result<(), InsertError>;
    /// Absences of one practitioner that overlap `range`, in start order.
    async fn absences(
        &self,
        practitioner: &PractitionerId,
        range: TimeRange,
    ) -> Result<Vec<Absence>, StoreError>;
}

/// The communications log (SPEC §5) and the claims that make each message
/// go out once.
#[async_trait]
pub trait MessageLog: Send + Sync {
    /// Claims the right to send the message `key`. A claim older than `lease`
    /// (its worker died) can be taken over, and so can a held message.
    async fn claim_message(
        &self,
        key: &MessageKey,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError>;
    /// Records the decision of a granted claim in the communications log of
    /// the appointment, which is one of `practitioner`'s (their agenda reads
    /// it), kept as long as the appointment that ends at `appointment_end`.
    async fn settle_message(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
        appointment_end: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Gives a granted claim back (the send failed and will be retried).
    async fn release_message(&self, key: &MessageKey) -> Result<(), StoreError>;
    /// Turns a granted claim into a `scheduled` entry of the log: shown, and
    /// claimable by whoever sends the message when its time comes.
    async fn hold_message(
        &self,
        key: &MessageKey,
        practitioner: &PractitionerId,
        entry: &CommunicationEntry,
        appointment_end: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn mark_published(&self, key: &MessageKey) -> Result<(), StoreError>;
    /// The communications log of one of `practitioner`'s appointments, oldest
    /// first (empty for another practitioner's).
    async fn communications(
        &self,
        practitioner: &PractitionerId,
        appointment: &AppointmentId,
    ) -> Result<Vec<CommunicationEntry>, StoreError>;
    /// The communications logs of some of `practitioner`'s appointments (an
    /// agenda's), each oldest first, in the order of `appointments`: read with
    /// a number of queries that does not grow with the number of appointments.
    async fn communications_of(
        &self,
        practitioner: &PractitionerId,
        appointments: &[AppointmentId],
    ) -> Result<Vec<Vec<CommunicationEntry>>, StoreError>;
    /// The logged message the provider knows by `message_id` (its feedback
    /// names it), if any.
    async fn message_sent_as(&self, message_id: &str) -> Result<Option<LoggedMessage>, StoreError>;
    /// Replaces the entry of `key` by `entry` (the provider's feedback) if
    /// the stored one is still in state `expected`, marked as not published
    /// yet; `false` when it changed meanwhile.
    async fn record_feedback(
        &self,
        key: &MessageKey,
        expected: DeliveryState,
        entry: &CommunicationEntry,
    ) -> Result<bool, StoreError>;
}

/// A decided message of the communications log, found by its provider's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedMessage {
    pub key: MessageKey,
    /// Whose appointment's log holds it.
    pub practitioner: PractitionerId,
    pub entry: CommunicationEntry,
    /// Whether the event of its current entry reached the bus.
    pub published: bool,
}

/// Patient links (SPEC §5): stored by the hash of their token only.
#[async_trait]
pub trait LinkStore: Send + Sync {
    async fn put_link(&self, hash: &TokenHash, grant: &LinkGrant) -> Result<(), StoreError>;
    async fn link(&self, hash: &TokenHash) -> Result<Option<LinkGrant>, StoreError>;
}

/// How many appointments [`AgendaStore::update_appointments`] takes at once.
/// Each writes up to four items in the transaction (itself, its line of
/// history, the keyed hashes of its e-mail and mobile) and the batch its
/// agenda days: 20 × 4 + 2 stays well inside DynamoDB's 100 items.
pub const MAX_APPOINTMENTS_AT_ONCE: usize = 20;

/// Reminders (SPEC §4.3): the due index. One entry per appointment and
/// channel; the sweep reads entries by due time through a sparse index,
/// spread over many partitions (docs/scale.md).
#[async_trait]
pub trait DueIndex: Send + Sync {
    /// Creates or replaces the due entry of `reminder.appointment_id` and
    /// `reminder.channel`, written at `now`: an entry due before `now` is
    /// filed as due `now` (the next sweep finds it just the same), so that
    /// the index never gets an entry behind what sweeps have passed.
    async fn put_reminder(
        &self,
        reminder: &ScheduledReminder,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Removes the due entry of that appointment and channel, if any.
    async fn remove_reminder(
        &self,
        appointment: &AppointmentId,
        channel: Channel,
    ) -> Result<(), StoreError>;
    /// Entries due at or before `until`, oldest due first, at most `limit`,
    /// starting after `after` (the last entry of the previous page).
    async fn reminders_due(
        &self,
        until: DateTime<Utc>,
        after: Option<&ScheduledReminder>,
        limit: usize,
    ) -> Result<Vec<ScheduledReminder>, StoreError>;
    /// Removes the entry once its reminder is decided, unless it was replaced
    /// meanwhile (the appointment moved, the settings changed).
    async fn reminder_done(&self, reminder: &ScheduledReminder) -> Result<(), StoreError>;
    /// Starts the re-timing of a practitioner's reminders, replacing one in
    /// progress (a newer settings change starts again from its own now).
    async fn put_retiming(&self, retiming: &Retiming) -> Result<(), StoreError>;
    /// The piece starting at `done.from` is done: the next starts at `next`
    /// (`None`: finished). Changes nothing if `done` was replaced meanwhile
    /// or already recorded (a replayed piece).
    async fn retiming_done(
        &self,
        done: &Retiming,
        next: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// A sweep begins at `now`: the index stops reading the time before
    /// its oldest pending entry that no write can reach any more.
    async fn sweep_begins(&self, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// What a public write is kept within (SPEC §6.3, §6): the verifications
/// of online bookers, the per-patient limit, and the quota counters.
#[async_trait]
pub trait PublicWrites: Send + Sync {
    /// Stores a new verification and counts it against `charges`, in one
    /// write: over a limit, nothing is stored and nothing counted.
    async fn put_verification(
        &self,
        verification: &Verification,
        charges: &[Charge],
    ) -> Result<(), CountedWriteError>;
    async fn verification(&self, id: &VerificationId) -> Result<Option<Verification>, StoreError>;
    /// Counts one more wrong code on `verification`, if it is still as read
    /// (a concurrent wrong code or use leaves it to the next read).
    async fn wrong_code(&self, verification: &Verification) -> Result<(), StoreError>;
    /// The contact's listed future online appointments with `practitioner`.
    async fn contact_appointments(
        &self,
        practitioner: &PractitionerId,
        contact: &ContactHash,
    ) -> Result<ContactAppointments, StoreError>;
    /// Books `appointment` (as [`AgendaStore::insert_appointment`]) together
    /// with what guards it, all or nothing: the verification used once (if
    /// still as read), the contact's new list (if still at its revision),
    /// and one unit of each charge (if under its limit).
    async fn book_online(
        &self,
        appointment: &Appointment,
        guards: &OnlineGuards<'_>,
    ) -> Result<(), OnlineWriteError>;
    /// How many units of `charge`'s counter its hour holds.
    async fn counted(&self, charge: &Charge) -> Result<u32, StoreError>;
    /// One more unit of `charge`, unless its counter is at the limit.
    async fn count(&self, charge: &Charge) -> Result<(), StoreError>;
}

/// What an online booking is written with (see [`PublicWrites::book_online`]).
#[derive(Debug, Clone, Copy)]
pub struct OnlineGuards<'a> {
    /// The verification as read and checked; the write marks it used.
    pub verification: Option<&'a Verification>,
    /// The contact's list with the new appointment, at the revision read.
    pub contact: Option<&'a ContactAppointments>,
    pub charges: &'a [Charge],
}

#[derive(Debug, thiserror::Error)]
pub enum OnlineWriteError {
    #[error(transparent)]
    Insert(#[from] InsertError),
    /// Used, or given a wrong code, since it was read.
    #[error("the verification changed meanwhile")]
    VerificationChanged,
    /// Another booking of the same contact went first: read again.
    #[error("the contact's appointments changed meanwhile")]
    ContactChanged,
    #[error("over the limit of {}", .0.quota.as_str())]
    OverLimit(Charge),
}

#[derive(Debug, thiserror::Error)]
pub enum CountedWriteError {
    #[error("over the limit of {}", .0.quota.as_str())]
    OverLimit(Charge),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The grants on each practitioner (SPEC §6.1), kept by this system.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Every member of `practitioner` (none: revision 0), read consistently.
    async fn members(&self, practitioner: &PractitionerId) -> Result<Members, StoreError>;
    /// Stores `members` as the next revision, provided the stored one is
    /// still `members.revision` (0: none stored): `false` when another
    /// change came first, so "the last owner stays" is decided on what is
    /// stored. `change`, the line of the practice's history, is written
    /// with it.
    async fn put_members(
        &self,
        practitioner: &PractitionerId,
        members: &Members,
        change: Option<&crate::history::PracticeChange>,
    ) -> Result<bool, StoreError>;
}

/// The patients' index (SPEC §6.2 data rights): a contact's appointments
/// with one practitioner, found by the keyed hash of the contact.
#[async_trait]
pub trait PatientIndex: Send + Sync {
    /// The appointments of `practitioner` that hold `contact` now, by start.
    async fn appointments_of_contact(
        &self,
        practitioner: &PractitionerId,
        contact: &ContactHash,
    ) -> Result<Vec<Appointment>, StoreError>;
}

/// The whole table, as an adapter provides it. Services never ask for all of
/// it: each states the capabilities it uses as bounds on its store type.
pub trait Store:
    SettingsStore
    + AgendaStore
    + MessageLog
    + LinkStore
    + DueIndex
    + PublicWrites
    + GrantStore
    + PatientIndex
{
}

impl<
    T: SettingsStore
        + AgendaStore
        + MessageLog
        + LinkStore
        + DueIndex
        + PublicWrites
        + GrantStore
        + PatientIndex
        + ?Sized,
> Store for T
{
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The provider refused this message for good (bad address, rejected content).
    #[error("refused: {0}")]
    Rejected(String),
    /// Throttled or unavailable: the same message can be tried again later.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

/// The id a provider gave a message it accepted (SES's or SNS's
/// `MessageId`); its delivery feedback names the message by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProviderMessageId(pub String);

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &OutgoingEmail) -> Result<ProviderMessageId, SendError>;
}

#[derive(Debug, thiserror::Error)]
#[error("the event bus is unavailable: {0}")]
pub struct PublishError(pub String);

#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: &CommunicationEvent) -> Result<(), PublishError>;
}

/// The account's sending rates (SPEC §7): SES and SNS limit the messages a
/// second of the whole account, however many functions and instances send,
/// so the sends are counted in one place, per channel and second.
#[async_trait]
pub trait SendingRate: Send + Sync {
    /// Counts one send on `channel` in the second `second` (Unix time),
    /// unless `limit` were already counted in it: `false` then.
    async fn take_send(
        &self,
        channel: Channel,
        second: i64,
        limit: u32,
    ) -> Result<bool, StoreError>;
}

/// SMS to patients' mobiles (SNS on AWS, the outbox locally).
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<ProviderMessageId, SendError>;
}

/// Every capability of the store at once, for code that holds a whole store
/// (local mode, adapters' tests): `use domain::ports::capabilities::*;`.
pub mod capabilities {
    pub use super::{
        AgendaStore, DueIndex, GrantStore, LinkStore, MessageLog, PatientIndex, PublicWrites,
        SettingsStore, Store,
    };
}
