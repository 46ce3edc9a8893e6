//! Lambda entry point: the function built once per instance, then served.

use aws_adapters::telemetry::{LogFormat, init};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    aws_adapters::metrics::install();
    let function = notice_sender::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { aws_adapters::metrics::flushed(function.handle(event)).await }
    }))
    .await
}
