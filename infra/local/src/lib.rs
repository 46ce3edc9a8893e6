//! Local mode (SPEC §8): every Lambda handler of the project behind one HTTP
//! server, with an embedded store whose stream feeds the senders exactly as
//! DynamoDB Streams does on AWS, an outbox instead of SES, and a clock that
//! can be moved. The handlers are the functions' own: nothing is re-implemented.
//! The same server can use DynamoDB, SES and EventBridge instead ([`backend`]).

// Local mode on AWS services, and direct invocation of the handlers.
pub mod aws_stream;
pub mod backend;
pub mod invoke;
pub mod provision;

pub mod dev;
pub mod embedded;
pub mod gateway;
pub mod schedule;
pub mod stream;
pub mod template;

use crate::embedded::AdjustableClock;
use crate::embedded::Outbox;
use crate::embedded::RecordedEvents;
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use axum::Router;
use axum::routing::{get, post};
use backend::{Backend, Wiring};
use domain::ids::PractitionerId;
use domain::links::PublicUrls;
use domain::ports::Clock;
use domain::ports::capabilities::*;
use domain::service::delivery::Delivery;
use domain::settings::PractitionerSettings;
use gateway::{Gateway, HttpFunction};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use stream::StreamFunction;

/// The demo practitioner present at start (SPEC §8).
pub const DEMO_PRACTITIONER: &str = "dr-martin";
const DEMO_SETTINGS: &str = include_str!("../demo-practitioner.json");
/// The reminder sweeper's Timeout in template.yaml.
const LOCAL_SWEEP_TIMEOUT_SECONDS: i64 = 90;

pub struct LocalConfig {
    pub addr: SocketAddr,
    /// Public base URL for links; defaults to `http://{bound address}`.
    pub public_base_url: Option<String>,
    pub seed_demo: bool,
    /// Embedded store and outbox, or AWS services.
    pub backend: Backend,
    /// Where the local clock starts (default: the real time).
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// `AGENDA_INSECURE_LOCAL=1`: the conveniences of local mode (`local-`
    /// tokens, `/dev/*`, the demo practitioner) even against AWS resources.
    pub insecure: bool,
}

impl LocalConfig {
    pub fn on(addr: SocketAddr) -> Self {
        Self {
            addr,
            public_base_url: None,
            seed_demo: true,
            backend: Backend::Embedded,
            clock_start: None,
            insecure: false,
        }
    }

    /// Local tokens, `/dev/*` and seeding act for anyone on whatever the
    /// server is pointed at: fine on the embedded store, refused against AWS
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
    /// The embedded store itself, when it is the backend (tests dump it).
    pub memory: Option<Arc<embedded::MemoryStore>>,
    /// Empty when messages go to SES (`uses_aws`).
    pub outbox: Arc<Outbox>,
    pub uses_aws: bool,
    pub events: Arc<RecordedEvents>,
    pub clock: Arc<AdjustableClock>,
    gateway: Gateway,
    /// The reminder sweeper's handler, and the stream consumers to wait for
    /// around a sweep (reminders).
    reminder_sweeper: Option<schedule::ScheduledFunction>,
    stream_pending: Vec<stream::Progress>,
}

impl LocalState {
    async fn stream_idle(&self) {
        for pending in &self.stream_pending {
            pending.idle().await;
        }
    }

    /// Runs the reminder sweeper's own handler once, after every change so far
    /// has reached the due index; answers how many reminders it sent.
    pub async fn sweep_reminders(&self) -> Result<usize, String> {
        let Some(sweeper) = &self.reminder_sweeper else {
            return Err("template.yaml declares no ReminderSweeperFunction".into());
        };
        self.stream_idle().await;
        let report = sweeper().await?;
        self.stream_idle().await;
        Ok(report["sent"].as_u64().unwrap_or_default() as usize)
    }
}

/// A running local server.
pub struct LocalApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub state: Arc<LocalState>,
    stream_pending: Vec<stream::Progress>,
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
    Ok(())
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
        let base_url = config
            .public_base_url
            .unwrap_or_else(|| format!("http://{addr}"));

        let clock = Arc::new(match config.clock_start {
            Some(start) => AdjustableClock::starting_at(start),
            None => AdjustableClock::new(),
        });
        let outbox = Arc::new(Outbox::new(clock.clone()));
        let events = Arc::new(RecordedEvents::new());
        let wiring = Wiring::new(&config.backend, outbox.clone(), events.clone());
        let store = wiring.store.clone();
        if config.seed_demo && conveniences {
            seed_demo(store.as_ref())
                .await
                .map_err(|e| StartError::Wiring(e.to_string()))?;
        }

        let template = template::Template::parse(template::TEMPLATE)?;
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        // Each function gets its own store, held to its declared grants.
        let delivery_for = |needs: &aws_adapters::wiring::Needs| Delivery {
            store: wiring.store_for(needs),
            mailer: wiring.mailer.clone(),
            sms: wiring.sms.clone(),
            events: wiring.events.clone(),
            clock: dyn_clock.clone(),
        };
        let urls = PublicUrls::new(&base_url);

        // The functions, by their logical id in template.yaml.
        let mut http: HashMap<String, HttpFunction> = HashMap::new();
        let booking =
            booking::BookingApi::new(wiring.store_for(&booking::NEEDS), dyn_clock.clone());
        http.insert(
            "BookingFunction".into(),
            http_function(move |request| {
                let booking = booking.clone();
                async move { booking.handle(request).await }
            }),
        );
        let patient_links = patient_links::PatientLinksApi::new(
            wiring.store_for(&patient_links::NEEDS),
            dyn_clock.clone(),
            urls.clone(),
        );
        http.insert(
            "PatientLinksFunction".into(),
            http_function(move |request| {
                let patient_links = patient_links.clone();
                async move { patient_links.handle(request).await }
            }),
        );
        let status_change = status_change::StatusChangeApi::new(
            wiring.store_for(&status_change::NEEDS),
            dyn_clock.clone(),
        );
        http.insert(
            "StatusChangeFunction".into(),
            http_function(move |request| {
                let status_change = status_change.clone();
                async move { status_change.handle(request).await }
            }),
        );
        let mut streams: HashMap<String, StreamFunction> = HashMap::new();
        let confirmation =
            confirmation_sender::compose(delivery_for(&confirmation_sender::NEEDS), urls.clone());
        streams.insert(
            "ConfirmationSenderFunction".into(),
            stream_function(move |event| {
                let confirmation = confirmation.clone();
                async move { confirmation.handle(event).await }
            }),
        );
        let cancellation = cancellation_sender::compose(
            delivery_for(&cancellation_sender::NEEDS),
            urls.clone(),
            None,
        );
        streams.insert(
            "CancellationSenderFunction".into(),
            stream_function(move |event| {
                let cancellation = cancellation.clone();
                async move { cancellation.handle(event).await }
            }),
        );

        // Reminders: the scheduler is fed the stream, the sweeper runs on the
        // template's schedule (and on /dev/clock, /dev/sweep).
        let scheduler = reminder_scheduler::ReminderSchedulerFunction::new(
            wiring.store_for(&reminder_scheduler::NEEDS),
            dyn_clock.clone(),
        );
        streams.insert(
            "ReminderSchedulerFunction".into(),
            Arc::new(move |event| {
                let scheduler = scheduler.clone();
                Box::pin(async move {
                    let invocation =
                        lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
                    let Ok(response) = scheduler.handle(invocation).await;
                    response
                })
            }),
        );
        let mut scheduled: HashMap<String, schedule::ScheduledFunction> = HashMap::new();
        let sweeper = reminder_sweeper::ReminderSweeperFunction::new(
            delivery_for(&reminder_sweeper::NEEDS),
            urls.clone(),
            domain::service::reminders::SweepOptions::default(),
        );
        scheduled.insert(
            "ReminderSweeperFunction".into(),
            Arc::new(move || {
                let sweeper = sweeper.clone();
                Box::pin(async move {
                    // As on Lambda: the sweeper stops before its timeout.
                    let mut context = lambda_runtime::Context::default();
                    context.deadline = (chrono::Utc::now()
                        + chrono::Duration::seconds(LOCAL_SWEEP_TIMEOUT_SECONDS))
                    .timestamp_millis() as u64;
                    let invocation = lambda_runtime::LambdaEvent::new(
                        serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}),
                        context,
                    );
                    let report = sweeper.handle(invocation).await.map_err(|e| e.to_string())?;
                    serde_json::to_value(report).map_err(|e| e.to_string())
                })
            }),
        );
        let mut reminder_sweeper = None;
        for source in template.schedules {
            let function = scheduled.get(&source.function).cloned().ok_or_else(|| {
                StartError::Wiring(format!(
                    "template.yaml schedules {}, which local mode does not run",
                    source.function
                ))
            })?;
            if source.function == "ReminderSweeperFunction" {
                reminder_sweeper = Some(function.clone());
            }
            schedule::spawn(source, function);
        }

        let mut stream_pending = Vec::new();
        let mut stream_pumps = Vec::new();
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

        let gateway =
            Gateway::new(template.routes, &http, conveniences).map_err(StartError::Wiring)?;
        let functions = invoke::Functions { http, streams };
        let state = Arc::new(LocalState {
            store,
            memory: wiring.memory(),
            outbox,
            uses_aws: config.backend.is_aws(),
            events,
            clock,
            gateway,
            reminder_sweeper,
            stream_pending: stream_pending.clone(),
        });
        let dev_routes = Router::new()
            .route("/dev/outbox", get(dev::outbox))
            .route("/dev/outbox.html", get(dev::outbox_html))
            .route("/dev/clock", post(dev::move_clock).get(dev::now))
            .route("/dev/sweep", post(dev::sweep));
        let router = if conveniences {
            dev_routes
        } else {
            Router::new()
        };
        let router = router
            .fallback(
                |axum::extract::State(state): axum::extract::State<Arc<LocalState>>,
                 request: axum::extract::Request| async move {
                    state.gateway.serve(request).await
                },
            )
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "local server stopped");
            }
        });
        tracing::info!(%base_url, "local mode ready");
        Ok(Self {
            addr,
            base_url,
            state,
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

/// An HTTP Lambda handler as the gateway calls it.
fn http_function<F, Fut>(handler: F) -> HttpFunction
where
    F: Fn(lambda_http::Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<lambda_http::Response<lambda_http::Body>, Infallible>>
        + Send
        + 'static,
{
    Arc::new(move |request| {
        let answer = handler(request);
        Box::pin(async move {
            let Ok(response) = answer.await;
            response
        })
    })
}

/// A stream Lambda handler as the stream pump calls it: one invocation per batch.
fn stream_function<F, Fut>(handler: F) -> StreamFunction
where
    F: Fn(lambda_runtime::LambdaEvent<DynamoDbEvent>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<DynamoDbEventResponse, Infallible>> + Send + 'static,
{
    Arc::new(move |event| {
        let invocation =
            lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
        let answer = handler(invocation);
        Box::pin(async move {
            let Ok(response) = answer.await;
            response
        })
    })
}

impl Drop for LocalApp {
    fn drop(&mut self) {
        self.server.abort();
        for pump in &self.stream_pumps {
            pump.abort();
        }
    }
}
