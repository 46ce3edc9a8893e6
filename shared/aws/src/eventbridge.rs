//! The event publisher on AWS: one EventBridge event per communications-log entry (SPEC §5).

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_smithy_types::error::display::DisplayErrorContext;
use domain::communications::CommunicationEvent;
use domain::ports::{EventPublisher, PublishError};

pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgePublisher {
    /// What the adapter calls, as IAM actions.
    pub const IAM_ACTIONS: &[&str] = &["events:PutEvents"];

    pub fn new(client: aws_sdk_eventbridge::Client, bus: String) -> Self {
        Self { client, bus }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, event: &CommunicationEvent) -> Result<(), PublishError> {
        let detail = serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
        let out = self
            .client
            .put_events()
            .entries(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(CommunicationEvent::SOURCE)
                    .detail_type(CommunicationEvent::DETAIL_TYPE)
                    .detail(detail)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                PublishError(crate::telemetry::redact(
                    &DisplayErrorContext(e).to_string(),
                ))
            })?;
        if out.failed_entry_count() > 0 {
            let code = out
                .entries()
                .iter()
                .find_map(|e| e.error_code())
                .unwrap_or("unknown");
            return Err(PublishError(format!("the bus refused the event: {code}")));
        }
        Ok(())
    }
}
