//! What only local mode has (SPEC §8): the embedded store, the outbox, the
//! movable clock and an in-memory event bus.

pub mod clock;
pub mod events;
pub mod outbox;
pub mod store;

pub use clock::{AdjustableClock, ClockMovesForwardOnly};
pub use events::RecordedEvents;
pub use outbox::{Outbox, OutboxMessage};
pub use store::{MemoryStore, StreamSubscription};
