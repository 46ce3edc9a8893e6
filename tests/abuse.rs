//! The scripted abuse run of issue 24: an attacker against online booking,
//! through two instances of the booking function (two Lambda instances)
//! sharing one store, as on AWS: whatever instance a request reaches, the
//! limits hold, because they are counted in the store.
//!
//! - 50 online bookings from one source address with 50 e-mail addresses,
//!   then 50 from one e-mail address: at most the quotas succeed, the rest
//!   are 429 (or 409 beyond `max_future_per_patient`), and each refusal
//!   leaves the store as it was (compared whole);
//! - 6 wrong codes: the verification is dead, the right code no longer books;
//! - names with a link, a domain or digits: 422.
//!
//! The UK mobile on a French practice (no SMS, logged) runs on local mode
//! and on moto in tests/hostile_input.rs, where the senders run.

use aws_adapters::config::Config;
use aws_adapters::wiring::Adapters;
use booking::BookingApi;
use chrono::{DateTime, Datelike, Utc, Weekday};
use domain::ports::SettingsStore;
use domain::settings::PractitionerSettings;
use lambda_http::{Body, Request};
use local::embedded::{AdjustableClock, MemoryStore, MemoryTable, Outbox, RecordedEvents};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const DEMO: &str = "dr-martin";

/// Two booking functions over one table, one outbox, one clock.
struct World {
    instances: [BookingApi; 2],
    table: Arc<MemoryTable>,
    outbox: Arc<Outbox>,
    clock: Arc<AdjustableClock>,
}

/// A Monday at 08:00 in Paris: the practice's week ahead is free.
fn monday_morning() -> DateTime<Utc> {
    "2026-12-07T07:00:00Z".parse().unwrap()
}

async fn world() -> World {
    let table = Arc::new(MemoryTable::new());
    let clock = Arc::new(AdjustableClock::starting_at(monday_morning()));
    let outbox = Arc::new(Outbox::new(clock.clone()));
    let store = MemoryStore::new(table.clone());
    let mut settings: PractitionerSettings =
        serde_json::from_str(include_str!("../infra/local/demo-practitioner.json")).unwrap();
    settings.id = domain::ids::PractitionerId::parse(DEMO).unwrap();
    store.put_settings(&settings).await.unwrap();
    let mut config = Config::default();
    config.contact_hash_key =
        Some(String::from_utf8(domain::keyed::HashKey::local_mode_bytes().to_vec()).unwrap());
    let adapters = Adapters {
        table: Some(table.clone()),
        mailer: Some(outbox.clone()),
        sms: Some(outbox.clone()),
        events: Some(Arc::new(RecordedEvents::new())),
        clock: clock.clone(),
        config,
    };
    // Two instances, each composed as a Lambda instance composes itself.
    let instances = [
        booking::compose(&adapters).unwrap(),
        booking::compose(&adapters).unwrap(),
    ];
    World {
        instances,
        table,
        outbox,
        clock,
    }
}

/// The request API Gateway hands the function, from `source`.
fn request(method: &str, path: &str, query: &str, source: &str, body: Option<&Value>) -> Request {
    let mut event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "api.example.org"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.org",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": source, "userAgent": "abuse"},
            "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "", "timeEpoch": 0
        },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    if let Some(body) = body {
        event["body"] = Value::String(body.to_string());
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl World {
    /// Sends to instance `n % 2`.
    async fn send(&self, n: usize, request: Request) -> Answer {
        let response = self.instances[n % 2].handle(request).await.unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let body = match response.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Answer {
            status: response.status().as_u16(),
            retry_after,
            body,
        }
    }

    async fn ask_code(&self, n: usize, source: &str, email: &str) -> Answer {
        let path = format!("/public/practitioners/{DEMO}/verifications");
        self.send(
            n,
            request("POST", &path, "", source, Some(&json!({"email": email}))),
        )
        .await
    }

    async fn book(&self, n: usize, source: &str, body: &Value) -> Answer {
        let path = format!("/public/practitioners/{DEMO}/appointments");
        self.send(n, request("POST", &path, "", source, Some(body)))
            .await
    }

    /// The code of the latest e-mail to `email` (the outbox shows it, as
    /// local mode's does).
    fn code_sent_to(&self, email: &str) -> String {
        self.outbox
            .messages()
            .iter()
            .rev()
            .find(|m| m.to == email && m.kind.as_str() == "verification_code")
            .and_then(|m| acceptance::six_digits(&m.text))
            .unwrap_or_else(|| panic!("no code reached {email}"))
    }

    /// Every free consultation slot of the coming two weeks.
    async fn free_slots(&self) -> Vec<String> {
        let from = (self.clock_now() + chrono::Duration::days(1)).date_naive();
        let to = from + chrono::Duration::days(13);
        let path = format!("/public/practitioners/{DEMO}/slots");
        let query = format!("reason_id=consultation&from={from}&to={to}");
        let answer = self
            .send(0, request("GET", &path, &query, "198.51.100.1", None))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["start"].as_str().unwrap().to_string())
            .collect()
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use domain::ports::Clock;
        self.clock.now()
    }

    fn dump(&self) -> BTreeMap<(String, String), Value> {
        self.table.dump()
    }
}

fn booking(start: &str, email: &str, verification: Value) -> Value {
    json!({"reason_id": "consultation", "start": start,
           "patient": {"first_name": "Jeanne", "last_name": "Dupont", "email": email},
           "verification": verification})
}

/// One attempt as a script makes it: a code, then the booking with it.
/// The statuses of both (the booking's `None` when no code came).
async fn attempt(
    world: &World,
    n: usize,
    source: &str,
    email: &str,
    start: &str,
) -> (u16, Option<u16>) {
    let before = world.dump();
    let asked = world.ask_code(n, source, email).await;
    if asked.status != 202 {
        // Then the refusal is a 429 with when to come back, and nothing changed
        assert_eq!(asked.status, 429, "{}", asked.body);
        let retry = asked.retry_after.expect("a Retry-After");
        assert!((1..=3600).contains(&retry), "{retry}");
        assert_eq!(
            world.dump(),
            before,
            "a refused code request changed the store"
        );
        return (asked.status, None);
    }
    let proof = json!({"id": asked.body["id"], "code": world.code_sent_to(email)});
    let before = world.dump();
    // The booking goes to the other instance than the code request.
    let booked = world
        .book(n + 1, source, &booking(start, email, proof))
        .await;
    if booked.status != 201 {
        assert_eq!(world.dump(), before, "a refused booking changed the store");
    }
    (asked.status, Some(booked.status))
}

#[tokio::test]
async fn a_script_books_at_most_what_the_limits_allow_whichever_instance_it_reaches() {
    // Given two booking instances over one store, and the practice's free slots
    let world = world().await;
    let slots = world.free_slots().await;
    assert!(slots.len() >= 100, "{} slots", slots.len());
    assert_eq!(world.clock_now().weekday(), Weekday::Mon);

    // When a script books 50 times from one address with 50 e-mail addresses
    let mut booked = 0;
    let mut refused = BTreeMap::new();
    for n in 0..50 {
        let email = format!("patient{n}@example.org");
        match attempt(&world, n, "203.0.113.9", &email, &slots[n]).await {
            (202, Some(201)) => booked += 1,
            (status, booking) => *refused.entry((status, booking)).or_insert(0) += 1,
        }
    }
    // Then 10 succeed (codes per source address), the other 40 are 429
    assert_eq!(booked, 10, "{refused:?}");
    assert_eq!(refused, BTreeMap::from([((429, None), 40)]));

    // When it books 50 times with one e-mail address, from another address
    let mut outcomes = Vec::new();
    for n in 0..50 {
        let outcome = attempt(
            &world,
            n,
            "203.0.113.10",
            "victim@example.org",
            &slots[50 + n],
        )
        .await;
        outcomes.push(outcome);
    }
    // Then 3 codes are sent (codes per e-mail address): two book, the third
    // is refused by max_future_per_patient (409), and the rest are 429
    assert_eq!(
        outcomes[..3],
        [(202, Some(201)), (202, Some(201)), (202, Some(409))]
    );
    assert!(
        outcomes[3..].iter().all(|o| *o == (429, None)),
        "{outcomes:?}"
    );
    // And a tag or capitals make no new address
    let (status, _) = attempt(
        &world,
        0,
        "203.0.113.11",
        "Victim+x@Example.org",
        &slots[99],
    )
    .await;
    assert_eq!(status, 429);

    // And the agenda holds exactly the 12 bookings
    let appointments = world
        .dump()
        .into_iter()
        .filter(|(_, item)| item["type"] == "appointment")
        .count();
    assert_eq!(appointments, 12);
    // And only 13 codes were ever sent (10 + 3), each its own e-mail
    let codes = world
        .outbox
        .messages()
        .iter()
        .filter(|m| m.kind.as_str() == "verification_code")
        .count();
    assert_eq!(codes, 13);
}

#[tokio::test]
async fn six_wrong_codes_kill_the_verification() {
    // Given a code sent to an address
    let world = world().await;
    let slots = world.free_slots().await;
    let email = "jeanne@example.org";
    let asked = world.ask_code(0, "203.0.113.20", email).await;
    assert_eq!(asked.status, 202);
    let right = world.code_sent_to(email);
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    let id = asked.body["id"].clone();

    // When six wrong codes are tried, on either instance
    for n in 0..6 {
        let body = booking(&slots[0], email, json!({"id": id, "code": wrong}));
        let answer = world.book(n, "203.0.113.20", &body).await;
        // Then each is refused, naming the verification
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert_eq!(answer.body["errors"][0]["field"], "verification");
    }
    // And the right code no longer books, and changes nothing
    let before = world.dump();
    let body = booking(&slots[0], email, json!({"id": id, "code": right}));
    let answer = world.book(1, "203.0.113.20", &body).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too many wrong codes"),
        "{}",
        answer.body
    );
    assert_eq!(world.dump(), before);
    assert!(
        !world
            .dump()
            .values()
            .any(|item| item["type"] == "appointment")
    );
}

#[tokio::test]
async fn names_that_carry_a_link_a_domain_or_digits_are_refused() {
    let world = world().await;
    let slots = world.free_slots().await;
    let email = "jeanne@example.org";
    let asked = world.ask_code(0, "203.0.113.30", email).await;
    let proof = json!({"id": asked.body["id"], "code": world.code_sent_to(email)});
    let before = world.dump();
    for (field, name) in [
        ("first_name", "https://evil.com"),
        ("last_name", "evil.com"),
        ("first_name", "Jeanne 2"),
        ("last_name", "Call 0612345678"),
    ] {
        let mut body = booking(&slots[0], email, proof.clone());
        body["patient"][field] = name.into();
        let answer = world.book(0, "203.0.113.30", &body).await;
        assert_eq!(answer.status, 422, "{name}: {}", answer.body);
        assert_eq!(
            answer.body["errors"][0]["field"],
            format!("patient.{field}")
        );
    }
    // And nothing changed, the verification still unused: it books
    assert_eq!(world.dump(), before);
    let answer = world
        .book(1, "203.0.113.30", &booking(&slots[0], email, proof))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}
