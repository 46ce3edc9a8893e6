//! What each request does once read: follow the link, ask the service, and
//! answer with a page or JSON. A refused slot is answered by one helper,
//! [`PatientLinksApi::refused`]: the slots again, with why.

use crate::PatientLinksApi;
use crate::answers::{Reader, action_error, link_error, refusal_status, refusal_text};
use crate::request::{Asked, LinkRequest};
use domain::links::{LinkPurpose, LinkToken};
use domain::messages::wording;
use domain::service::patient_links::{ActionError, Linked, MoveOffer, Refusal};
use domain::time::{RequestedTime, WindowRequest};
use edge::http::{HttpResponse, Problem, html, json};
use edge::pages::{AppointmentPage, Notice, SlotsPage, SlotsPurpose};
use edge::views::{PatientLinkView, RebookView, ReplacementView, SlotsView};
use lambda_http::http::StatusCode;

/// What a page asks or answers; `Err` holds an answer already written
/// (a refusal), `Ok` the answer to what was asked.
type Answered = Result<HttpResponse, HttpResponse>;

/// The link a page of `purpose` follows: MODIFY / CANCEL, or a rebooking link.
fn link_purpose(purpose: SlotsPurpose) -> LinkPurpose {
    match purpose {
        SlotsPurpose::Move => LinkPurpose::ManageAppointment,
        SlotsPurpose::Rebook => LinkPurpose::Rebook,
    }
}

impl PatientLinksApi {
    /// Answers a request read by [`crate::request::read`].
    pub(crate) async fn answer(&self, request: LinkRequest) -> HttpResponse {
        let LinkRequest {
            token,
            reader,
            asked,
        } = request;
        let token = &token;
        let answered = match asked {
            Asked::Appointment => self.appointment(token, reader).await,
            Asked::Slots { purpose, window } => self.slots(token, reader, purpose, window).await,
            Asked::Cancel => self.cancel(token, reader).await,
            Asked::Choose {
                purpose: SlotsPurpose::Move,
                start,
            } => self.move_to(token, reader, start).await,
            Asked::Choose {
                purpose: SlotsPurpose::Rebook,
                start,
            } => self.rebook(token, reader, start).await,
        };
        answered.unwrap_or_else(|refused| refused)
    }

    /// Follows a link of `purpose`, or answers why it leads nowhere.
    async fn open(
        &self,
        token: &LinkToken,
        purpose: LinkPurpose,
        reader: Reader,
    ) -> Result<Linked, HttpResponse> {
        self.service
            .open(token, purpose)
            .await
            .map_err(|e| link_error(e, reader))
    }

    /// The slots of `window` for a page of `purpose`.
    async fn offer(
        &self,
        purpose: SlotsPurpose,
        linked: &Linked,
        window: WindowRequest,
    ) -> Result<MoveOffer, ActionError> {
        match purpose {
            SlotsPurpose::Move => self.service.move_offer(linked, window).await,
            SlotsPurpose::Rebook => self.service.rebook_offer(linked, window).await,
        }
    }

    /// The appointment of a MODIFY / CANCEL link (SPEC §4.2).
    async fn appointment(&self, token: &LinkToken, reader: Reader) -> Answered {
        let linked = self
            .open(token, LinkPurpose::ManageAppointment, reader)
            .await?;
        Ok(match reader {
            Reader::Program => json(StatusCode::OK, &self.link_view(&linked)),
            Reader::Person(_) => {
                let why_not = self.service.may_change(&linked).err();
                let page = AppointmentPage {
                    token: Some(token),
                    why_not: why_not.as_ref(),
                    ..AppointmentPage::of(&linked)
                };
                html(StatusCode::OK, page.render(&self.urls))
            }
        })
    }

    /// The free slots to move to (`/a/{t}/slots`) or to book instead
    /// (`/r/{t}`): one page, two purposes.
    async fn slots(
        &self,
        token: &LinkToken,
        reader: Reader,
        purpose: SlotsPurpose,
        window: Result<WindowRequest, Problem>,
    ) -> Answered {
        let linked = self.open(token, link_purpose(purpose), reader).await?;
        let window = window.map_err(Problem::into_response)?;
        let offer = self
            .offer(purpose, &linked, window)
            .await
            .map_err(|e| action_error(e, reader, &self.urls, token))?;
        let (zone, language) = (linked.settings.timezone, linked.language());
        Ok(match (reader, purpose) {
            (Reader::Program, SlotsPurpose::Move) => {
                let mut view = SlotsView::new(&offer.slots, &linked.settings);
                view.why_not = offer
                    .not_allowed
                    .map(|w| wording::why_not(&w, zone, language));
                json(StatusCode::OK, &view)
            }
            (Reader::Program, SlotsPurpose::Rebook) => {
                let why_not = offer
                    .not_allowed
                    .map(|w| wording::why_not_rebooking(&w, zone, language));
                json(
                    StatusCode::OK,
                    &RebookView::new(&linked.appointment, &linked.settings, &offer.slots, why_not),
                )
            }
            (Reader::Person(_), _) => {
                let page = SlotsPage {
                    purpose,
                    linked: &linked,
                    token,
                    offer: &offer,
                    notice: None,
                };
                html(StatusCode::OK, page.render(&self.urls))
            }
        })
    }

    async fn cancel(&self, token: &LinkToken, reader: Reader) -> Answered {
        let linked = self
            .open(token, LinkPurpose::ManageAppointment, reader)
            .await?;
        let cancelled = self
            .service
            .cancel(linked)
            .await
            .map_err(|e| action_error(e, reader, &self.urls, token))?;
        Ok(match reader {
            Reader::Program => json(StatusCode::OK, &self.link_view(&cancelled)),
            Reader::Person(_) => {
                let notice = wording::cancelled_notice(cancelled.language());
                let page = AppointmentPage {
                    notice: Some(Notice::done(notice)),
                    ..AppointmentPage::of(&cancelled)
                };
                html(StatusCode::OK, page.render(&self.urls))
            }
        })
    }

    async fn move_to(
        &self,
        token: &LinkToken,
        reader: Reader,
        start: Option<RequestedTime>,
    ) -> Answered {
        let linked = self
            .open(token, LinkPurpose::ManageAppointment, reader)
            .await?;
        let moved = match start {
            Some(start) => self.service.move_to(linked, start).await,
            None => Err(unreadable(linked)),
        };
        let moved = match moved {
            Ok(moved) => moved,
            Err(e) => return Err(self.refused(e, SlotsPurpose::Move, token, reader).await),
        };
        Ok(match reader {
            Reader::Program => json(StatusCode::OK, &self.link_view(&moved)),
            Reader::Person(_) => {
                let notice = wording::moved_notice(
                    moved.appointment.start,
                    moved.settings.timezone,
                    moved.language(),
                );
                let page = AppointmentPage {
                    notice: Some(Notice::done(notice)),
                    confirmation_follows: self.service.confirmation_follows(&moved),
                    ..AppointmentPage::of(&moved)
                };
                html(StatusCode::OK, page.render(&self.urls))
            }
        })
    }

    async fn rebook(
        &self,
        token: &LinkToken,
        reader: Reader,
        start: Option<RequestedTime>,
    ) -> Answered {
        let linked = self.open(token, LinkPurpose::Rebook, reader).await?;
        let rebooked = match start {
            Some(start) => self.service.rebook(linked, start).await,
            None => Err(unreadable(linked)),
        };
        let (old, replacement) = match rebooked {
            Ok(done) => done,
            Err(e) => return Err(self.refused(e, SlotsPurpose::Rebook, token, reader).await),
        };
        let zone = old.settings.timezone;
        Ok(match reader {
            Reader::Program => json(
                StatusCode::CREATED,
                &ReplacementView {
                    id: replacement.id.to_string(),
                    start: zone.rfc3339(replacement.start),
                    end: zone.rfc3339(replacement.end),
                    status: replacement.status,
                },
            ),
            Reader::Person(_) => {
                let booked = Linked {
                    appointment: replacement,
                    ..old
                };
                let notice =
                    wording::rebooked_notice(booked.appointment.start, zone, booked.language());
                let page = AppointmentPage {
                    notice: Some(Notice::done(notice)),
                    confirmation_follows: self.service.confirmation_follows(&booked),
                    ..AppointmentPage::of(&booked)
                };
                html(StatusCode::CREATED, page.render(&self.urls))
            }
        })
    }

    /// A refused move or rebooking. A person refused a slot (not offered,
    /// just taken, unreadable) sees the slots again, as they are now, with
    /// why; anything else reads as [`action_error`] says.
    async fn refused(
        &self,
        error: ActionError,
        purpose: SlotsPurpose,
        token: &LinkToken,
        reader: Reader,
    ) -> HttpResponse {
        let (linked, why) = match (error, reader) {
            (ActionError::Refused { linked, why }, Reader::Person(_))
                if !matches!(why, Refusal::NotAllowed(_)) =>
            {
                (linked, why)
            }
            (other, _) => return action_error(other, reader, &self.urls, token),
        };
        match self.offer(purpose, &linked, WindowRequest::default()).await {
            Ok(offer) => {
                let page = SlotsPage {
                    purpose,
                    linked: &linked,
                    token,
                    offer: &offer,
                    notice: Some(Notice::refused(refusal_text(&why, &linked))),
                };
                html(refusal_status(&why), page.render(&self.urls))
            }
            Err(e) => action_error(e, reader, &self.urls, token),
        }
    }

    fn link_view(&self, linked: &Linked) -> PatientLinkView {
        let why_not = self
            .service
            .may_change(linked)
            .err()
            .map(|w| wording::why_not(&w, linked.settings.timezone, linked.language()));
        PatientLinkView::new(&linked.appointment, &linked.settings, why_not)
    }
}

/// A posted `start` that is not a time, refused once the link is known to work.
fn unreadable(linked: Linked) -> ActionError {
    ActionError::Refused {
        linked: Box::new(linked),
        why: Refusal::InvalidStart,
    }
}
