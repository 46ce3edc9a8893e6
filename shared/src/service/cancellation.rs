//! The cancellation sender: messages that follow a cancellation, fed from the
//! stream. Today the e-mail acknowledging a patient's own cancellation (SPEC §4.2).

use super::delivery::{Delivery, DeliveryError, Outcome};
use crate::communications::{Channel, MessageKey, MessageKind};
use crate::messages;
use crate::rules::cancellation;
use crate::stream::AppointmentChange;

pub struct CancellationSender {
    delivery: Delivery,
}

impl CancellationSender {
    pub fn new(delivery: Delivery) -> Self {
        Self { delivery }
    }

    pub async fn on_change(&self, change: AppointmentChange) -> Result<(), DeliveryError> {
        let Some(appointment) = change.new_version() else {
            return Ok(());
        };
        if !cancellation::ack_is_called_for(appointment.last_change) {
            return Ok(());
        }
        let key = MessageKey::for_version(
            appointment.id,
            MessageKind::CancellationAck,
            Channel::Email,
            appointment.version,
        );
        self.delivery
            .deliver(
                key,
                appointment,
                |settings, current, _now| match cancellation::decide_ack(settings, current) {
                    Err(reason) => Outcome::Skip(reason),
                    Ok(()) => Outcome::Email {
                        email: messages::cancellation_ack_email(
                            current,
                            settings,
                            current
                                .patient
                                .email
                                .clone()
                                .expect("decide_ack() sends only to patients with an address"),
                        ),
                        links: Vec::new(),
                    },
                },
            )
            .await
    }
}
