//! Lambda entry point of the confirmation sender.

use confirmation_sender::ConfirmationFunction;
use shared::telemetry::{LogFormat, init};
use shared::wiring;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init(LogFormat::Json);
    let aws = wiring::aws_config().await;
    let function = ConfirmationFunction::new(wiring::email_delivery(&aws)?, wiring::public_urls()?);
    lambda_runtime::run(lambda_runtime::service_fn(|event| {
        let function = function.clone();
        async move { function.handle(event).await }
    }))
    .await
}
