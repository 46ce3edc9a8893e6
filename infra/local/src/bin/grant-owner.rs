//! The operator's command (README, "Operator: grants"): makes `--sub` an
//! owner of `--practitioner` on the deployed table. It creates a
//! practitioner's first owner, and gives back a practice whose owners are
//! all gone; everything else is done by owners through the members routes.
//!
//! `TABLE_NAME=<stack's table> cargo run -p local --bin grant-owner --
//!  --practitioner dr-martin --sub <Cognito sub> [--name "Dr Marie Martin"]`
//! with the operator's AWS credentials (`dynamodb:GetItem`, `PutItem` on the
//! table, and the table key's `kms:Decrypt`, `kms:GenerateDataKey`).

use aws_adapters::config::{Config, TABLE_NAME};
use aws_adapters::dynamo::DynamoTable;
use aws_adapters::store::TableStore;
use domain::grants::{Member, MemberSub, Role};
use domain::ids::PractitionerId;
use domain::service::grants::Grants;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str =
    "usage: TABLE_NAME=<table> grant-owner --practitioner <id> --sub <sub> [--name <display name>]";

struct Asked {
    practitioner: PractitionerId,
    sub: MemberSub,
    name: Option<String>,
}

fn asked(args: &[String]) -> Result<Asked, String> {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let practitioner = value("--practitioner").ok_or(USAGE)?;
    let practitioner = PractitionerId::parse(practitioner.as_str())
        .map_err(|e| format!("--practitioner {practitioner:?} {e}"))?;
    let sub = value("--sub").ok_or(USAGE)?;
    let sub = MemberSub::parse(sub.as_str()).map_err(|e| format!("--sub {sub:?} {e}"))?;
    let name = domain::text::clean_optional(value("--name").as_deref(), 120)
        .map_err(|e| format!("--name {e}"))?;
    Ok(Asked {
        practitioner,
        sub,
        name,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let asked = match asked(&args) {
        Ok(asked) => asked,
        Err(why) => {
            eprintln!("{why}");
            return ExitCode::FAILURE;
        }
    };
    let table = match Config::read(&[TABLE_NAME]).and_then(|c| c.required(TABLE_NAME)) {
        Ok(table) => table,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let sdk = match aws_adapters::wiring::sdk_config().await {
        Ok(sdk) => sdk,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let store = Arc::new(TableStore::new(Arc::new(DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table,
    ))));
    let grants = Grants::new(store, Arc::new(domain::clock::SystemClock));
    let owner = Member {
        sub: asked.sub.clone(),
        role: Role::Owner,
        name: asked.name,
    };
    // The practice's history says the operator did it.
    match grants
        .set_member(&asked.practitioner, owner, &domain::grants::Actor::System)
        .await
    {
        Ok(members) => {
            let owners = members
                .members
                .iter()
                .filter(|m| m.role == Role::Owner)
                .count();
            println!(
                "{} is an owner of {} ({owners} owner(s), {} member(s)); it works on the API within {} s",
                asked.sub,
                asked.practitioner,
                members.members.len(),
                domain::grants::GRANT_CACHE_SECONDS
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("not granted: {e}");
            ExitCode::FAILURE
        }
    }
}
