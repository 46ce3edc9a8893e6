//! The adapter layer's port over the one DynamoDB table: exactly the
//! operations the store uses, and nothing of the SDK.
//!
//! [`crate::store::TableStore`] writes every rule of the store once over
//! [`Table`]; on AWS the table is [`crate::dynamo::DynamoTable`], in local
//! mode and the tests an in-memory one (`infra/local`). Conditions travel as
//! data ([`Condition`]): the memory table evaluates them, DynamoDB's
//! implementation renders them into condition expressions, so both decide
//! from the same value. Keys and indexes are named in [`schema`], so a
//! decorator (throttling per partition, counting capacity) can tell which
//! partitions of the table and of each index a request touches.

pub mod condition;
pub mod schema;

pub use condition::{Comparison, Condition, Path};
pub use serde_dynamo::{AttributeValue, Item};

use async_trait::async_trait;

/// The most items DynamoDB accepts in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// An item's primary key: its partition and sort keys, both strings
/// ([`schema::TABLE`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of `item`, `None` when it lacks one (DynamoDB refuses such an item).
    pub fn of(item: &Item) -> Option<Self> {
        schema::TABLE.keys_of(item).map(|(pk, sk)| Self { pk, sk })
    }

    /// The key as the attributes of an item.
    pub fn to_item(&self) -> Item {
        Item::from(std::collections::HashMap::from([
            (
                schema::TABLE.partition.to_string(),
                AttributeValue::S(self.pk.clone()),
            ),
            (
                schema::TABLE.sort.to_string(),
                AttributeValue::S(self.sk.clone()),
            ),
        ]))
    }
}

/// How fresh a read must be. Global secondary indexes are read eventually
/// consistent only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Consistent,
    Eventual,
}

/// Writes `item` whole, when `condition` holds for the item stored under its key.
#[derive(Debug, Clone)]
pub struct Put {
    pub item: Item,
    pub condition: Option<Condition>,
    /// On a failed condition, hand back the stored item
    /// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`).
    pub old_on_refusal: bool,
}

impl Put {
    pub fn new(item: Item) -> Self {
        Self {
            item,
            condition: None,
            old_on_refusal: false,
        }
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }

    pub fn returning_old_on_refusal(mut self) -> Self {
        self.old_on_refusal = true;
        self
    }
}

/// Sets top-level attributes of the item under `key` (creating it when
/// absent, as DynamoDB does), and adds to number attributes (a missing one
/// counts from 0: DynamoDB's `ADD`, an atomic counter), when `condition` holds.
#[derive(Debug, Clone)]
pub struct Update {
    pub key: Key,
    pub set: Vec<(String, AttributeValue)>,
    pub add: Vec<(String, i64)>,
    pub condition: Option<Condition>,
}

impl Update {
    pub fn new(key: Key) -> Self {
        Self {
            key,
            set: Vec::new(),
            add: Vec::new(),
            condition: None,
        }
    }

    pub fn set(mut self, attribute: impl Into<String>, value: AttributeValue) -> Self {
        self.set.push((attribute.into(), value));
        self
    }

    /// `attribute` increased by `n` in the same write.
    pub fn add(mut self, attribute: impl Into<String>, n: i64) -> Self {
        self.add.push((attribute.into(), n));
        self
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// Deletes the item under `key` (if any), when `condition` holds.
#[derive(Debug, Clone)]
pub struct Delete {
    pub key: Key,
    pub condition: Option<Condition>,
}

impl Delete {
    pub fn new(key: Key) -> Self {
        Self {
            key,
            condition: None,
        }
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// One part of a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    Put(Put),
    Update(Update),
    Delete(Delete),
    /// Writes nothing: the transaction goes through only if `condition`
    /// holds for the item under `key`.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl Write {
    /// The item this part is about (`None`: a put of an item without a key).
    pub fn key(&self) -> Option<Key> {
        match self {
            Write::Put(put) => Key::of(&put.item),
            Write::Update(update) => Some(update.key.clone()),
            Write::Delete(delete) => Some(delete.key.clone()),
            Write::Check { key, .. } => Some(key.clone()),
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Write::Put(put) => put.condition.as_ref(),
            Write::Update(update) => update.condition.as_ref(),
            Write::Delete(delete) => delete.condition.as_ref(),
            Write::Check { condition, .. } => Some(condition),
        }
    }
}

/// Which sort keys of the partition a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// From the first to the second, both included.
    Between(String, String),
    BeginsWith(String),
    AtMost(String),
}

impl SortKey {
    pub fn admits(&self, sort: &str) -> bool {
        match self {
            SortKey::Between(low, high) => low.as_str() <= sort && sort <= high.as_str(),
            SortKey::BeginsWith(prefix) => sort.starts_with(prefix.as_str()),
            SortKey::AtMost(high) => sort <= high.as_str(),
        }
    }
}

/// One page of a partition of the table or of an index, in sort-key order.
#[derive(Debug, Clone)]
pub struct Query {
    /// `None`: the table itself.
    pub index: Option<&'static schema::Index>,
    /// The partition key's value.
    pub partition: String,
    pub sort: Option<SortKey>,
    /// At most this many items (DynamoDB's `Limit`).
    pub limit: Option<usize>,
    /// Start after this key (the previous page's [`Page::last_key`]).
    pub start_after: Option<Item>,
    pub read: Read,
}

impl Query {
    /// The whole partition `partition` of the table, read consistently.
    pub fn table(partition: impl Into<String>) -> Self {
        Self {
            index: None,
            partition: partition.into(),
            sort: None,
            limit: None,
            start_after: None,
            read: Read::Consistent,
        }
    }

    /// The whole partition `partition` of `index` (eventually consistent).
    pub fn index(index: &'static schema::Index, partition: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            read: Read::Eventual,
            ..Self::table(partition)
        }
    }

    pub fn sort(mut self, sort: SortKey) -> Self {
        self.sort = Some(sort);
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn start_after(mut self, key: Option<Item>) -> Self {
        self.start_after = key;
        self
    }

    /// The key names this query's partition and sort keys go by.
    pub fn key_schema(&self) -> &'static schema::KeySchema {
        match self.index {
            Some(index) => &index.key,
            None => &schema::TABLE,
        }
    }
}

/// Items of a query, and where the next page starts (`None`: no more).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub last_key: Option<Item>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TableError {
    /// A write's condition did not hold; `old` is the stored item when the
    /// put asked for it (and there was one).
    #[error("the condition of the write does not hold")]
    ConditionFailed { old: Option<Item> },
    /// Nothing of the transaction was written: a condition did not hold, or
    /// a concurrent write conflicted. One reason per part, in order, where
    /// the table gives them (`ConditionalCheckFailed`, `TransactionConflict`, ...).
    #[error("the transaction was cancelled ({})", reasons.iter().flatten().cloned().collect::<Vec<_>>().join(", "))]
    TransactionCanceled { reasons: Vec<Option<String>> },
    /// Over the table's or a partition's capacity: the same request may
    /// succeed later.
    #[error("throttled: {0}")]
    Throttled(String),
    #[error("the table is unavailable: {0}")]
    Unavailable(String),
}

/// One DynamoDB table: get, put, update, delete, all-or-nothing
/// transactions, and queries of one partition of the table or of an index.
#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Item>, TableError>;
    async fn put(&self, put: Put) -> Result<(), TableError>;
    async fn update(&self, update: Update) -> Result<(), TableError>;
    async fn delete(&self, delete: Delete) -> Result<(), TableError>;
    /// Every part or none; at most [`MAX_TRANSACTION_ITEMS`] parts, one per item.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError>;
    async fn query(&self, query: &Query) -> Result<Page, TableError>;
}

#[async_trait]
impl<T: Table + ?Sized> Table for std::sync::Arc<T> {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Item>, TableError> {
        (**self).get(key, read).await
    }
    async fn put(&self, put: Put) -> Result<(), TableError> {
        (**self).put(put).await
    }
    async fn update(&self, update: Update) -> Result<(), TableError> {
        (**self).update(update).await
    }
    async fn delete(&self, delete: Delete) -> Result<(), TableError> {
        (**self).delete(delete).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        (**self).transact(writes).await
    }
    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        (**self).query(query).await
    }
}
