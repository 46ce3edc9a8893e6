//! The table's keys and secondary indexes, named once: the store queries
//! them, the memory table maintains them, and `tests/consistency.rs` holds
//! them against `AgendaTable` in template.yaml (names, key attributes,
//! projections).

use super::{AttributeValue, Item};
use crate::{due_index, item};

/// A partition key and a sort key, both strings.
#[derive(Debug, PartialEq, Eq)]
pub struct KeySchema {
    pub partition: &'static str,
    pub sort: &'static str,
}

impl KeySchema {
    /// The item's values of both keys; `None` when it lacks either (an item
    /// without an index's keys is not in that index: sparse indexes).
    pub fn keys_of(&self, item: &Item) -> Option<(String, String)> {
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(value)) => Some(value.clone()),
            _ => None,
        };
        Some((text(self.partition)?, text(self.sort)?))
    }
}

/// What an index holds of each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// The whole item.
    All,
    /// The table's and the index's keys only.
    KeysOnly,
}

impl Projection {
    /// As template.yaml writes it (`ProjectionType`).
    pub fn name(self) -> &'static str {
        match self {
            Projection::All => "ALL",
            Projection::KeysOnly => "KEYS_ONLY",
        }
    }
}

/// A global secondary index.
#[derive(Debug, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub key: KeySchema,
    pub projection: Projection,
}

impl Index {
    /// What a query of the index returns of `item`.
    pub fn project(&self, item: &Item) -> Item {
        match self.projection {
            Projection::All => item.clone(),
            Projection::KeysOnly => Item::from(
                [
                    TABLE.partition,
                    TABLE.sort,
                    self.key.partition,
                    self.key.sort,
                ]
                .iter()
                .filter_map(|name| Some((name.to_string(), item.get(*name)?.clone())))
                .collect::<std::collections::HashMap<_, _>>(),
            ),
        }
    }
}

/// The table's own key.
pub const TABLE: KeySchema = KeySchema {
    partition: item::PK,
    sort: item::SK,
};

/// Appointments by practitioner and start (the agenda), and settled log
/// entries by practitioner and appointment (the agenda's logs).
pub const GSI1: Index = Index {
    name: item::GSI1,
    key: KeySchema {
        partition: item::GSI1_PK,
        sort: item::GSI1_SK,
    },
    projection: Projection::All,
};

/// Sparse: due entries of reminders and held notices, in due order.
pub const GSI2: Index = Index {
    name: due_index::GSI2,
    key: KeySchema {
        partition: due_index::GSI2_PK,
        sort: due_index::GSI2_SK,
    },
    projection: Projection::All,
};

/// Sparse: sent messages by their provider's id; keys only, the item is then
/// read consistently.
pub const GSI3: Index = Index {
    name: item::GSI3,
    key: KeySchema {
        partition: item::GSI3_PK,
        sort: item::GSI3_SK,
    },
    projection: Projection::KeysOnly,
};

/// Every secondary index of the table.
pub const INDEXES: &[&Index] = &[&GSI1, &GSI2, &GSI3];
