//! The cancellation sender: messages that follow a cancellation, fed from the
//! stream: the e-mail acknowledging a patient's own cancellation (SPEC §4.2),
//! and the SMS and e-mail telling a patient the practice cancelled (SPEC §4.4).

use super::delivery::{Delivered, Delivery, DeliveryError, Outcome};
use super::pacing::Pacer;
use crate::appointment::{Appointment, AppointmentChange};
use crate::communications::{Channel, MessageKey, MessageKind};
use crate::contact::{Email, Mobile};
use crate::links::{LinkGrant, LinkPurpose, LinkToken, PublicUrls};
use crate::messages;
use crate::messages::practitioner_cancellation::practitioner_cancellation_sms;
use crate::messages::practitioner_cancellation_email;
use crate::reminder::ScheduledReminder;
use crate::rules::cancellation::{self, RebookingOffer};
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Duration, Utc};

pub struct CancellationSender {
    delivery: Delivery,
    urls: PublicUrls,
    /// An absence over a full day sets many appointments to reschedule at
    /// once: their SMS go out at the provider's rate, like reminders.
    sms_pacer: Pacer,
}

impl CancellationSender {
    /// `sms_per_second`: the SMS rate (`None`: no limit).
    pub fn new(delivery: Delivery, urls: PublicUrls, sms_per_second: Option<u32>) -> Self {
        Self {
            delivery,
            urls,
            sms_pacer: Pacer::new(sms_per_second),
        }
    }
}

#[async_trait::async_trait]
impl super::OnAppointmentChange for CancellationSender {
    async fn on_change(&self, change: AppointmentChange) -> Result<(), DeliveryError> {
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
                        Ok(to) => Outcome::Email {
                            email: messages::cancellation_ack_email(current, settings, to),
                            links: Vec::new(),
                        },
                    },
                )
                .await
                .map(|_| ());
        }
        if cancellation::notice_is_called_for(appointment.last_change) {
            // The e-mail first: it goes at once, whatever becomes of the SMS.
            self.notify(appointment, Channel::Email).await?;
            self.notify(appointment, Channel::Sms).await?;
        }
        Ok(())
    }
}

impl CancellationSender {
    /// The practice's cancellation notice on `channel` (SPEC §4.4). An SMS
    /// decided inside quiet hours is held: logged `scheduled`, and put in
    /// the due index for the reminder sweeper to send when they end.
    async fn notify(
        &self,
        appointment: &Appointment,
        channel: Channel,
    ) -> Result<(), DeliveryError> {
        let key = MessageKey::for_version(
            appointment.id,
            MessageKind::PractitionerCancellation,
            channel,
            appointment.version,
        );
        if channel == Channel::Sms {
            self.sms_pacer.wait().await;
        }
        let delivered = self
            .delivery
            .deliver(key, appointment, |settings, current, now| {
                practitioner_cancellation(&self.urls, channel, settings, current, now)
            })
            .await?;
        if let Delivered::Held(until) = delivered {
            self.delivery
                .store
                .put_reminder(
                    &ScheduledReminder::held_notice(appointment, channel, until),
                    self.delivery.clock.now(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Where a notice goes, as its channel's rule checked it.
enum To {
    Email(Email),
    Mobile(Mobile),
}

/// What the practice's cancellation notice on `channel` is, decided on the
/// appointment and settings as they are at sending time: skipped, held
/// through quiet hours (SMS), or the message with its rebooking link. The
/// cancellation sender and, for held SMS, the reminder sweeper ask it.
pub fn practitioner_cancellation(
    urls: &PublicUrls,
    channel: Channel,
    settings: &PractitionerSettings,
    current: &Appointment,
    now: DateTime<Utc>,
) -> Outcome {
    // Each channel's rule hands over the address or mobile it checked.
    let decided = match channel {
        Channel::Email => cancellation::decide_email(settings, current, now)
            .map(|notice| (notice.offer, To::Email(notice.to))),
        Channel::Sms => cancellation::decide_sms(settings, current, now)
            .map(|notice| (notice.offer, To::Mobile(notice.to))),
    };
    let (offer, to) = match decided {
        Err(reason) => return Outcome::Skip(reason),
        Ok(decided) => decided,
    };
    if channel == Channel::Sms {
        if let Some(until) = cancellation::held_through_quiet_hours(settings, current, now) {
            return Outcome::Hold(until);
        }
    }
    let mut links = Vec::new();
    let link = (offer == RebookingOffer::WithRebookingLink).then(|| {
        let token = LinkToken::generate();
        links.push((
            token.hash(),
            LinkGrant {
                appointment_id: current.id,
                practitioner_id: current.practitioner_id.clone(),
                purpose: LinkPurpose::Rebook,
                version: current.links_version(),
                // As long as online booking looks ahead from today.
                expires_at: now
                    + Duration::days(i64::from(settings.online_booking.booking_horizon_days)),
            },
        ));
        urls.rebook_page(&token)
    });
    match to {
        To::Email(to) => Outcome::Email {
            email: practitioner_cancellation_email(current, settings, to, link.as_deref()),
            links,
        },
        To::Mobile(to) => Outcome::Sms {
            sms: practitioner_cancellation_sms(current, settings, to, link.as_deref()),
            links,
        },
    }
}
