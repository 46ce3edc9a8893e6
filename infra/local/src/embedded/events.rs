//! The event bus of local mode: published events kept in memory.

use async_trait::async_trait;
use domain::communications::CommunicationEvent;
use domain::ports::{EventPublisher, PublishError};
use std::sync::Mutex;

/// Keeps published events in memory.
#[derive(Default)]
pub struct RecordedEvents {
    events: Mutex<Vec<CommunicationEvent>>,
}

impl RecordedEvents {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn events(&self) -> Vec<CommunicationEvent> {
        self.events.lock().expect("events lock").clone()
    }
}

#[async_trait]
impl EventPublisher for RecordedEvents {
    async fn publish(&self, event: &CommunicationEvent) -> Result<(), PublishError> {
        self.events.lock().expect("events lock").push(event.clone());
        Ok(())
    }
}
