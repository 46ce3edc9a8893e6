//! Lambda entry point of the patient links: builds clients once, then serves.

use patient_links::PatientLinksApi;
use shared::clock::SystemClock;
use shared::telemetry::{LogFormat, init};
use shared::wiring;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogFormat::Json);
    let aws = wiring::aws_config().await;
    let api = PatientLinksApi::new(
        wiring::store(&aws)?,
        Arc::new(SystemClock),
        wiring::page_urls(),
    );
    lambda_http::run(lambda_http::service_fn(|request| {
        let api = api.clone();
        async move { api.handle(request).await }
    }))
    .await
}
