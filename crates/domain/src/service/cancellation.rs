//! The cancellation sender: messages that follow a cancellation, fed from the
//! stream: the e-mail acknowledging a patient's own cancellation (SPEC §4.2),
//! and the SMS telling a patient the practice cancelled (SPEC §4.4).

use super::delivery::{Delivery, DeliveryError, Outcome};
use crate::appointment::AppointmentChange;
use crate::communications::{Channel, MessageKey, MessageKind};
use crate::links::{LinkGrant, LinkPurpose, LinkToken, PublicUrls};
use crate::messages;
use crate::messages::practitioner_cancellation::practitioner_cancellation_sms;
use crate::rules::cancellation::{self, CancellationSms};
use chrono::Duration;

pub struct CancellationSender {
    delivery: Delivery,
    urls: PublicUrls,
}

impl CancellationSender {
    pub fn new(delivery: Delivery, urls: PublicUrls) -> Self {
        Self { delivery, urls }
    }

    pub async fn on_change(&self, change: AppointmentChange) -> Result<(), DeliveryError> {
        let Some(appointment) = change.new_version() else {
            return Ok(());
        };
        if cancellation::ack_is_called_for(appointment.last_change) {
            let key = MessageKey::for_version(
                appointment.id,
                MessageKind::CancellationAck,
                Channel::Email,
                appointment.version,
            );
            return self
                .delivery
                .deliver(
                    key,
                    appointment,
                    |settings, current, _now| match cancellation::decide_ack(settings, current) {
                        Err(reason) => Outcome::Skip(reason),
                        Ok(()) => {
                            Outcome::Email {
                                email: messages::cancellation_ack_email(
                                    current,
                                    settings,
                                    current.patient.email.clone().expect(
                                        "decide_ack() sends only to patients with an address",
                                    ),
                                ),
                                links: Vec::new(),
                            }
                        }
                    },
                )
                .await;
        }
        if cancellation::sms_is_called_for(appointment.last_change) {
            let key = MessageKey::for_version(
                appointment.id,
                MessageKind::PractitionerCancellation,
                Channel::Sms,
                appointment.version,
            );
            let urls = &self.urls;
            return self
                .delivery
                .deliver(key, appointment, |settings, current, now| {
                    let offer = match cancellation::decide_sms(settings, current, now) {
                        Err(reason) => return Outcome::Skip(reason),
                        Ok(offer) => offer,
                    };
                    let mobile = current
                        .patient
                        .mobile
                        .clone()
                        .expect("decide_sms() sends only to patients with a mobile");
                    let mut links = Vec::new();
                    let link = (offer == CancellationSms::WithRebookingLink).then(|| {
                        let token = LinkToken::generate();
                        links.push((
                            token.hash(),
                            LinkGrant {
                                appointment_id: current.id,
                                purpose: LinkPurpose::Rebook,
                                version: current.version,
                                // As long as online booking looks ahead from today.
                                expires_at: now
                                    + Duration::days(i64::from(
                                        settings.online_booking.booking_horizon_days,
                                    )),
                            },
                        ));
                        urls.rebook_page(&token)
                    });
                    Outcome::Sms {
                        sms: practitioner_cancellation_sms(
                            current,
                            settings,
                            mobile,
                            link.as_deref(),
                        ),
                        links,
                    }
                })
                .await;
        }
        Ok(())
    }
}
