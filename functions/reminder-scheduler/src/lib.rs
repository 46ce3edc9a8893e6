//! The reminder scheduler: fed the table's stream, keeps the due index of
//! reminders in step with appointments and practitioner settings (SPEC §4.3).

use aws_adapters::config::ConfigError;
use aws_adapters::dynamo::{DELETE_ITEM, GET_ITEM, PUT_ITEM, QUERY};
use aws_adapters::stream::{TableChange, process_records_in_order, table_change};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use domain::ports::{Clock, Store};
use domain::service::reminders::ReminderScheduler;
use lambda_runtime::LambdaEvent;
use std::convert::Infallible;
use std::sync::Arc;

#[derive(Clone)]
pub struct ReminderSchedulerFunction {
    scheduler: ReminderScheduler,
}

impl ReminderSchedulerFunction {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            scheduler: ReminderScheduler::new(store, clock),
        }
    }

    /// Reports the records to retry (partial batch failure), never fails the whole batch.
    pub async fn handle(
        &self,
        event: LambdaEvent<Event>,
    ) -> Result<DynamoDbEventResponse, Infallible> {
        let scheduler = &self.scheduler;
        Ok(
            process_records_in_order(event.payload, table_change, |change| async move {
                match change {
                    TableChange::Appointment(change) => scheduler.on_appointment(&change).await,
                    TableChange::Settings(settings) => scheduler.on_settings(&settings).await,
                    TableChange::Retiming(retiming) => {
                        scheduler.on_retiming(&retiming).await.map(|_| ())
                    }
                }
            })
            .await,
        )
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "ReminderSchedulerFunction",
    trigger: Trigger::TableStream,
    adapters: &[Adapter::Table],
    table_actions: &[GET_ITEM, PUT_ITEM, DELETE_ITEM, QUERY],
    // The agenda, to re-time coming reminders when settings change.
    indexes: &[aws_adapters::item::GSI1],
    variables: &[],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<ReminderSchedulerFunction, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(ReminderSchedulerFunction::new(
        given.store()?,
        given.clock(),
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<ReminderSchedulerFunction, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
