//! The booking function: practitioner settings, appointments and the agenda
//! (SPEC §6.2). Routing and HTTP only; the rules live in `shared/domain`.

use aws_adapters::config::ConfigError;
use aws_adapters::dynamo::{GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::appointment::{AppointmentRequest, Source};
use domain::ids::{AppointmentId, PractitionerId, ReasonId};
use domain::ports::{Clock, Store};
use domain::service::booking::BookingService;
use domain::service::online_booking::{OnlineBooking, OnlineError};
use domain::settings::PractitionerSettings;
use edge::http::{HttpResponse, Problem, authorize, json, parse_json, query_param, window};
use edge::views::{AgendaView, AppointmentSummary, AppointmentView, SlotsView};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::sync::Arc;

/// `GET /openapi.json`: docs/openapi.json, generated from the code and held
/// to it by tests/openapi.rs.
pub const API_DESCRIPTION: &str = include_str!("../../../docs/openapi.json");

#[derive(Clone)]
pub struct BookingApi {
    service: BookingService,
    online: OnlineBooking,
}

impl BookingApi {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            service: BookingService::new(store.clone(), clock.clone()),
            online: OnlineBooking::new(store, clock),
        }
    }

    /// The Lambda handler: every outcome, errors included, is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        edge::http::answer(self.route(&request)).await
    }

    async fn route(&self, request: &Request) -> Result<HttpResponse, Problem> {
        edge::http::refuse_oversized(request)?;
        let segments = edge::http::segments(request);
        let method = request.method();
        match segments.as_slice() {
            ["practitioners", pid, rest @ ..] => {
                authorize(request, pid)?;
                let pid = PractitionerId::parse(*pid)
                    .map_err(|_| Problem::not_found("No such practitioner."))?;
                match (method, rest) {
                    (&Method::PUT, []) => self.put_settings(request, pid).await,
                    (&Method::GET, []) => self.get_settings(&pid).await,
                    (&Method::POST, ["appointments"]) => self.book(request, &pid).await,
                    (&Method::GET, ["appointments"]) => self.agenda(request, &pid).await,
                    (&Method::GET, ["appointments", id]) => self.appointment(&pid, id).await,
                    (_, [] | ["appointments"] | ["appointments", _]) => {
                        Err(Problem::method_not_allowed())
                    }
                    _ => Err(Problem::not_found("No such resource.")),
                }
            }
            // Online booking by patients (SPEC §6.3): no token.
            ["public", "practitioners", pid, rest @ ..] => {
                let pid = PractitionerId::parse(*pid).map_err(|_| not_offered())?;
                match (method, rest) {
                    (&Method::GET, ["slots"]) => self.public_slots(request, &pid).await,
                    (&Method::POST, ["appointments"]) => self.public_book(request, &pid).await,
                    (_, ["slots"] | ["appointments"]) => Err(Problem::method_not_allowed()),
                    _ => Err(Problem::not_found("No such resource.")),
                }
            }
            // The API's description (SPEC §6), public: written by
            // shared/api-description, so this binary carries the text only.
            ["openapi.json"] if method == Method::GET => {
                Ok(edge::http::json_text(StatusCode::OK, API_DESCRIPTION))
            }
            ["openapi.json"] => Err(Problem::method_not_allowed()),
            _ => Err(Problem::not_found("No such resource.")),
        }
    }

    async fn public_slots(
        &self,
        request: &Request,
        pid: &PractitionerId,
    ) -> Result<HttpResponse, Problem> {
        let reason = query_param(request, "reason_id").ok_or_else(|| {
            Problem::invalid_fields(vec![domain::validation::FieldError {
                field: "reason_id".into(),
                message: "is required".into(),
            }])
        })?;
        // An id that cannot be a reason's is offered by nobody.
        let reason = ReasonId::parse(&reason).map_err(|_| not_offered())?;
        let window = window(request)?;
        let (settings, slots) = self
            .online
            .slots(pid, &reason, window)
            .await
            .map_err(online_problem)?;
        Ok(json(StatusCode::OK, &SlotsView::new(&slots, &settings)))
    }

    async fn public_book(
        &self,
        request: &Request,
        pid: &PractitionerId,
    ) -> Result<HttpResponse, Problem> {
        let body: AppointmentRequest = parse_json(request)?;
        let (settings, booked) = self.online.book(pid, &body).await.map_err(online_problem)?;
        Ok(json(
            StatusCode::CREATED,
            &AppointmentSummary::new(&booked, settings.timezone),
        ))
    }

    async fn put_settings(
        &self,
        request: &Request,
        pid: PractitionerId,
    ) -> Result<HttpResponse, Problem> {
        let settings: PractitionerSettings = parse_json(request)?;
        let saved = self
            .service
            .save_settings(pid, settings)
            .await
            .map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &saved))
    }

    async fn get_settings(&self, pid: &PractitionerId) -> Result<HttpResponse, Problem> {
        let settings = self.service.settings(pid).await.map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &settings))
    }

    async fn book(&self, request: &Request, pid: &PractitionerId) -> Result<HttpResponse, Problem> {
        let body: AppointmentRequest = parse_json(request)?;
        let appointment = self
            .service
            .book(pid, &body, Source::Practitioner)
            .await
            .map_err(Problem::from)?;
        Ok(json(
            StatusCode::CREATED,
            &AppointmentView::new(&appointment),
        ))
    }

    async fn agenda(
        &self,
        request: &Request,
        pid: &PractitionerId,
    ) -> Result<HttpResponse, Problem> {
        let window = window(request)?;
        let attention_only = attention_only(request)?;
        let appointments = self
            .service
            .agenda(pid, window)
            .await
            .map_err(Problem::from)?;
        let shown: Vec<_> = appointments
            .into_iter()
            .filter(|a| !attention_only || !a.attention.is_empty())
            .collect();
        Ok(json(StatusCode::OK, &AgendaView::new(&shown)))
    }

    async fn appointment(&self, pid: &PractitionerId, id: &str) -> Result<HttpResponse, Problem> {
        let id =
            AppointmentId::parse(id).map_err(|_| Problem::not_found("No such appointment."))?;
        let appointment = self
            .service
            .appointment(pid, &id)
            .await
            .map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &AppointmentView::new(&appointment)))
    }
}

/// `&attention=true` keeps the appointments with a message that did not
/// reach the patient (SPEC §6.2); `false` or absent keeps them all.
fn attention_only(request: &Request) -> Result<bool, Problem> {
    match query_param(request, "attention").as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Problem::invalid_fields(vec![
            domain::validation::FieldError {
                field: "attention".into(),
                message: "must be true or false".into(),
            },
        ])),
    }
}

fn not_offered() -> Problem {
    Problem::not_found("Online booking is not offered for this practitioner or reason.")
}

/// Online booking answers never reveal who holds a slot.
fn online_problem(error: OnlineError) -> Problem {
    match error {
        OnlineError::NotOffered => not_offered(),
        OnlineError::NotASlot => {
            let mut p = Problem::invalid_fields(vec![domain::validation::FieldError {
                field: "start".into(),
                message: "is not one of the offered slots".into(),
            }]);
            p.detail = "Choose one of the slots offered by GET .../slots.".into();
            p
        }
        OnlineError::Taken => {
            Problem::conflict("This slot has just been taken; choose another one.")
        }
        OnlineError::Booking(e) => e.into(),
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "BookingFunction",
    trigger: Trigger::Http,
    adapters: &[Adapter::Table],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, QUERY],
    variables: &[],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<BookingApi, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(BookingApi::new(given.store()?, given.clock()))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<BookingApi, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
