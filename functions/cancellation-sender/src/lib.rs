//! The cancellation sender: fed the table's stream, sends the messages that
//! follow a cancellation, once: the patient's cancellation e-mail (SPEC §4.2)
//! and the practice's cancellation SMS with its rebooking link (SPEC §4.4).

use aws_adapters::config::ConfigError;
use aws_adapters::config::{PUBLIC_BASE_URL, SMS_RATE_PER_SECOND};
use aws_adapters::dynamo::{DELETE_ITEM, GET_ITEM, PUT_ITEM, UPDATE_ITEM};
use aws_adapters::stream::ChangeFunction;
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::service::cancellation::CancellationSender;
use domain::service::delivery::Delivery;
use domain::service::pacing::DEFAULT_SMS_PER_SECOND;

/// The handler: each appointment change of a stream batch, in order, to the
/// cancellation sender.
pub type CancellationFunction = ChangeFunction<CancellationSender>;

/// The function, from what it sends through (the tests give their own).
/// `sms_per_second`: the SMS rate (`None`: the default, as for reminders).
pub fn new(
    delivery: Delivery,
    urls: PublicUrls,
    sms_per_second: Option<u32>,
) -> CancellationFunction {
    let rate = sms_per_second.or(Some(DEFAULT_SMS_PER_SECOND));
    ChangeFunction::new(CancellationSender::new(delivery, urls, rate))
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
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM],
    indexes: &[],
    variables: &[PUBLIC_BASE_URL, SMS_RATE_PER_SECOND],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<CancellationFunction, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(new(
        given.delivery()?,
        given.public_urls()?,
        given.sms_per_second()?,
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<CancellationFunction, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
