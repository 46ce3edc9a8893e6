//! The AWS side of the domain's ports: the one store ([`store`]) over the
//! [`table`] port (one table, [`item`] is its codec; DynamoDB in [`dynamo`]),
//! SES v2, SNS and EventBridge adapters, the decoding of the table's stream
//! as Lambda delivers it ([`stream`]), configuration read from the
//! environment `template.yaml` sets ([`config`]), and the adapters every
//! function is composed from ([`wiring`]).

pub mod config;
pub mod due_index;
pub mod dynamo;
pub mod eventbridge;
pub mod feedback;
#[cfg(feature = "fixtures")]
pub mod fixtures;
#[cfg(feature = "iam-guard")]
pub mod iam_guard;
pub mod item;
pub mod metrics;
pub mod ses;
pub mod sns;
pub mod store;
pub mod stream;
pub mod table;
pub mod telemetry;
pub mod wiring;
