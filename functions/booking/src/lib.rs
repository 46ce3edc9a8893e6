//! The booking function: practitioner settings, appointments and the agenda
//! (SPEC §6.2). Routing and HTTP only; the rules live in `shared/domain`.

use aws_adapters::config::{
    CONTACT_HASH_KEY, ConfigError, LIMIT_CODES_PER_EMAIL, LIMIT_CODES_PER_SOURCE,
    LIMIT_POSTS_PER_SOURCE, ORIGIN_VERIFY_SECRET,
};
use aws_adapters::dynamo::{GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::appointment::{AppointmentRequest, Source as Origin};
use domain::grants::Act::{
    ChangeSettings, ExerciseDataRights, ManageMembers, ReadSettings, WorkTheAgenda,
};
use domain::grants::{MemberRequest, MemberSub, MembersError};
use domain::history::Actor;
use domain::ids::{AppointmentId, PractitionerId, ReasonId};
use domain::ports::{Clock, Mailer, SendError, Store};
use domain::quota::{Quotas, Source};
use domain::service::booking::BookingService;
use domain::service::data_rights::{Contact, DataRights};
use domain::service::grants::Grants;
use domain::service::grants::MembersChangeError;
use domain::service::online_booking::{OnlineBooking, OnlineBookingRequest, OnlineError};
use domain::settings::PractitionerSettings;
use domain::verification::{Unverified, VerificationRequest};
use edge::client::OriginCheck;
use edge::http::{HttpResponse, Problem, json, parse_json, query_param, window};
use edge::routes::Access::{Anyone, Practitioner};
use edge::routes::Method::{Delete, Get, Post, Put};
use edge::routes::Route;
use edge::views::{
    AgendaView, AppointmentSummary, AppointmentView, ExportView, HistoryView, MembersView,
    SlotsView,
};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::sync::Arc;

/// `GET /openapi.json`: docs/openapi.json, generated from the code and held
/// to it by tests/openapi.rs.
pub const API_DESCRIPTION: &str = include_str!("../../../docs/openapi.json");

/// What each route of the function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PutSettings,
    GetSettings,
    Book,
    Agenda,
    Appointment,
    PublicSlots,
    PublicVerification,
    PublicBook,
    ApiDescription,
    History,
    ExportPatient,
    Members,
    PutMember,
    RemoveMember,
}

/// Every route of the function (`template.yaml`: BookingFunction): the
/// practice's settings and agenda (SPEC §6.2), online booking by patients
/// without a token (SPEC §6.3), and the API's description (SPEC §6).
#[rustfmt::skip]
pub const ROUTES: &[Route<Action>] = &[
    Route::new(Put,  "/practitioners/{pid}",                       "putSettings",      Practitioner(ChangeSettings), Action::PutSettings),
    Route::new(Get,  "/practitioners/{pid}",                       "getSettings",      Practitioner(ReadSettings),   Action::GetSettings),
    Route::new(Post, "/practitioners/{pid}/appointments",          "bookAppointment",  Practitioner(WorkTheAgenda),  Action::Book),
    Route::new(Get,  "/practitioners/{pid}/appointments",          "listAppointments", Practitioner(WorkTheAgenda),  Action::Agenda),
    Route::new(Get,  "/practitioners/{pid}/appointments/{id}",     "getAppointment",   Practitioner(WorkTheAgenda),  Action::Appointment),
    Route::new(Get,  "/practitioners/{pid}/appointments/{id}/history", "appointmentHistory", Practitioner(WorkTheAgenda), Action::History),
    Route::new(Get,  "/practitioners/{pid}/patients/export",       "exportPatient",    Practitioner(ExerciseDataRights), Action::ExportPatient),
    Route::new(Get,    "/practitioners/{pid}/members",             "listMembers",      Practitioner(ManageMembers),  Action::Members),
    Route::new(Put,    "/practitioners/{pid}/members/{sub}",       "putMember",        Practitioner(ManageMembers),  Action::PutMember),
    Route::new(Delete, "/practitioners/{pid}/members/{sub}",       "removeMember",     Practitioner(ManageMembers),  Action::RemoveMember),
    Route::new(Get,  "/public/practitioners/{pid}/slots",          "publicSlots",      Anyone,       Action::PublicSlots),
    Route::new(Post, "/public/practitioners/{pid}/verifications",  "verifyEmail",      Anyone,       Action::PublicVerification),
    Route::new(Post, "/public/practitioners/{pid}/appointments",   "bookOnline",       Anyone,       Action::PublicBook),
    Route::new(Get,  "/openapi.json",                              "openApi",          Anyone,       Action::ApiDescription),
];

#[derive(Clone)]
pub struct BookingApi {
    service: BookingService,
    data_rights: DataRights,
    grants: Grants,
    online: OnlineBooking,
    origin: OriginCheck,
}

impl BookingApi {
    /// `mailer` sends online bookers' verification codes; `quotas` keys and
    /// limits the public writes (SPEC §6); `origin` is the CDN's check.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        quotas: Quotas,
        origin: OriginCheck,
    ) -> Self {
        Self {
            service: BookingService::new(store.clone(), clock.clone()),
            grants: Grants::new(store.clone(), clock.clone()),
            data_rights: DataRights::new(store.clone(), clock.clone(), quotas.key().clone()),
            online: OnlineBooking::new(store, clock, mailer, quotas),
            origin,
        }
    }

    /// The Lambda handler: every outcome, errors included, is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        edge::http::answer(self.route(&request)).await
    }

    async fn route(&self, request: &Request) -> Result<HttpResponse, Problem> {
        let source = self.origin.admit(request)?;
        edge::http::refuse_oversized(request)?;
        let (action, params, caller) = edge::routes::route(ROUTES, request, &self.grants).await?;
        // Who makes a change: the admitted member (practitioner routes only).
        let by = caller.map_or(Actor::System, |c| Actor::Member(c.sub));
        let practitioner = || {
            PractitionerId::parse(params.get("pid"))
                .map_err(|_| Problem::not_found("No such practitioner."))
        };
        // Online booking by patients (SPEC §6.3): an id that cannot be a
        // practitioner's is one nobody offers.
        let offering = || PractitionerId::parse(params.get("pid")).map_err(|_| not_offered());
        match action {
            Action::PutSettings => self.put_settings(request, practitioner()?, &by).await,
            Action::GetSettings => self.get_settings(&practitioner()?).await,
            Action::Book => self.book(request, &practitioner()?, &by).await,
            Action::History => self.history(&practitioner()?, params.get("id")).await,
            Action::ExportPatient => self.export(request, &practitioner()?, &by).await,
            Action::Agenda => self.agenda(request, &practitioner()?).await,
            Action::Appointment => self.appointment(&practitioner()?, params.get("id")).await,
            Action::PublicSlots => self.public_slots(request, &offering()?).await,
            Action::PublicVerification => {
                self.public_verification(request, &offering()?, source)
                    .await
            }
            Action::PublicBook => self.public_book(request, &offering()?, source).await,
            // Written by shared/api-description: this binary carries the text only.
            Action::ApiDescription => Ok(edge::http::json_text(StatusCode::OK, API_DESCRIPTION)),
            Action::Members => self.members(&practitioner()?).await,
            Action::PutMember => {
                self.put_member(request, &practitioner()?, params.get("sub"), &by)
                    .await
            }
            Action::RemoveMember => {
                self.remove_member(&practitioner()?, params.get("sub"), &by)
                    .await
            }
        }
    }

    async fn members(&self, pid: &PractitionerId) -> Result<HttpResponse, Problem> {
        let members = self.grants.members(pid).await.map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &MembersView::new(&members)))
    }

    async fn put_member(
        &self,
        request: &Request,
        pid: &PractitionerId,
        sub: &str,
        by: &Actor,
    ) -> Result<HttpResponse, Problem> {
        let sub = member_sub(sub)?;
        let body: MemberRequest = parse_json(request)?;
        let member = body.validate(sub).map_err(Problem::invalid_fields)?;
        self.grants
            .set_member(pid, member.clone(), by)
            .await
            .map_err(members_problem)?;
        Ok(json(StatusCode::OK, &member))
    }

    async fn remove_member(
        &self,
        pid: &PractitionerId,
        sub: &str,
        by: &Actor,
    ) -> Result<HttpResponse, Problem> {
        let sub = member_sub(sub)?;
        self.grants
            .remove_member(pid, &sub, by)
            .await
            .map_err(members_problem)?;
        Ok(edge::http::no_content())
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

    async fn public_verification(
        &self,
        request: &Request,
        pid: &PractitionerId,
        source: Source,
    ) -> Result<HttpResponse, Problem> {
        let body: VerificationRequest = parse_json(request)?;
        let sent = self
            .online
            .request_code(pid, &body, source)
            .await
            .map_err(online_problem)?;
        Ok(json(
            StatusCode::ACCEPTED,
            &edge::views::VerificationView::new(&sent),
        ))
    }

    async fn public_book(
        &self,
        request: &Request,
        pid: &PractitionerId,
        source: Source,
    ) -> Result<HttpResponse, Problem> {
        let body: OnlineBookingRequest = parse_json(request)?;
        let (settings, booked) = self
            .online
            .book(pid, &body, source)
            .await
            .map_err(online_problem)?;
        aws_adapters::metrics::booked_online();
        Ok(json(
            StatusCode::CREATED,
            &AppointmentSummary::new(&booked, settings.timezone),
        ))
    }

    async fn put_settings(
        &self,
        request: &Request,
        pid: PractitionerId,
        by: &Actor,
    ) -> Result<HttpResponse, Problem> {
        let settings: PractitionerSettings = parse_json(request)?;
        let saved = self
            .service
            .save_settings(pid, settings, by)
            .await
            .map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &saved))
    }

    async fn get_settings(&self, pid: &PractitionerId) -> Result<HttpResponse, Problem> {
        let settings = self.service.settings(pid).await.map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &settings))
    }

    async fn export(
        &self,
        request: &Request,
        pid: &PractitionerId,
        by: &Actor,
    ) -> Result<HttpResponse, Problem> {
        let contact = Contact::parse(
            query_param(request, "email").as_deref(),
            query_param(request, "mobile").as_deref(),
        )
        .map_err(Problem::invalid_fields)?;
        let exported = self
            .data_rights
            .export(pid, &contact, by)
            .await
            .map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &ExportView::new(&exported)))
    }

    async fn history(&self, pid: &PractitionerId, id: &str) -> Result<HttpResponse, Problem> {
        let id =
            AppointmentId::parse(id).map_err(|_| Problem::not_found("No such appointment."))?;
        let changes = self
            .service
            .history(pid, &id)
            .await
            .map_err(Problem::from)?;
        Ok(json(StatusCode::OK, &HistoryView::new(&changes)))
    }

    async fn book(
        &self,
        request: &Request,
        pid: &PractitionerId,
        by: &Actor,
    ) -> Result<HttpResponse, Problem> {
        let body: AppointmentRequest = parse_json(request)?;
        let appointment = self
            .service
            .book(pid, &body, Origin::Practitioner, by)
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

/// A `{sub}` no grant can name is no member.
fn member_sub(sub: &str) -> Result<MemberSub, Problem> {
    MemberSub::parse(sub).map_err(|_| Problem::not_found("No such member."))
}

/// How refused changes to the members read (SPEC §6.2).
pub fn members_problem(error: MembersChangeError) -> Problem {
    match error {
        MembersChangeError::Refused(MembersError::LastOwner) => Problem::conflict(
            "This is the practitioner's last owner: make another member owner first.",
        ),
        MembersChangeError::Refused(MembersError::NotAMember) => {
            Problem::not_found("No such member.")
        }
        MembersChangeError::Store(e) => Problem::from(e),
    }
}

pub fn not_offered() -> Problem {
    Problem::not_found("Online booking is not offered for this practitioner or reason.")
}

/// Online booking answers never reveal who holds a slot.
pub fn online_problem(error: OnlineError) -> Problem {
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
        OnlineError::Unverified(why) => unverified(why),
        OnlineError::TooManyFuture => Problem::conflict(
            "This e-mail address already holds as many future appointments with this practitioner as can be booked online; call the secretariat.",
        ),
        OnlineError::OverLimit(over) => Problem::too_many_requests(&over),
        OnlineError::CodeNotSent(SendError::Rejected(_)) => {
            Problem::invalid_fields(vec![domain::validation::FieldError {
                field: "email".into(),
                message: "cannot receive e-mail".into(),
            }])
        }
        OnlineError::CodeNotSent(unavailable @ SendError::Unavailable(_)) => {
            Problem::unavailable(&unavailable)
        }
        OnlineError::Booking(e) => e.into(),
    }
}

/// SPEC §6.3: a missing, wrong, expired or used verification is a 422
/// naming `verification`; none says whether another address was verified.
pub fn unverified(why: Unverified) -> Problem {
    let message = match why {
        Unverified::Missing => "is required: ask for a code with POST .../verifications",
        Unverified::Expired => "has expired: ask for a new code",
        Unverified::Used => "has already been used: ask for a new code",
        Unverified::Dead => "has had too many wrong codes: ask for a new code",
        Unverified::WrongCode => "does not match the code sent to this e-mail address",
    };
    Problem::invalid_fields(vec![domain::validation::FieldError {
        field: "verification".into(),
        message: message.into(),
    }])
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "BookingFunction",
    trigger: Trigger::Http,
    // SES: online bookers' verification codes (SPEC §6.3).
    adapters: &[Adapter::Table, Adapter::Ses],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, QUERY],
    // The agenda and its communications logs, by practitioner and time.
    indexes: &[aws_adapters::item::GSI1],
    variables: &[
        CONTACT_HASH_KEY,
        LIMIT_CODES_PER_SOURCE,
        LIMIT_CODES_PER_EMAIL,
        LIMIT_POSTS_PER_SOURCE,
        ORIGIN_VERIFY_SECRET,
        aws_adapters::config::SES_RATE_PER_SECOND,
    ],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<BookingApi, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(BookingApi::new(
        given.store()?,
        given.clock(),
        given.mailer()?,
        given.quotas()?,
        OriginCheck::new(given.origin_secret()?),
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<BookingApi, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
