//! The confirmation sender: fed the table's stream, sends the confirmation
//! e-mail of SPEC §4.1 for each new or moved booking, once.

use aws_adapters::config::ConfigError;
use aws_adapters::config::PUBLIC_BASE_URL;
use aws_adapters::dynamo::{DELETE_ITEM, GET_ITEM, PUT_ITEM, UPDATE_ITEM};
use aws_adapters::stream::ChangeFunction;
use aws_adapters::wiring::{Adapter, AwsAdapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::service::confirmation::ConfirmationSender;
use domain::service::delivery::Delivery;

/// The handler: each appointment change of a stream batch, in order, to the
/// confirmation sender.
pub type ConfirmationFunction = ChangeFunction<ConfirmationSender>;

/// The function, from what it sends through: local mode calls it with its own
/// adapters, `from_env` with AWS's.
pub fn compose(delivery: Delivery, urls: PublicUrls) -> ConfirmationFunction {
    ChangeFunction::new(ConfirmationSender::new(delivery, urls))
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "ConfirmationSenderFunction",
    trigger: Trigger::TableStream,
    adapters: &[Adapter::Table, Adapter::Ses, Adapter::EventBridge],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM],
    indexes: &[],
    variables: &[PUBLIC_BASE_URL],
};

/// The function on AWS: its adapters from the environment, then the same
/// constructor local mode calls with its own.
pub async fn from_env() -> Result<ConfirmationFunction, ConfigError> {
    let aws = AwsAdapters::load(&NEEDS).await?;
    Ok(compose(aws.delivery()?, aws.public_urls()?))
}
