//! How the function answers what it refuses: a page in the patient's language
//! for a person, problem+json for a program. The statuses are [`Refused`]'s,
//! which the OpenAPI document reads too.

use domain::contact::Language;
use domain::links::{Gone, LinkToken, PublicUrls};
use domain::messages::wording;
use domain::ports::StoreError;
use domain::service::patient_links::{ActionError, LinkError, Linked, Refusal};
use domain::validation::FieldError;
use edge::http::{HttpResponse, Problem, html};
use edge::pages::{self, AppointmentPage, Notice};
use lambda_http::http::StatusCode;

/// Who an answer is for (read once from the request): a page for a
/// person, in their language, or JSON for a program.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reader {
    Person(Language),
    Program,
}

/// Every way a request to a patient's link is refused, and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A form posted from another site (issue 10): nothing was done.
    CrossSite,
    /// A link that leads nowhere: malformed, made up, or for another purpose.
    UnknownLink,
    /// A real link that no longer works: the appointment changed or is over.
    GoneLink,
    /// The patient may no longer change the appointment online.
    NotAllowed,
    /// The posted start is not one of the offered slots.
    SlotNotOffered,
    /// The slot was taken between the page and the post.
    SlotTaken,
    /// The posted start is not a time.
    InvalidStart,
    /// The service could not answer.
    Unavailable,
}

impl Refused {
    pub fn status(self) -> StatusCode {
        match self {
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::UnknownLink => StatusCode::NOT_FOUND,
            Self::GoneLink => StatusCode::GONE,
            Self::NotAllowed | Self::SlotNotOffered | Self::SlotTaken => StatusCode::CONFLICT,
            Self::InvalidStart => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn of(why: &Refusal) -> Self {
        match why {
            Refusal::NotAllowed(_) => Self::NotAllowed,
            Refusal::SlotNotOffered => Self::SlotNotOffered,
            Refusal::SlotTaken => Self::SlotTaken,
            Refusal::InvalidStart => Self::InvalidStart,
        }
    }
}

/// The status of a refused action.
pub(crate) fn refusal_status(why: &Refusal) -> StatusCode {
    Refused::of(why).status()
}

/// Why the action was refused, in the patient's words and language.
pub(crate) fn refusal_text(why: &Refusal, linked: &Linked) -> String {
    wording::refusal(
        why,
        linked.grant.purpose,
        linked.settings.timezone,
        linked.language(),
    )
}

fn unavailable(e: &StoreError, reader: Reader) -> HttpResponse {
    let problem = Problem::unavailable(e);
    match reader {
        Reader::Program => problem.into_response(),
        Reader::Person(language) => html(
            Refused::Unavailable.status(),
            pages::unavailable_page(language),
        ),
    }
}

/// A form posted from another site: 403, nothing done, and what to do instead.
pub(crate) fn cross_site(reader: Reader) -> HttpResponse {
    let status = Refused::CrossSite.status();
    match reader {
        Reader::Program => Problem::new(
            status,
            "This form was sent from another site; nothing was changed. Open the link of your e-mail or SMS and use the buttons of that page.",
        )
        .into_response(),
        Reader::Person(language) => html(status, pages::cross_site_page(language)),
    }
}

/// A link that leads nowhere: 404, and the page says what to do.
pub(crate) fn link_unknown(reader: Reader) -> HttpResponse {
    link_error(LinkError::Unknown, reader)
}

/// 404 for a link that leads nowhere, 410 for one that no longer works.
pub(crate) fn link_error(error: LinkError, reader: Reader) -> HttpResponse {
    match (error, reader) {
        (LinkError::Store(e), _) => unavailable(&e, reader),
        (LinkError::Unknown, Reader::Program) => Problem::new(
            Refused::UnknownLink.status(),
            "This link is unknown. Use the link of the latest message you received, or call the secretariat.",
        )
        .into_response(),
        (LinkError::Unknown, Reader::Person(language)) => html(
            Refused::UnknownLink.status(),
            pages::link_error_page(None, language),
        ),
        (LinkError::Gone(linked, gone), Reader::Program) => {
            let mut problem = Problem::new(
                Refused::GoneLink.status(),
                match gone {
                    Gone::Superseded => {
                        "This link no longer works: the appointment changed since it was sent. Use the links of the latest e-mail, or call the secretariat."
                    }
                    Gone::Expired => "This link has expired: the appointment is over.",
                    Gone::Cancelled => {
                        "This link no longer works: the appointment was cancelled. To book again, use the link of the latest message if it offers one, or call the secretariat."
                    }
                    Gone::AlreadyRebooked => {
                        "This link has been used: the new appointment is booked, and its confirmation e-mail has its links."
                    }
                },
            );
            problem.secretariat_phone = Some(linked.settings.secretariat_phone.e164().to_string());
            problem.into_response()
        }
        (LinkError::Gone(linked, gone), Reader::Person(language)) => html(
            Refused::GoneLink.status(),
            pages::link_error_page(Some((&linked, gone)), language),
        ),
    }
}

/// How a refused action reads: the reason in words and the secretariat's
/// phone; for a person, the appointment page (with its actions while the
/// link still allows them).
pub(crate) fn action_error(
    error: ActionError,
    reader: Reader,
    urls: &PublicUrls,
    token: &LinkToken,
) -> HttpResponse {
    let (linked, why) = match error {
        ActionError::Link(e) => return link_error(e, reader),
        ActionError::Store(e) => return unavailable(&e, reader),
        ActionError::Invalid(errors) => return Problem::invalid_fields(errors).into_response(),
        ActionError::Refused { linked, why } => (linked, why),
    };
    let status = refusal_status(&why);
    match reader {
        Reader::Program => {
            let mut problem = Problem::new(status, refusal_text(&why, &linked));
            if why == Refusal::InvalidStart {
                problem.errors = Some(vec![FieldError {
                    field: "start".into(),
                    message: "must be one of the offered slots, as an RFC 3339 time".into(),
                }]);
            }
            problem.secretariat_phone = Some(linked.settings.secretariat_phone.e164().to_string());
            problem.into_response()
        }
        Reader::Person(_) => {
            let why_not = match &why {
                Refusal::NotAllowed(w) => Some(w),
                _ => None,
            };
            let page = AppointmentPage {
                token: why_not.is_none().then_some(token),
                why_not,
                notice: Some(Notice::refused(refusal_text(&why, &linked))),
                ..AppointmentPage::of(&linked)
            };
            html(status, page.render(urls))
        }
    }
}
