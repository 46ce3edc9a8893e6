//! Application services: the flows of SPEC §4, written against the ports. The
//! Lambda handlers translate HTTP and stream events into calls of these.

pub mod booking;
pub mod confirmation;
pub mod delivery;
pub mod reminders;
