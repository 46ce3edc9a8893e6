//! Application services: the flows of SPEC §4, written against the ports. The
//! Lambda handlers translate HTTP and stream events into calls of these.

pub mod availability;
pub mod booking;
pub mod cancellation;
pub mod confirmation;
pub mod delivery;
pub mod online_booking;
pub mod patient_links;
pub mod practice;
pub mod reminders;
