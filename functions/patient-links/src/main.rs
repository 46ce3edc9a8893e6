//! Lambda entry point: the function built once per instance, then served.

use aws_adapters::telemetry::{LogFormat, init};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    init(LogFormat::Json);
    let function = patient_links::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
