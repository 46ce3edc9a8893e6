//! The confirmation sender: fed the table's stream, sends the confirmation
//! e-mail of SPEC §4.1 for each new or moved booking, once.

use aws_adapters::config::ConfigError;
use aws_adapters::config::PUBLIC_BASE_URL;
use aws_adapters::dynamo::{DELETE_ITEM, GET_ITEM, PUT_ITEM, UPDATE_ITEM};
use aws_adapters::stream::ChangeFunction;
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::service::confirmation::ConfirmationSender;
use domain::service::delivery::Delivery;

/// The handler: each appointment change of a stream batch, in order, to the
/// confirmation sender.
pub type ConfirmationFunction = ChangeFunction<ConfirmationSender>;

/// The function, from what it sends through (the tests give their own).
pub fn new(delivery: Delivery, urls: PublicUrls) -> ConfirmationFunction {
    ChangeFunction::new(ConfirmationSender::new(delivery, urls))
}

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<ConfirmationFunction, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(new(given.delivery()?, given.public_urls()?))
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

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<ConfirmationFunction, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
