//! The patient links (SPEC §6.4): the pages behind the MODIFY / CANCEL links of
//! a confirmation e-mail. HTML by default, JSON on `Accept: application/json`.
//! Routing and HTTP only; the rules live in `shared/domain`.

use aws_adapters::config::ConfigError;
use aws_adapters::config::PUBLIC_BASE_URL;
use aws_adapters::dynamo::{GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::contact::Language;
use domain::links::{LinkPurpose, LinkToken, PublicUrls};
use domain::messages::wording;
use domain::ports::{Clock, Store, StoreError};
use domain::rules::confirmation::{self, Confirmation};
use domain::service::patient_links::{ActionError, LinkError, Linked, PatientLinks, Refusal};
use domain::time::{RequestedTime, WindowRequest};
use edge::http::{
    HttpResponse, Problem, html, json, parse_form_or_json, preferred_language, wants_json,
};
use edge::pages::{self, Notice, SlotsPurpose};
use edge::requests::SlotChoice;
use edge::views::{PatientLinkView, RebookView, ReplacementView, SlotsView};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::sync::Arc;

#[derive(Clone)]
pub struct PatientLinksApi {
    service: PatientLinks,
    urls: PublicUrls,
    /// `Origin` of the pages' own forms (the public base URL's).
    own_origin: String,
}

/// The actions behind a patient's link (SPEC §6.4).
#[derive(Clone, Copy)]
enum Route {
    Appointment,
    Slots,
    Cancel,
    Move,
    RebookOffer,
    Rebook,
}

/// What the caller reads: a page for a person, JSON for a program.
#[derive(Clone, Copy)]
enum Reader {
    Person(Language),
    Program,
}

impl PatientLinksApi {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, urls: PublicUrls) -> Self {
        Self {
            service: PatientLinks::new(store, clock),
            own_origin: edge::http::origin_of(urls.base()),
            urls,
        }
    }

    /// The Lambda handler: every outcome, errors included, is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        let reader = if wants_json(&request) {
            Reader::Program
        } else {
            Reader::Person(preferred_language(&request))
        };
        if let Err(too_large) = edge::http::refuse_oversized(&request) {
            return Ok(too_large.into_response());
        }
        let path = request.uri().path().to_string();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (route, raw_token) = match (request.method(), segments.as_slice()) {
            (&Method::GET, ["a", token]) => (Route::Appointment, *token),
            (&Method::GET, ["a", token, "slots"]) => (Route::Slots, *token),
            (&Method::POST, ["a", token, "cancel"]) => (Route::Cancel, *token),
            (&Method::POST, ["a", token, "move"]) => (Route::Move, *token),
            (&Method::GET, ["r", token]) => (Route::RebookOffer, *token),
            (&Method::POST, ["r", token]) => (Route::Rebook, *token),
            (_, ["r", _] | ["a", _] | ["a", _, "slots" | "cancel" | "move"]) => {
                return Ok(Problem::method_not_allowed().into_response());
            }
            _ => return Ok(Problem::not_found("No such resource.").into_response()),
        };
        // A form posted from another site changes nothing (issue 10, CSRF).
        if matches!(route, Route::Cancel | Route::Move | Route::Rebook)
            && edge::http::is_cross_site(&request, &self.own_origin)
        {
            return Ok(cross_site(reader));
        }
        // The token is read once, here; everything past this line is typed.
        let Some(token) = LinkToken::parse(raw_token) else {
            return Ok(link_error(LinkError::Unknown, reader));
        };
        let token = &token;
        let answer = match route {
            Route::Appointment => self.appointment(token, reader).await,
            Route::Slots => {
                self.offer(&request, token, reader, SlotsPurpose::Move)
                    .await
            }
            Route::Cancel => self.cancel(token, reader).await,
            Route::Move => self.move_to(&request, token, reader).await,
            Route::RebookOffer => {
                self.offer(&request, token, reader, SlotsPurpose::Rebook)
                    .await
            }
            Route::Rebook => self.rebook(&request, token, reader).await,
        };
        Ok(answer.unwrap_or_else(|response| response))
    }

    /// Follows a MODIFY / CANCEL link (SPEC §4.2).
    async fn open_appointment(
        &self,
        token: &LinkToken,
        reader: Reader,
    ) -> Result<Linked, HttpResponse> {
        self.open(token, LinkPurpose::ManageAppointment, reader)
            .await
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

    async fn appointment(
        &self,
        token: &LinkToken,
        reader: Reader,
    ) -> Result<HttpResponse, HttpResponse> {
        let linked = self.open_appointment(token, reader).await?;
        let why_not = self.service.may_change(&linked).err();
        Ok(match reader {
            Reader::Program => json(StatusCode::OK, &self.link_view(&linked)),
            Reader::Person(_) => html(
                StatusCode::OK,
                pages::appointment_page(
                    &linked,
                    Some(token),
                    &self.urls,
                    why_not.as_ref(),
                    None,
                    None,
                ),
            ),
        })
    }

    /// The free slots to move to (`/a/{t}/slots`) or to book instead
    /// (`/r/{t}`): one page, two purposes.
    async fn offer(
        &self,
        request: &Request,
        token: &LinkToken,
        reader: Reader,
        purpose: SlotsPurpose,
    ) -> Result<HttpResponse, HttpResponse> {
        let linked = match purpose {
            SlotsPurpose::Move => self.open_appointment(token, reader).await?,
            SlotsPurpose::Rebook => self.open(token, LinkPurpose::Rebook, reader).await?,
        };
        let window = edge::http::window(request).map_err(Problem::into_response)?;
        let offer = match purpose {
            SlotsPurpose::Move => self.service.move_offer(&linked, window).await,
            SlotsPurpose::Rebook => self.service.rebook_offer(&linked, window).await,
        }
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
            (Reader::Person(_), _) => html(
                StatusCode::OK,
                pages::slots_page(purpose, &linked, token, &self.urls, &offer, None),
            ),
        })
    }

    async fn cancel(
        &self,
        token: &LinkToken,
        reader: Reader,
    ) -> Result<HttpResponse, HttpResponse> {
        let linked = self.open_appointment(token, reader).await?;
        let cancelled = self
            .service
            .cancel(linked)
            .await
            .map_err(|e| action_error(e, reader, &self.urls, token))?;
        Ok(match reader {
            Reader::Program => json(StatusCode::OK, &self.link_view(&cancelled)),
            Reader::Person(_) => {
                let notice = wording::cancelled_notice(cancelled.language());
                html(
                    StatusCode::OK,
                    pages::appointment_page(
                        &cancelled,
                        None,
                        &self.urls,
                        None,
                        Some(Notice::done(notice)),
                        None,
                    ),
                )
            }
        })
    }

    async fn move_to(
        &self,
        request: &Request,
        token: &LinkToken,
        reader: Reader,
    ) -> Result<HttpResponse, HttpResponse> {
        let body: SlotChoice = parse_form_or_json(request).map_err(|p| match reader {
            Reader::Program => p.into_response(),
            // A form posted without a choice: same as an unreadable start.
            Reader::Person(_) => {
                Problem::invalid_fields(p.errors.unwrap_or_default()).into_response()
            }
        })?;
        let linked = self.open_appointment(token, reader).await?;
        let start = match RequestedTime::parse(&body.start) {
            Ok(start) => start,
            Err(_) => {
                let refused = ActionError::Refused {
                    linked: Box::new(linked),
                    why: Refusal::InvalidStart,
                };
                return Err(self.move_refused(refused, reader, token).await);
            }
        };
        let moved = match self.service.move_to(linked, start).await {
            Ok(moved) => moved,
            Err(e) => return Err(self.move_refused(e, reader, token).await),
        };
        Ok(match reader {
            Reader::Program => json(StatusCode::OK, &self.link_view(&moved)),
            Reader::Person(_) => {
                let notice = wording::moved_notice(
                    moved.appointment.start,
                    moved.settings.timezone,
                    moved.language(),
                );
                let follow_up = self.confirmation_follow_up(&moved);
                html(
                    StatusCode::OK,
                    pages::appointment_page(
                        &moved,
                        None,
                        &self.urls,
                        None,
                        Some(Notice::done(notice)),
                        follow_up,
                    ),
                )
            }
        })
    }

    /// A refused move shows the slots again (they may have changed), with why.
    async fn move_refused(
        &self,
        error: ActionError,
        reader: Reader,
        token: &LinkToken,
    ) -> HttpResponse {
        let (linked, why) = match (error, reader) {
            (ActionError::Refused { linked, why }, Reader::Person(_))
                if !matches!(why, Refusal::NotAllowed(_)) =>
            {
                (linked, why)
            }
            (other, _) => return action_error(other, reader, &self.urls, token),
        };
        let status = refusal_status(&why);
        match self
            .service
            .move_offer(&linked, WindowRequest::default())
            .await
        {
            Ok(offer) => html(
                status,
                pages::slots_page(
                    SlotsPurpose::Move,
                    &linked,
                    token,
                    &self.urls,
                    &offer,
                    Some(Notice::refused(refusal_text(&why, &linked))),
                ),
            ),
            Err(e) => action_error(e, reader, &self.urls, token),
        }
    }

    async fn rebook(
        &self,
        request: &Request,
        token: &LinkToken,
        reader: Reader,
    ) -> Result<HttpResponse, HttpResponse> {
        let body: SlotChoice = parse_form_or_json(request).map_err(Problem::into_response)?;
        let linked = self.open(token, LinkPurpose::Rebook, reader).await?;
        let rebooked = match RequestedTime::parse(&body.start) {
            Ok(start) => self.service.rebook(linked, start).await,
            Err(_) => Err(ActionError::Refused {
                linked: Box::new(linked),
                why: Refusal::InvalidStart,
            }),
        };
        let (old, replacement) = match rebooked {
            Ok(done) => done,
            Err(ActionError::Refused { linked, why })
                if matches!(reader, Reader::Person(_))
                    && !matches!(why, Refusal::NotAllowed(_)) =>
            {
                // Show the slots again (they may have changed), with why.
                let offer = self
                    .service
                    .rebook_offer(&linked, WindowRequest::default())
                    .await
                    .map_err(|e| action_error(e, reader, &self.urls, token))?;
                return Err(html(
                    refusal_status(&why),
                    pages::slots_page(
                        SlotsPurpose::Rebook,
                        &linked,
                        token,
                        &self.urls,
                        &offer,
                        Some(Notice::refused(refusal_text(&why, &linked))),
                    ),
                ));
            }
            Err(e) => return Err(action_error(e, reader, &self.urls, token)),
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
                let follow_up = self.confirmation_follow_up(&booked);
                html(
                    StatusCode::CREATED,
                    pages::appointment_page(
                        &booked,
                        None,
                        &self.urls,
                        None,
                        Some(Notice::done(notice)),
                        follow_up,
                    ),
                )
            }
        })
    }

    /// What the page says about the confirmation e-mail that will follow, if any.
    fn confirmation_follow_up(&self, linked: &Linked) -> Option<String> {
        let confirmed = matches!(
            confirmation::decide(&linked.settings, &linked.appointment, self.service.now()),
            Confirmation::Send { .. }
        );
        confirmed.then(|| wording::confirmation_follow_up(linked.language()).to_string())
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

/// Why the action was refused, in the patient's words and language.
fn refusal_text(why: &Refusal, linked: &Linked) -> String {
    wording::refusal(
        why,
        linked.grant.purpose,
        linked.settings.timezone,
        linked.language(),
    )
}

fn refusal_status(why: &Refusal) -> StatusCode {
    match why {
        Refusal::InvalidStart => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::NotAllowed(_) | Refusal::SlotNotOffered | Refusal::SlotTaken => {
            StatusCode::CONFLICT
        }
    }
}

fn unavailable(e: &StoreError, reader: Reader) -> HttpResponse {
    let problem = Problem::unavailable(e);
    match reader {
        Reader::Program => problem.into_response(),
        Reader::Person(language) => html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::unavailable_page(language),
        ),
    }
}

/// A form posted from another site: 403, nothing done, and what to do instead.
fn cross_site(reader: Reader) -> HttpResponse {
    match reader {
        Reader::Program => Problem::new(
            StatusCode::FORBIDDEN,
            "This form was sent from another site; nothing was changed. Open the link of your e-mail or SMS and use the buttons of that page.",
        )
        .into_response(),
        Reader::Person(language) => html(StatusCode::FORBIDDEN, pages::cross_site_page(language)),
    }
}

/// 404 for a link that leads nowhere, 410 for one that no longer works.
fn link_error(error: LinkError, reader: Reader) -> HttpResponse {
    match (error, reader) {
        (LinkError::Store(e), _) => unavailable(&e, reader),
        (LinkError::Unknown, Reader::Program) => Problem::not_found(
            "This link is unknown. Use the link of the latest message you received, or call the secretariat.",
        )
        .into_response(),
        (LinkError::Unknown, Reader::Person(language)) => {
            html(StatusCode::NOT_FOUND, pages::link_error_page(None, language))
        }
        (LinkError::Gone(linked, gone), Reader::Program) => {
            let mut problem = Problem::new(
                StatusCode::GONE,
                match gone {
                    domain::service::patient_links::Gone::Superseded => {
                        "This link no longer works: the appointment changed since it was sent. Use the links of the latest e-mail, or call the secretariat."
                    }
                    domain::service::patient_links::Gone::Expired => {
                        "This link has expired: the appointment is over."
                    }
                    domain::service::patient_links::Gone::Cancelled => {
                        "This link no longer works: the appointment was cancelled. To book again, use the link of the latest message if it offers one, or call the secretariat."
                    }
                    domain::service::patient_links::Gone::AlreadyRebooked => {
                        "This link has been used: the new appointment is booked, and its confirmation e-mail has its links."
                    }
                },
            );
            problem.secretariat_phone = Some(linked.settings.secretariat_phone.e164().to_string());
            problem.into_response()
        }
        (LinkError::Gone(linked, gone), Reader::Person(language)) => html(
            StatusCode::GONE,
            pages::link_error_page(Some((&linked, gone)), language),
        ),
    }
}

/// How a refused action reads: the reason in words and the secretariat's phone.
fn action_error(
    error: ActionError,
    reader: Reader,
    urls: &PublicUrls,
    token: &LinkToken,
) -> HttpResponse {
    match error {
        ActionError::Link(e) => link_error(e, reader),
        ActionError::Store(e) => unavailable(&e, reader),
        ActionError::Invalid(errors) => Problem::invalid_fields(errors).into_response(),
        ActionError::Refused { linked, why } => {
            let status = refusal_status(&why);
            match reader {
                Reader::Program => {
                    let mut problem = Problem::new(status, refusal_text(&why, &linked));
                    if status == StatusCode::UNPROCESSABLE_ENTITY {
                        problem.errors = Some(vec![domain::validation::FieldError {
                            field: "start".into(),
                            message: "must be one of the offered slots, as an RFC 3339 time".into(),
                        }]);
                    }
                    problem.secretariat_phone =
                        Some(linked.settings.secretariat_phone.e164().to_string());
                    problem.into_response()
                }
                Reader::Person(_) => {
                    let why_not = match &why {
                        Refusal::NotAllowed(w) => Some(*w),
                        _ => None,
                    };
                    let notice = Notice::refused(refusal_text(&why, &linked));
                    let still_valid = why_not.is_none().then_some(token);
                    html(
                        status,
                        pages::appointment_page(
                            &linked,
                            still_valid,
                            urls,
                            why_not.as_ref(),
                            Some(notice),
                            None,
                        ),
                    )
                }
            }
        }
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "PatientLinksFunction",
    trigger: Trigger::Http,
    adapters: &[Adapter::Table],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, QUERY],
    variables: &[PUBLIC_BASE_URL],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<PatientLinksApi, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(PatientLinksApi::new(
        given.store()?,
        given.clock(),
        given.page_urls()?,
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<PatientLinksApi, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
