//! The DynamoDB table: [`Table`] over the SDK's client, what the Lambdas
//! link. Conditions are rendered into condition expressions here
//! ([`Condition::render`]); errors are sorted into the port's kinds.

use crate::table::condition::Placeholders;
use crate::table::{
    Delete, Item, Key, Page, Put, Query, Read, SortKey, Table, TableError, Update, Write,
};
use crate::telemetry::redact;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{self as sdk, ReturnValuesOnConditionCheckFailure};
use aws_smithy_types::error::display::DisplayErrorContext;
use std::collections::HashMap;

type SdkItem = HashMap<String, sdk::AttributeValue>;

/// The table's IAM actions, for functions to declare theirs (`Needs::table_actions`).
pub const GET_ITEM: &str = "dynamodb:GetItem";
pub const PUT_ITEM: &str = "dynamodb:PutItem";
pub const UPDATE_ITEM: &str = "dynamodb:UpdateItem";
pub const DELETE_ITEM: &str = "dynamodb:DeleteItem";
pub const QUERY: &str = "dynamodb:Query";

/// One DynamoDB table through the SDK's client.
pub struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    /// What the store calls, as IAM actions (a transaction is authorised by
    /// the actions of its parts). `tests/consistency.rs` records the calls
    /// of every store operation on moto against this list, and checks the
    /// template's policies against it.
    pub const IAM_ACTIONS: &[&str] = &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM, QUERY];

    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }
}

fn to_sdk(item: Item) -> SdkItem {
    item.into()
}

fn from_sdk(item: SdkItem) -> Item {
    item.into()
}

/// Throttling and a conflict with a running transaction pass; anything else
/// is the table (or the way to it) being unavailable.
fn failure<E, R>(e: SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = e
        .as_service_error()
        .and_then(|se| se.code())
        .map(str::to_string);
    let text = redact(&DisplayErrorContext(e).to_string());
    match code.as_deref() {
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TransactionConflictException",
        ) => TableError::Throttled(text),
        _ => TableError::Unavailable(text),
    }
}

fn condition_failed<E: ProvideErrorMetadata>(e: &SdkError<E, impl std::fmt::Debug>) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException")
}

/// A condition's expression and its placeholders, or none.
fn rendered(
    condition: Option<&crate::table::Condition>,
    placeholders: &mut Placeholders,
) -> Option<String> {
    condition.map(|c| c.render(placeholders))
}

fn names(placeholders: &Placeholders) -> Option<HashMap<String, String>> {
    (!placeholders.names.is_empty()).then(|| placeholders.names.clone())
}

fn values(placeholders: &Placeholders) -> Option<SdkItem> {
    (!placeholders.values.is_empty()).then(|| {
        placeholders
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect()
    })
}

/// `SET #a = :a, #b = :b ADD #c :c`.
fn update_expression(update: &Update, placeholders: &mut Placeholders) -> String {
    let set: Vec<String> = update
        .set
        .iter()
        .map(|(name, value)| {
            format!(
                "{} = {}",
                placeholders.name(name),
                placeholders.value(value.clone())
            )
        })
        .collect();
    let add: Vec<String> = update
        .add
        .iter()
        .map(|(name, n)| {
            format!(
                "{} {}",
                placeholders.name(name),
                placeholders.value(crate::table::AttributeValue::N(n.to_string()))
            )
        })
        .collect();
    let mut clauses = Vec::new();
    if !set.is_empty() {
        clauses.push(format!("SET {}", set.join(", ")));
    }
    if !add.is_empty() {
        clauses.push(format!("ADD {}", add.join(", ")));
    }
    clauses.join(" ")
}

fn key_attributes(key: &Key) -> SdkItem {
    to_sdk(key.to_item())
}

fn invalid(what: &str) -> TableError {
    TableError::Unavailable(format!("the request cannot be built: {what}"))
}

impl DynamoTable {
    fn transact_part(&self, write: Write) -> Result<sdk::TransactWriteItem, TableError> {
        let mut placeholders = Placeholders::default();
        let built = match write {
            Write::Put(put) => {
                let condition = rendered(put.condition.as_ref(), &mut placeholders);
                sdk::TransactWriteItem::builder().put(
                    sdk::Put::builder()
                        .table_name(&self.name)
                        .set_item(Some(to_sdk(put.item)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(names(&placeholders))
                        .set_expression_attribute_values(values(&placeholders))
                        .build()
                        .map_err(|e| invalid(&e.to_string()))?,
                )
            }
            Write::Update(update) => {
                let expression = update_expression(&update, &mut placeholders);
                let condition = rendered(update.condition.as_ref(), &mut placeholders);
                sdk::TransactWriteItem::builder().update(
                    sdk::Update::builder()
                        .table_name(&self.name)
                        .set_key(Some(key_attributes(&update.key)))
                        .update_expression(expression)
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(names(&placeholders))
                        .set_expression_attribute_values(values(&placeholders))
                        .build()
                        .map_err(|e| invalid(&e.to_string()))?,
                )
            }
            Write::Delete(delete) => {
                let condition = rendered(delete.condition.as_ref(), &mut placeholders);
                sdk::TransactWriteItem::builder().delete(
                    sdk::Delete::builder()
                        .table_name(&self.name)
                        .set_key(Some(key_attributes(&delete.key)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(names(&placeholders))
                        .set_expression_attribute_values(values(&placeholders))
                        .build()
                        .map_err(|e| invalid(&e.to_string()))?,
                )
            }
            Write::Check { key, condition } => {
                let condition = condition.render(&mut placeholders);
                sdk::TransactWriteItem::builder().condition_check(
                    sdk::ConditionCheck::builder()
                        .table_name(&self.name)
                        .set_key(Some(key_attributes(&key)))
                        .condition_expression(condition)
                        .set_expression_attribute_names(names(&placeholders))
                        .set_expression_attribute_values(values(&placeholders))
                        .build()
                        .map_err(|e| invalid(&e.to_string()))?,
                )
            }
        };
        Ok(built.build())
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Item>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_attributes(key)))
            .consistent_read(read == Read::Consistent)
            .send()
            .await
            .map_err(failure)?;
        Ok(out.item.map(from_sdk))
    }

    async fn put(&self, put: Put) -> Result<(), TableError> {
        let mut placeholders = Placeholders::default();
        let condition = rendered(put.condition.as_ref(), &mut placeholders);
        let result = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_sdk(put.item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(names(&placeholders))
            .set_expression_attribute_values(values(&placeholders))
            .set_return_values_on_condition_check_failure(
                put.old_on_refusal
                    .then_some(ReturnValuesOnConditionCheckFailure::AllOld),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(refused)) => {
                    Err(TableError::ConditionFailed {
                        old: refused.item.clone().map(from_sdk),
                    })
                }
                _ => Err(failure(e)),
            },
        }
    }

    async fn update(&self, update: Update) -> Result<(), TableError> {
        let mut placeholders = Placeholders::default();
        let expression = update_expression(&update, &mut placeholders);
        let condition = rendered(update.condition.as_ref(), &mut placeholders);
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_attributes(&update.key)))
            .update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names(&placeholders))
            .set_expression_attribute_values(values(&placeholders))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(TableError::ConditionFailed { old: None }),
            Err(e) => Err(failure(e)),
        }
    }

    async fn delete(&self, delete: Delete) -> Result<(), TableError> {
        let mut placeholders = Placeholders::default();
        let condition = rendered(delete.condition.as_ref(), &mut placeholders);
        let result = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_attributes(&delete.key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(names(&placeholders))
            .set_expression_attribute_values(values(&placeholders))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(TableError::ConditionFailed { old: None }),
            Err(e) => Err(failure(e)),
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        let parts = writes
            .into_iter()
            .map(|w| self.transact_part(w))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(parts))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    Err(TableError::TransactionCanceled {
                        reasons: cancelled
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().filter(|c| *c != "None").map(str::to_string))
                            .collect(),
                    })
                }
                _ => Err(failure(e)),
            },
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        let schema = query.key_schema();
        let mut placeholders = Placeholders::default();
        let partition = format!(
            "{} = {}",
            placeholders.name(schema.partition),
            placeholders.value(crate::table::AttributeValue::S(query.partition.clone()))
        );
        let sort = query.sort.as_ref().map(|sort| {
            let name = placeholders.name(schema.sort);
            let mut value = |v: &str| placeholders.value(crate::table::AttributeValue::S(v.into()));
            match sort {
                SortKey::Between(low, high) => {
                    let (low, high) = (value(low), value(high));
                    format!("{name} BETWEEN {low} AND {high}")
                }
                SortKey::BeginsWith(prefix) => format!("begins_with({name}, {})", value(prefix)),
                SortKey::AtMost(high) => format!("{name} <= {}", value(high)),
            }
        });
        let key_condition = match sort {
            Some(sort) => format!("{partition} AND {sort}"),
            None => partition,
        };
        let limit = query
            .limit
            .map(|l| i32::try_from(l.max(1)).unwrap_or(i32::MAX));
        let out = self
            .client
            .query()
            .table_name(&self.name)
            .set_index_name(query.index.map(|i| i.name.to_string()))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(names(&placeholders))
            .set_expression_attribute_values(values(&placeholders))
            .set_exclusive_start_key(query.start_after.clone().map(to_sdk))
            .set_limit(limit)
            .consistent_read(query.read == Read::Consistent)
            .send()
            .await
            .map_err(failure)?;
        Ok(Page {
            items: out
                .items
                .unwrap_or_default()
                .into_iter()
                .map(from_sdk)
                .collect(),
            last_key: out.last_evaluated_key.map(from_sdk),
        })
    }
}
