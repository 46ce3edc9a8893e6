//! What only local mode has (SPEC §8): the memory table (under the Lambdas'
//! own store), the outbox, the movable clock and an in-memory event bus.

pub mod clock;
pub mod events;
pub mod outbox;
pub mod table;

pub use clock::{AdjustableClock, ClockMovesForwardOnly};
pub use events::RecordedEvents;
pub use outbox::{Outbox, OutboxMessage};
pub use table::{MemoryStore, MemoryTable, OverwriteAppointment, StreamSubscription};
