//! The memory table of local mode and the tests: the DynamoDB table as the
//! store sees it ([`Table`]), in memory. The store over it is the Lambdas'
//! own ([`MemoryStore`]); this file only keeps items, indexes and the stream.
//!
//! Like DynamoDB: conditions are evaluated against the stored item,
//! transactions are all or nothing, each secondary index of
//! [`schema::INDEXES`] is kept on every write (sparse: an item without the
//! index's keys is not in it; keys-only indexes return keys), and every
//! change reaches the subscribers as a stream record in Lambda's JSON shape
//! (NEW_AND_OLD_IMAGES). Requests and items read are counted, so tests can
//! hold reads to what DynamoDB would read.

use async_trait::async_trait;
use aws_adapters::store::TableStore;
use aws_adapters::table::schema::{self, Index};
use aws_adapters::table::{
    AttributeValue, Delete, Item, Key, MAX_TRANSACTION_ITEMS, Page, Put, Query, Read, Table,
    TableError, Update, Write,
};
use chrono::Utc;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// The store local mode and the tests run: the Lambdas' store over the
/// memory table.
pub type MemoryStore = TableStore<MemoryTable>;

/// An entry of a secondary index: its keys, then the item's own key (the
/// order DynamoDB returns items of equal index keys in is not specified).
type IndexEntry = (String, String, Key);

struct State {
    items: BTreeMap<Key, Item>,
    /// One ordered set per index of [`schema::INDEXES`], in that order.
    indexes: Vec<BTreeSet<IndexEntry>>,
    sequence: u64,
    subscribers: Vec<Subscriber>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            indexes: schema::INDEXES.iter().map(|_| BTreeSet::new()).collect(),
            sequence: 0,
            subscribers: Vec::new(),
        }
    }
}

struct Subscriber {
    tx: mpsc::UnboundedSender<serde_json::Value>,
    pending: Arc<watch::Sender<usize>>,
}

/// A reader of the table's stream. `pending` counts records handed over and
/// not yet marked done, so local mode can tell when every change has been handled.
pub struct StreamSubscription {
    pub records: mpsc::UnboundedReceiver<serde_json::Value>,
    pub pending: Arc<watch::Sender<usize>>,
}

impl StreamSubscription {
    /// Marks `n` received records as fully handled.
    pub fn done(&self, n: usize) {
        self.pending.send_modify(|p| *p = p.saturating_sub(n));
    }
}

/// The table in memory. One lock guards every request, which makes each
/// conditional write and each transaction atomic as DynamoDB's are.
#[derive(Default)]
pub struct MemoryTable {
    state: Mutex<State>,
    /// Items returned by gets and queries (what DynamoDB bills reads for).
    items_read: AtomicUsize,
    /// Requests of any kind (a transaction is one).
    requests: AtomicUsize,
    /// Queries (each page is one, as on DynamoDB).
    queries: AtomicUsize,
}

fn invalid(why: &str) -> TableError {
    TableError::Unavailable(format!("ValidationException: {why}"))
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every change from now on, as DynamoDB stream records (Lambda's JSON shape).
    pub fn subscribe(&self) -> StreamSubscription {
        let (tx, records) = mpsc::unbounded_channel();
        let pending = Arc::new(watch::Sender::new(0));
        self.lock().subscribers.push(Subscriber {
            tx,
            pending: pending.clone(),
        });
        StreamSubscription { records, pending }
    }

    /// Every item, by key, as JSON: tests compare the whole table before and
    /// after a request that must change nothing.
    pub fn dump(&self) -> BTreeMap<(String, String), serde_json::Value> {
        self.lock()
            .items
            .iter()
            .map(|(key, item)| {
                let json =
                    serde_dynamo::from_item(item.clone()).expect("a stored item reads as JSON");
                ((key.pk.clone(), key.sk.clone()), json)
            })
            .collect()
    }

    /// Items read so far by gets and queries.
    pub fn items_read(&self) -> usize {
        self.items_read.load(Ordering::Relaxed)
    }

    /// Requests so far, of any kind.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Queries so far (pages of them).
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// Writes `item` as it is, with its stream record and no condition: for
    /// tests that stage what another function wrote.
    pub fn put_now(&self, item: Item) -> Result<(), TableError> {
        let key = Key::of(&item).ok_or_else(|| invalid("an item without its key"))?;
        self.lock().write(key, Some(item));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while the lock was held left no half-written
        // change: every write below completes before it returns.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request, and lets other tasks run first, as a request over
    /// the network would: concurrent callers interleave between their
    /// requests (a read, then a conditional write) as they do on DynamoDB,
    /// so the races the conditions settle happen here too.
    async fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        tokio::task::yield_now().await;
    }

    fn read(&self, n: usize) {
        self.items_read.fetch_add(n, Ordering::Relaxed);
    }
}

impl State {
    /// The item under `key` after `write`, which the caller has checked.
    fn written(&self, write: &Write) -> Result<(Key, Option<Item>), TableError> {
        Ok(match write {
            Write::Put(put) => {
                let key = Key::of(&put.item).ok_or_else(|| invalid("an item without its key"))?;
                (key, Some(put.item.clone()))
            }
            Write::Update(update) => {
                let mut item = self
                    .items
                    .get(&update.key)
                    .cloned()
                    .unwrap_or_else(|| update.key.to_item());
                for (name, value) in &update.set {
                    if [schema::TABLE.partition, schema::TABLE.sort].contains(&name.as_str()) {
                        return Err(invalid("an update cannot change the item's key"));
                    }
                    item.insert(name.clone(), value.clone());
                }
                for (name, n) in &update.add {
                    let before = match item.get(name) {
                        None => 0,
                        Some(AttributeValue::N(number)) => number
                            .parse::<i64>()
                            .map_err(|_| invalid("ADD to a number that is not whole"))?,
                        Some(_) => return Err(invalid("ADD to an attribute that is not a number")),
                    };
                    item.insert(name.clone(), AttributeValue::N((before + n).to_string()));
                }
                (update.key.clone(), Some(item))
            }
            Write::Delete(delete) => (delete.key.clone(), None),
            Write::Check { key, .. } => (key.clone(), self.items.get(key).cloned()),
        })
    }

    fn holds(&self, key: &Key, write: &Write) -> bool {
        write
            .condition()
            .is_none_or(|c| c.holds(self.items.get(key)))
    }

    /// Replaces (or removes) the item under `key`, keeping the indexes and
    /// telling the subscribers; no record when nothing changes hands.
    fn write(&mut self, key: Key, new: Option<Item>) {
        let old = match &new {
            Some(item) => self.items.insert(key.clone(), item.clone()),
            None => self.items.remove(&key),
        };
        if old.is_none() && new.is_none() {
            return;
        }
        for (index, entries) in schema::INDEXES.iter().zip(self.indexes.iter_mut()) {
            if let Some((pk, sk)) = old.as_ref().and_then(|i| index.key.keys_of(i)) {
                entries.remove(&(pk, sk, key.clone()));
            }
            if let Some((pk, sk)) = new.as_ref().and_then(|i| index.key.keys_of(i)) {
                entries.insert((pk, sk, key.clone()));
            }
        }
        self.emit(&key, old, new);
    }

    fn emit(&mut self, key: &Key, old: Option<Item>, new: Option<Item>) {
        self.sequence += 1;
        let event_name = match (&old, &new) {
            (None, _) => "INSERT",
            (Some(_), Some(_)) => "MODIFY",
            (Some(_), None) => "REMOVE",
        };
        let mut change = serde_json::json!({
            "ApproximateCreationDateTime": Utc::now().timestamp(),
            "Keys": key.to_item(),
            "SequenceNumber": format!("{:021}", self.sequence),
            "SizeBytes": 0,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        if let Some(new) = new {
            change["NewImage"] = serde_json::to_value(new).expect("items serialize");
        }
        if let Some(old) = old {
            change["OldImage"] = serde_json::to_value(old).expect("items serialize");
        }
        let record = serde_json::json!({
            "eventID": format!("{:032x}", self.sequence),
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "local",
            "dynamodb": change,
            "eventSourceARN": "arn:aws:dynamodb:local:000000000000:table/agenda/stream/local",
        });
        self.subscribers.retain(|s| {
            s.pending.send_modify(|p| *p += 1);
            let delivered = s.tx.send(record.clone()).is_ok();
            if !delivered {
                s.pending.send_modify(|p| *p -= 1);
            }
            delivered
        });
    }

    /// A single conditional write.
    fn apply(&mut self, write: Write, old_on_refusal: bool) -> Result<(), TableError> {
        let (key, new) = self.written(&write)?;
        if !self.holds(&key, &write) {
            let old = old_on_refusal
                .then(|| self.items.get(&key).cloned())
                .flatten();
            return Err(TableError::ConditionFailed { old });
        }
        if !matches!(write, Write::Check { .. }) {
            self.write(key, new);
        }
        Ok(())
    }

    fn query(&self, query: &Query) -> Result<Page, TableError> {
        let admits = |sort: &str| query.sort.as_ref().is_none_or(|s| s.admits(sort));
        let limit = query.limit.unwrap_or(usize::MAX).max(1);
        let mut items = Vec::new();
        match query.index {
            None => {
                let start = match &query.start_after {
                    Some(after) => Bound::Excluded(
                        Key::of(after)
                            .ok_or_else(|| invalid("a start key without the table's keys"))?,
                    ),
                    None => Bound::Included(Key::new(query.partition.clone(), "")),
                };
                let mut last = None;
                for (key, item) in self.items.range((start, Bound::Unbounded)) {
                    if key.pk != query.partition || items.len() == limit {
                        break;
                    }
                    if admits(&key.sk) {
                        items.push(item.clone());
                        last = Some(key.clone());
                    }
                }
                let full = items.len() == limit;
                Ok(Page {
                    items,
                    last_key: last.filter(|_| full).map(|k| k.to_item()),
                })
            }
            Some(index) => {
                if query.read == Read::Consistent {
                    return Err(invalid(
                        "consistent reads are not supported on global secondary indexes",
                    ));
                }
                let position = schema::INDEXES
                    .iter()
                    .position(|i| std::ptr::eq(*i, index) || *i == index)
                    .ok_or_else(|| invalid("no such index"))?;
                let start = match &query.start_after {
                    Some(after) => {
                        let (pk, sk) = index
                            .key
                            .keys_of(after)
                            .ok_or_else(|| invalid("a start key without the index's keys"))?;
                        let key = Key::of(after)
                            .ok_or_else(|| invalid("a start key without the table's keys"))?;
                        Bound::Excluded((pk, sk, key))
                    }
                    None => {
                        Bound::Included((query.partition.clone(), String::new(), Key::new("", "")))
                    }
                };
                let mut last = None;
                for entry in self.indexes[position].range((start, Bound::Unbounded)) {
                    let (pk, sk, key) = entry;
                    if *pk != query.partition || items.len() == limit {
                        break;
                    }
                    if admits(sk) {
                        if let Some(item) = self.items.get(key) {
                            items.push(index.project(item));
                            last = Some(entry.clone());
                        }
                    }
                }
                let full = items.len() == limit;
                Ok(Page {
                    items,
                    last_key: last.filter(|_| full).map(|e| start_key(index, &e)),
                })
            }
        }
    }
}

/// The `LastEvaluatedKey` of an index query: the item's and the index's keys.
fn start_key(index: &Index, (pk, sk, key): &IndexEntry) -> Item {
    let mut item = key.to_item();
    item.insert(
        index.key.partition.to_string(),
        AttributeValue::S(pk.clone()),
    );
    item.insert(index.key.sort.to_string(), AttributeValue::S(sk.clone()));
    item
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, key: &Key, _read: Read) -> Result<Option<Item>, TableError> {
        self.request().await;
        let item = self.lock().items.get(key).cloned();
        self.read(usize::from(item.is_some()));
        Ok(item)
    }

    async fn put(&self, put: Put) -> Result<(), TableError> {
        self.request().await;
        let old_on_refusal = put.old_on_refusal;
        self.lock().apply(Write::Put(put), old_on_refusal)
    }

    async fn update(&self, update: Update) -> Result<(), TableError> {
        self.request().await;
        self.lock().apply(Write::Update(update), false)
    }

    async fn delete(&self, delete: Delete) -> Result<(), TableError> {
        self.request().await;
        self.lock().apply(Write::Delete(delete), false)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        self.request().await;
        if writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(invalid("too many items in one transaction"));
        }
        let mut state = self.lock();
        let mut changes = Vec::with_capacity(writes.len());
        let mut keys = BTreeSet::new();
        for write in &writes {
            let (key, new) = state.written(write)?;
            if !keys.insert(key.clone()) {
                return Err(invalid("a transaction cannot name one item twice"));
            }
            changes.push((key, new, matches!(write, Write::Check { .. })));
        }
        let reasons: Vec<Option<String>> = writes
            .iter()
            .zip(&changes)
            .map(|(write, (key, _, _))| {
                (!state.holds(key, write)).then(|| "ConditionalCheckFailed".to_string())
            })
            .collect();
        if reasons.iter().any(Option::is_some) {
            return Err(TableError::TransactionCanceled { reasons });
        }
        for (key, new, check) in changes {
            if !check {
                state.write(key, new);
            }
        }
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        self.request().await;
        self.queries.fetch_add(1, Ordering::Relaxed);
        let page = self.lock().query(query)?;
        self.read(page.items.len());
        Ok(page)
    }
}

/// For tests of what reacts to an appointment's changes (the scheduler, the
/// senders, the sweeper): writes the appointment as it is given (status,
/// time, version) over the stored one, with its stream record, like the
/// update of a move or a cancellation. It checks nothing, and leaves the
/// agenda days as they were.
pub trait OverwriteAppointment {
    fn overwrite_appointment(
        &self,
        appointment: &domain::appointment::Appointment,
    ) -> Result<(), domain::ports::StoreError>;
}

impl OverwriteAppointment for MemoryStore {
    fn overwrite_appointment(
        &self,
        appointment: &domain::appointment::Appointment,
    ) -> Result<(), domain::ports::StoreError> {
        self.table()
            .put_now(self.appointment_item(appointment)?)
            .map_err(|e| domain::ports::StoreError::Unavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_adapters::table::{Condition, SortKey};
    use std::collections::HashMap;

    fn item(pk: &str, sk: &str, more: &[(&str, &str)]) -> Item {
        let mut attributes: HashMap<String, AttributeValue> = more
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect();
        attributes.insert("pk".into(), AttributeValue::S(pk.into()));
        attributes.insert("sk".into(), AttributeValue::S(sk.into()));
        Item::from(attributes)
    }

    #[tokio::test]
    async fn a_refused_transaction_writes_nothing_and_says_which_part_failed() {
        // Given one item
        let table = MemoryTable::new();
        table.put(Put::new(item("A", "1", &[]))).await.unwrap();
        let stream = table.subscribe();
        // When a transaction writes a new item and, conditionally, the existing one
        let result = table
            .transact(vec![
                Write::Put(Put::new(item("B", "1", &[]))),
                Write::Put(Put::new(item("A", "1", &[])).when(Condition::not_exists("pk"))),
            ])
            .await;
        // Then it is cancelled for its second part, and nothing was written
        match result {
            Err(TableError::TransactionCanceled { reasons }) => {
                assert_eq!(reasons, vec![None, Some("ConditionalCheckFailed".into())])
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(table.dump().len(), 1);
        assert_eq!(stream.pending.borrow().to_owned(), 0);
    }

    #[tokio::test]
    async fn a_sparse_index_holds_the_items_with_its_keys_and_pages_in_order() {
        let table = MemoryTable::new();
        for (sk, due) in [("1", "b"), ("2", "a"), ("3", "c")] {
            table
                .put(Put::new(item(
                    "APPT#x",
                    sk,
                    &[("gsi2pk", "REMINDER"), ("gsi2sk", due)],
                )))
                .await
                .unwrap();
        }
        table.put(Put::new(item("APPT#x", "4", &[]))).await.unwrap();
        let first = table
            .query(
                &Query::index(&schema::GSI2, "REMINDER")
                    .sort(SortKey::AtMost("b".into()))
                    .limit(1),
            )
            .await
            .unwrap();
        let rest = table
            .query(
                &Query::index(&schema::GSI2, "REMINDER")
                    .sort(SortKey::AtMost("b".into()))
                    .start_after(first.last_key.clone()),
            )
            .await
            .unwrap();
        let sks = |page: &Page| -> Vec<String> {
            page.items
                .iter()
                .map(|i| match i.get("gsi2sk") {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                })
                .collect()
        };
        assert_eq!(sks(&first), ["a"]);
        assert_eq!(sks(&rest), ["b"]);
        assert!(rest.last_key.is_none());
        assert_eq!(table.items_read(), 2);
        assert_eq!((table.requests(), table.queries()), (6, 2));
    }

    #[tokio::test]
    async fn a_keys_only_index_returns_keys() {
        let table = MemoryTable::new();
        table
            .put(Put::new(item(
                "APPT#x",
                "MSG#1",
                &[("gsi3pk", "SENT#m"), ("gsi3sk", "MSG#1"), ("entry", "e")],
            )))
            .await
            .unwrap();
        let page = table
            .query(&Query::index(&schema::GSI3, "SENT#m"))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(page.items[0].get("entry").is_none());
        assert!(Key::of(&page.items[0]).is_some());
    }
}
