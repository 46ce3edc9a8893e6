//! Application services: the flows of SPEC §4, written against the ports. The
//! Lambda handlers translate HTTP and stream events into calls of these.

pub mod availability;
pub mod booking;
pub mod cancellation;
pub mod confirmation;
pub mod data_rights;
pub mod delivery;
pub mod feedback;
pub mod grants;
pub mod online_booking;
pub mod pacing;
pub mod patient_links;
pub mod practice;
pub mod public_posts;
pub mod reminders;

/// A sender fed appointment changes in stream order (the confirmation and
/// cancellation senders): the stream function that calls it is the same for
/// both.
#[async_trait::async_trait]
pub trait OnAppointmentChange: Send + Sync {
    async fn on_change(
        &self,
        change: crate::appointment::AppointmentChange,
    ) -> Result<(), delivery::DeliveryError>;
}
