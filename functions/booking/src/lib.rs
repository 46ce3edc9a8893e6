//! The booking function: practitioner settings, appointments and the agenda
//! (SPEC §6.2). Routing and HTTP only; the rules live in `shared`.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::appointment::{AppointmentRequest, Source};
use shared::http::{HttpResponse, Problem, authorize, json, parse_json, query_param};
use shared::ids::{AppointmentId, PractitionerId};
use shared::ports::{Clock, Store};
use shared::service::booking::{BookingError, BookingService};
use shared::service::online_booking::{OnlineBooking, OnlineError};
use shared::settings::PractitionerSettings;
use shared::views::SlotsView;
use std::convert::Infallible;
use std::sync::Arc;

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
        Ok(self
            .route(&request)
            .await
            .unwrap_or_else(Problem::into_response))
    }

    async fn route(&self, request: &Request) -> Result<HttpResponse, Problem> {
        let path = request.uri().path().to_string();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
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
            _ => Err(Problem::not_found("No such resource.")),
        }
    }

    async fn public_slots(
        &self,
        request: &Request,
        pid: &PractitionerId,
    ) -> Result<HttpResponse, Problem> {
        let reason = query_param(request, "reason_id").ok_or_else(|| {
            Problem::invalid_fields(vec![shared::validation::FieldError {
                field: "reason_id".into(),
                message: "is required".into(),
            }])
        })?;
        let from = query_param(request, "from");
        let to = query_param(request, "to");
        let (settings, slots) = self
            .online
            .slots(pid, &reason, from.as_deref(), to.as_deref())
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
        let booked = self.online.book(pid, &body).await.map_err(online_problem)?;
        Ok(json(StatusCode::CREATED, &booked))
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
            .map_err(problem)?;
        Ok(json(StatusCode::OK, &saved))
    }

    async fn get_settings(&self, pid: &PractitionerId) -> Result<HttpResponse, Problem> {
        let settings = self.service.settings(pid).await.map_err(problem)?;
        Ok(json(StatusCode::OK, &settings))
    }

    async fn book(&self, request: &Request, pid: &PractitionerId) -> Result<HttpResponse, Problem> {
        let body: AppointmentRequest = parse_json(request)?;
        let appointment = self
            .service
            .book(pid, &body, Source::Practitioner)
            .await
            .map_err(problem)?;
        Ok(json(StatusCode::CREATED, &appointment))
    }

    async fn agenda(
        &self,
        request: &Request,
        pid: &PractitionerId,
    ) -> Result<HttpResponse, Problem> {
        let from = query_param(request, "from");
        let to = query_param(request, "to");
        let appointments = self
            .service
            .agenda(pid, from.as_deref(), to.as_deref())
            .await
            .map_err(problem)?;
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "appointments": appointments }),
        ))
    }

    async fn appointment(&self, pid: &PractitionerId, id: &str) -> Result<HttpResponse, Problem> {
        let id =
            AppointmentId::parse(id).map_err(|_| Problem::not_found("No such appointment."))?;
        let appointment = self.service.appointment(pid, &id).await.map_err(problem)?;
        Ok(json(StatusCode::OK, &appointment))
    }
}

/// How booking outcomes read over HTTP (SPEC §6).
pub fn problem(error: BookingError) -> Problem {
    error.into_problem()
}

fn not_offered() -> Problem {
    Problem::not_found("Online booking is not offered for this practitioner or reason.")
}

/// Online booking answers never reveal who holds a slot.
fn online_problem(error: OnlineError) -> Problem {
    match error {
        OnlineError::NotOffered => not_offered(),
        OnlineError::NotASlot => {
            let mut p = Problem::invalid_fields(vec![shared::validation::FieldError {
                field: "start".into(),
                message: "is not one of the offered slots".into(),
            }]);
            p.detail = "Choose one of the slots offered by GET .../slots.".into();
            p
        }
        OnlineError::Taken => {
            Problem::conflict("This slot has just been taken; choose another one.")
        }
        OnlineError::Booking(e) => e.into_problem(),
    }
}
