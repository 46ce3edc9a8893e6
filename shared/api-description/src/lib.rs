//! The OpenAPI 3.1 document of the HTTP API (SPEC §6). Every request and
//! answer schema is derived (utoipa) from the types the functions read and
//! write, so a field added to a view or a request comes along. The operations
//! are the functions' declared routes (`ROUTES`: method, path, operationId,
//! who may call), and each refusal's status is what the function's own
//! mapping answers for it. This file says only what the code cannot: which
//! operation takes and answers which type, what each refusal means to the
//! caller, and what API Gateway itself may answer.
//!
//! The document is written to `docs/openapi.json` (`make openapi`), which the
//! booking function serves as `GET /openapi.json`: no Lambda links utoipa
//! (docs/decisions.md, "OpenAPI"). `tests/openapi.rs` holds the file to this
//! code and to the routes of `template.yaml`.

use domain::absence::AbsenceRequest;
use domain::appointment::{AppointmentPatch, AppointmentRequest, Status};
use domain::grants::{Member, MemberRequest, MembersError, Role};
use domain::ids::PractitionerId;
use domain::ports::StoreError;
use domain::quota::{OverLimit, Quota};
use domain::service::booking::BookingError;
use domain::service::online_booking::OnlineBookingRequest;
use domain::service::online_booking::OnlineError;
use domain::service::practice::{PracticeError, StatusRequest};
use domain::settings::PractitionerSettings;
use domain::verification::{Unverified, VerificationRequest};
use edge::http::{MAX_BODY_BYTES, Problem};
use edge::requests::SlotChoice;
use edge::routes::{Access, Route};
use edge::views::{
    AbsenceView, AgendaView, AppointmentSummary, AppointmentView, ExportView, HistoryView,
    MembersView, PatientLinkView, RebookView, ReplacementView, SlotsView, VerificationView,
};
use patient_links::answers::Refused;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa::openapi::OpenApi;

/// Where the document is committed, from the workspace root.
pub const COMMITTED_PATH: &str = "docs/openapi.json";

/// The document, as `docs/openapi.json` holds it (pretty, one final newline).
pub fn json() -> String {
    let document = serde_json::to_value(document()).expect("the document serializes");
    let mut text = serde_json::to_string_pretty(&sorted(document)).expect("JSON prints");
    text.push('\n');
    text
}

/// Members in name order at every level, whatever order serde_json keeps
/// (a workspace build may turn its `preserve_order` on): the file is the same
/// from every build.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut members: Vec<(String, Value)> = members.into_iter().collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(members.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The document, checked against utoipa's model of OpenAPI 3.1.
pub fn document() -> OpenApi {
    serde_json::from_value(description()).expect("the description is an OpenAPI 3.1 document")
}

/// What a route answers a reader: JSON only, or a page unless the request
/// says `Accept: application/json` (patient links, SPEC §6.4).
#[derive(Clone, Copy, PartialEq)]
enum Readers {
    Programs,
    PeopleAndPrograms,
}

/// The schemas the operations name, collected as they name them.
#[derive(Default)]
struct Schemas(BTreeMap<String, Value>);

impl Schemas {
    /// A reference to `T`'s schema, which (with the schemas it refers to)
    /// joins the document's components.
    fn of<T: ToSchema>(&mut self) -> Value {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        nested.push((T::name().into_owned(), T::schema()));
        for (name, schema) in nested {
            let schema = serde_json::to_value(schema).expect("schemas serialize");
            self.0.insert(name, schema);
        }
        reference(&T::name())
    }
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// One operation being described.
struct Operation {
    access: Access,
    readers: Readers,
    value: Value,
}

impl Operation {
    /// A declared route: its operationId, who may call it, its path's
    /// parameters.
    fn declared<A>(route: &Route<A>, readers: Readers) -> Self {
        let security = match route.access {
            Access::Practitioner(_) => json!([{ "practitionerJwt": [] }]),
            Access::Anyone => json!([]),
        };
        let mut operation = Self {
            access: route.access,
            readers,
            value: json!({
                "operationId": route.operation,
                "tags": [match (route.access, readers) {
                    (Access::Practitioner(_), _) => "practice",
                    (Access::Anyone, Readers::PeopleAndPrograms) => "patient links",
                    (Access::Anyone, Readers::Programs) => "public",
                }],
                "security": security,
                "parameters": [],
                "responses": {},
            }),
        };
        if let Access::Practitioner(act) = route.access {
            // Which roles may call it (SPEC §6.1), as `Role::may` decides:
            // the hostile corpus sends every other caller.
            let roles: Vec<&str> = [Role::Owner, Role::Secretariat]
                .into_iter()
                .filter(|role| role.may(act))
                .map(Role::as_str)
                .collect();
            operation.value["x-roles"] = json!(roles);
        }
        route.parameters().fold(operation, |operation, name| {
            let description = match name {
                "pid" => "The practitioner's id.",
                "id" => "The appointment's id.",
                "token" => "The link's token.",
                "sub" => "The member's `sub` (the subject of their token).",
                _ => "",
            };
            operation.parameter(name, "path", true, description)
        })
    }

    fn summary(mut self, summary: &str) -> Self {
        self.value["summary"] = Value::String(summary.into());
        self
    }

    fn parameter(mut self, name: &str, location: &str, required: bool, description: &str) -> Self {
        let schema = match name {
            "pid" => {
                json!({ "type": "string", "pattern": "^[a-z0-9_-]{1,64}$", "examples": ["dr-martin"] })
            }
            "id" => {
                json!({ "type": "string", "description": "A ULID.", "examples": ["01JD7Z5W6N8K3QF2X9RB4T1M0C"] })
            }
            // MemberSub's own pattern: schemathesis then makes subs the
            // route can hold, not strings it would filter out by the thousand.
            "sub" => {
                json!({ "type": "string", "pattern": "^[A-Za-z0-9._~@+|:-]{1,128}$", "examples": ["dr-martin.secretariat"] })
            }
            _ => json!({ "type": "string" }),
        };
        let parameters = self.value["parameters"].as_array_mut().expect("an array");
        parameters.push(json!({
            "name": name, "in": location, "required": required,
            "description": description, "schema": schema,
        }));
        self
    }

    /// `from` and `to` of a window (SPEC §6).
    fn window(self) -> Self {
        self.parameter("from", "query", false,
            "Start of the window: a date (`2026-12-03`) or an RFC 3339 time; without offset, in the practitioner's zone. Years 2000–2100.")
            .parameter("to", "query", false,
            "End of the window, as `from`. At most 92 days after `from`.")
    }

    /// A JSON body (exactly one JSON value, at most 64 KiB); patient links'
    /// forms may post it as `application/x-www-form-urlencoded` too.
    fn body(mut self, schema: Value, example: Value) -> Self {
        let mut content = Map::new();
        content.insert(
            "application/json".into(),
            json!({ "schema": schema, "example": example }),
        );
        if self.readers == Readers::PeopleAndPrograms {
            content.insert(
                "application/x-www-form-urlencoded".into(),
                json!({ "schema": schema }),
            );
        }
        self.value["requestBody"] = json!({ "required": true, "content": content });
        self
    }

    /// The success answer: JSON, and for patient links the page too.
    fn answers(mut self, status: u16, description: &str, schema: Value, example: Value) -> Self {
        let mut content = Map::new();
        content.insert(
            "application/json".into(),
            json!({ "schema": schema, "example": example }),
        );
        if self.readers == Readers::PeopleAndPrograms {
            content.insert("text/html".into(), page());
        }
        self.respond(status, description, content);
        self
    }

    /// A success without a body (204).
    fn answers_nothing(mut self, status: u16, description: &str) -> Self {
        self.respond(status, description, Map::new());
        self
    }

    /// Refusals of the function itself: problem+json (and a page for patient links).
    fn refuses(mut self, problems: &[(u16, &str)], schemas: &mut Schemas) -> Self {
        for &(status, description) in problems {
            self.problem(status, description, schemas.of::<Problem>());
        }
        self
    }

    /// A refusal whose problem carries more members than [`Problem`]'s.
    fn refuses_with(mut self, status: u16, description: &str, schema: Value) -> Self {
        self.problem(status, description, schema);
        self
    }

    fn problem(&mut self, status: u16, description: &str, schema: Value) {
        let mut content = Map::new();
        content.insert(
            "application/problem+json".into(),
            json!({ "schema": schema }),
        );
        if self.readers == Readers::PeopleAndPrograms {
            content.insert("text/html".into(), page());
        }
        self.respond(status, description, content);
    }

    /// What API Gateway answers before or instead of the function, in its
    /// own shape `{"message": ...}` (docs/api.md).
    fn behind_the_gateway(mut self, schemas: &mut Schemas) -> Self {
        let gateway = gateway_error(schemas);
        let mut answers = vec![
            (
                413,
                "API Gateway: the request is over 10 MB (`Request Entity Too Large`).",
            ),
            (
                429,
                "API Gateway: too many requests on this route (`Too Many Requests`); retry later with backoff.",
            ),
            (
                500,
                "API Gateway: the function could not be invoked (`Internal Server Error`).",
            ),
            (
                502,
                "API Gateway: the function failed or answered something unreadable (`Internal Server Error`).",
            ),
            (
                503,
                "API Gateway: the function did not answer in time (`Service Unavailable`).",
            ),
        ];
        if matches!(self.access, Access::Practitioner(_)) {
            answers.push((
                401,
                "API Gateway's JWT authorizer: no token, or not a valid one (`Unauthorized`).",
            ));
        }
        for (status, description) in answers {
            let mut content = Map::new();
            content.insert("application/json".into(), json!({ "schema": gateway }));
            self.respond(status, description, content);
        }
        self
    }

    /// Adds `content` to the answer of `status` (ours and the gateway's may share one).
    fn respond(&mut self, status: u16, description: &str, content: Map<String, Value>) {
        let responses = self.value["responses"].as_object_mut().expect("an object");
        let answer = responses
            .entry(status.to_string())
            .or_insert_with(|| json!({ "description": "", "content": {} }));
        let text = answer["description"].as_str().unwrap_or_default();
        answer["description"] = Value::String(if text.is_empty() {
            description.to_string()
        } else {
            format!("{text} Or: {description}")
        });
        let merged = answer["content"].as_object_mut().expect("an object");
        for (media_type, media) in content {
            merged.entry(media_type).or_insert(media);
        }
    }
}

/// The pages of patient links (SPEC §6.4): HTML, for people.
fn page() -> Value {
    json!({ "schema": { "type": "string", "description": "An HTML page in the patient's language." } })
}

/// API Gateway's own error body.
fn gateway_error(schemas: &mut Schemas) -> Value {
    schemas.0.insert(
        "GatewayError".into(),
        json!({
            "type": "object",
            "description": "An answer of API Gateway itself, not of the functions: throttling, the JWT authorizer, a function that failed or timed out, a body over 10 MB, a route that does not exist.",
            "required": ["message"],
            "properties": { "message": { "type": "string" } },
            "examples": [
                { "message": "Unauthorized" },
                { "message": "Too Many Requests" },
                { "message": "Internal Server Error" },
                { "message": "Service Unavailable" },
                { "message": "Request Entity Too Large" },
                { "message": "Not Found" }
            ]
        }),
    );
    reference("GatewayError")
}

/// The 409 of an absence over booked appointments (SPEC §6.2).
fn absence_conflict(schemas: &mut Schemas) -> Value {
    let problem = schemas.of::<Problem>();
    schemas.0.insert(
        "AbsenceConflict".into(),
        json!({
            "description": "Booked appointments are inside the absence (`appointments: refuse`): nothing was placed.",
            "allOf": [problem, {
                "type": "object",
                "required": ["appointments"],
                "properties": {
                    "appointments": { "type": "array", "items": { "type": "string" },
                                      "description": "Ids of the booked appointments inside the absence." }
                }
            }],
            "examples": [{
                "type": "about:blank", "title": "Conflict", "status": 409,
                "detail": "Booked appointments are inside this absence: move them to reschedule, or choose another time.",
                "errors": [{ "field": "appointments", "message": "booked appointment 01JD7Z5W6N8K3QF2X9RB4T1M0C is inside the absence" }],
                "appointments": ["01JD7Z5W6N8K3QF2X9RB4T1M0C"]
            }]
        }),
    );
    reference("AbsenceConflict")
}

/// A refusal: the status the code answers, and what it means to the caller.
type Refusal = (u16, &'static str);

/// The status of a problem the code writes.
fn status(problem: Problem) -> u16 {
    problem.status
}

/// A request carrying `body`, to ask the edge's parsers what they answer.
fn request_with(body: String) -> lambda_http::Request {
    lambda_http::Request::new(lambda_http::Body::Text(body))
}

/// What the edge and the booking service answer every function alike.
struct Common {
    invalid: Refusal,
    not_json: Refusal,
    too_large: Refusal,
    busy: Refusal,
    no_token: Refusal,
    other: Refusal,
    unknown_pid: Refusal,
    unknown_appointment: Refusal,
}

impl Common {
    fn new() -> Self {
        let not_json = edge::http::parse_json::<Value>(&request_with("{".into()));
        let too_large = edge::http::refuse_oversized(&request_with("x".repeat(MAX_BODY_BYTES + 1)));
        let unknown = PractitionerId::parse("dr-nobody").map(BookingError::PractitionerNotFound);
        Self {
            invalid: (
                status(Problem::invalid_fields(Vec::new())),
                "Invalid fields, each named in `errors`.",
            ),
            not_json: (
                not_json
                    .err()
                    .map(status)
                    .expect("a body of `{` is refused"),
                "The body is not exactly one JSON value.",
            ),
            too_large: (
                too_large
                    .err()
                    .map(status)
                    .expect("a body over the limit is refused"),
                "The body is over 64 KiB.",
            ),
            busy: (
                status(StoreError::Contention.into()),
                "The agenda could not be reached, or was busy with other changes: retry.",
            ),
            no_token: (
                status(Problem::unauthenticated()),
                "No token reached the function (local mode: no `local-<id>` token).",
            ),
            other: (
                status(Problem::not_your_practitioner()),
                "The caller's `sub` has no grant on this practitioner, or a role that may not do this (the secretariat: settings changes, members, data rights).",
            ),
            unknown_pid: (
                unknown
                    .map(|e| status(e.into()))
                    .expect("a practitioner id"),
                "No such practitioner (no settings yet, or not a valid id).",
            ),
            unknown_appointment: (
                status(BookingError::AppointmentNotFound.into()),
                "No such practitioner or appointment.",
            ),
        }
    }
}

/// The statuses patient links answer, as the function maps its refusals.
fn link(refused: Refused, description: &'static str) -> Refusal {
    (refused.status().as_u16(), description)
}

/// What an operation takes, answers and refuses, by its operationId; `None`
/// for an operation this file does not describe.
fn describe(op: Operation, c: &Common, s: &mut Schemas) -> Option<Operation> {
    let Common {
        invalid,
        not_json,
        too_large,
        busy,
        no_token,
        other,
        unknown_pid,
        unknown_appointment,
    } = *c;
    let link_gone = link(
        Refused::GoneLink,
        "The link no longer works (the appointment changed, or is over): the problem carries `secretariat_phone`.",
    );
    let link_unknown = link(Refused::UnknownLink, "The link is unknown.");
    let cross_site = link(
        Refused::CrossSite,
        "The form was posted from another site: nothing was changed.",
    );
    let not_offered = (
        status(booking::not_offered()),
        "Online booking is not offered for this practitioner or reason.",
    );
    let too_many = (
        status(Problem::too_many_requests(&OverLimit {
            quota: Quota::PostsPerSource,
            retry_after_seconds: 60,
        })),
        "Over a limit of SPEC §6 (per source address or per e-mail address, an hour): nothing changed; `Retry-After` gives the seconds until the hour ends.",
    );
    let id = op.value["operationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Some(match id.as_str() {
        "putSettings" => op.summary("Create or replace the practitioner's settings (SPEC §2, §6.2).")
            .body(s.of::<PractitionerSettings>(), examples::settings())
            .answers(200, "The stored settings.", s.of::<PractitionerSettings>(), examples::settings())
            .refuses(&[not_json, no_token, other, unknown_pid, too_large, invalid, busy], s),
        "getSettings" => op.summary("The practitioner's settings.")
            .answers(200, "The stored settings.", s.of::<PractitionerSettings>(), examples::settings())
            .refuses(&[no_token, other, unknown_pid, busy], s),
        "bookAppointment" => op.summary("Book an appointment from the agenda (SPEC §6.2).")
            .body(s.of::<AppointmentRequest>(), examples::appointment_request())
            .answers(201, "The appointment.", s.of::<AppointmentView>(), examples::appointment())
            .refuses(&[not_json, no_token, other, unknown_pid,
                (status(BookingError::Overlap(Vec::new()).into()), "The time overlaps a booked appointment (named in `errors`) or an absence."),
                too_large, invalid, busy], s),
        "listAppointments" => op.summary("The agenda: appointments in a window (SPEC §6.2).")
            .window()
            .parameter("attention", "query", false,
                "`true`: only the appointments with a message that did not reach the patient (`attention` not empty); `false` (the default): all.")
            .answers(200, "The appointments of the window, in time order.", s.of::<AgendaView>(), json!({ "appointments": [examples::appointment()] }))
            .refuses(&[no_token, other, unknown_pid, invalid, busy], s),
        "getAppointment" => op.summary("One appointment, with its reminders and communications log (SPEC §6.2).")
            .answers(200, "The appointment.", s.of::<AppointmentView>(), examples::appointment())
            .refuses(&[no_token, other, unknown_appointment, busy], s),
        "changeAppointment" => op.summary("Change a booked appointment's time, reason or patient contact (SPEC §4.5).")
            .body(s.of::<AppointmentPatch>(), json!({ "start": "2026-12-04T10:00:00+01:00", "patient": { "mobile": null } }))
            .answers(200, "The appointment, changed.", s.of::<AppointmentView>(), examples::appointment())
            .refuses(&[not_json, no_token, other, unknown_appointment,
                (status(status_change::problem(PracticeError::NotBooked(Status::Cancelled))), "The new time overlaps, or the appointment is not booked."),
                too_large, invalid, busy], s),
        "setStatus" => op.summary("Set a booked appointment to reschedule (« à reporter, à prévenir ») or cancelled (SPEC §4.4, §6.2).")
            .body(s.of::<StatusRequest>(), json!({ "status": "to_reschedule", "send_cancellation_sms": true }))
            .answers(200, "The appointment.", s.of::<AppointmentView>(), examples::appointment())
            .refuses(&[not_json, no_token, other, unknown_appointment,
                (status(status_change::problem(PracticeError::NotAllowed { from: Status::Cancelled, to: Status::ToReschedule })), "The current status does not allow this one."),
                too_large, invalid, busy], s),
        "placeAbsence" => op.summary("Place an absence, refusing or moving the booked appointments inside it (SPEC §3, §6.2).")
            .body(s.of::<AbsenceRequest>(), json!({ "start": "2026-12-07", "end": "2026-12-12", "label": "Congrès", "appointments": "to_reschedule", "send_cancellation_sms": true }))
            .answers(201, "The absence and the appointments it moved to reschedule.", s.of::<AbsenceView>(),
                json!({ "id": "01JD7Z9C2V5Q8M1R6T3W0X4Y7Z", "start": "2026-12-07T00:00:00+01:00", "end": "2026-12-12T00:00:00+01:00", "label": "Congrès", "affected_appointments": ["01JD7Z5W6N8K3QF2X9RB4T1M0C"] }))
            .refuses(&[not_json, no_token, other, unknown_pid, too_large, invalid, busy], s)
            .refuses_with(status(status_change::problem(PracticeError::Covered(Vec::new()))),
                "Booked appointments are inside the absence (`appointments: refuse`).", absence_conflict(s)),
        "publicSlots" => op.summary("Free slots offered online for a reason (SPEC §6.3).")
            .parameter("reason_id", "query", true, "The reason's id.")
            .window()
            .answers(200, "The free slots.", s.of::<SlotsView>(), examples::slots())
            .refuses(&[not_offered, invalid, busy], s),
        "verifyEmail" => op.summary("Send a 6-digit code to the address an online booking will use (SPEC §6.3).")
            .body(s.of::<VerificationRequest>(), json!({ "email": "jeanne@example.org" }))
            .answers(202, "The code is on its way (valid 10 minutes, 5 tries, one booking): book with `verification: {id, code}`.",
                s.of::<VerificationView>(), json!({ "id": "q3JtZ0Zx1H8m2b4VYk9TnA", "expires_at": "2026-12-01T10:10:00Z" }))
            .refuses(&[not_json, not_offered, too_large,
                (status(booking::online_problem(OnlineError::CodeNotSent(domain::ports::SendError::Rejected(String::new())))),
                 "`email` is not a bare address, or cannot receive mail."),
                too_many, busy], s),
        "bookOnline" => op.summary("Book one of the offered slots online (SPEC §6.3), with the code sent to the patient's address while the practitioner verifies e-mails (the default).")
            .body(s.of::<OnlineBookingRequest>(), {
                let mut example = examples::appointment_request();
                example["verification"] = json!({ "id": "q3JtZ0Zx1H8m2b4VYk9TnA", "code": "042917" });
                example
            })
            .answers(201, "The appointment, without the patient or its log.", s.of::<AppointmentSummary>(),
                json!({ "id": "01JD7Z5W6N8K3QF2X9RB4T1M0C", "practitioner_id": "dr-martin", "reason_id": "consultation",
                        "start": "2026-12-03T14:30:00+01:00", "end": "2026-12-03T14:50:00+01:00", "status": "booked", "source": "online" }))
            .refuses(&[not_json, not_offered,
                (status(booking::online_problem(OnlineError::Taken)), "The slot has just been taken."),
                (status(booking::online_problem(OnlineError::TooManyFuture)),
                 "The verified address already holds `max_future_per_patient` future online appointments with this practitioner."),
                too_large,
                (status(booking::online_problem(OnlineError::NotASlot)), "Invalid fields, or `start` is not one of the offered slots."),
                (status(booking::unverified(Unverified::WrongCode)),
                 "`verification` is missing, wrong (a wrong code, or another e-mail than the verified one, counts as a try), expired, used, or dead after 5 wrong codes."),
                too_many, busy], s),
        "showAppointment" => op.summary("The appointment of a MODIFY / CANCEL link (SPEC §4.2, §6.4). Changes nothing.")
            .answers(200, "The appointment and whether the patient may still change it.", s.of::<PatientLinkView>(), examples::patient_link())
            .refuses(&[link_unknown, link_gone, busy], s),
        "showMoveSlots" => op.summary("Free slots to move the appointment to (SPEC §4.2).")
            .window()
            .answers(200, "The free slots (none, with `why_not`, when the patient may no longer move).", s.of::<SlotsView>(), examples::slots())
            .refuses(&[link_unknown, link_gone, invalid, busy], s),
        "cancelAppointment" => op.summary("Cancel the appointment (SPEC §4.2).")
            .answers(200, "The cancelled appointment.", s.of::<PatientLinkView>(), examples::patient_link())
            .refuses(&[cross_site, link_unknown, link(Refused::NotAllowed, "The appointment may no longer be changed online (the reason in `detail`)."),
                link_gone, too_large, too_many, busy], s),
        "moveAppointment" => op.summary("Move the appointment to one of the offered slots (SPEC §4.2).")
            .body(s.of::<SlotChoice>(), json!({ "start": "2026-12-04T10:00:00+01:00" }))
            .answers(200, "The moved appointment.", s.of::<PatientLinkView>(), examples::patient_link())
            .refuses(&[not_json, cross_site, link_unknown,
                link(Refused::SlotNotOffered, "Not one of the offered slots, just taken, or no longer allowed online."),
                link_gone, too_large, link(Refused::InvalidStart, "`start` is not a time."), too_many, busy], s),
        "showRebooking" => op.summary("The rebooking page of a practice's cancellation (SPEC §4.4).")
            .window()
            .answers(200, "The cancelled appointment and the free slots, or the secretariat's phone.", s.of::<RebookView>(),
                json!({ "cancelled": { "start": "2026-12-03T14:30:00+01:00", "end": "2026-12-03T14:50:00+01:00",
                                       "practitioner": { "name": "Dr Marie Martin", "address": "12 rue de la Paix, 75002 Paris" } },
                        "can_rebook": true, "slots": examples::slots()["slots"], "secretariat_phone": "+33140000000" }))
            .refuses(&[link_unknown, link_gone, invalid, busy], s),
        "bookReplacement" => op.summary("Book the replacement of a cancelled appointment (SPEC §4.4). The link works once.")
            .body(s.of::<SlotChoice>(), json!({ "start": "2026-12-04T10:00:00+01:00" }))
            .answers(201, "The replacement appointment.", s.of::<ReplacementView>(),
                json!({ "id": "01JD7ZB3K9P2N6S4V8X1Z5C7E0", "start": "2026-12-04T10:00:00+01:00", "end": "2026-12-04T10:20:00+01:00", "status": "booked" }))
            .refuses(&[not_json, cross_site, link_unknown,
                link(Refused::SlotNotOffered, "Not one of the offered slots, or just taken."),
                link_gone, too_large, link(Refused::InvalidStart, "`start` is not a time."), too_many, busy], s),
        "appointmentHistory" => op.summary("Who changed the appointment, when, and which fields (never their values), oldest first (SPEC §3, §6.2).")
            .answers(200, "The appointment's changes.", s.of::<HistoryView>(),
                json!({ "changes": [
                    { "at": "2026-11-25T10:00:00+00:00", "by": "7e1f9a3c-2b4d-4e6f-8a0b-1c2d3e4f5a6b", "change": "created", "fields": [], "version": 1 },
                    { "at": "2026-11-26T08:12:00+00:00", "by": "patient", "change": "moved", "fields": ["start", "end"], "version": 2 }] }))
            .refuses(&[no_token, other, unknown_appointment, busy], s),
        "exportPatient" => op.summary("Data rights (GDPR): every appointment of one patient's e-mail or mobile with this practitioner, with its communications and history (SPEC §6.2). Owners only; recorded in the practice's history.")
            .parameter("email", "query", false, "The patient's e-mail address (or `mobile`, not both).")
            .parameter("mobile", "query", false, "The patient's mobile, as typed or in E.164 (or `email`).")
            .answers(200, "The contact's appointments, by start.", s.of::<ExportView>(),
                {
                    // The appointment as `showAppointment` answers it, with its history.
                    let mut exported = examples::appointment();
                    exported["history"] = json!([{ "at": "2026-11-25T10:00:00+00:00", "by": "patient",
                                                   "change": "created", "fields": [], "version": 1 }]);
                    json!({ "appointments": [exported] })
                })
            .refuses(&[no_token, other, unknown_pid, invalid, busy], s),
        "listMembers" => op.summary("The practitioner's members: who holds which role (SPEC §6.1, §6.2). Owners only.")
            .answers(200, "Every grant on the practitioner.", s.of::<MembersView>(),
                json!({ "members": [{ "sub": "0b6c1d2e-5f4a-4c3b-9d8e-7f6a5b4c3d2e", "role": "owner", "name": "Dr Marie Martin" },
                                    { "sub": "7e1f9a3c-2b4d-4e6f-8a0b-1c2d3e4f5a6b", "role": "secretariat", "name": "Claire (accueil)" }] }))
            .refuses(&[no_token, other, busy], s),
        "putMember" => op.summary("Give a member a role (owner or secretariat), and a display name (SPEC §6.2). Owners only.")
            .body(s.of::<MemberRequest>(), json!({ "role": "secretariat", "name": "Claire (accueil)" }))
            .answers(200, "The member.", s.of::<Member>(),
                json!({ "sub": "7e1f9a3c-2b4d-4e6f-8a0b-1c2d3e4f5a6b", "role": "secretariat", "name": "Claire (accueil)" }))
            .refuses(&[not_json, no_token, other,
                (status(booking::members_problem(MembersError::NotAMember.into())), "`{sub}` cannot be a token's subject."),
                (status(booking::members_problem(MembersError::LastOwner.into())), "The last owner cannot become secretariat."),
                too_large, invalid, busy], s),
        "removeMember" => op.summary("Remove a member's grant (SPEC §6.2); it stops working within the cache time (30 s). Owners only.")
            .answers_nothing(204, "Removed.")
            .refuses(&[no_token, other,
                (status(booking::members_problem(MembersError::NotAMember.into())), "No such member."),
                (status(booking::members_problem(MembersError::LastOwner.into())), "The practitioner's last owner cannot be removed."),
                busy], s),
        "openApi" => op.summary("This document (SPEC §6).")
            .answers(200, "The OpenAPI 3.1 document of the API.", json!({ "type": "object" }), json!({ "openapi": "3.1.0" })),
        _ => return None,
    })
}

/// Every operation the functions declare (their `ROUTES`): its path, its
/// method as OpenAPI writes it, and the operation started from the route.
fn declared() -> Vec<(&'static str, String, Operation)> {
    fn of<A>(routes: &[Route<A>], readers: Readers) -> Vec<(&'static str, String, Operation)> {
        routes
            .iter()
            .map(|r| {
                let method = r.method.as_str().to_ascii_lowercase();
                (r.path, method, Operation::declared(r, readers))
            })
            .collect()
    }
    let mut all = of(booking::ROUTES, Readers::Programs);
    all.extend(of(status_change::ROUTES, Readers::Programs));
    all.extend(of(patient_links::ROUTES, Readers::PeopleAndPrograms));
    all
}

/// The document as JSON: every route the functions declare (and so, as
/// tests/consistency.rs holds them, every route of `template.yaml`).
fn description() -> Value {
    let s = &mut Schemas::default();
    let common = Common::new();
    let mut paths = Map::new();
    for (path, method, declared) in declared() {
        let id = declared.value["operationId"].clone();
        let operation = describe(declared, &common, s)
            .unwrap_or_else(|| panic!("{id} is declared by a function but not described here"))
            .behind_the_gateway(s);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[method.as_str()] = operation.value;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Patient communications",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The API of SPEC §6: the practice's agenda (JWT), online booking and patient links (no token). Errors are RFC 9457 `application/problem+json`; API Gateway's own errors are `{\"message\": ...}` (GatewayError). Generated from the code (shared/api-description); do not edit docs/openapi.json by hand.",
        },
        "servers": [{ "url": "/" }],
        "tags": [
            { "name": "practice", "description": "The agenda's front end (SPEC §6.2): `Authorization: Bearer <JWT>`; in local mode `local-<practitionerId>`." },
            { "name": "public", "description": "Online booking (SPEC §6.3) and this document: no token." },
            { "name": "patient links", "description": "The pages behind the links patients receive (SPEC §6.4): HTML unless `Accept: application/json`." }
        ],
        "paths": paths,
        "components": {
            "schemas": s.0,
            "securitySchemes": {
                "practitionerJwt": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A JWT of the configured issuer; its `sub` is the caller, whose grants (kept by this system, `…/members`) say what they may do for each practitioner. Local mode: `local-<sub>` (a practitioner created locally: `local-<id>` is its owner, `local-<id>.secretariat` its secretariat)."
                }
            }
        }
    })
}

/// The examples of SPEC §6.5, as the front end sees them.
mod examples {
    use serde_json::{Value, json};

    pub fn settings() -> Value {
        json!({
            "id": "dr-martin",
            "name": "Dr Marie Martin", "profession": "Médecin généraliste",
            "address": "12 rue de la Paix, 75002 Paris", "secretariat_phone": "+33140000000",
            "timezone": "Europe/Paris", "language": "fr",
            "reasons": [{ "id": "consultation", "label": "Consultation", "duration_minutes": 20,
                          "confirmation_email": true, "online_booking": true, "sms_reminder": true }],
            "email_service": { "enabled": true, "reminder_hours_before": 48 },
            "sms_service": { "enabled": true, "reminder_hours_before": 24, "cancellation_sms": true },
            "online_booking": { "enabled": true, "modify_cancel_deadline_hours": 24, "booking_horizon_days": 60, "min_notice_hours": 2 },
            "opening_hours": { "monday": [{ "start": "09:00", "end": "12:00" }, { "start": "14:00", "end": "18:00" }],
                               "tuesday": [], "wednesday": [], "thursday": [], "friday": [], "saturday": [], "sunday": [] },
            "quiet_hours": { "start": "21:00", "end": "08:00" }
        })
    }

    pub fn appointment_request() -> Value {
        json!({
            "reason_id": "consultation", "start": "2026-12-03T14:30:00+01:00",
            "patient": { "first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@example.org",
                         "mobile": "+33612345678", "language": "fr" }
        })
    }

    pub fn appointment() -> Value {
        json!({
            "id": "01JD7Z5W6N8K3QF2X9RB4T1M0C", "practitioner_id": "dr-martin", "reason_id": "consultation",
            "start": "2026-12-03T14:30:00+01:00", "end": "2026-12-03T14:50:00+01:00",
            "status": "booked", "source": "practitioner", "version": 1, "replaces": null,
            "patient": { "first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@example.org",
                         "mobile": "+33612345678", "language": "fr" },
            "patient_can_modify_online": true,
            "reminders": { "email": { "due_at": "2026-12-01T14:30:00+01:00", "state": "scheduled" },
                           "sms": { "due_at": "2026-12-02T14:30:00+01:00", "state": "scheduled" } },
            "communications": [{ "kind": "confirmation", "channel": "email", "state": "delivered",
                                 "reason": null, "reason_code": null,
                                 "message_id": "0102019a7c3e5f2b-6d1e2f3a-example-000000",
                                 "at": "2026-11-25T10:02:11+01:00" }],
            "attention": []
        })
    }

    pub fn patient_link() -> Value {
        json!({
            "status": "booked", "start": "2026-12-03T14:30:00+01:00", "end": "2026-12-03T14:50:00+01:00",
            "practitioner": { "name": "Dr Marie Martin", "address": "12 rue de la Paix, 75002 Paris" },
            "can_modify": true, "can_cancel": true, "why_not": null, "secretariat_phone": "+33140000000"
        })
    }

    pub fn slots() -> Value {
        json!({ "slots": [{ "start": "2026-12-04T10:00:00+01:00", "end": "2026-12-04T10:20:00+01:00" }] })
    }
}
