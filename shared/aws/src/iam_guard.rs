//! Each function's IAM grants, enforced off AWS: local mode on emulated AWS
//! (moto grants everything) builds each function's DynamoDB client with
//! [`RefuseUngranted`], so a function that calls an action its `NEEDS` does
//! not declare, or queries an index it does not declare, fails in the moto
//! scenarios as it would on AWS, where the template grants exactly those
//! actions on exactly those indexes (tests/consistency.rs). Not linked into
//! the Lambdas: on AWS, IAM itself refuses.

use crate::wiring::Needs;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::collections::BTreeSet;

/// The IAM actions that authorise the operation about to be sent, e.g.
/// `dynamodb:PutItem` (the SDK's own operation name, from the request's
/// [`Metadata`]). A DynamoDB transaction is authorised by its parts' actions.
/// Call from `read_before_serialization`: client interceptors run
/// `read_before_execution` before the operation's Metadata is in the bag.
pub fn iam_actions_of(
    iam_prefix: &str,
    context: &BeforeSerializationInterceptorContextRef<'_>,
    cfg: &ConfigBag,
) -> Result<Vec<String>, BoxError> {
    let operation = cfg
        .load::<Metadata>()
        .ok_or("the SDK put no operation Metadata in the ConfigBag")?
        .name();
    let Some(transaction) = context.input().downcast_ref::<TransactWriteItemsInput>() else {
        return Ok(vec![format!("{iam_prefix}:{operation}")]);
    };
    Ok(transaction
        .transact_items()
        .iter()
        .map(|part| {
            let action = if part.put().is_some() {
                "PutItem"
            } else if part.update().is_some() {
                "UpdateItem"
            } else if part.delete().is_some() {
                "DeleteItem"
            } else {
                "ConditionCheckItem"
            };
            format!("{iam_prefix}:{action}")
        })
        .collect())
}

/// Refuses, before sending, any DynamoDB operation the function's role would
/// not be granted: an action it does not declare, or a query of an index it
/// does not declare.
#[derive(Debug)]
pub struct RefuseUngranted {
    function: &'static str,
    granted: BTreeSet<String>,
    indexes: &'static [&'static str],
}

impl RefuseUngranted {
    pub fn new(needs: &Needs) -> Self {
        Self {
            function: needs.function,
            granted: needs
                .iam_actions()
                .into_iter()
                .map(str::to_string)
                .collect(),
            indexes: needs.indexes,
        }
    }
}

impl Intercept for RefuseUngranted {
    fn name(&self) -> &'static str {
        "RefuseUngranted"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        for action in iam_actions_of("dynamodb", context, cfg)? {
            if !self.granted.contains(&action) {
                tracing::error!(function = self.function, %action, "action not granted to the function");
                return Err(format!(
                    "{} is not granted {action}: declare it in the function's NEEDS (and template.yaml)",
                    self.function
                )
                .into());
            }
        }
        let index = context
            .input()
            .downcast_ref::<QueryInput>()
            .and_then(QueryInput::index_name);
        if let Some(index) = index.filter(|i| !self.indexes.contains(i)) {
            tracing::error!(function = self.function, %index, "index not granted to the function");
            return Err(format!(
                "{} may not query index {index}: declare it in the function's NEEDS.indexes (and template.yaml)",
                self.function
            )
            .into());
        }
        Ok(())
    }
}

/// A DynamoDB client for `needs`' function that refuses what its role lacks.
pub fn dynamodb_client(sdk: &aws_config::SdkConfig, needs: &Needs) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(RefuseUngranted::new(needs))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
