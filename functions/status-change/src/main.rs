//! Lambda entry point of the status-change function: builds clients once, then serves.

use shared::clock::SystemClock;
use shared::telemetry::{LogFormat, init};
use shared::wiring;
use status_change::StatusChangeApi;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogFormat::Json);
    let aws = wiring::aws_config().await;
    let api = StatusChangeApi::new(wiring::store(&aws)?, Arc::new(SystemClock));
    lambda_http::run(lambda_http::service_fn(|request| {
        let api = api.clone();
        async move { api.handle(request).await }
    }))
    .await
}
