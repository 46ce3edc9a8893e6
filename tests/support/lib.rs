//! Helpers for the tests across crates: a local server per test (`spawn_app`),
//! on the embedded store or on moto through the AWS adapters, and AWS clients
//! pointed at moto.

pub mod aws;
pub mod mime;
pub mod recording;
pub mod tables;

use aws::MotoRun;
use local::backend::AwsBackend;
use local::{LocalApp, LocalConfig};
use serde_json::Value;
use std::net::SocketAddr;

/// What the handlers of the local server talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store, the outbox and in-memory events.
    Embedded,
    /// DynamoDB, SES v2 and EventBridge on the moto server `make test` starts,
    /// with the stream read from DynamoDB Streams.
    Moto,
}

/// Where what was sent is read back from: never the adapters' own records.
enum Sent {
    Outbox,
    Moto { run: MotoRun, aws: Box<AwsBackend> },
}

/// The local server of SPEC §8 on a free port, with the demo practitioner.
pub struct TestApp {
    pub app: LocalApp,
    pub client: reqwest::Client,
    pub backend: Backend,
    sent: Sent,
    /// On moto: a second local server on the same table, bus and sender.
    others: Vec<LocalApp>,
    /// Patients' mobiles (E.164) and their appointment, as booked through
    /// [`TestApp::book`]: on moto, SMS are found by number.
    phones: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// A French mobile number no other test process uses, so SMS read back from
/// the moto server shared by every test are this test's own.
pub fn mobile() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 100;
    format!("06{:06}{n:02}", std::process::id() % 1_000_000)
}

/// One scenario body, two tests: `<scenario>::embedded` and `<scenario>::moto`.
/// The scenario is an `async fn(TestApp)` of the calling file.
#[macro_export]
macro_rules! on_each_backend {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$scenario($crate::spawn_app_on($crate::Backend::Embedded).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs moto: run through `make test`"]
            async fn moto() {
                super::$scenario($crate::spawn_app_on($crate::Backend::Moto).await).await;
            }
        }
    )*};
}

/// The local server on the embedded store.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Embedded).await
}

/// The local server with its handlers on `backend`. On moto, with local
/// mode's conveniences switched on (local tokens, `/dev/*`, the demo
/// practitioner): the tests drive it as a developer would.
pub async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn_app_with(backend, true).await
}

/// The same, with `insecure` as `AGENDA_INSECURE_LOCAL` would set it.
pub async fn spawn_app_with(backend: Backend, insecure: bool) -> TestApp {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = LocalConfig::on(addr);
    config.clock_start = clock_start();
    let (sent, aws) = match backend {
        Backend::Embedded => (Sent::Outbox, None),
        Backend::Moto => {
            let run = MotoRun::new();
            let sdk = aws::sdk_config().await;
            run.provision(&sdk).await;
            config.environment = run.environment();
            let aws = AwsBackend { sdk };
            (
                Sent::Moto {
                    run,
                    aws: Box::new(aws.clone()),
                },
                Some(aws),
            )
        }
    };
    if let Some(aws) = aws {
        config.backend = local::backend::Backend::Aws(Box::new(aws));
        config.insecure = insecure;
    }
    let app = LocalApp::start(config).await.expect("local mode starts");
    TestApp {
        app,
        client: reqwest::Client::new(),
        backend,
        sent,
        others: Vec::new(),
        phones: Default::default(),
    }
}

pub const DEMO: &str = "dr-martin";

/// Where every app a test spawns starts its clock: at `AGENDA_CLOCK_START`
/// when the run gives one (as for local mode itself, SPEC §8; `make
/// test-any-hour` runs every scenario at five of them), else in the
/// practice's daytime ([`practice_daytime`]).
pub fn clock_start() -> Option<chrono::DateTime<chrono::Utc>> {
    match local::embedded::clock::clock_start_from_env() {
        Ok(Some(forced)) => Some(forced.to_utc()),
        Ok(None) => practice_daytime(chrono::Utc::now()),
        Err(invalid) => panic!("{invalid}"),
    }
}

/// Where a scenario's clock starts: the scenarios are written for the
/// practice's working day, and at night (the demo's quiet hours are
/// 21:00–08:00 in Paris) a cancellation SMS is held till morning (SPEC §4.4).
/// So a run between 19:00 and 08:00 Paris time starts the app's clock at the
/// last 18:00, two hours clear of the quiet hours for even a long test; by
/// day it is the real time. Tests that need the night move the clock there.
pub fn practice_daytime(
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{TimeZone, Timelike};
    use chrono_tz::Europe::Paris;
    let local = now.with_timezone(&Paris);
    let day = match local.hour() {
        8..19 => return None,
        19.. => local.date_naive(),
        _ => local.date_naive().pred_opt()?,
    };
    Paris
        .from_local_datetime(&day.and_hms_opt(18, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The first `weekday` at least `days` days after `today`: "next week's
/// Thursday", "the Monday of the week after next".
pub fn first_after(
    today: chrono::NaiveDate,
    days: u64,
    weekday: chrono::Weekday,
) -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut day = today + chrono::Days::new(days);
    while day.weekday() != weekday {
        day = day + chrono::Days::new(1);
    }
    day
}

/// When the practice's working day next resumes after `now`: `None` when
/// `now` is in it (08:00–19:00 in Paris, as for [`practice_daytime`]), else
/// 09:00 of the coming morning, clear of the demo's quiet hours.
pub fn working_day_resumes(
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{TimeZone, Timelike};
    use chrono_tz::Europe::Paris;
    let local = now.with_timezone(&Paris);
    let morning = match local.hour() {
        8..19 => return None,
        19.. => local.date_naive().succ_opt()?,
        _ => local.date_naive(),
    };
    Paris
        .from_local_datetime(&morning.and_hms_opt(9, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl TestApp {
    /// For a scenario written for the practice at work — a cancellation SMS
    /// goes at once only outside quiet hours (SPEC §4.4) — when the run's
    /// clock started at night: moves the clock forward to the next morning
    /// (which runs the sweep, as the schedule would have). By day, nothing.
    pub async fn during_the_working_day(&self) {
        let Some(morning) = working_day_resumes(self.now()) else {
            return;
        };
        let moved = self
            .client
            .post(self.url("/dev/clock"))
            .json(&serde_json::json!({"now": morning.to_rfc3339()}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(moved.status(), 200, "the clock moves to {morning}");
    }

    /// The app's own time ([`clock_start`]), which scenarios reason in: never
    /// the machine's, so that they pass at any hour.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use domain::ports::Clock;
        self.app.state.clock.now()
    }

    /// The practice's date (Paris) on the app's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive()
    }

    /// [`first_after`] the practice's [`TestApp::today`].
    pub fn first_after(&self, days: u64, weekday: chrono::Weekday) -> chrono::NaiveDate {
        first_after(self.today(), days, weekday)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url)
    }

    /// A request as the practitioner's front end sends it (local token).
    pub fn as_practitioner(
        &self,
        method: reqwest::Method,
        practitioner: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(format!("local-{practitioner}"))
    }

    /// A request as a member's front end sends it: `local-<sub>`, whatever
    /// grants that `sub` holds (SPEC §6.1).
    pub fn as_member(
        &self,
        method: reqwest::Method,
        sub: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(format!("local-{sub}"))
    }

    /// Gives `sub` the role `role` on `practitioner`, in the store itself, as
    /// the operator's `agenda-ops grant-owner` or an owner would.
    pub async fn grant(&self, practitioner: &str, sub: &str, role: domain::grants::Role) {
        domain::fixtures::grant(self.app.state.store.as_ref(), practitioner, sub, role).await;
    }

    /// Moves the local clock forward by `by` (`POST /dev/clock`).
    pub async fn advance_clock(&self, by: chrono::Duration) {
        let now = self.now() + by;
        let moved = self
            .client
            .post(self.url("/dev/clock"))
            .json(&serde_json::json!({ "now": now.to_rfc3339() }))
            .send()
            .await
            .unwrap();
        assert_eq!(moved.status(), 200, "the clock moves to {now}");
    }

    pub async fn book(&self, practitioner: &str, body: &Value) -> (u16, Value) {
        let response = self
            .as_practitioner(
                reqwest::Method::POST,
                practitioner,
                &format!("/practitioners/{practitioner}/appointments"),
            )
            .json(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let answer = response.json().await.unwrap_or(Value::Null);
        self.remember_patient(&answer);
        (status, answer)
    }

    /// Asks `practitioner` for a verification code for `email` (SPEC §6.3)
    /// and reads it from the messages sent (the outbox, or what moto's SES
    /// received), as the patient would: the `verification` an online
    /// booking carries.
    pub async fn verification(&self, practitioner: &str, email: &str) -> Value {
        let response = self
            .client
            .post(self.url(&format!(
                "/public/practitioners/{practitioner}/verifications"
            )))
            .json(&serde_json::json!({"email": email}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 202, "a code is sent to {email}");
        let sent: Value = response.json().await.unwrap();
        let code = self
            .code_sent_to(email)
            .await
            .unwrap_or_else(|| panic!("no verification code reached {email}"));
        serde_json::json!({"id": sent["id"], "code": code})
    }

    /// The code of the latest verification e-mail to `email`, if any.
    pub async fn code_sent_to(&self, email: &str) -> Option<String> {
        let wanted = email.trim().to_lowercase();
        self.outbox()
            .await
            .iter()
            .rev()
            .filter(|m| m["kind"] == "verification_code")
            .find(|m| {
                m["to"]
                    .as_str()
                    .is_some_and(|to| to.to_lowercase() == wanted)
            })
            .and_then(|m| six_digits(m["text"].as_str()?))
    }

    /// Books `body` online with `practitioner`, through the verification of
    /// its patient's e-mail (SPEC §6.3): the answer's status and body.
    pub async fn book_online(&self, practitioner: &str, body: &Value) -> (u16, Value) {
        let mut body = body.clone();
        if let Some(email) = body["patient"]["email"].as_str() {
            body["verification"] = self.verification(practitioner, email).await;
        }
        let response = self
            .client
            .post(self.url(&format!(
                "/public/practitioners/{practitioner}/appointments"
            )))
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Notes the patient's mobile of a booked appointment (see `phones`).
    pub fn remember_patient(&self, appointment: &Value) {
        if let (Some(mobile), Some(id)) = (
            appointment["patient"]["mobile"].as_str(),
            appointment["id"].as_str(),
        ) {
            self.phones
                .lock()
                .unwrap()
                .insert(mobile.to_string(), id.to_string());
        }
    }

    pub async fn appointment(&self, practitioner: &str, id: &str) -> Value {
        self.as_practitioner(
            reqwest::Method::GET,
            practitioner,
            &format!("/practitioners/{practitioner}/appointments/{id}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }

    /// The messages sent, oldest first, once every stream record so far has
    /// been handled: local mode's outbox, or what moto's SES received.
    pub async fn outbox(&self) -> Vec<Value> {
        self.senders_done().await;
        if let Sent::Moto { run, .. } = &self.sent {
            let data = MotoRun::moto_data(&self.client).await;
            let mut sent = run.emails(&data);
            sent.extend(run.sms(&data, &self.phones.lock().unwrap()));
            return sent;
        }
        let body: Value = self
            .client
            .get(self.url("/dev/outbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["messages"].as_array().cloned().unwrap_or_default()
    }
}

/// The first run of exactly six digits in `text` (a verification code).
pub fn six_digits(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let run = &bytes[i..i + 6];
        let alone = (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
        (alone && run.iter().all(u8::is_ascii_digit)).then(|| text[i..i + 6].to_string())
    })
}

/// How long the senders may take to catch up with the stream: moto's stream
/// is polled, and a pump stuck on errors must fail the test, not hang it.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(30);

impl TestApp {
    /// Waits until every stream record written so far has been handled.
    pub async fn senders_done(&self) {
        let all = async {
            self.app.stream_idle().await;
            for other in &self.others {
                other.stream_idle().await;
            }
        };
        tokio::time::timeout(CATCH_UP, all)
            .await
            .expect("the senders did not catch up with the stream within 30 s");
    }

    /// On moto, starts a second local server on the same table, bus and
    /// sender: its senders read the same stream, as two overlapping Lambda
    /// invocations or a redelivery would.
    pub async fn start_second_reader(&mut self) {
        let Sent::Moto { aws, run } = &self.sent else {
            panic!("a second reader needs the moto backend");
        };
        let mut config = LocalConfig::on("127.0.0.1:0".parse().unwrap());
        // The same time as the first: two workers whose clocks disagree by
        // more than the claim lease would each take the other's claim over.
        config.clock_start = Some(self.now());
        config.backend = local::backend::Backend::Aws(aws.clone());
        config.environment = run.environment();
        config.insecure = true;
        let other = LocalApp::start(config).await.expect("local mode starts");
        self.others.push(other);
    }

    /// Every item of the store, once the senders caught up: the embedded
    /// store's own items, or a scan of the table on moto.
    pub async fn dump_store(&self) -> Value {
        self.senders_done().await;
        match &self.sent {
            Sent::Outbox => {
                let memory = self.app.state.memory.as_ref().expect("the embedded store");
                let items: Vec<Value> = memory
                    .dump()
                    .into_iter()
                    .map(|((pk, sk), item)| serde_json::json!({"pk": pk, "sk": sk, "item": item}))
                    .collect();
                Value::Array(items)
            }
            Sent::Moto { run, aws } => Value::Array(aws::scan(&aws.sdk, &run.table).await),
        }
    }

    /// Every message sent (outbox, or what moto's SES and SNS received for
    /// this test) and every event published, once the senders caught up.
    pub async fn dump_sent(&self) -> Value {
        self.senders_done().await;
        match &self.sent {
            Sent::Outbox => {
                let outbox = serde_json::to_value(self.app.state.outbox.messages()).unwrap();
                let events = serde_json::to_value(self.app.state.events.events()).unwrap();
                serde_json::json!({"messages": outbox, "events": events})
            }
            Sent::Moto { run, .. } => {
                let data = MotoRun::moto_data(&self.client).await;
                let mut messages = run.emails(&data);
                messages.extend(run.sms(&data, &self.phones.lock().unwrap()));
                serde_json::json!({"messages": messages, "events": run.events(&data)})
            }
        }
    }

    /// The events published on the bus (their `detail`), oldest first.
    pub async fn published_events(&self) -> Vec<Value> {
        self.senders_done().await;
        match &self.sent {
            Sent::Moto { run, .. } => run.events(&MotoRun::moto_data(&self.client).await),
            Sent::Outbox => self
                .app
                .state
                .events
                .events()
                .iter()
                .map(|e| serde_json::to_value(e).expect("events serialize"))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(t).unwrap().to_utc()
    }

    #[test]
    fn the_working_day_resumes_at_nine_the_coming_morning_and_by_day_is_now() {
        // Given moments of the practice's day and night, DST nights included,
        // when asked when the working day resumes, then
        for (now, resumes) in [
            ("2026-12-08T12:00:00+01:00", None),
            (
                "2026-12-08T23:50:00+01:00",
                Some("2026-12-09T09:00:00+01:00"),
            ),
            (
                "2026-12-08T03:00:00+01:00",
                Some("2026-12-08T09:00:00+01:00"),
            ),
            (
                "2027-03-28T01:50:00+01:00",
                Some("2027-03-28T09:00:00+02:00"),
            ),
            (
                "2027-10-31T01:50:00+02:00",
                Some("2027-10-31T09:00:00+01:00"),
            ),
        ] {
            assert_eq!(working_day_resumes(at(now)), resumes.map(at), "{now}");
        }
    }
}
