//! The function's routes, and a request read once into what it asks: the
//! route, the link's token, the reader (a person in a language, or a program)
//! and the body (the chosen slot, or the window of slots to show). Past
//! [`read`], nothing goes back to the HTTP request.

use crate::answers::{self, Reader};
use domain::links::LinkToken;
use domain::time::{RequestedTime, WindowRequest};
use edge::http::{HttpResponse, Problem, parse_form_or_json, preferred_language, wants_json};
use edge::pages::SlotsPurpose;
use edge::requests::SlotChoice;
use edge::routes::Access::Anyone;
use edge::routes::Method::{Get, Post};
use edge::routes::Route;
use lambda_http::Request;

/// What each route of a patient's link does (SPEC §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ShowAppointment,
    ShowMoveSlots,
    Cancel,
    Move,
    ShowRebooking,
    Rebook,
}

/// Every route of the function (`template.yaml`: PatientLinksFunction).
#[rustfmt::skip]
pub const ROUTES: &[Route<Action>] = &[
    Route::new(Get,  "/a/{token}",        "showAppointment",   Anyone, Action::ShowAppointment),
    Route::new(Get,  "/a/{token}/slots",  "showMoveSlots",     Anyone, Action::ShowMoveSlots),
    Route::new(Post, "/a/{token}/cancel", "cancelAppointment", Anyone, Action::Cancel),
    Route::new(Post, "/a/{token}/move",   "moveAppointment",   Anyone, Action::Move),
    Route::new(Get,  "/r/{token}",        "showRebooking",     Anyone, Action::ShowRebooking),
    Route::new(Post, "/r/{token}",        "bookReplacement",   Anyone, Action::Rebook),
];

/// A request to a patient's link, typed.
pub(crate) struct LinkRequest {
    pub token: LinkToken,
    pub reader: Reader,
    pub asked: Asked,
}

/// What the request asks, with what it brings. Parts that could not be read
/// are kept as such: they are answered once the link is known to work, as
/// the patient's page then knows the practitioner and the language.
pub(crate) enum Asked {
    Appointment,
    /// The free slots of a week, to move to or to book instead.
    Slots {
        purpose: SlotsPurpose,
        window: Result<WindowRequest, Problem>,
    },
    Cancel,
    /// Move to, or book a replacement at, the slot chosen; `None`: the
    /// posted `start` is not a time.
    Choose {
        purpose: SlotsPurpose,
        start: Option<RequestedTime>,
    },
}

/// Reads the request once. `Err` is the answer to a request that asks for
/// nothing a link can give: too large, no such route, posted from another
/// site, a token that cannot exist, a body that is not a slot choice.
#[allow(
    clippy::result_large_err,
    reason = "the error is the answer itself, written once per request"
)]
pub(crate) fn read(request: &Request, own_origin: &str) -> Result<LinkRequest, HttpResponse> {
    let reader = if wants_json(request) {
        Reader::Program
    } else {
        Reader::Person(preferred_language(request))
    };
    edge::http::refuse_oversized(request).map_err(Problem::into_response)?;
    let (action, params) =
        edge::routes::route_public(ROUTES, request).map_err(Problem::into_response)?;
    // A form posted from another site changes nothing (issue 10, CSRF).
    let posted = matches!(action, Action::Cancel | Action::Move | Action::Rebook);
    if posted && edge::http::is_cross_site(request, own_origin) {
        return Err(answers::cross_site(reader));
    }
    let Some(token) = LinkToken::parse(params.get("token")) else {
        return Err(answers::link_unknown(reader));
    };
    let slots = |purpose| Asked::Slots {
        purpose,
        window: edge::http::window(request),
    };
    let asked = match action {
        Action::ShowAppointment => Asked::Appointment,
        Action::ShowMoveSlots => slots(SlotsPurpose::Move),
        Action::ShowRebooking => slots(SlotsPurpose::Rebook),
        Action::Cancel => Asked::Cancel,
        Action::Move => Asked::Choose {
            purpose: SlotsPurpose::Move,
            start: chosen_start(request, SlotsPurpose::Move, reader)?,
        },
        Action::Rebook => Asked::Choose {
            purpose: SlotsPurpose::Rebook,
            start: chosen_start(request, SlotsPurpose::Rebook, reader)?,
        },
    };
    Ok(LinkRequest {
        token,
        reader,
        asked,
    })
}

/// The `start` of a posted slot choice (form or JSON). A body that is no
/// choice at all is refused as the problem it is; a page's form posted
/// without a choice to move to reads as an unreadable start (422).
#[allow(
    clippy::result_large_err,
    reason = "the error is the answer itself, written once per request"
)]
fn chosen_start(
    request: &Request,
    purpose: SlotsPurpose,
    reader: Reader,
) -> Result<Option<RequestedTime>, HttpResponse> {
    let choice: SlotChoice = parse_form_or_json(request).map_err(|p| match (purpose, reader) {
        (SlotsPurpose::Move, Reader::Person(_)) => {
            Problem::invalid_fields(p.errors.unwrap_or_default()).into_response()
        }
        _ => p.into_response(),
    })?;
    Ok(RequestedTime::parse(&choice.start).ok())
}
