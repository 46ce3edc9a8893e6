//! `agenda-ops`: the operator's one command for one-off work on a deployed
//! stack's table, run with the SDK's usual credentials and region
//! (`AWS_PROFILE`, `AWS_REGION`, ...). README, "Running it" and "Operator:
//! grants".
//!
//! - `agenda-ops migrate-due-index --table <TableName>` moves the due entries
//!   a table still holds under the due index's old single partition to their
//!   day and shard (docs/decisions.md, "The due index spread over days and
//!   shards"). Safe to run again, and to interrupt: a run finds only what is
//!   left; entries the new code replaced meanwhile are left alone; no
//!   reminder can go twice (each message's claim is untouched).
//! - `agenda-ops grant-owner --table <TableName> --practitioner <id> --sub
//!   <sub> [--name <display name>]` makes `--sub` an owner of
//!   `--practitioner`: a practitioner's first owner, or the way back into a
//!   practice whose owners are all gone. Everything else is done by owners
//!   through the members routes. Needs `dynamodb:GetItem` and `PutItem` on
//!   the table, and the table key's `kms:Decrypt` and `kms:GenerateDataKey`.

use aws_adapters::dynamo::DynamoTable;
use aws_adapters::store::TableStore;
use domain::clock::SystemClock;
use domain::grants::{Actor, GRANT_CACHE_SECONDS, Member, MemberSub, Role};
use domain::ids::PractitionerId;
use domain::ports::Clock;
use domain::service::grants::Grants;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage:
  agenda-ops migrate-due-index --table <TableName>
  agenda-ops grant-owner --table <TableName> --practitioner <id> --sub <sub> [--name <display name>]";

/// What the operator asked for, parsed before anything touches the table.
#[derive(Debug, PartialEq)]
enum Command {
    MigrateDueIndex {
        table: String,
    },
    GrantOwner {
        table: String,
        practitioner: PractitionerId,
        sub: MemberSub,
        name: Option<String>,
    },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let (command, flags) = args.split_first().ok_or(USAGE)?;
    let value = |flag: &str| -> Option<String> {
        flags
            .iter()
            .position(|a| a == flag)
            .and_then(|i| flags.get(i + 1))
            .filter(|v| !v.starts_with("--"))
            .cloned()
    };
    let table = value("--table")
        .filter(|t| !t.is_empty())
        .ok_or(format!("--table <TableName> is required\n{USAGE}"))?;
    match command.as_str() {
        "migrate-due-index" => Ok(Command::MigrateDueIndex { table }),
        "grant-owner" => {
            let practitioner = value("--practitioner").ok_or(USAGE)?;
            let practitioner = PractitionerId::parse(practitioner.as_str())
                .map_err(|e| format!("--practitioner {practitioner:?} {e}"))?;
            let sub = value("--sub").ok_or(USAGE)?;
            let sub = MemberSub::parse(sub.as_str()).map_err(|e| format!("--sub {sub:?} {e}"))?;
            let name = domain::text::clean_optional(value("--name").as_deref(), 120)
                .map_err(|e| format!("--name {e}"))?;
            Ok(Command::GrantOwner {
                table,
                practitioner,
                sub,
                name,
            })
        }
        _ => Err(USAGE.into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    aws_adapters::telemetry::init(aws_adapters::telemetry::LogFormat::Text);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(why) => {
            eprintln!("{why}");
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
    let store = |table: String| {
        Arc::new(TableStore::new(Arc::new(DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            table,
        ))))
    };
    match command {
        Command::MigrateDueIndex { table } => migrate_due_index(&store(table)).await,
        Command::GrantOwner {
            table,
            practitioner,
            sub,
            name,
        } => grant_owner(store(table), &practitioner, sub, name).await,
    }
}

async fn migrate_due_index(store: &TableStore<DynamoTable>) -> ExitCode {
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

async fn grant_owner(
    store: Arc<TableStore<DynamoTable>>,
    practitioner: &PractitionerId,
    sub: MemberSub,
    name: Option<String>,
) -> ExitCode {
    let grants = Grants::new(store, Arc::new(SystemClock));
    let owner = Member {
        sub: sub.clone(),
        role: Role::Owner,
        name,
    };
    // The practice's history says the operator (the system) did it.
    match grants.set_member(practitioner, owner, &Actor::System).await {
        Ok(members) => {
            let owners = members
                .members
                .iter()
                .filter(|m| m.role == Role::Owner)
                .count();
            println!(
                "{sub} is an owner of {practitioner} ({owners} owner(s), {} member(s)); it works on the API within {GRANT_CACHE_SECONDS} s",
                members.members.len(),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("not granted: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn each_operation_names_its_table() {
        assert_eq!(
            parse(&args("migrate-due-index --table Agenda")),
            Ok(Command::MigrateDueIndex {
                table: "Agenda".into()
            })
        );
        assert_eq!(
            parse(&args(
                "grant-owner --practitioner dr-martin --sub 7e1f9a3c --table Agenda"
            )),
            Ok(Command::GrantOwner {
                table: "Agenda".into(),
                practitioner: PractitionerId::parse("dr-martin").unwrap(),
                sub: MemberSub::parse("7e1f9a3c").unwrap(),
                name: None,
            })
        );
    }

    #[test]
    fn what_is_missing_or_malformed_is_refused_before_any_call() {
        for line in [
            "",
            "migrate-due-index",
            "migrate-due-index --table",
            "grant-owner --table Agenda --sub abc",
            "grant-owner --table Agenda --practitioner Dr.Martin --sub abc",
            "grant-owner --table Agenda --practitioner dr-martin --sub a/b",
            "grant-owner --table Agenda --practitioner dr-martin",
            "drop-everything --table Agenda",
        ] {
            assert!(parse(&args(line)).is_err(), "{line:?} was accepted");
        }
    }
}
