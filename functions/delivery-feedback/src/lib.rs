//! The delivery-feedback function (SPEC §5): SES events and SNS SMS
//! delivery-status logs move the messages' log entries to `delivered`,
//! `bounced`, `complained`, `undelivered` or `failed`.
//!
//! Invoked asynchronously (an EventBridge rule, a CloudWatch Logs
//! subscription): an error makes Lambda invoke it again with the same event,
//! which is safe, since a report applied twice changes nothing.

use aws_adapters::config::ConfigError;
use aws_adapters::dynamo::{GET_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::feedback::reports;
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::service::feedback::{DeliveryFeedback, FeedbackError, Recorded};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone)]
pub struct DeliveryFeedbackFunction {
    feedback: Arc<DeliveryFeedback>,
}

/// What one invocation did, by report.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FeedbackSummary {
    pub changed: usize,
    pub unchanged: usize,
    pub unknown: usize,
}

impl DeliveryFeedbackFunction {
    pub fn new(feedback: DeliveryFeedback) -> Self {
        Self {
            feedback: Arc::new(feedback),
        }
    }

    /// Applies every report of the event. A report that could not be
    /// applied now (message not logged yet, store or bus unavailable) fails
    /// the invocation after the others were applied: the retry applies it,
    /// and the others again, harmlessly.
    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<FeedbackSummary, lambda_runtime::Error> {
        let reports = reports(&event.payload)?;
        let mut summary = FeedbackSummary::default();
        let mut retry: Option<FeedbackError> = None;
        for report in &reports {
            match self.feedback.record(report).await {
                Ok(Recorded::Changed(_)) => summary.changed += 1,
                Ok(Recorded::Unchanged(_)) => summary.unchanged += 1,
                Ok(Recorded::UnknownMessage) => summary.unknown += 1,
                Err(e) => {
                    tracing::warn!(message_id = %report.message_id, error = %e, "feedback not applied yet");
                    retry = Some(e);
                }
            }
        }
        match retry {
            Some(e) => Err(e.into()),
            None => Ok(summary),
        }
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "DeliveryFeedbackFunction",
    trigger: Trigger::ProviderFeedback,
    adapters: &[Adapter::Table, Adapter::EventBridge],
    // Finds the entry (GSI3, then the item), reads the appointment and the
    // settings, moves the entry and marks its event published.
    table_actions: &[GET_ITEM, QUERY, UPDATE_ITEM],
    // Sent messages by their provider's id.
    indexes: &[aws_adapters::item::GSI3],
    variables: &[],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<DeliveryFeedbackFunction, ConfigError> {
    Ok(DeliveryFeedbackFunction::new(
        adapters.given_to(&NEEDS).feedback()?,
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<DeliveryFeedbackFunction, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
