//! The confirmation sender (SPEC §4.1): fed appointment changes from the stream.

use super::delivery::{Delivery, DeliveryError, Outcome};
use crate::appointment::AppointmentChange;
use crate::communications::{Channel, MessageKey, MessageKind};
use crate::links::{LinkGrant, LinkPurpose, LinkToken, PublicUrls};
use crate::messages::{self, ChangeLinks, dates};
use crate::rules::SkipReason;
use crate::rules::confirmation::{self, Confirmation};
use crate::rules::online_change;

pub struct ConfirmationSender {
    delivery: Delivery,
    urls: PublicUrls,
}

impl ConfirmationSender {
    pub fn new(delivery: Delivery, urls: PublicUrls) -> Self {
        Self { delivery, urls }
    }
}

#[async_trait::async_trait]
impl super::OnAppointmentChange for ConfirmationSender {
    async fn on_change(&self, change: AppointmentChange) -> Result<(), DeliveryError> {
        let Some(appointment) = change.new_version() else {
            return Ok(());
        };
        if !confirmation::is_called_for(appointment.last_change) {
            return Ok(());
        }
        let key = MessageKey::for_version(
            appointment.id,
            MessageKind::Confirmation,
            Channel::Email,
            appointment.version,
        );
        let urls = &self.urls;
        let version = appointment.version;
        self.delivery
            .deliver_current(
                key,
                &appointment.practitioner_id,
                None,
                Some(appointment.updated_at),
                |settings, current, now| {
                    // A later change that kept the links (a name or mobile fixed
                    // just after a move) does not make this confirmation stale;
                    // one that issued links of its own does.
                    if current.links_version() != version {
                        return Outcome::Skip(SkipReason::SupersededByLaterChange);
                    }
                    match confirmation::decide(settings, current, now) {
                        Confirmation::Skip(reason) => Outcome::Skip(reason),
                        Confirmation::Send { to, with_links } => {
                            let mut grants = Vec::new();
                            let links = with_links.then(|| {
                                let token = LinkToken::generate();
                                grants.push((
                                    token.hash(),
                                    LinkGrant {
                                        appointment_id: current.id,
                                        practitioner_id: current.practitioner_id.clone(),
                                        purpose: LinkPurpose::ManageAppointment,
                                        version: current.links_version(),
                                        // Readable until the appointment is over (SPEC §4.2).
                                        expires_at: current.end,
                                    },
                                ));
                                ChangeLinks {
                                    modify: urls.modify_page(&token),
                                    cancel: urls.appointment_page(&token),
                                    until: dates::long_date_time(
                                        online_change::deadline(settings, current),
                                        settings.timezone,
                                        current.language(settings),
                                    ),
                                }
                            });
                            Outcome::Email {
                                email: messages::confirmation_email(
                                    current,
                                    settings,
                                    to,
                                    links.as_ref(),
                                ),
                                links: grants,
                            }
                        }
                    }
                },
            )
            .await
            .map(|_| ())
    }
}
