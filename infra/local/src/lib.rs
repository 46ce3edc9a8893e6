//! Local mode (SPEC §8): every Lambda handler of the project behind one HTTP
//! server, with the Lambdas' own store over a memory table whose stream feeds
//! the senders exactly as DynamoDB Streams does on AWS, an outbox instead of
//! SES, and a clock that can be moved. The handlers are the functions' own,
//! built by their own `compose` from the same [`Adapters`] value AWS builds:
//! nothing is re-implemented. The same server can use DynamoDB, SES and
//! EventBridge instead ([`backend`]).

// Local mode on AWS services, and direct invocation of the handlers.
pub mod aws_stream;
pub mod backend;
pub mod invoke;
pub mod provision;

pub mod dev;
pub mod embedded;
pub mod feedback;
pub mod functions;
pub mod gateway;
pub mod schedule;
pub mod stream;
pub mod template;

use crate::embedded::AdjustableClock;
use crate::embedded::Outbox;
use crate::embedded::RecordedEvents;
use aws_adapters::config::{Config, ConfigError};
use aws_adapters::store::TableStore;
use aws_adapters::wiring::{Adapters, Needs, Trigger};
use axum::Router;
use axum::routing::{get, post};
use backend::{Backend, Wiring};
use domain::ids::PractitionerId;
use domain::ports::capabilities::*;
use domain::ports::{Clock, Mailer};
use domain::settings::PractitionerSettings;
use functions::Handler;
use gateway::{Gateway, HttpFunction};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use stream::StreamFunction;

/// The demo practitioner present at start (SPEC §8).
pub const DEMO_PRACTITIONER: &str = "dr-martin";
const DEMO_SETTINGS: &str = include_str!("../demo-practitioner.json");

pub struct LocalConfig {
    pub addr: SocketAddr,
    pub seed_demo: bool,
    /// Memory table and outbox, or AWS services.
    pub backend: Backend,
    /// Where the local clock starts (default: the real time).
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// `AGENDA_INSECURE_LOCAL=1`: the conveniences of local mode (`local-`
    /// tokens, `/dev/*`, the demo practitioner) even against AWS resources.
    pub insecure: bool,
    /// The functions' configuration, as the Lambdas read it (`make run`
    /// reads it from the environment: `Config::from_env`). Local mode
    /// provides what is unset: the public base URL is the bound address;
    /// the table, bus and sender are needed against AWS only.
    pub environment: Config,
}

impl LocalConfig {
    pub fn on(addr: SocketAddr) -> Self {
        Self {
            addr,
            seed_demo: true,
            backend: Backend::Embedded,
            clock_start: None,
            insecure: false,
            environment: Config::default(),
        }
    }

    /// Local tokens, `/dev/*` and seeding act for anyone on whatever the
    /// server is pointed at: fine on the memory table, refused against AWS
    /// (a real table, real SES) unless asked for explicitly.
    pub fn local_conveniences(&self) -> bool {
        !self.backend.is_aws() || self.insecure
    }
}

/// The switch that allows local mode's conveniences against AWS and on a
/// non-loopback address.
pub const AGENDA_INSECURE_LOCAL: &str = "AGENDA_INSECURE_LOCAL";

/// What the local-only routes reach.
pub struct LocalState {
    pub store: Arc<dyn Store>,
    /// The memory table, when it is the backend (tests dump it).
    pub memory: Option<Arc<embedded::MemoryTable>>,
    /// Empty when messages go to SES (`uses_aws`).
    pub outbox: Arc<Outbox>,
    pub uses_aws: bool,
    pub events: Arc<RecordedEvents>,
    pub clock: Arc<AdjustableClock>,
    gateway: Gateway,
    /// The delivery-feedback function's handler (`POST /dev/deliveries`).
    pub feedback: feedback::FeedbackFunction,
    /// The scheduled functions (the reminder sweeper), and the stream
    /// consumers to wait for around a run.
    scheduled: Vec<schedule::ScheduledFunction>,
    stream_pending: Vec<stream::Progress>,
}

impl LocalState {
    async fn stream_idle(&self) {
        for pending in &self.stream_pending {
            pending.idle().await;
        }
    }

    /// Runs the scheduled functions (the reminder sweeper) once, after every
    /// change so far has reached the due index; answers how many reminders
    /// they sent.
    pub async fn sweep_reminders(&self) -> Result<usize, String> {
        if self.scheduled.is_empty() {
            return Err("template.yaml schedules no function".into());
        }
        self.stream_idle().await;
        let mut sent = 0;
        for function in &self.scheduled {
            let report = function().await?;
            sent += report["sent"].as_u64().unwrap_or_default() as usize;
        }
        self.stream_idle().await;
        Ok(sent)
    }
}

/// A running local server.
pub struct LocalApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub state: Arc<LocalState>,
    /// The configuration the functions were built with (base URL filled in).
    pub environment: Config,
    stream_pending: Vec<stream::Progress>,
    /// The stream pumps and the schedules' timers, stopped with the server.
    stream_pumps: Vec<tokio::task::JoinHandle<()>>,
    functions: invoke::Functions,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error("{function}: {source}")]
    Config {
        function: &'static str,
        source: ConfigError,
    },
    #[error("{0}")]
    Wiring(String),
}

pub fn demo_settings() -> PractitionerSettings {
    let settings: PractitionerSettings =
        serde_json::from_str(DEMO_SETTINGS).expect("demo-practitioner.json reads as settings");
    settings
        .validated(PractitionerId::parse(DEMO_PRACTITIONER).expect("valid id"))
        .expect("demo-practitioner.json is valid")
}

/// The demo practitioner, unless a store that outlives local mode (a real
/// table) already has settings for it.
async fn seed_demo(store: &dyn Store) -> Result<(), domain::ports::StoreError> {
    let demo = demo_settings();
    if store.settings(&demo.id).await?.is_none() {
        store.put_settings(&demo).await?;
    }
    // Its owner `local-dr-martin` and its secretariat
    // `local-dr-martin.secretariat` (SPEC §6.1), unless it has members.
    if store.members(&demo.id).await?.revision == 0 {
        store
            .put_members(&demo.id, &domain::grants::local_practice(&demo.id), None)
            .await?;
    }
    Ok(())
}

/// SPEC §6.1, §8: `PUT /practitioners/<id>` with the token `local-<id>`, for
/// a practitioner nobody holds a grant on yet, creates its practice in local
/// mode: `<id>` its owner, `<id>.secretariat` its secretariat. On AWS the
/// operator's `agenda-ops grant-owner` does this (README).
async fn found_local_practice(state: &LocalState, founder: Option<PractitionerId>) {
    let Some(pid) = founder else {
        return;
    };
    let clock: Arc<dyn Clock> = state.clock.clone();
    let grants = domain::service::grants::Grants::new(state.store.clone(), clock);
    match grants
        .found_practice(&pid, &domain::grants::local_practice(&pid))
        .await
    {
        Ok(true) => {
            tracing::info!(practitioner = %pid, "local practice created: owner and secretariat")
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "local practice not created"),
    }
}

/// Whether `body` is settings the booking function would store for `pid`
/// (one JSON value, at most 64 KiB, valid): what founds a local practice.
fn would_be_stored(pid: &PractitionerId, body: &[u8]) -> bool {
    if body.len() > edge::http::MAX_BODY_BYTES {
        return false;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let settings = <PractitionerSettings as serde::Deserialize>::deserialize(&mut deserializer);
    settings.is_ok_and(|s| deserializer.end().is_ok() && s.validated(pid.clone()).is_ok())
}

/// The practitioner a `PUT /practitioners/<id>` with `local-<id>` would found.
fn founder(request: &axum::extract::Request) -> Option<PractitionerId> {
    if request.method() != axum::http::Method::PUT {
        return None;
    }
    let Some(pid) = request
        .uri()
        .path()
        .strip_prefix("/practitioners/")
        .map(|p| p.trim_end_matches('/'))
        .and_then(|p| PractitionerId::parse(p).ok())
    else {
        return None;
    };
    gateway::local_sub(request.headers())
        .is_some_and(|sub| sub.as_str() == pid.as_str())
        .then_some(pid)
}

/// The functions' handlers, by logical id.
#[derive(Default)]
struct Built {
    handlers: HashMap<&'static str, Handler>,
}

impl Built {
    /// Builds each of `functions` from the adapters given to it, holding its
    /// handler to the trigger its `NEEDS` declare.
    fn add<'a>(
        &mut self,
        functions: impl Iterator<Item = &'a functions::Function>,
        adapters: impl Fn(&'static Needs) -> Adapters,
    ) -> Result<(), StartError> {
        for function in functions {
            let id = function.needs.function;
            let handler = function
                .build(&adapters(function.needs))
                .map_err(|source| StartError::Config {
                    function: id,
                    source,
                })?;
            if handler.trigger() != function.needs.trigger {
                return Err(StartError::Wiring(format!(
                    "{id} declares the trigger {:?}, but its handler serves {:?}",
                    function.needs.trigger,
                    handler.trigger()
                )));
            }
            self.handlers.insert(id, handler);
        }
        Ok(())
    }

    fn http(&self) -> HashMap<String, HttpFunction> {
        self.pick(|h| match h {
            Handler::Http(f) => Some(f.clone()),
            _ => None,
        })
    }

    fn streams(&self) -> HashMap<String, StreamFunction> {
        self.pick(|h| match h {
            Handler::Stream(f) => Some(f.clone()),
            _ => None,
        })
    }

    fn scheduled(&self) -> HashMap<String, functions::ScheduledHandler> {
        self.pick(|h| match h {
            Handler::Schedule(f) => Some(f.clone()),
            _ => None,
        })
    }

    fn provider_feedback(&self) -> HashMap<String, feedback::FeedbackFunction> {
        self.pick(|h| match h {
            Handler::ProviderFeedback(f) => Some(f.clone()),
            _ => None,
        })
    }

    fn pick<T>(&self, kind: impl Fn(&Handler) -> Option<T>) -> HashMap<String, T> {
        self.handlers
            .iter()
            .filter_map(|(id, h)| Some((id.to_string(), kind(h)?)))
            .collect()
    }
}

/// A scheduled run as Lambda makes it: the handler stops before the
/// function's timeout (the template's), measured from the start of the run.
fn with_deadline(
    handler: functions::ScheduledHandler,
    timeout: std::time::Duration,
) -> schedule::ScheduledFunction {
    Arc::new(move || {
        let mut context = lambda_runtime::Context::default();
        let deadline = std::time::SystemTime::now() + timeout;
        context.deadline = deadline
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        handler(context)
    })
}

impl LocalApp {
    pub async fn start(config: LocalConfig) -> Result<Self, StartError> {
        let conveniences = config.local_conveniences();
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let mut environment = config.environment.clone();
        let base_url = environment
            .public_base_url
            .get_or_insert_with(|| format!("http://{addr}"))
            .clone();
        // Stated in docs/decisions.md ("Keyed hashes"): local mode's key is
        // no secret, and the same at every start.
        environment.contact_hash_key.get_or_insert_with(|| {
            String::from_utf8_lossy(domain::keyed::HashKey::local_mode_bytes()).into_owned()
        });

        let clock = Arc::new(match config.clock_start {
            Some(start) => AdjustableClock::starting_at(start),
            None => AdjustableClock::new(),
        });
        let outbox = Arc::new(Outbox::new(clock.clone()));
        let events = Arc::new(RecordedEvents::new());
        let wiring = Wiring::new(
            &config.backend,
            &environment,
            outbox.clone(),
            events.clone(),
        )
        .map_err(StartError::Wiring)?;
        let store: Arc<dyn Store> = Arc::new(
            TableStore::new(wiring.table_for(None)).with_retention_days(environment.retention_days),
        );
        if config.seed_demo && conveniences {
            seed_demo(store.as_ref())
                .await
                .map_err(|e| StartError::Wiring(e.to_string()))?;
        }

        let template = template::Template::parse(template::TEMPLATE)?;
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        // Each function gets its own table, held to its declared grants.
        let adapters = |mailer: Arc<dyn Mailer>| {
            let (wiring, clock, environment) = (&wiring, dyn_clock.clone(), environment.clone());
            move |needs: &'static Needs| Adapters {
                table: Some(wiring.table_for(Some(needs))),
                mailer: Some(mailer.clone()),
                sms: Some(wiring.sms.clone()),
                events: Some(wiring.events.clone()),
                clock: clock.clone(),
                config: environment.clone(),
            }
        };
        // The functions fed by the providers' feedback first: the mailbox
        // simulator the others send through hands them SES's events, and
        // `POST /dev/deliveries` its reports, as AWS would.
        let all = functions::all();
        let fed_by_providers =
            |f: &&functions::Function| f.needs.trigger == Trigger::ProviderFeedback;
        let mut built = Built::default();
        built.add(
            all.iter().filter(fed_by_providers),
            adapters(wiring.mailer.clone()),
        )?;
        let by_event = built.provider_feedback();
        let feedback = match (by_event.len(), by_event.values().next()) {
            (1, Some(feedback)) => feedback.clone(),
            (n, _) => {
                return Err(StartError::Wiring(format!(
                    "local mode feeds the providers' reports to one function, not {n}"
                )));
            }
        };
        let (feedback_queue, feedback_pump) = feedback::spawn(feedback.clone());
        let mailer: Arc<dyn Mailer> = Arc::new(feedback::MailboxSimulator {
            inner: wiring.mailer.clone(),
            queue: feedback_queue.clone(),
            clock: dyn_clock.clone(),
        });
        built.add(
            all.iter().filter(|f| !fed_by_providers(f)),
            adapters(mailer),
        )?;

        // Schedules: the template's rate, at most every minute locally (the
        // clock can jump), and on /dev/clock, /dev/sweep.
        let scheduled_handlers = built.scheduled();
        let mut scheduled = Vec::new();
        let mut timers = Vec::new();
        for source in template.schedules {
            let handler = scheduled_handlers
                .get(&source.function)
                .cloned()
                .ok_or_else(|| {
                    StartError::Wiring(format!(
                        "template.yaml schedules {}, which local mode does not run",
                        source.function
                    ))
                })?;
            let function = with_deadline(handler, source.timeout);
            scheduled.push(function.clone());
            timers.push(schedule::spawn(source, function));
        }

        let streams = built.streams();
        let mut stream_pending = Vec::new();
        let mut stream_pumps = timers;
        for source in template.streams {
            let function = streams.get(&source.function).cloned().ok_or_else(|| {
                StartError::Wiring(format!(
                    "template.yaml feeds the stream to {}, which local mode does not run",
                    source.function
                ))
            })?;
            let records = wiring.records(&source).await.map_err(StartError::Wiring)?;
            stream_pending.push(records.progress());
            stream_pumps.push(stream::spawn(source, function, records));
        }
        // Last: the senders' feedback is queued while they handle the stream.
        stream_pending.push(feedback_queue.progress());
        stream_pumps.push(feedback_pump);

        let http = built.http();
        let gateway =
            Gateway::new(template.routes, &http, conveniences).map_err(StartError::Wiring)?;
        let functions = invoke::Functions {
            http,
            streams,
            events: by_event,
        };
        let state = Arc::new(LocalState {
            store,
            memory: wiring.memory(),
            outbox,
            uses_aws: config.backend.is_aws(),
            events,
            clock,
            gateway,
            feedback,
            scheduled,
            stream_pending: stream_pending.clone(),
        });
        let dev_routes = Router::new()
            .route("/dev/outbox", get(dev::outbox))
            .route("/dev/outbox.html", get(dev::outbox_html))
            .route("/dev/clock", post(dev::move_clock).get(dev::now))
            .route("/dev/sweep", post(dev::sweep))
            .route("/dev/deliveries", post(dev::report_delivery));
        let router = if conveniences {
            dev_routes
        } else {
            Router::new()
        };
        let router = router
            .fallback(
                |axum::extract::State(state): axum::extract::State<Arc<LocalState>>,
                 request: axum::extract::Request| async move {
                    let founder = if state.gateway.local_tokens() {
                        founder(&request)
                    } else {
                        None
                    };
                    let Some(pid) = founder else {
                        return state.gateway.serve(request).await;
                    };
                    // Only settings the function will store found a practice:
                    // a refused request changes nothing (SPEC §6).
                    let (parts, body) = request.into_parts();
                    let Ok(bytes) = axum::body::to_bytes(body, gateway::MAX_PAYLOAD_BYTES).await
                    else {
                        return gateway::lambda_to_axum(
                            edge::http::Problem::new(
                                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                                "The request is too large.",
                            )
                            .into_response(),
                        );
                    };
                    if would_be_stored(&pid, &bytes) {
                        found_local_practice(&state, Some(pid)).await;
                    }
                    let request =
                        axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
                    state.gateway.serve(request).await
                },
            )
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            // The peer's address reaches the handlers as API Gateway's
            // `sourceIp` (the limits of SPEC §6 count it).
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service).await {
                tracing::error!(error = %e, "local server stopped");
            }
        });
        tracing::info!(%base_url, "local mode ready");
        Ok(Self {
            addr,
            base_url,
            state,
            environment,
            stream_pending,
            stream_pumps,
            functions,
            server,
        })
    }

    /// Waits until every stream record written so far has been handled by the
    /// senders (tests use it instead of sleeping).
    pub async fn stream_idle(&self) {
        for pending in &self.stream_pending {
            pending.idle().await;
        }
    }

    /// Serves until the process is stopped.
    pub async fn wait(mut self) {
        let _ = (&mut self.server).await;
    }
}

impl Drop for LocalApp {
    fn drop(&mut self) {
        self.server.abort();
        for pump in &self.stream_pumps {
            pump.abort();
        }
    }
}
