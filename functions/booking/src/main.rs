//! Lambda entry point of the booking function: builds clients once, then serves.

use booking::BookingApi;
use shared::clock::SystemClock;
use shared::config::{TABLE_NAME, required};
use shared::store::DynamoStore;
use shared::telemetry::{LogFormat, init};
use shared::wiring;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogFormat::Json);
    let table = required(TABLE_NAME, "the DynamoDB table of the agenda")?;
    let aws = wiring::aws_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let api = BookingApi::new(Arc::new(store), Arc::new(SystemClock));
    lambda_http::run(lambda_http::service_fn(|request| {
        let api = api.clone();
        async move { api.handle(request).await }
    }))
    .await
}
