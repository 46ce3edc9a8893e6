//! Hostile input (SPEC §5, §6; issue 10): a corpus of bad requests over every
//! route, on both backends. Each case says the status it gets and what its
//! body must say (a problem+json naming the field, or the patient page), and
//! the whole store is the same after it as before the corpus began, and so are
//! every message sent and every event published: bad input changes nothing.
//!
//! Then the findings of issue 10, each replayed as its own test.

use acceptance::{DEMO, TestApp, on_each_backend};
use chrono::{NaiveDate, Weekday};
use reqwest::Method;
use serde_json::{Value, json};

/// Next week's `weekday` after the practice's `today` (the app's clock) at
/// `hour`:`minute` in Paris, as the front end writes it.
fn next_week(today: NaiveDate, weekday: Weekday, hour: u32, minute: u32) -> String {
    let day = acceptance::first_after(today, 7, weekday);
    format!("{day}T{hour:02}:{minute:02}:00")
}

fn settings() -> Value {
    serde_json::from_str(include_str!("../infra/local/demo-practitioner.json")).unwrap()
}

fn patient() -> Value {
    json!({"first_name": "Jeanne", "last_name": "Dupont", "email": "jeanne@example.org",
           "mobile": acceptance::mobile(), "language": "fr"})
}

fn booking(start: &str) -> Value {
    json!({"reason_id": "consultation", "start": start, "patient": patient()})
}

/// What a case must answer.
#[derive(Clone)]
enum Expect {
    /// A problem+json of this status; naming this field when given.
    Problem(Option<&'static str>),
    /// A patient page holding this text.
    Page(&'static str),
}

#[derive(Clone)]
struct Case {
    name: String,
    method: Method,
    path: String,
    /// `Authorization` header, verbatim.
    auth: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    expect: Expect,
}

fn case(name: impl Into<String>, method: Method, path: impl Into<String>) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.into(),
        auth: Some(format!("Bearer local-{DEMO}")),
        headers: vec![("content-type", "application/json".into())],
        body: None,
        status: 0,
        expect: Expect::Problem(None),
    }
}

impl Case {
    fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self
    }
    fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }
    fn form(mut self, body: &str) -> Self {
        self.headers = vec![("content-type", "application/x-www-form-urlencoded".into())];
        self.body = Some(body.as_bytes().to_vec());
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn auth(mut self, auth: Option<&str>) -> Self {
        self.auth = auth.map(str::to_string);
        self
    }
    fn problem(mut self, status: u16, field: Option<&'static str>) -> Self {
        self.status = status;
        self.expect = Expect::Problem(field);
        self
    }
    fn page(mut self, status: u16, text: &'static str) -> Self {
        self.status = status;
        self.expect = Expect::Page(text);
        self
    }
}

/// A practice other than the demo's, with its owner and secretariat: its
/// members hold no grant on the demo practitioner.
const OTHER_PRACTICE: &str = "dr-other";

/// Grants (SPEC §6.1), generated from docs/openapi.json: every practitioner
/// operation asked by a member of another practice (403) and with forged
/// local tokens (401 for a subject no token can name, else 403), and each
/// owner-only operation (`x-roles` without `secretariat`) by the demo's
/// secretariat (403).
fn grants_corpus(id: &str) -> Vec<Case> {
    let document: Value = serde_json::from_str(include_str!("../docs/openapi.json")).unwrap();
    let forged = [
        (
            "another practice's owner",
            format!("Bearer local-{OTHER_PRACTICE}"),
            403,
        ),
        (
            "another practice's secretariat",
            format!("Bearer local-{OTHER_PRACTICE}.secretariat"),
            403,
        ),
        (
            "a role in the token",
            format!("Bearer local-{DEMO}.owner"),
            403,
        ),
        (
            "another case",
            format!("Bearer local-{}", DEMO.to_uppercase()),
            403,
        ),
        ("no local- prefix", format!("Bearer {DEMO}"), 401),
        (
            "a path in the subject",
            format!("Bearer local-{DEMO}/../x"),
            401,
        ),
        (
            "an encoded dot",
            format!("Bearer local-{DEMO}%2Esecretariat"),
            401,
        ),
        (
            "two subjects",
            format!("Bearer local-{OTHER_PRACTICE} {DEMO}"),
            401,
        ),
    ];
    let mut cases = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(roles) = operation["x-roles"].as_array() else {
                continue;
            };
            let path = template
                .replace("{pid}", DEMO)
                .replace("{id}", id)
                .replace("{sub}", &format!("{DEMO}.secretariat"));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = if template == "/practitioners/{pid}" {
                settings()
            } else {
                json!({"role": "owner", "status": "cancelled", "send_cancellation_sms": false})
            };
            let name = operation["operationId"].as_str().unwrap();
            for (who, token, status) in &forged {
                cases.push(
                    case(format!("grants: {name} by {who}"), method.clone(), &path)
                        .auth(Some(token))
                        .json(&body)
                        .problem(*status, None),
                );
            }
            if !roles.iter().any(|r| r == "secretariat") {
                cases.push(
                    case(
                        format!("grants: {name} by the secretariat"),
                        method.clone(),
                        &path,
                    )
                    .auth(Some(&format!("Bearer local-{DEMO}.secretariat")))
                    .json(&body)
                    .problem(403, None),
                );
            }
        }
    }
    cases
}

/// Bodies over 64 KiB (SPEC §6: 413 on every route).
fn oversized(bytes: usize) -> Vec<u8> {
    let mut body = b"{\"x\":\"".to_vec();
    body.resize(bytes - 2, b'a');
    body.extend_from_slice(b"\"}");
    body
}

/// Texts that must never reach a message, a page or a calendar (SPEC §5),
/// with the length limit they break when they are long.
fn unclean_texts(limit: usize) -> Vec<(String, String)> {
    vec![
        ("CR/LF".into(), "Jeanne\r\nBcc: x@evil.example".into()),
        ("LF".into(), "Jeanne\nDupont".into()),
        ("NUL".into(), "Jea\0nne".into()),
        ("ESC".into(), "\u{1b}[31mJeanne".into()),
        ("tab".into(), "Jeanne\tDupont".into()),
        ("zero-width only".into(), "\u{200B}\u{200B}\u{200B}".into()),
        ("invisible only".into(), "\u{FEFF}\u{2060}\u{200D}".into()),
        (format!("{} characters", limit + 1), "é".repeat(limit + 1)),
    ]
}

/// The cases of every route, given the ids and links of a booked appointment
/// (`id`, its page `/a/{token}`) and of a cancelled one's rebooking page.
fn corpus(today: NaiveDate, id: &str, link: &str, rebook: &str, start: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let settings_path = format!("/practitioners/{DEMO}");
    let book_path = format!("/practitioners/{DEMO}/appointments");
    let public_book = format!("/public/practitioners/{DEMO}/appointments");
    let status_path = format!("/practitioners/{DEMO}/appointments/{id}/status");
    let absences = format!("/practitioners/{DEMO}/absences");

    // ── Practitioner settings (PUT /practitioners/{pid}) ──────────────────
    for (field, limit) in [("name", 200), ("profession", 200), ("address", 300)] {
        for (what, text) in unclean_texts(limit) {
            let mut body = settings();
            body[field] = text.into();
            cases.push(
                case(
                    format!("settings {field}: {what}"),
                    Method::PUT,
                    &settings_path,
                )
                .json(&body)
                .problem(422, Some(field)),
            );
        }
    }
    for (what, text) in unclean_texts(200) {
        let mut body = settings();
        body["reasons"][0]["label"] = text.into();
        cases.push(
            case(
                format!("settings reason label: {what}"),
                Method::PUT,
                &settings_path,
            )
            .json(&body)
            .problem(422, Some("reasons[0].label")),
        );
    }
    let mut long_name = settings();
    long_name["name"] = "Dr Ézéchiel ".repeat(1634).into();
    cases.push(
        case(
            "finding: a 19,603-character practitioner name",
            Method::PUT,
            &settings_path,
        )
        .json(&long_name)
        .problem(422, Some("name")),
    );
    let settings_text = settings().to_string();
    for (what, tail) in [
        (
            "finding: trailing garbage after the settings",
            "]]} garbage",
        ),
        ("trailing second JSON value", " {}"),
        ("trailing comma", ","),
    ] {
        cases.push(
            case(what, Method::PUT, &settings_path)
                .raw(format!("{settings_text}{tail}"))
                .problem(400, None),
        );
    }
    for (what, body) in [
        ("empty body", &b""[..]),
        ("blank body", b"  \n "),
        ("not JSON", b"name=Dr"),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\"}"),
        ("unterminated", b"{\"name\": \"Dr"),
        ("NUL bytes", b"\0\0\0"),
    ] {
        cases.push(
            case(format!("settings: {what}"), Method::PUT, &settings_path)
                .raw(body)
                .problem(400, None),
        );
    }
    cases.push(
        case("settings: nested 10,000 deep", Method::PUT, &settings_path)
            .raw(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)))
            .problem(422, None),
    );
    for (what, body) in [
        ("null", json!(null)),
        ("an array", json!([])),
        ("a string", json!("Dr Martin")),
        ("a number", json!(12)),
    ] {
        cases.push(
            case(format!("settings: {what}"), Method::PUT, &settings_path)
                .json(&body)
                .problem(422, None),
        );
    }
    for (what, pointer, value, field) in [
        (
            "phone",
            "/secretariat_phone",
            json!("not a phone"),
            "secretariat_phone",
        ),
        ("time zone", "/timezone", json!("Mars/Olympus"), "timezone"),
        ("language", "/language", json!("de"), "language"),
        (
            "duration 0",
            "/reasons/0/duration_minutes",
            json!(0),
            "reasons[0].duration_minutes",
        ),
        (
            "duration negative",
            "/reasons/0/duration_minutes",
            json!(-20),
            "reasons[0].duration_minutes",
        ),
        (
            "duration 2^40",
            "/reasons/0/duration_minutes",
            json!(1u64 << 40),
            "reasons[0].duration_minutes",
        ),
        (
            "duration float",
            "/reasons/0/duration_minutes",
            json!(20.5),
            "reasons[0].duration_minutes",
        ),
        (
            "reminder hours",
            "/sms_service/reminder_hours_before",
            json!(99_999),
            "sms_service.reminder_hours_before",
        ),
        (
            "horizon",
            "/online_booking/booking_horizon_days",
            json!(0),
            "online_booking.booking_horizon_days",
        ),
        (
            "opening hour 25:00",
            "/opening_hours/monday/0/end",
            json!("25:00"),
            "opening_hours.monday[0].end",
        ),
        (
            "reason id",
            "/reasons/0/id",
            json!("Consultation du soir"),
            "reasons[0].id",
        ),
        (
            "quiet hours equal",
            "/quiet_hours",
            json!({"start": "08:00", "end": "08:00"}),
            "quiet_hours",
        ),
    ] {
        let mut body = settings();
        *body.pointer_mut(pointer).unwrap() = value;
        cases.push(
            case(format!("settings: bad {what}"), Method::PUT, &settings_path)
                .json(&body)
                .problem(422, Some(field)),
        );
    }
    cases.push(
        case("settings: 64 KiB + 1", Method::PUT, &settings_path)
            .raw(oversized(64 * 1024 + 1))
            .problem(413, None),
    );
    // Authentication (SPEC §6.1) and the finding on local tokens.
    for (what, auth, status) in [
        ("no token", None, 401),
        (
            "finding: local-a b is not two tokens",
            Some("Bearer local-other dr-martin"),
            401,
        ),
        ("empty local token", Some("Bearer local-"), 401),
        ("not a bearer", Some("Basic ZHI6bWFydGlu"), 401),
        (
            "another practitioner's token",
            Some("Bearer local-dr-other"),
            403,
        ),
    ] {
        cases.push(
            case(format!("settings: {what}"), Method::PUT, &settings_path)
                .auth(auth)
                .json(&settings())
                .problem(status, None),
        );
        cases.push(
            case(format!("booking: {what}"), Method::POST, &book_path)
                .auth(auth)
                .json(&booking(start))
                .problem(status, None),
        );
    }
    cases.extend(grants_corpus(id));
    // Local mode creates a practice only with settings it stores: a refused
    // first PUT leaves no grant behind (403: nobody holds one yet).
    for (what, body) in [
        ("not settings", b"{}".to_vec()),
        (
            "two JSON values",
            format!("{} {{}}", settings()).into_bytes(),
        ),
        ("bad JSON", b"{\"name\":".to_vec()),
    ] {
        cases.push(
            case(
                format!("new practice: {what}"),
                Method::PUT,
                "/practitioners/dr-newcomer",
            )
            .auth(Some("Bearer local-dr-newcomer"))
            .raw(body)
            .problem(403, None),
        );
    }
    cases.push(
        case(
            "settings of nobody",
            Method::GET,
            "/practitioners/dr-nobody",
        )
        .auth(Some("Bearer local-dr-nobody"))
        // Nobody holds a grant on it: 403, as for any other practitioner.
        .problem(403, None),
    );
    cases.push(case("settings: DELETE", Method::DELETE, &settings_path).problem(405, None));

    // ── Appointments (POST, practitioner side and public) ──────────────────
    let bad_emails = [
        (
            "finding: header injection",
            "x\r\nBcc: a@evil.example <victim@example.org>",
        ),
        ("finding: display name", "Jeanne <j@example.org>"),
        ("finding: domain literal", "j@[127.0.0.1]"),
        ("comment", "jeanne@example.org (Jeanne)"),
        ("quoted local part", "\"jeanne dupont\"@example.org"),
        ("space", "jeanne dupont@example.org"),
        ("LF inside", "jeanne@exa\nmple.org"),
        ("no domain dot", "jeanne@localhost"),
        ("two at", "a@b@example.org"),
        ("NUL", "jeanne\0@example.org"),
    ];
    for (path, public) in [(&book_path, false), (&public_book, true)] {
        let who = if public { "public booking" } else { "booking" };
        for (what, email) in bad_emails {
            let mut body = booking(start);
            body["patient"]["email"] = email.into();
            cases.push(
                case(format!("{who} e-mail: {what}"), Method::POST, path)
                    .json(&body)
                    .problem(422, Some("patient.email")),
            );
        }
        for field in ["first_name", "last_name"] {
            for (what, text) in unclean_texts(100) {
                let mut body = booking(start);
                body["patient"][field] = text.into();
                let name: &'static str = if field == "first_name" {
                    "patient.first_name"
                } else {
                    "patient.last_name"
                };
                cases.push(
                    case(format!("{who} {field}: {what}"), Method::POST, path)
                        .json(&body)
                        .problem(422, Some(name)),
                );
            }
        }
        for (what, value) in [
            ("finding: a six-digit year", "+262142-12-31T10:00:00+01:00"),
            ("year 1999", "1999-12-31T10:00:00Z"),
            ("year 2101", "2101-01-01T10:00:00Z"),
            ("month 13", "2026-13-01T10:00"),
            ("words", "next tuesday"),
            ("the skipped spring hour", "2027-03-28T02:30"),
            ("in the past", "2020-01-06T10:00:00+01:00"),
        ] {
            let mut body = booking(start);
            body["start"] = value.into();
            cases.push(
                case(format!("{who} start: {what}"), Method::POST, path)
                    .json(&body)
                    .problem(422, Some("start")),
            );
        }
        for (what, pointer, value, field) in [
            (
                "mobile",
                "/patient/mobile",
                json!("not a number"),
                "patient.mobile",
            ),
            (
                "landline",
                "/patient/mobile",
                json!("01 40 00 00 00"),
                "patient.mobile",
            ),
            (
                "language",
                "/patient/language",
                json!("de"),
                "patient.language",
            ),
        ] {
            let mut body = booking(start);
            *body.pointer_mut(pointer).unwrap() = value;
            cases.push(
                case(format!("{who}: bad {what}"), Method::POST, path)
                    .json(&body)
                    .problem(422, Some(field)),
            );
        }
        let text = booking(start).to_string();
        cases.push(
            case(
                format!("finding: {who} with trailing xyz"),
                Method::POST,
                path,
            )
            .raw(format!("{text}xyz"))
            .problem(400, None),
        );
        cases.push(
            case(format!("{who}: 64 KiB + 1"), Method::POST, path)
                .raw(oversized(64 * 1024 + 1))
                .problem(413, None),
        );
    }
    // ── Names that carry a link (SPEC §5; issue 24), on both booking routes ──
    for (path, who) in [(&book_path, "booking"), (&public_book, "public booking")] {
        for (field, name) in [
            ("first_name", "https://evil.com"),
            ("last_name", "evil.com"),
            ("first_name", "Jeanne2"),
            ("last_name", "Dupont <a href=x>"),
            ("first_name", "jeanne@example.org"),
        ] {
            let mut body = booking(start);
            body["patient"][field] = name.into();
            let named: &'static str = if field == "first_name" {
                "patient.first_name"
            } else {
                "patient.last_name"
            };
            cases.push(
                case(format!("{who} {field}: {name}"), Method::POST, path)
                    .json(&body)
                    .problem(422, Some(named)),
            );
        }
    }

    // ── Verifications and verified online booking (SPEC §6.3; issue 24) ──
    let verifications = format!("/public/practitioners/{DEMO}/verifications");
    for (what, email) in [
        ("display name", "Jeanne <j@example.org>"),
        ("header injection", "x\r\nBcc: a@evil.example"),
        ("domain literal", "j@[127.0.0.1]"),
        ("no domain dot", "jeanne@localhost"),
    ] {
        cases.push(
            case(
                format!("verification e-mail: {what}"),
                Method::POST,
                &verifications,
            )
            .auth(None)
            .json(&json!({"email": email}))
            .problem(422, Some("email")),
        );
    }
    cases.push(
        case("verification: no e-mail", Method::POST, &verifications)
            .auth(None)
            .json(&json!({}))
            .problem(422, None),
    );
    cases.push(
        case("verification: trailing bytes", Method::POST, &verifications)
            .auth(None)
            .raw(r#"{"email": "jeanne@example.org"}xyz"#)
            .problem(400, None),
    );
    cases.push(
        case("verification: 64 KiB + 1", Method::POST, &verifications)
            .auth(None)
            .raw(oversized(64 * 1024 + 1))
            .problem(413, None),
    );
    cases.push(
        case(
            "verification: unknown practitioner",
            Method::POST,
            "/public/practitioners/dr-nobody/verifications",
        )
        .auth(None)
        .json(&json!({"email": "jeanne@example.org"}))
        .problem(404, None),
    );
    let mut no_email = booking(start);
    no_email["patient"].as_object_mut().unwrap().remove("email");
    cases.push(
        case(
            "public booking: no e-mail to verify",
            Method::POST,
            &public_book,
        )
        .auth(None)
        .json(&no_email)
        .problem(422, Some("patient.email")),
    );
    // A free, offered slot: only the verification is wrong.
    let free = next_week(today, Weekday::Mon, 9, 0);
    for (what, verification) in [
        ("no verification", Value::Null),
        (
            "a made-up id",
            json!({"id": "AAAAAAAAAAAAAAAAAAAAAA", "code": "123456"}),
        ),
        (
            "an id that is no id",
            json!({"id": "../../etc", "code": "123456"}),
        ),
        (
            "a code of letters",
            json!({"id": "AAAAAAAAAAAAAAAAAAAAAA", "code": "abcdef"}),
        ),
    ] {
        let mut body = booking(&free);
        body["verification"] = verification;
        cases.push(
            case(
                format!("public booking: {what}"),
                Method::POST,
                &public_book,
            )
            .auth(None)
            .json(&body)
            .problem(422, Some("verification")),
        );
    }
    let mut countries = settings();
    countries["sms_service"]["countries"] = json!(["FR", "uk"]);
    cases.push(
        case(
            "settings: a country that is no ISO code",
            Method::PUT,
            &settings_path,
        )
        .json(&countries)
        .problem(422, Some("sms_service.countries[1]")),
    );

    let mut not_a_slot = booking(&next_week(today, Weekday::Sat, 10, 0));
    not_a_slot["reason_id"] = "consultation".into();
    cases.push(
        case(
            "public booking: not an offered slot",
            Method::POST,
            &public_book,
        )
        .json(&not_a_slot)
        .problem(422, Some("start")),
    );
    let mut unknown_reason = booking(start);
    unknown_reason["reason_id"] = "nothing".into();
    cases.push(
        case("booking: unknown reason", Method::POST, &book_path)
            .json(&unknown_reason)
            .problem(422, Some("reason_id")),
    );

    // ── Agenda and public slots (windows) ─────────────────────────────────
    let windows = [
        (
            "finding: from +262142-12-31",
            "from=%2B262142-12-31",
            "from",
        ),
        ("from -000001-01-01", "from=-000001-01-01", "from"),
        ("from year 1999", "from=1999-12-31", "from"),
        ("to year 2101", "from=2100-12-01&to=2101-01-02", "to"),
        ("93 days", "from=2026-01-01&to=2026-04-04", "to"),
        ("reversed", "from=2026-12-10&to=2026-12-01", "to"),
        ("30 February", "from=2026-02-30", "from"),
        ("words", "from=yesterday", "from"),
        ("NUL", "from=%00", "from"),
        ("huge number", "from=99999999999999999999", "from"),
    ];
    for (what, query, field) in windows {
        cases.push(
            case(
                format!("agenda {what}"),
                Method::GET,
                format!("{book_path}?{query}"),
            )
            .problem(422, Some(field)),
        );
        cases.push(
            case(
                format!("public slots {what}"),
                Method::GET,
                format!("/public/practitioners/{DEMO}/slots?reason_id=consultation&{query}"),
            )
            .problem(422, Some(field)),
        );
        cases.push(
            case(
                format!("patient slots {what}"),
                Method::GET,
                format!("{link}/slots?{query}"),
            )
            .header("accept", "application/json")
            .problem(422, Some(field)),
        );
    }
    cases.push(
        case(
            "public slots: no reason",
            Method::GET,
            format!("/public/practitioners/{DEMO}/slots"),
        )
        .problem(422, Some("reason_id")),
    );
    cases.push(
        case(
            "public slots: reason not online",
            Method::GET,
            format!("/public/practitioners/{DEMO}/slots?reason_id=bilan"),
        )
        .problem(404, None),
    );
    cases.push(
        case(
            "public slots: nobody",
            Method::GET,
            "/public/practitioners/dr-nobody/slots?reason_id=consultation",
        )
        .problem(404, None),
    );
    cases.push(
        case(
            "public slots: id with dots",
            Method::GET,
            "/public/practitioners/..%2F..%2Fetc/slots?reason_id=consultation",
        )
        .problem(404, None),
    );
    cases.push(
        case(
            "appointment: unknown id",
            Method::GET,
            format!("{book_path}/01JD0000000000000000000000"),
        )
        .problem(404, None),
    );
    cases.push(
        case(
            "appointment: not an id",
            Method::GET,
            format!("{book_path}/..%2F.."),
        )
        .problem(404, None),
    );

    // ── Status changes and absences ───────────────────────────────────────
    for (what, body, status, field) in [
        (
            "unknown status",
            json!({"status": "deleted", "send_cancellation_sms": false}),
            422,
            Some("status"),
        ),
        (
            "status booked",
            json!({"status": "booked", "send_cancellation_sms": false}),
            422,
            Some("status"),
        ),
        (
            "tick as a string",
            json!({"status": "cancelled", "send_cancellation_sms": "yes"}),
            422,
            Some("send_cancellation_sms"),
        ),
        (
            "no status",
            json!({"send_cancellation_sms": true}),
            422,
            Some("status"),
        ),
    ] {
        cases.push(
            case(format!("status: {what}"), Method::PUT, &status_path)
                .json(&body)
                .problem(status, field),
        );
    }
    cases.push(
        case("status: trailing bytes", Method::PUT, &status_path)
            .raw("{\"status\":\"cancelled\",\"send_cancellation_sms\":false} x")
            .problem(400, None),
    );
    cases.push(
        case("status: 64 KiB + 1", Method::PUT, &status_path)
            .raw(oversized(64 * 1024 + 1))
            .problem(413, None),
    );
    cases.push(
        case(
            "status: unknown appointment",
            Method::PUT,
            format!("/practitioners/{DEMO}/appointments/01JD0000000000000000000000/status"),
        )
        .json(&json!({"status": "cancelled", "send_cancellation_sms": false}))
        .problem(404, None),
    );
    cases.push(
        case("status: another practitioner", Method::PUT, &status_path)
            .auth(Some("Bearer local-dr-other"))
            .json(&json!({"status": "cancelled", "send_cancellation_sms": false}))
            .problem(403, None),
    );
    let absence = |start: &str, end: &str| json!({"start": start, "end": end, "label": "Congrès", "appointments": "refuse", "send_cancellation_sms": false});
    for (what, text) in unclean_texts(200) {
        let mut body = absence(
            &next_week(today, Weekday::Sat, 9, 0),
            &next_week(today, Weekday::Sat, 12, 0),
        );
        body["label"] = text.into();
        cases.push(
            case(format!("absence label: {what}"), Method::POST, &absences)
                .json(&body)
                .problem(422, Some("label")),
        );
    }
    for (what, start_at, end_at, field) in [
        (
            "six-digit year",
            "+262142-12-31T10:00",
            "+262142-12-31T12:00",
            "start",
        ),
        ("year 2101", "2101-01-01T10:00", "2101-01-01T12:00", "start"),
        ("reversed", "2026-12-10T12:00", "2026-12-10T09:00", "end"),
        ("93 days", "2027-01-01T00:00", "2027-04-04T00:00", "end"),
        ("in the past", "2020-01-01T00:00", "2020-01-02T00:00", "end"),
    ] {
        cases.push(
            case(format!("absence: {what}"), Method::POST, &absences)
                .json(&absence(start_at, end_at))
                .problem(422, Some(field)),
        );
    }
    let mut choice = absence(
        &next_week(today, Weekday::Sat, 9, 0),
        &next_week(today, Weekday::Sat, 12, 0),
    );
    choice["appointments"] = "delete".into();
    cases.push(
        case("absence: unknown choice", Method::POST, &absences)
            .json(&choice)
            .problem(422, Some("appointments")),
    );
    cases.push(
        case(
            "absence over a booked appointment, refused",
            Method::POST,
            &absences,
        )
        .json(&absence(start, &next_week(today, Weekday::Thu, 12, 0)))
        .problem(409, Some("appointments")),
    );
    cases.push(
        case("absence: trailing bytes", Method::POST, &absences)
            .raw(format!("{}]", absence(start, start)))
            .problem(400, None),
    );
    cases.push(
        case("absence: 64 KiB + 1", Method::POST, &absences)
            .raw(oversized(64 * 1024 + 1))
            .problem(413, None),
    );

    // ── Patient links (/a, /r) ────────────────────────────────────────────
    let page = |c: Case| c.auth(None);
    cases.push(
        page(case(
            "link: unknown token",
            Method::GET,
            "/a/AAAAAAAAAAAAAAAAAAAAAA",
        ))
        .page(404, "Lien introuvable"),
    );
    cases.push(
        page(case("link: token of NULs", Method::GET, "/a/%00%00")).page(404, "Lien introuvable"),
    );
    cases.push(
        page(case(
            "link: 8 KB token",
            Method::GET,
            format!("/a/{}", "A".repeat(8000)),
        ))
        .page(404, "Lien introuvable"),
    );
    cases.push(
        page(case(
            "link: unknown rebooking token",
            Method::GET,
            "/r/AAAAAAAAAAAAAAAAAAAAAA",
        ))
        .page(404, "Lien introuvable"),
    );
    cases.push(page(case("link: DELETE", Method::DELETE, link)).problem(405, None));
    cases.push(
        page(case(
            "link: unknown action",
            Method::POST,
            format!("{link}/delete"),
        ))
        .problem(404, None),
    );
    for (path, what) in [
        (format!("{link}/cancel"), "cancel"),
        (format!("{link}/move"), "move"),
        (rebook.to_string(), "rebook"),
    ] {
        cases.push(
            page(case(
                format!("finding: {what} with a 1 MB body"),
                Method::POST,
                &path,
            ))
            .form(&format!("start={}", "a".repeat(1 << 20)))
            .problem(413, None),
        );
        for (how, header, value) in [
            ("posted from another site", "sec-fetch-site", "cross-site"),
            (
                "posted from a same-site sibling",
                "sec-fetch-site",
                "same-site",
            ),
            ("with a foreign Origin", "origin", "https://evil.example"),
            ("with Origin null", "origin", "null"),
        ] {
            cases.push(
                page(case(format!("{what} {how}"), Method::POST, &path))
                    .form(&format!("start={start}"))
                    .header(header, value)
                    .page(403, "depuis un autre site"),
            );
        }
        cases.push(
            page(case(
                format!("{what} from another site, as JSON"),
                Method::POST,
                &path,
            ))
            .json(&json!({"start": start}))
            .header("accept", "application/json")
            .header("sec-fetch-site", "cross-site")
            .problem(403, None),
        );
    }
    for (path, what) in [
        (format!("{link}/move"), "move"),
        (rebook.to_string(), "rebook"),
    ] {
        for (bad, value) in [
            ("six-digit year", "+262142-12-31T10:00:00+01:00"),
            ("words", "tomorrow"),
            ("year 2101", "2101-01-01T10:00"),
        ] {
            cases.push(
                page(case(format!("{what} start: {bad}"), Method::POST, &path))
                    .json(&json!({"start": value}))
                    .header("accept", "application/json")
                    .problem(422, Some("start")),
            );
            cases.push(
                page(case(
                    format!("{what} form start: {bad}"),
                    Method::POST,
                    &path,
                ))
                .form(&format!("start={}", urlencode(value)))
                .page(422, "créneau"),
            );
        }
        cases.push(
            page(case(
                format!("{what}: not an offered slot"),
                Method::POST,
                &path,
            ))
            .json(&json!({"start": next_week(today, Weekday::Sat, 10, 0)}))
            .header("accept", "application/json")
            .problem(409, None),
        );
        cases.push(
            page(case(format!("{what}: trailing bytes"), Method::POST, &path))
                .raw(format!("{}x", json!({"start": start})))
                .header("accept", "application/json")
                .problem(400, None),
        );
        cases.push(
            page(case(
                format!("{what}: form without start"),
                Method::POST,
                &path,
            ))
            .form("when=later")
            .header("accept", "application/json")
            .problem(422, None),
        );
    }
    cases.push(page(case("unknown route", Method::GET, "/admin")).problem(404, None));
    cases
}

fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)]).unwrap()[2..].to_string()
}

/// Sends `case` and checks its answer: what is wrong with it, if anything.
async fn run(app: &TestApp, case: &Case) -> Result<(), String> {
    let mut request = app.client.request(case.method.clone(), app.url(&case.path));
    if let Some(auth) = &case.auth {
        request = request.header("authorization", auth);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    if let Some(body) = &case.body {
        request = request.body(body.clone());
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what}; answered {status} {text}"))
        }
    };
    check(
        status == case.status,
        &format!("status {} expected", case.status),
    )?;
    check(header("x-content-type-options") == "nosniff", "no nosniff")?;
    let content_type = header("content-type");
    match &case.expect {
        Expect::Problem(field) => {
            check(
                content_type == "application/problem+json",
                "not a problem+json",
            )?;
            let problem: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            check(problem["status"] == case.status, "problem status")?;
            check(
                problem["title"].as_str().is_some_and(|t| !t.is_empty()),
                "no title",
            )?;
            check(
                problem["detail"].as_str().is_some_and(|t| !t.is_empty()),
                "no detail",
            )?;
            if let Some(field) = field {
                let named = problem["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|e| e["field"] == *field);
                check(named, &format!("{field} not named"))?;
            }
        }
        Expect::Page(words) => {
            check(content_type.starts_with("text/html"), "not a page")?;
            check(text.contains(words), &format!("{words:?} not on the page"))?;
            check(
                header("content-security-policy").contains("frame-ancestors 'none'"),
                "no CSP",
            )?;
            check(
                header("referrer-policy") == "no-referrer",
                "no referrer policy",
            )?;
        }
    }
    Ok(())
}

/// An appointment booked next Thursday (its page link), and one cancelled by
/// the practice with the SMS ticked (its rebooking link).
async fn given_an_agenda(app: &TestApp) -> (String, String, String, String) {
    use domain::grants::Role;
    app.grant(OTHER_PRACTICE, OTHER_PRACTICE, Role::Owner).await;
    app.grant(
        OTHER_PRACTICE,
        &format!("{OTHER_PRACTICE}.secretariat"),
        Role::Secretariat,
    )
    .await;
    let start = next_week(app.today(), Weekday::Thu, 10, 0);
    let (status, booked) = app.book(DEMO, &booking(&start)).await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["id"].as_str().unwrap().to_string();
    let (status, cancelled) = app
        .book(DEMO, &booking(&next_week(app.today(), Weekday::Tue, 15, 0)))
        .await;
    assert_eq!(status, 201, "{cancelled}");
    let cancelled_id = cancelled["id"].as_str().unwrap().to_string();
    let response = app
        .as_practitioner(
            Method::PUT,
            DEMO,
            &format!("/practitioners/{DEMO}/appointments/{cancelled_id}/status"),
        )
        .json(&json!({"status": "to_reschedule", "send_cancellation_sms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let outbox = app.outbox().await;
    let link_of = |appointment: &str, part: &str| -> String {
        outbox
            .iter()
            .filter(|m| m["appointment_id"] == appointment)
            .flat_map(|m| m["links"].as_array().cloned().unwrap_or_default())
            .filter_map(|l| l.as_str().map(str::to_string))
            .find(|l| l.contains(part) && !l.ends_with("/slots"))
            .unwrap_or_else(|| panic!("a {part} link for {appointment} in {outbox:?}"))
    };
    let path = |url: String| url.replacen(&app.app.base_url, "", 1);
    let link = path(link_of(&id, "/a/"));
    let rebook = path(link_of(&cancelled_id, "/r/"));
    (id, link, rebook, start)
}

async fn every_bad_request_is_refused_and_changes_nothing(app: TestApp) {
    // Given an agenda with a booked and a cancelled appointment
    let (id, link, rebook, start) = given_an_agenda(&app).await;
    let before = app.dump_store().await;
    let sent_before = app.dump_sent().await;
    let cases = corpus(app.today(), &id, &link, &rebook, &start);
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let began = std::time::Instant::now();
    let mut wrong = Vec::new();
    for case in &cases {
        // When the hostile request is sent, then it gets its answer...
        if let Err(why) = run(&app, case).await {
            wrong.push(format!("{}: {why}", case.name));
        }
        // ...and the store is as it was (every item, compared whole)...
        let after = app.dump_store().await;
        assert!(
            before == after,
            "{} changed the store:\nbefore {before}\nafter {after}",
            case.name
        );
        // ...and nothing was sent or published. Messages and events are only
        // ever added, so on moto, where reading them back costs a second,
        // they are compared once after the corpus, which proves the same.
        if app.backend == acceptance::Backend::Embedded {
            assert_eq!(
                app.dump_sent().await,
                sent_before,
                "{} sent something",
                case.name
            );
        }
    }
    assert_eq!(
        app.dump_sent().await,
        sent_before,
        "the corpus sent something"
    );
    assert!(
        wrong.is_empty(),
        "{} of {} cases answered wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    eprintln!(
        "{} hostile cases on {:?} in {:.1} s",
        cases.len(),
        app.backend,
        began.elapsed().as_secs_f64()
    );
}

// ── The findings of issue 10, one test each ──────────────────────────────────

async fn finding_an_injected_email_header_is_refused_and_nothing_is_sent(app: TestApp) {
    // Given the public booking of a free slot
    let slots: Value = app
        .client
        .get(app.url(&format!(
            "/public/practitioners/{DEMO}/slots?reason_id=consultation"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let start = slots["slots"][0]["start"]
        .as_str()
        .expect("a free slot")
        .to_string();
    for email in [
        "x\r\nBcc: a@evil.example <victim@example.org>",
        "Jeanne <j@example.org>",
        "j@[127.0.0.1]",
    ] {
        let mut body = booking(&start);
        body["patient"]["email"] = email.into();
        // When it is posted with an address that is not bare
        let response = app
            .client
            .post(app.url(&format!("/public/practitioners/{DEMO}/appointments")))
            .json(&body)
            .send()
            .await
            .unwrap();
        // Then it is refused, naming the field
        assert_eq!(response.status(), 422, "{email:?}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "patient.email", "{problem}");
    }
    // And nothing was sent
    assert!(app.outbox().await.is_empty());
    // And a bare address books (through its verification), stored as the bare address
    let mut body = booking(&start);
    body["patient"]["email"] = "  jeanne@example.org ".into();
    let (status, booked) = app.book_online(DEMO, &body).await;
    assert_eq!(status, 201, "{booked}");
    let sent = app.outbox().await;
    let kinds: Vec<_> = sent
        .iter()
        .map(|m| m["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["verification_code", "confirmation"]);
    assert!(sent.iter().all(|m| m["to"] == "jeanne@example.org"));
}

async fn finding_a_six_digit_year_gets_an_answer_not_a_dropped_connection(app: TestApp) {
    for path in [
        format!("/public/practitioners/{DEMO}/slots?reason_id=consultation&from=%2B262142-12-31"),
        format!("/practitioners/{DEMO}/appointments?from=%2B262142-12-31"),
    ] {
        let response = app
            .as_practitioner(Method::GET, DEMO, &path)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 422, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "from", "{problem}");
    }
}

async fn finding_a_cancel_with_a_one_megabyte_body_does_not_cancel(app: TestApp) {
    let (id, link, _, _) = given_an_agenda(&app).await;
    let response = app
        .client
        .post(app.url(&format!("{link}/cancel")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(app.appointment(DEMO, &id).await["status"], "booked");
    // The same post without the padding cancels: the link was good.
    let response = app
        .client
        .post(app.url(&format!("{link}/cancel")))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.appointment(DEMO, &id).await["status"],
        "cancelled_by_patient"
    );
}

async fn finding_a_cyrillic_name_is_transliterated_in_the_sms(app: TestApp) {
    // Given Жанна Дюпон booked with a mobile, the practice at work
    app.during_the_working_day().await;
    let mut body = booking(&next_week(app.today(), Weekday::Thu, 11, 0));
    body["patient"]["first_name"] = "Жанна".into();
    body["patient"]["last_name"] = "Дюпон".into();
    body["patient"].as_object_mut().unwrap().remove("email");
    let (status, booked) = app.book(DEMO, &body).await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["id"].as_str().unwrap();
    // When the practice cancels it with the SMS
    let response = app
        .as_practitioner(
            Method::PUT,
            DEMO,
            &format!("/practitioners/{DEMO}/appointments/{id}/status"),
        )
        .json(&json!({"status": "to_reschedule", "send_cancellation_sms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Then the SMS greets her in Latin letters, never with question marks
    let sent = app.outbox().await;
    let sms = sent
        .iter()
        .find(|m| m["channel"] == "sms")
        .expect("the cancellation SMS");
    let text = sms["text"].as_str().unwrap();
    assert!(!text.contains('?'), "{text}");
    // With a rebooking link there is no room for a greeting; either way no `?`.
    assert!(
        text.contains("Zhanna Dyupon") || !text.contains("Bonjour"),
        "{text}"
    );
}

async fn finding_control_characters_and_invisible_names_are_refused(app: TestApp) {
    let mut body = settings();
    body["name"] = "Dr Martin\r\nBcc: x@evil.example".into();
    body["address"] = "12 rue\u{1b}[2J de la Paix".into();
    let response = app
        .as_practitioner(Method::PUT, DEMO, &format!("/practitioners/{DEMO}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("name"), json!("address")], "{problem}");
    let mut body = booking(&next_week(app.today(), Weekday::Thu, 11, 0));
    body["patient"]["first_name"] = "\u{200B}\u{200B}".into();
    let (status, problem) = app.book(DEMO, &body).await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"][0]["field"], "patient.first_name",
        "{problem}"
    );
}

async fn pages_carry_the_security_headers_and_still_submit(app: TestApp) {
    let (id, link, _, _) = given_an_agenda(&app).await;
    // The page as a browser asks for it
    let response = app.client.get(app.url(&link)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert!(
        policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert!(
        !policy.contains("script-src"),
        "no script is allowed at all: {policy}"
    );
    let page = response.text().await.unwrap();
    // Its one inline stylesheet is the one the policy allows by hash
    let style = domain::messages::templates::inline_style(&page).expect("the page's stylesheet");
    let hash = domain::messages::templates::page_style_sha256();
    assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
    // (a browser's hash: SHA-256 of the text between the tags, base64)
    use base64::Engine;
    use sha2::Digest;
    let browser = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
    assert_eq!(browser, hash);
    assert!(
        !page.contains("<script") && !page.contains(" style=\""),
        "{page}"
    );
    // And its form, posted by the browser from the page itself, still cancels
    let response = app
        .client
        .post(app.url(&format!("{link}/cancel")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", app.app.base_url.clone())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.appointment(DEMO, &id).await["status"],
        "cancelled_by_patient"
    );
}

// ── Issue 24: verified online booking and the limits, on both backends ────────

/// A free slot of the consultation reason, `n` slots into next week.
async fn free_slot(app: &TestApp, n: usize) -> String {
    let from = acceptance::first_after(app.today(), 7, Weekday::Mon);
    let slots: Value = app
        .client
        .get(app.url(&format!(
            "/public/practitioners/{DEMO}/slots?reason_id=consultation&from={from}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    slots["slots"][n]["start"]
        .as_str()
        .unwrap_or_else(|| panic!("a free slot {n} in {slots}"))
        .to_string()
}

async fn book_with(app: &TestApp, start: &str, email: &str, verification: &Value) -> (u16, Value) {
    let mut body = booking(start);
    body["patient"]["email"] = email.into();
    body["verification"] = verification.clone();
    let response = app
        .client
        .post(app.url(&format!("/public/practitioners/{DEMO}/appointments")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn codes_cannot_be_guessed_replayed_or_sent_beyond_the_limits(app: TestApp) {
    let slot = |n| free_slot(&app, n);
    let field = |v: &Value| {
        v["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // Given a code sent to Jeanne's address
    let proof = app.verification(DEMO, "jeanne@example.org").await;
    let wrong = json!({"id": proof["id"], "code": if proof["code"] == "000000" { "000001" } else { "000000" }});
    // When five wrong codes are tried, each is refused naming the verification
    let first = slot(0).await;
    for _ in 0..5 {
        let (status, problem) = book_with(&app, &first, "jeanne@example.org", &wrong).await;
        assert_eq!(
            (status, field(&problem)),
            (422, "verification".into()),
            "{problem}"
        );
    }
    // And from then on nothing gets through, the right code included, and nothing changes
    let dead = app.dump_store().await;
    for attempt in [&wrong, &proof] {
        let (status, problem) = book_with(&app, &first, "jeanne@example.org", attempt).await;
        assert_eq!(
            (status, field(&problem)),
            (422, "verification".into()),
            "{problem}"
        );
        assert_eq!(
            app.dump_store().await,
            dead,
            "a dead verification changed the store"
        );
    }

    // Given a verified booking of Paul's
    let paul = app.verification(DEMO, "paul@example.org").await;
    let (status, booked) = book_with(&app, &first, "paul@example.org", &paul).await;
    assert_eq!(status, 201, "{booked}");
    // When the same verification is replayed for another slot, then 422, nothing changes
    let before = app.dump_store().await;
    let (status, problem) = book_with(&app, &slot(1).await, "paul@example.org", &paul).await;
    assert_eq!(
        (status, field(&problem)),
        (422, "verification".into()),
        "{problem}"
    );
    assert_eq!(app.dump_store().await, before, "a replay changed the store");
    // And another address than the verified one counts as a wrong code
    let marie = app.verification(DEMO, "marie@example.org").await;
    let (status, problem) = book_with(&app, &slot(1).await, "paul@example.org", &marie).await;
    assert_eq!(
        (status, field(&problem)),
        (422, "verification".into()),
        "{problem}"
    );

    // Given Marie's code, when she books Paul's slot: 409, and the code is not used
    let (status, problem) = book_with(&app, &first, "marie@example.org", &marie).await;
    assert_eq!(status, 409, "{problem}");
    let (status, booked) = book_with(&app, &slot(1).await, "marie@example.org", &marie).await;
    assert_eq!(status, 201, "{booked}");

    // Given Paul's address holds one future appointment, a second books and a third is 409
    let (status, booked) = app
        .book_online(DEMO, &{
            let mut body = booking(&slot(2).await);
            body["patient"]["email"] = "Paul+2@example.org".into();
            body
        })
        .await;
    assert_eq!(status, 201, "{booked}");
    let third = app.verification(DEMO, "paul@example.org").await;
    let before = app.dump_store().await;
    let (status, problem) = book_with(&app, &slot(3).await, "paul@example.org", &third).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        app.dump_store().await,
        before,
        "a booking over the per-patient limit changed the store"
    );

    // Given Lucie asked for three codes this hour (the limit per address)
    for _ in 0..3 {
        app.verification(DEMO, "lucie@example.org").await;
    }
    // When she asks a fourth time, then 429 with Retry-After, and nothing changes or is sent
    let before = app.dump_store().await;
    let sent_before = app.outbox().await.len();
    let response = app
        .client
        .post(app.url(&format!("/public/practitioners/{DEMO}/verifications")))
        .json(&json!({"email": "LUCIE+again@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        app.dump_store().await,
        before,
        "a refused code request changed the store"
    );
    assert_eq!(
        app.outbox().await.len(),
        sent_before,
        "a refused code request sent something"
    );
}

async fn a_uk_mobile_on_a_french_practice_gets_no_sms_and_the_log_says_why(app: TestApp) {
    // Given a patient with a UK mobile, at the demo practice (France and its
    // overseas departments), the practice at work
    app.during_the_working_day().await;
    let mut body = booking(&next_week(app.today(), Weekday::Thu, 11, 0));
    body["patient"]["mobile"] = "+44 7400 123456".into();
    let (status, booked) = app.book(DEMO, &body).await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["id"].as_str().unwrap().to_string();
    // Then no SMS reminder is shown for it
    assert_eq!(booked["reminders"]["sms"], Value::Null, "{booked}");
    // When the practice cancels it with the SMS
    let response = app
        .as_practitioner(
            Method::PUT,
            DEMO,
            &format!("/practitioners/{DEMO}/appointments/{id}/status"),
        )
        .json(&json!({"status": "to_reschedule", "send_cancellation_sms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Then no SMS went, the e-mail did, and the log says why not in the practice's words
    let sent = app.outbox().await;
    assert!(!sent.iter().any(|m| m["channel"] == "sms"), "{sent:?}");
    assert!(
        sent.iter()
            .any(|m| m["kind"] == "practitioner_cancellation" && m["channel"] == "email")
    );
    let log = app.appointment(DEMO, &id).await["communications"].clone();
    let sms = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["channel"] == "sms")
        .unwrap_or_else(|| panic!("an SMS entry in {log}"));
    assert_eq!(sms["state"], "skipped");
    assert_eq!(sms["reason_code"], "country_not_texted");
    assert_eq!(
        sms["reason"],
        "numéro de portable d'un pays où le cabinet n'envoie pas de SMS"
    );
}

on_each_backend!(
    codes_cannot_be_guessed_replayed_or_sent_beyond_the_limits,
    a_uk_mobile_on_a_french_practice_gets_no_sms_and_the_log_says_why,
    every_bad_request_is_refused_and_changes_nothing,
    finding_an_injected_email_header_is_refused_and_nothing_is_sent,
    finding_a_six_digit_year_gets_an_answer_not_a_dropped_connection,
    finding_a_cancel_with_a_one_megabyte_body_does_not_cancel,
    finding_a_cyrillic_name_is_transliterated_in_the_sms,
    finding_control_characters_and_invisible_names_are_refused,
    pages_carry_the_security_headers_and_still_submit,
);
