//! The cancellation sender: messages that follow a cancellation, fed from the
//! stream: the e-mail acknowledging a patient's own cancellation (SPEC §4.2),
//! and the SMS and e-mail telling a patient the practice cancelled (SPEC §4.4).

use super::delivery::{Delivery, DeliveryError, Outcome};
use crate::appointment::AppointmentChange;
use crate::communications::{Channel, MessageKey, MessageKind};
use crate::links::{LinkGrant, LinkPurpose, LinkToken, PublicUrls};
use crate::messages;
use crate::messages::practitioner_cancellation::practitioner_cancellation_sms;
use crate::messages::practitioner_cancellation_email;
use crate::rules::cancellation::{self, RebookingOffer};
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
        if cancellation::notice_is_called_for(appointment.last_change) {
            // The e-mail first: it goes at once, whatever becomes of the SMS.
            self.notify(appointment, Channel::Email).await?;
            self.notify(appointment, Channel::Sms).await?;
        }
        Ok(())
    }

    /// The practice's cancellation notice on `channel` (SPEC §4.4). Each
    /// channel's link is a grant of its own for the same appointment version:
    /// the first rebooking moves the appointment to `rebooked`, a new version,
    /// and the other link is dead.
    async fn notify(
        &self,
        appointment: &crate::appointment::Appointment,
        channel: Channel,
    ) -> Result<(), DeliveryError> {
        let key = MessageKey::for_version(
            appointment.id,
            MessageKind::PractitionerCancellation,
            channel,
            appointment.version,
        );
        let urls = &self.urls;
        self.delivery
            .deliver(key, appointment, |settings, current, now| {
                let decided = match channel {
                    Channel::Email => cancellation::decide_email(settings, current, now),
                    Channel::Sms => cancellation::decide_sms(settings, current, now),
                };
                let offer = match decided {
                    Err(reason) => return Outcome::Skip(reason),
                    Ok(offer) => offer,
                };
                let mut links = Vec::new();
                let link = (offer == RebookingOffer::WithRebookingLink).then(|| {
                    let token = LinkToken::generate();
                    links.push((
                        token.hash(),
                        LinkGrant {
                            appointment_id: current.id,
                            purpose: LinkPurpose::Rebook,
                            version: current.links_version(),
                            // As long as online booking looks ahead from today.
                            expires_at: now
                                + Duration::days(i64::from(
                                    settings.online_booking.booking_horizon_days,
                                )),
                        },
                    ));
                    urls.rebook_page(&token)
                });
                match channel {
                    Channel::Email => {
                        Outcome::Email {
                            email: practitioner_cancellation_email(
                                current,
                                settings,
                                current.patient.email.clone().expect(
                                    "decide_email() sends only to patients with an address",
                                ),
                                link.as_deref(),
                            ),
                            links,
                        }
                    }
                    Channel::Sms => Outcome::Sms {
                        sms: practitioner_cancellation_sms(
                            current,
                            settings,
                            current
                                .patient
                                .mobile
                                .clone()
                                .expect("decide_sms() sends only to patients with a mobile"),
                            link.as_deref(),
                        ),
                        links,
                    },
                }
            })
            .await
    }
}
