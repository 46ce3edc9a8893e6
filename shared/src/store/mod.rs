//! Store adapters: DynamoDB, and an in-memory store for local mode and tests.
//! Both write the same items ([`item`]), so the in-memory store's stream records
//! are exactly what DynamoDB Streams delivers.

pub mod dynamo;
pub mod item;
pub mod memory;
pub mod reminders;

pub use dynamo::DynamoStore;
pub use memory::MemoryStore;
