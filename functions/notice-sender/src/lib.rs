//! The notice sender: the table stream's one reader for notices (the reminder
//! scheduler is the other; AWS advises at most two readers per shard). Each
//! appointment change of a batch, in stream order, goes to every notice it
//! may call for, each sent once: the confirmation e-mail of a new or moved
//! booking (SPEC §4.1), the patient's cancellation e-mail (§4.2) and the
//! practice's cancellation e-mail and SMS with a rebooking link (§4.4).

use async_trait::async_trait;
use aws_adapters::config::ConfigError;
use aws_adapters::config::{PUBLIC_BASE_URL, SES_RATE_PER_SECOND, SMS_RATE_PER_SECOND};
use aws_adapters::dynamo::{DELETE_ITEM, GET_ITEM, PUT_ITEM, UPDATE_ITEM};
use aws_adapters::stream::ChangeFunction;
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::appointment::AppointmentChange;
use domain::links::PublicUrls;
use domain::service::OnAppointmentChange;
use domain::service::cancellation::CancellationSender;
use domain::service::confirmation::ConfirmationSender;
use domain::service::delivery::{Delivery, DeliveryError};
use domain::service::pacing::DEFAULT_SMS_PER_SECOND;

/// Every sender of a notice. Each decides from the change's `last_change`
/// whether it is called for, so a change reaches both and at most one acts;
/// a record retried after one failed is a no-op for the one that had sent
/// (its claim).
pub struct Notices {
    confirmation: ConfirmationSender,
    cancellation: CancellationSender,
}

#[async_trait]
impl OnAppointmentChange for Notices {
    async fn on_change(&self, change: AppointmentChange) -> Result<(), DeliveryError> {
        self.confirmation.on_change(change.clone()).await?;
        self.cancellation.on_change(change).await
    }
}

/// The handler: each appointment change of a stream batch, in order, to the
/// notices; a failed record is reported (partial batch failure) and retried
/// from there.
pub type NoticeSenderFunction = ChangeFunction<Notices>;

/// The function, from what it sends through (the tests give their own).
/// `sms_per_second`: the SMS rate (`None`: the default, as for reminders).
pub fn new(
    delivery: Delivery,
    urls: PublicUrls,
    sms_per_second: Option<u32>,
) -> NoticeSenderFunction {
    let rate = sms_per_second.or(Some(DEFAULT_SMS_PER_SECOND));
    ChangeFunction::new(Notices {
        confirmation: ConfirmationSender::new(delivery.clone(), urls.clone()),
        cancellation: CancellationSender::new(delivery, urls, rate),
    })
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "NoticeSenderFunction",
    trigger: Trigger::TableStream,
    adapters: &[
        Adapter::Table,
        Adapter::Ses,
        Adapter::Sns,
        Adapter::EventBridge,
    ],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM],
    indexes: &[],
    variables: &[PUBLIC_BASE_URL, SMS_RATE_PER_SECOND, SES_RATE_PER_SECOND],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<NoticeSenderFunction, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(new(
        given.delivery()?,
        given.public_urls()?,
        given.sms_per_second()?,
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<NoticeSenderFunction, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
