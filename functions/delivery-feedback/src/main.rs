//! Lambda entry point: the function built once per instance, then served.

use aws_adapters::telemetry::{LogFormat, init};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    let function = delivery_feedback::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
