//! `agenda-ops`: one-off operations on a deployed stack's table, run by an
//! operator with the SDK's usual credentials and region (`AWS_PROFILE`,
//! `AWS_REGION`, ...).
//!
//! `agenda-ops migrate-due-index --table <TableName>`: moves the due entries
//! a table still holds under the due index's old single partition to their
//! day and shard (docs/decisions.md, "The due index spread over days and
//! shards"). Safe to run again, and to interrupt: a run finds only what is
//! left; entries the new code replaced meanwhile are left alone; no reminder
//! can go twice (each message's claim is untouched).

use aws_adapters::dynamo::DynamoTable;
use aws_adapters::store::TableStore;
use domain::clock::SystemClock;
use domain::ports::Clock;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage: agenda-ops migrate-due-index --table <TableName>";

#[tokio::main]
async fn main() -> ExitCode {
    aws_adapters::telemetry::init(aws_adapters::telemetry::LogFormat::Text);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let table = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["migrate-due-index", "--table", name] if !name.is_empty() => name.to_string(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sdk = match aws_adapters::wiring::sdk_config().await {
        Ok(sdk) => sdk,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let store = TableStore::new(Arc::new(DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table,
    )));
    // The operator's clock: entries already due are filed as due now, and
    // the next sweep sends them.
    match store.migrate_legacy_due_entries(SystemClock.now()).await {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string(&report).unwrap_or_else(|_| format!("{report:?}"))
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("migration stopped (run it again to resume): {e}");
            ExitCode::FAILURE
        }
    }
}
