//! The cancellation sender: fed the table's stream, sends the messages that
//! follow a cancellation, once: the patient's cancellation e-mail (SPEC §4.2)
//! and the practice's cancellation SMS with its rebooking link (SPEC §4.4).

use aws_adapters::config::ConfigError;
use aws_adapters::config::PUBLIC_BASE_URL;
use aws_adapters::stream::ChangeFunction;
use aws_adapters::wiring::{Adapter, AwsAdapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::service::cancellation::CancellationSender;
use domain::service::delivery::Delivery;

/// The handler: each appointment change of a stream batch, in order, to the
/// cancellation sender.
pub type CancellationFunction = ChangeFunction<CancellationSender>;

/// The function, from what it sends through: local mode calls it with its own
/// adapters, `from_env` with AWS's.
pub fn compose(delivery: Delivery, urls: PublicUrls) -> CancellationFunction {
    ChangeFunction::new(CancellationSender::new(delivery, urls))
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "CancellationSenderFunction",
    trigger: Trigger::TableStream,
    adapters: &[
        Adapter::Table,
        Adapter::Ses,
        Adapter::Sns,
        Adapter::EventBridge,
    ],
    variables: &[PUBLIC_BASE_URL],
};

/// The function on AWS: its adapters from the environment, then the same
/// constructor local mode calls with its own.
pub async fn from_env() -> Result<CancellationFunction, ConfigError> {
    let aws = AwsAdapters::load(&NEEDS).await;
    Ok(compose(aws.delivery()?, aws.public_urls()?))
}
