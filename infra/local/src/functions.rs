//! The functions local mode runs, as one table of (`NEEDS`, constructor): the
//! same declaration and the same `compose` their `from_env` uses on AWS.
//! A function's trigger (in its `NEEDS`) says how local mode invokes it, its
//! logical id which routes, stream and schedule of template.yaml feed it, so
//! nothing here names a function's id or wires it by hand.

use crate::feedback::FeedbackFunction;
use crate::gateway::HttpFunction;
use crate::stream::StreamFunction;
use aws_adapters::config::ConfigError;
use aws_adapters::stream::ChangeFunction;
use aws_adapters::wiring::{Adapters, Needs, Trigger};
use futures::future::BoxFuture;
use std::sync::Arc;

/// A scheduled function as local mode calls it: with the invocation's
/// context (its deadline), answering its report as JSON.
pub type ScheduledHandler = Arc<
    dyn Fn(lambda_runtime::Context) -> BoxFuture<'static, Result<serde_json::Value, String>>
        + Send
        + Sync,
>;

/// A function's handler, by the kind of event Lambda hands it. A new
/// trigger (an SQS queue feeding a function) is a new variant here, a new
/// [`Trigger`] and a new source read from the template.
#[derive(Clone)]
pub enum Handler {
    Http(HttpFunction),
    Stream(StreamFunction),
    Schedule(ScheduledHandler),
    ProviderFeedback(FeedbackFunction),
}

impl Handler {
    /// The trigger this handler serves, to be held against the function's `NEEDS`.
    pub fn trigger(&self) -> Trigger {
        match self {
            Handler::Http(_) => Trigger::Http,
            Handler::Stream(_) => Trigger::TableStream,
            Handler::Schedule(_) => Trigger::Schedule,
            Handler::ProviderFeedback(_) => Trigger::ProviderFeedback,
        }
    }
}

/// How local mode invokes a function, as Lambda would.
pub trait Invoke: Clone + Send + Sync + 'static {
    fn handler(self) -> Handler;
}

/// The HTTP API's functions: API Gateway's request in, the answer out.
macro_rules! invoked_over_http {
    ($($function:ty),* $(,)?) => {$(
        impl Invoke for $function {
            fn handler(self) -> Handler {
                Handler::Http(Arc::new(move |request| {
                    let function = self.clone();
                    Box::pin(async move {
                        let Ok(response) = function.handle(request).await;
                        response
                    })
                }))
            }
        }
    )*};
}

invoked_over_http!(
    booking::BookingApi,
    status_change::StatusChangeApi,
    patient_links::PatientLinksApi,
);

/// The notice sender (confirmations and cancellation notices).
impl<S> Invoke for ChangeFunction<S>
where
    S: domain::service::OnAppointmentChange + Send + Sync + 'static,
{
    fn handler(self) -> Handler {
        Handler::Stream(Arc::new(move |event| {
            let function = self.clone();
            Box::pin(async move {
                let invocation =
                    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
                let Ok(response) = function.handle(invocation).await;
                response
            })
        }))
    }
}

impl Invoke for reminder_scheduler::ReminderSchedulerFunction {
    fn handler(self) -> Handler {
        Handler::Stream(Arc::new(move |event| {
            let function = self.clone();
            Box::pin(async move {
                let invocation =
                    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
                let Ok(response) = function.handle(invocation).await;
                response
            })
        }))
    }
}

impl Invoke for reminder_sweeper::ReminderSweeperFunction {
    fn handler(self) -> Handler {
        Handler::Schedule(Arc::new(move |context| {
            let function = self.clone();
            Box::pin(async move {
                // EventBridge's scheduled event; the sweep reads nothing of it.
                let event = serde_json::json!({
                    "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}
                });
                let invocation = lambda_runtime::LambdaEvent::new(event, context);
                let report = function
                    .handle(invocation)
                    .await
                    .map_err(|e| e.to_string())?;
                serde_json::to_value(report).map_err(|e| e.to_string())
            })
        }))
    }
}

impl Invoke for delivery_feedback::DeliveryFeedbackFunction {
    fn handler(self) -> Handler {
        Handler::ProviderFeedback(Arc::new(move |event| {
            let function = self.clone();
            Box::pin(async move {
                let invocation =
                    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
                let summary = function
                    .handle(invocation)
                    .await
                    .map_err(|e| e.to_string())?;
                serde_json::to_value(summary).map_err(|e| e.to_string())
            })
        }))
    }
}

type Build = Box<dyn Fn(&Adapters) -> Result<Handler, ConfigError> + Send + Sync>;

/// One function: what it declares, and how it is built.
pub struct Function {
    pub needs: &'static Needs,
    build: Build,
}

impl Function {
    fn of<F: Invoke>(
        needs: &'static Needs,
        compose: fn(&Adapters) -> Result<F, ConfigError>,
    ) -> Self {
        Self {
            needs,
            build: Box::new(move |adapters| compose(adapters).map(Invoke::handler)),
        }
    }

    /// The function's handler, composed from `adapters`.
    pub fn build(&self, adapters: &Adapters) -> Result<Handler, ConfigError> {
        (self.build)(adapters)
    }
}

/// Every function of the project; a new function joins this table (and
/// `DECLARED` in tests/consistency.rs, which holds it against template.yaml).
pub fn all() -> Vec<Function> {
    vec![
        Function::of(&booking::NEEDS, booking::compose),
        Function::of(&status_change::NEEDS, status_change::compose),
        Function::of(&patient_links::NEEDS, patient_links::compose),
        Function::of(&notice_sender::NEEDS, notice_sender::compose),
        Function::of(&reminder_scheduler::NEEDS, reminder_scheduler::compose),
        Function::of(&reminder_sweeper::NEEDS, reminder_sweeper::compose),
        Function::of(&delivery_feedback::NEEDS, delivery_feedback::compose),
    ]
}
