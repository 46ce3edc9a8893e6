//! Direct invocation of a function of the template by its logical id, with
//! the JSON event Lambda would hand it: how the consistency tests run each
//! sample of `events/` through its handler.

use crate::LocalApp;
use crate::gateway::HttpFunction;
use crate::stream::StreamFunction;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The handlers local mode runs, by logical id.
#[derive(Default, Clone)]
pub(crate) struct Functions {
    pub http: HashMap<String, HttpFunction>,
    pub streams: HashMap<String, StreamFunction>,
    /// Functions handed a JSON event (delivery feedback).
    pub events: HashMap<String, crate::feedback::FeedbackFunction>,
}

impl LocalApp {
    /// Answers `{"statusCode", "body"}` for an HTTP function, the
    /// `{"batchItemFailures"}` response for a stream function.
    pub async fn invoke(&self, function: &str, event: &Value) -> Result<Value, String> {
        if let Some(handler) = self.functions.http.get(function) {
            let request = lambda_http::request::from_str(&event.to_string())
                .map_err(|e| format!("not an API Gateway HTTP API event: {e}"))?;
            let response = handler(request).await;
            let body = match response.body() {
                lambda_http::Body::Text(text) => text.clone(),
                lambda_http::Body::Binary(bytes) => String::from_utf8_lossy(bytes).to_string(),
                lambda_http::Body::Empty => String::new(),
                _ => String::new(),
            };
            return Ok(json!({"statusCode": response.status().as_u16(), "body": body}));
        }
        if let Some(handler) = self.functions.streams.get(function) {
            let event = serde_json::from_value(event.clone())
                .map_err(|e| format!("not a DynamoDB stream event: {e}"))?;
            let response = handler(event).await;
            return serde_json::to_value(response).map_err(|e| e.to_string());
        }
        if let Some(handler) = self.functions.events.get(function) {
            return handler(event.clone()).await;
        }
        Err(format!("local mode runs no handler for {function}"))
    }
}
