//! The status-change function: the practitioner side's changes to booked
//! appointments (SPEC §4.5, §6.2): time, reason and contact (`PATCH`), « à
//! reporter, à prévenir » or cancelled, and absences.
//! Routing and HTTP only; the rules live in `shared/domain`.

use aws_adapters::config::ConfigError;
use aws_adapters::dynamo::{GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::absence::AbsenceRequest;
use domain::appointment::AppointmentPatch;
use domain::grants::Act::WorkTheAgenda;
use domain::ids::{AppointmentId, PractitionerId};
use domain::ports::{Clock, Store};
use domain::service::practice::{PracticeError, PracticeService, StatusRequest};
use domain::validation::FieldError;
use edge::http::{HttpResponse, Problem, json, parse_json};
use edge::routes::Access::Practitioner;
use edge::routes::Method::{Patch, Post, Put};
use edge::routes::Route;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::sync::Arc;

/// What each route of the function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SetStatus,
    ChangeAppointment,
    PlaceAbsence,
}

/// Every route of the function (`template.yaml`: StatusChangeFunction), all
/// for the practice (SPEC §6.2).
#[rustfmt::skip]
pub const ROUTES: &[Route<Action>] = &[
    Route::new(Put,   "/practitioners/{pid}/appointments/{id}/status", "setStatus",         Practitioner(WorkTheAgenda), Action::SetStatus),
    Route::new(Patch, "/practitioners/{pid}/appointments/{id}",        "changeAppointment", Practitioner(WorkTheAgenda), Action::ChangeAppointment),
    Route::new(Post,  "/practitioners/{pid}/absences",                 "placeAbsence",      Practitioner(WorkTheAgenda), Action::PlaceAbsence),
];

#[derive(Clone)]
pub struct StatusChangeApi {
    service: PracticeService,
    grants: domain::service::grants::Grants,
    origin: edge::client::OriginCheck,
}

impl StatusChangeApi {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            service: PracticeService::new(store.clone(), clock.clone()),
            grants: domain::service::grants::Grants::new(store, clock),
            origin: edge::client::OriginCheck::default(),
        }
    }

    /// Refuses requests that did not come through the CDN (SPEC §6).
    pub fn behind_cdn(mut self, origin: edge::client::OriginCheck) -> Self {
        self.origin = origin;
        self
    }

    /// The Lambda handler: every outcome, errors included, is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        edge::http::answer(self.route(&request)).await
    }

    async fn route(&self, request: &Request) -> Result<HttpResponse, Problem> {
        self.origin.admit(request)?;
        edge::http::refuse_oversized(request)?;
        let (action, params, caller) = edge::routes::route(ROUTES, request, &self.grants).await?;
        // Who makes the change: every route here is a member's.
        let by = caller.map_or(domain::history::Actor::System, |c| {
            domain::history::Actor::Member(c.sub)
        });
        let pid = PractitionerId::parse(params.get("pid"))
            .map_err(|_| Problem::not_found("No such practitioner."))?;
        let appointment = || {
            AppointmentId::parse(params.get("id"))
                .map_err(|_| Problem::not_found("No such appointment."))
        };
        match action {
            Action::SetStatus => {
                let id = appointment()?;
                let body: StatusRequest = parse_json(request)?;
                let appointment = self
                    .service
                    .set_status(&pid, &id, &body, &by)
                    .await
                    .map_err(problem)?;
                Ok(json(
                    StatusCode::OK,
                    &edge::views::AppointmentView::new(&appointment),
                ))
            }
            Action::ChangeAppointment => {
                let id = appointment()?;
                let body: AppointmentPatch = parse_json(request)?;
                let appointment = self
                    .service
                    .change(&pid, &id, &body, &by)
                    .await
                    .map_err(problem)?;
                Ok(json(
                    StatusCode::OK,
                    &edge::views::AppointmentView::new(&appointment),
                ))
            }
            Action::PlaceAbsence => {
                let body: AbsenceRequest = parse_json(request)?;
                let absence = self
                    .service
                    .place_absence(&pid, &body, &by)
                    .await
                    .map_err(problem)?;
                Ok(json(
                    StatusCode::CREATED,
                    &edge::views::AbsenceView::new(&absence),
                ))
            }
        }
    }
}

/// How the practice service's refusals read (the booking service's are
/// `edge::problems`').
pub fn problem(error: PracticeError) -> Problem {
    match error {
        PracticeError::Booking(e) => e.into(),
        PracticeError::NotAllowed { from, to } => Problem::conflict(format!(
            "An appointment that is {} cannot be set to {}.",
            status_word(from),
            status_word(to)
        )),
        PracticeError::NotBooked(status) => Problem::conflict(format!(
            "An appointment that is {} cannot be changed; only booked appointments can.",
            status_word(status)
        )),
        PracticeError::Covered(ids) => {
            let mut p = Problem::conflict(
                "Booked appointments are inside this absence: move them to reschedule, or choose another time.",
            );
            p.errors = Some(
                ids.iter()
                    .map(|id| FieldError {
                        field: "appointments".into(),
                        message: format!("booked appointment {id} is inside the absence"),
                    })
                    .collect(),
            );
            p.with_member(
                "appointments",
                ids.iter().map(ToString::to_string).collect(),
            )
        }
    }
}

fn status_word(status: domain::appointment::Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "StatusChangeFunction",
    trigger: Trigger::Http,
    adapters: &[Adapter::Table],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, QUERY],
    // The agenda, for absences and moves.
    indexes: &[aws_adapters::item::GSI1],
    // The hashes' key: the patients' index is written with each change.
    variables: &[
        aws_adapters::config::CONTACT_HASH_KEY,
        aws_adapters::config::ORIGIN_VERIFY_SECRET,
    ],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<StatusChangeApi, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(StatusChangeApi::new(given.store()?, given.clock())
        .behind_cdn(edge::client::OriginCheck::new(given.origin_secret()?)))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<StatusChangeApi, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
