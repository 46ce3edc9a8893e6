//! The store's contract cases run on both tables: the memory table always,
//! DynamoDB on moto (a table created from template.yaml) under `make test`.
//! The store is the same code on both ([`TableStore`]); what differs is the
//! table underneath, so a case that passes on one and fails on the other
//! points at a table, not at a rule.

use crate::aws::{create_table_from_template, sdk_config};
use crate::recording::Recorded;
use aws_adapters::dynamo::DynamoTable;
use aws_adapters::store::TableStore;
use aws_adapters::table::{Item, Put, Table};
use local::embedded::MemoryTable;
use std::sync::Arc;

/// Which table a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Memory,
    /// DynamoDB on the moto server `make test` starts.
    Moto,
}

/// A fresh table of one kind, and what a case may ask of it besides the store.
pub enum TableUnderTest {
    Memory(Arc<MemoryTable>),
    Moto {
        table: Arc<DynamoTable>,
        /// The operations its client sent.
        recorded: Recorded,
        client: aws_sdk_dynamodb::Client,
        name: String,
    },
}

impl TableUnderTest {
    pub async fn new(kind: TableKind) -> Self {
        match kind {
            TableKind::Memory => Self::Memory(Arc::new(MemoryTable::new())),
            TableKind::Moto => {
                let sdk = sdk_config().await;
                let recorded = Recorded::default();
                let client = recorded.dynamodb(&sdk);
                let name = format!("agenda-{}", domain::ids::AppointmentId::new()).to_lowercase();
                create_table_from_template(&client, &name).await;
                Self::Moto {
                    table: Arc::new(DynamoTable::new(client.clone(), name.clone())),
                    recorded,
                    client,
                    name,
                }
            }
        }
    }

    pub fn kind(&self) -> TableKind {
        match self {
            Self::Memory(_) => TableKind::Memory,
            Self::Moto { .. } => TableKind::Moto,
        }
    }

    pub fn table(&self) -> Arc<dyn Table> {
        match self {
            Self::Memory(table) => table.clone(),
            Self::Moto { table, .. } => table.clone(),
        }
    }

    /// The store over this table (default retention).
    pub fn store(&self) -> Arc<TableStore> {
        Arc::new(TableStore::new(self.table()))
    }

    /// Queries sent so far (each page is one).
    pub fn queries(&self) -> usize {
        match self {
            Self::Memory(table) => table.queries(),
            Self::Moto { recorded, .. } => recorded.count("dynamodb:Query"),
        }
    }

    /// Writes `item` as it is (no condition), below the store: for cases
    /// about items the store itself never writes.
    pub async fn put_raw(&self, item: Item) {
        self.table()
            .put(Put::new(item))
            .await
            .expect("the table takes the item");
    }

    /// Every item of the table, as JSON, in key order.
    pub async fn items(&self) -> Vec<serde_json::Value> {
        match self {
            Self::Memory(table) => table.dump().into_values().collect(),
            Self::Moto { client, name, .. } => {
                let mut items: Vec<serde_json::Value> = Vec::new();
                let mut start = None;
                loop {
                    let page = client
                        .scan()
                        .table_name(name)
                        .consistent_read(true)
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .expect("moto scans the table");
                    for item in page.items() {
                        items.push(
                            serde_dynamo::from_item(item.clone()).expect("an item reads as JSON"),
                        );
                    }
                    start = page.last_evaluated_key().cloned();
                    if start.is_none() {
                        break;
                    }
                }
                let key = |v: &serde_json::Value| (v["pk"].to_string(), v["sk"].to_string());
                items.sort_by_key(key);
                items
            }
        }
    }
}

/// One store case, two tests: `<case>::memory` and `<case>::moto` (ignored
/// without moto). The case is an `async fn(TableUnderTest)` of the calling
/// file. Cases listed after `racing:` race tasks against each other: on the
/// memory table they run on one thread, where every request lets the other
/// tasks run first, so the racers interleave the same way at every run (all
/// read, then all write); on moto, on four threads, as requests really race.
#[macro_export]
macro_rules! on_each_table {
    (@one $case:ident, [$($memory:tt)*], [$($moto:tt)*]) => {
        mod $case {
            #[tokio::test($($memory)*)]
            async fn memory() {
                super::$case($crate::tables::TableUnderTest::new($crate::tables::TableKind::Memory).await).await;
            }

            #[tokio::test($($moto)*)]
            #[ignore = "needs moto: run through `make test`"]
            async fn moto() {
                super::$case($crate::tables::TableUnderTest::new($crate::tables::TableKind::Moto).await).await;
            }
        }
    };
    (racing: $($case:ident),* $(,)?) => {$(
        $crate::on_each_table!(@one $case, [], [flavor = "multi_thread", worker_threads = 4]);
    )*};
    ($($case:ident),* $(,)?) => {$(
        $crate::on_each_table!(@one $case, [], []);
    )*};
}
