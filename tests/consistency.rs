//! The template and the code agree: every function of `template.yaml` has its
//! crate and a sample event its handler accepts, is given every environment
//! variable it reads and exactly the IAM actions its adapters call, and every
//! key and index the code names exists. Driven by what the template declares,
//! so new functions are checked as soon as they are added. Each test lists
//! every problem it finds, by name, in its failure message.

use aws_adapters::due_index::{GSI2, GSI2_PK, GSI2_SK};
use aws_adapters::dynamo::DynamoStore;
use aws_adapters::eventbridge::EventBridgePublisher;
use aws_adapters::item::{GSI1, GSI1_PK, GSI1_SK, PK, SK, TTL};
use aws_adapters::ses::SesMailer;
use aws_adapters::sns::SnsSmsSender;
use local::template::{TEMPLATE, Template as LocalTemplate, matches};
use local::{LocalApp, LocalConfig};
use serde_json::Value as Json;
use serde_norway::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn template() -> Value {
    serde_norway::from_str(TEMPLATE).expect("template.yaml parses")
}

/// An adapter the functions build, the IAM actions it declares, and the
/// source file whose SDK calls that list must describe.
struct Adapter {
    name: &'static str,
    actions: &'static [&'static str],
    source: &'static str,
    service: &'static str,
}

/// One line per AWS adapter (the SNS one joins when it lands).
const ADAPTERS: &[Adapter] = &[
    Adapter {
        name: "DynamoStore",
        actions: DynamoStore::IAM_ACTIONS,
        source: "shared/src/store/dynamo.rs",
        service: "dynamodb",
    },
    Adapter {
        name: "SesMailer",
        actions: SesMailer::IAM_ACTIONS,
        source: "shared/src/mail/ses.rs",
        service: "ses",
    },
    Adapter {
        name: "SnsSmsSender",
        actions: SnsSmsSender::IAM_ACTIONS,
        source: "shared/src/mail/sns.rs",
        service: "sns",
    },
    Adapter {
        name: "EventBridgePublisher",
        actions: EventBridgePublisher::IAM_ACTIONS,
        source: "shared/src/events/mod.rs",
        service: "events",
    },
];

/// A function of the template: `AWS::Serverless::Function` resources.
struct Function {
    id: String,
    properties: Value,
    metadata: Value,
}

impl Function {
    fn binary(&self) -> Option<&str> {
        self.metadata
            .get("BuildProperties")
            .and_then(|p| p.get("Binary"))
            .and_then(Value::as_str)
    }

    fn crate_dir(&self) -> Option<PathBuf> {
        self.binary().map(|b| repo().join("functions").join(b))
    }

    fn main_rs(&self) -> Option<String> {
        read(&self.crate_dir()?.join("src/main.rs"))
    }

    /// Every source file of the function's crate, concatenated.
    fn sources(&self) -> String {
        let Some(dir) = self.crate_dir() else {
            return String::new();
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("src"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files.iter().filter_map(|f| read(f)).collect()
    }

    /// The code that builds the function's adapters and reads its
    /// configuration: its own sources, plus the shared wiring helpers they call.
    fn wiring(&self) -> String {
        with_wiring_helpers(self.sources())
    }

    fn events(&self) -> Vec<(String, &Value)> {
        self.properties
            .get("Events")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(_, e)| Some((e.get("Type")?.as_str()?.to_string(), e.get("Properties")?)))
            .collect()
    }
}

fn functions() -> Vec<Function> {
    let root = template();
    let resources = root["Resources"]
        .as_mapping()
        .expect("template.yaml has Resources");
    let functions: Vec<Function> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| Function {
            id: id.as_str().unwrap_or_default().to_string(),
            properties: r.get("Properties").cloned().unwrap_or(Value::Null),
            metadata: r.get("Metadata").cloned().unwrap_or(Value::Null),
        })
        .collect();
    assert!(!functions.is_empty(), "template.yaml declares no function");
    functions
}

fn fail_with(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "template.yaml and the code disagree:\n  - {}",
        problems.join("\n  - ")
    );
}

/// Text of a YAML scalar or CloudFormation intrinsic (`!Sub "..."`, `!GetAtt x`).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(tagged) => format!("{} {}", tagged.tag, text(&tagged.value)),
        Value::Sequence(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        other => serde_norway::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(single) => vec![single],
        None => vec![],
    }
}

#[tokio::test]
async fn every_function_has_its_crate_and_a_sample_event_its_handler_accepts() {
    let mut problems = Vec::new();
    let workspace = read(&repo().join("Cargo.toml")).unwrap_or_default();
    let filters = LocalTemplate::parse(TEMPLATE).expect("local mode reads template.yaml");
    for function in functions() {
        let id = &function.id;
        if function.metadata.get("BuildMethod").and_then(Value::as_str) != Some("rust-cargolambda")
        {
            problems.push(format!(
                "{id}: Metadata.BuildMethod is not rust-cargolambda"
            ));
        }
        let Some(binary) = function.binary() else {
            problems.push(format!("{id}: no Metadata.BuildProperties.Binary"));
            continue;
        };
        let code_uri = function
            .properties
            .get("CodeUri")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !repo().join(code_uri).join("Cargo.toml").is_file() {
            problems.push(format!("{id}: CodeUri {code_uri:?} holds no Cargo.toml"));
        }
        let manifest = read(&repo().join("functions").join(binary).join("Cargo.toml"));
        match manifest {
            None => problems.push(format!(
                "{id}: builds binary {binary}, but functions/{binary}/Cargo.toml does not exist"
            )),
            Some(m) if !m.contains(&format!("name = \"{binary}\"")) => problems.push(format!(
                "{id}: functions/{binary}/Cargo.toml is not named {binary}"
            )),
            Some(_) => {}
        }
        if !workspace.contains(&format!("\"functions/{binary}\"")) {
            problems.push(format!(
                "{id}: functions/{binary} is not a member of the workspace"
            ));
        }
        if function.main_rs().is_none() {
            problems.push(format!(
                "{id}: functions/{binary}/src/main.rs does not exist"
            ));
        }

        let mut samples: Vec<PathBuf> = std::fs::read_dir(repo().join("events"))
            .expect("events/ exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&format!("{binary}-")))
            })
            .collect();
        samples.sort();
        if samples.is_empty() {
            problems.push(format!("{id}: no sample event events/{binary}-*.json"));
        }
        let kinds: BTreeSet<String> = function.events().into_iter().map(|(k, _)| k).collect();
        for sample in samples {
            let name = sample.file_name().unwrap().to_string_lossy().to_string();
            let event: Json = match read(&sample).map(|s| serde_json::from_str(&s)) {
                Some(Ok(event)) => event,
                _ => {
                    problems.push(format!("{id}: events/{name} is not JSON"));
                    continue;
                }
            };
            // The handlers themselves, on the embedded store with the demo
            // practitioner, at the moment the sample was recorded.
            let app = app_at(&event).await;
            if kinds.contains("HttpApi") {
                let route = event["routeKey"].as_str().unwrap_or_default();
                let declared = function.events().into_iter().any(|(kind, p)| {
                    kind == "HttpApi"
                        && format!(
                            "{} {}",
                            p["Method"].as_str().unwrap_or_default().to_uppercase(),
                            p["Path"].as_str().unwrap_or_default()
                        ) == route
                });
                if !declared {
                    problems.push(format!(
                        "{id}: events/{name} is for route {route:?}, which the template does not route to it"
                    ));
                }
                // A sample may name data a fresh store lacks (a link token, an
                // appointment): 404, 409 or 410 are answers to a request the
                // handler understood. A refused shape (400, 413, 415, 422) or
                // a crash (5xx) is not.
                let understood = |status: u64| {
                    (200..500).contains(&status) && ![400, 413, 415, 422].contains(&status)
                };
                match app.invoke(id, &event).await {
                    Ok(response) if understood(response["statusCode"].as_u64().unwrap_or(0)) => {}
                    Ok(response) => problems.push(format!(
                        "{id}: its handler answers events/{name} with {response}"
                    )),
                    Err(e) => problems.push(format!("{id}: events/{name}: {e}")),
                }
            } else if kinds.contains("DynamoDB") {
                let source = filters.streams.iter().find(|s| &s.function == id);
                for record in event["Records"].as_array().into_iter().flatten() {
                    let passes = source.is_some_and(|s| {
                        s.filters.is_empty() || s.filters.iter().any(|f| matches(f, record))
                    });
                    if !passes {
                        problems.push(format!(
                            "{id}: a record of events/{name} does not pass the template's filters, so the function would never see it"
                        ));
                    }
                }
                match app.invoke(id, &event).await {
                    Ok(response)
                        if response["batchItemFailures"]
                            .as_array()
                            .is_some_and(|f| f.is_empty()) => {}
                    Ok(response) => problems.push(format!(
                        "{id}: its handler reports failures for events/{name}: {response}"
                    )),
                    Err(e) => problems.push(format!("{id}: events/{name}: {e}")),
                }
            } else {
                // Other triggers (schedules) have no stand-in here yet: the
                // sample must at least be an object Lambda could hand over.
                if !event.is_object() {
                    problems.push(format!("{id}: events/{name} is not a JSON object"));
                }
            }
        }
    }
    fail_with(problems);
}

/// Local mode with its clock at the sample's own time (HTTP `timeEpoch`, or
/// the first stream record's creation time), so a sample never ages out.
async fn app_at(event: &Json) -> LocalApp {
    let millis = event["requestContext"]["timeEpoch"].as_i64().or_else(|| {
        event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]
            .as_i64()
            .map(|s| s * 1000)
    });
    let mut config = LocalConfig::on("127.0.0.1:0".parse().unwrap());
    config.clock_start = millis.and_then(chrono::DateTime::from_timestamp_millis);
    LocalApp::start(config).await.expect("local mode starts")
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Whether `source` mentions `name` as a whole identifier.
fn mentions(source: &str, name: &str) -> bool {
    source.match_indices(name).any(|(at, _)| {
        !is_word(source[..at].chars().next_back())
            && !is_word(source[at + name.len()..].chars().next())
    })
}

/// The functions of `shared/src/wiring.rs` (the helpers Lambda `main`s may
/// build their adapters with), by name, with their text.
fn wiring_helpers() -> Vec<(String, String)> {
    let Some(source) = read(&repo().join("shared/src/wiring.rs")) else {
        return Vec::new();
    };
    let starts: Vec<usize> = source
        .match_indices('\n')
        .map(|(at, _)| at + 1)
        .filter(|at| {
            let line = &source[*at..];
            ["pub fn ", "pub async fn ", "fn ", "async fn "]
                .iter()
                .any(|p| line.starts_with(p))
        })
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, start)| {
            let end = starts.get(i + 1).copied().unwrap_or(source.len());
            let text = &source[*start..end];
            let name: String = text[text.find("fn ").unwrap() + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (name, text.to_string())
        })
        .collect()
}

/// `source` plus the wiring helpers it calls (`wiring::store(..)`), and the
/// helpers those call in turn.
fn with_wiring_helpers(source: String) -> String {
    let helpers = wiring_helpers();
    let mut included: BTreeSet<String> = BTreeSet::new();
    let mut text = source;
    loop {
        let called: Vec<&(String, String)> = helpers
            .iter()
            .filter(|(name, _)| !included.contains(name))
            .filter(|(name, _)| {
                mentions(&text, &format!("wiring::{name}"))
                    || (!included.is_empty() && text.contains(&format!(" {name}(")))
                    || (!included.is_empty() && text.contains(&format!("({name}(")))
            })
            .collect();
        if called.is_empty() {
            return text;
        }
        for (name, body) in called {
            included.insert(name.clone());
            text.push_str(body);
        }
    }
}

/// The environment variables the code reads: the constants of
/// `shared/src/config.rs`, as (identifier, variable name).
fn config_variables() -> Vec<(String, String)> {
    let config = read(&repo().join("shared/src/config.rs")).expect("shared/src/config.rs");
    config
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (ident, value) = rest.split_once(": &str = ")?;
            let value = value.trim().trim_end_matches(';').trim_matches('"');
            Some((ident.to_string(), value.to_string()))
        })
        .collect()
}

/// The variables `source` reads, through the constants of config.rs.
fn variables_read(source: &str) -> BTreeSet<String> {
    config_variables()
        .into_iter()
        .filter(|(ident, _)| mentions(source, ident))
        .map(|(_, name)| name)
        .collect()
}

fn variables_set(function: &Function, globals: &Value) -> BTreeSet<String> {
    let names = |v: Option<&Value>| {
        v.and_then(|v| v.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    names(globals.get("Function"))
        .into_iter()
        .chain(names(Some(&function.properties)))
        .collect()
}

#[test]
fn every_variable_a_function_reads_is_set_for_it_by_the_template() {
    let mut problems = Vec::new();
    assert!(
        !config_variables().is_empty(),
        "no variable found in shared/src/config.rs"
    );
    let root = template();
    let globals = root.get("Globals").cloned().unwrap_or(Value::Null);
    for function in functions() {
        let id = &function.id;
        if function.main_rs().is_none() {
            continue; // reported by the crate check
        }
        let binary = function.binary().unwrap_or_default();
        let source = function.wiring();
        if function.sources().contains("env::var(") {
            problems.push(format!(
                "{id}: functions/{binary}/src reads the environment directly; go through aws_adapters::config"
            ));
        }
        let set = variables_set(&function, &globals);
        for name in variables_read(&source) {
            if !set.contains(&name) {
                problems.push(format!(
                    "{id} reads {name} (functions/{binary}/src and the wiring it calls), which template.yaml does not set for it"
                ));
            }
        }
        let own = variables_set(
            &function,
            &Value::Null, // only the function's own block: Globals serve every function
        );
        for name in own {
            if !variables_read(&source).contains(&name) {
                problems.push(format!(
                    "{id}: template.yaml sets {name}, which functions/{binary}/src (and the wiring it calls) does not read"
                ));
            }
        }
    }
    fail_with(problems);
}

/// `get_item` -> `GetItem`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The SDK operations an adapter's source calls on its client, as IAM actions.
/// A DynamoDB transaction is authorised by the actions of its parts.
fn actions_called(source: &str, service: &str) -> BTreeSet<String> {
    let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let mut actions = BTreeSet::new();
    for (at, _) in compact.match_indices(".client.") {
        let rest = &compact[at + ".client.".len()..];
        let op: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if rest[op.len()..].starts_with("()") && op != "transact_write_items" {
            actions.insert(format!("{service}:{}", pascal(&op)));
        }
    }
    if compact.contains(".transact_write_items()") {
        for (part, action) in [
            ("Put::builder()", "PutItem"),
            ("Update::builder()", "UpdateItem"),
            ("Delete::builder()", "DeleteItem"),
            ("ConditionCheck::builder()", "ConditionCheckItem"),
        ] {
            if compact.contains(part) {
                actions.insert(format!("{service}:{action}"));
            }
        }
    }
    actions
}

#[test]
fn each_adapters_iam_list_is_what_its_code_calls() {
    let mut problems = Vec::new();
    for adapter in ADAPTERS {
        let source = read(&repo().join(adapter.source)).expect("adapter source");
        let called = actions_called(&source, adapter.service);
        let declared: BTreeSet<String> = adapter.actions.iter().map(|a| a.to_string()).collect();
        for action in called.difference(&declared) {
            problems.push(format!(
                "{} calls {action} ({}) but its IAM_ACTIONS leave it out",
                adapter.name, adapter.source
            ));
        }
        for action in declared.difference(&called) {
            problems.push(format!(
                "{}::IAM_ACTIONS lists {action}, which {} never calls",
                adapter.name, adapter.source
            ));
        }
    }
    fail_with(problems);
}

/// Every action an `Allow` statement of the function's policies grants.
fn granted(function: &Function, problems: &mut Vec<String>) -> Vec<(String, Vec<String>)> {
    let mut grants = Vec::new();
    for policy in list(function.properties.get("Policies")) {
        let Some(statements) = policy.get("Statement") else {
            problems.push(format!(
                "{}: policy {} is not an inline Statement list; list its actions so they can be checked",
                function.id,
                text(policy)
            ));
            continue;
        };
        for statement in list(Some(statements)) {
            if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            let resources: Vec<String> = list(statement.get("Resource"))
                .into_iter()
                .map(text)
                .collect();
            for action in list(statement.get("Action")) {
                grants.push((text(action), resources.clone()));
            }
        }
    }
    grants
}

/// Lambda's event source mapping sends records it gave up on to the
/// on-failure queue with the function's role.
fn on_failure_sqs(function: &Function) -> bool {
    function.events().iter().any(|(kind, p)| {
        kind == "DynamoDB"
            && p.get("DestinationConfig")
                .and_then(|d| d.get("OnFailure"))
                .and_then(|o| o.get("Type"))
                .and_then(Value::as_str)
                == Some("SQS")
    })
}

#[test]
fn each_function_is_granted_exactly_the_actions_of_the_adapters_it_builds() {
    let mut problems = Vec::new();
    for function in functions() {
        let id = &function.id;
        if function.main_rs().is_none() {
            continue; // reported by the crate check
        }
        let binary = function.binary().unwrap_or_default();
        // Adapters built by the function or the wiring helpers it calls: a
        // type constructed with an SDK client.
        let compact: String = function
            .wiring()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for (at, _) in compact.match_indices("::new(aws_sdk_") {
            let name: String = compact[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !ADAPTERS.iter().any(|a| a.name == name) {
                problems.push(format!(
                    "{id}: functions/{binary} builds {name}, which has no IAM list in tests/consistency.rs (ADAPTERS)"
                ));
            }
        }
        let used: Vec<&Adapter> = ADAPTERS
            .iter()
            .filter(|a| compact.contains(&format!("{}::new(", a.name)))
            .collect();
        let mut needed: BTreeSet<String> = used
            .iter()
            .flat_map(|a| a.actions.iter().map(|s| s.to_string()))
            .collect();
        if on_failure_sqs(&function) {
            needed.insert("sqs:SendMessage".into());
        }
        let grants = granted(&function, &mut problems);
        let given: BTreeSet<String> = grants.iter().map(|(a, _)| a.clone()).collect();
        for action in needed.difference(&given) {
            let by = used
                .iter()
                .find(|a| a.actions.contains(&action.as_str()))
                .map(|a| a.name)
                .unwrap_or("its on-failure destination");
            problems.push(format!(
                "{id} calls {action} (through {by}), which template.yaml does not grant it"
            ));
        }
        for action in given.difference(&needed) {
            problems.push(format!(
                "{id} is granted {action} in template.yaml, which none of its adapters calls"
            ));
        }
        // Queries reach the indexes: grant them on the index resources too.
        if given.contains("dynamodb:Query") {
            for index in DynamoStore::INDEXES {
                let covered = grants.iter().any(|(action, resources)| {
                    action == "dynamodb:Query"
                        && resources
                            .iter()
                            .any(|r| r.ends_with(&format!("/index/{index}")))
                });
                if !covered {
                    problems.push(format!(
                        "{id} may Query but not on index {index} (no .../index/{index} resource)"
                    ));
                }
            }
        }
    }
    fail_with(problems);
}

fn key_names(schema: Option<&Value>) -> Vec<String> {
    list(schema)
        .into_iter()
        .filter_map(|k| {
            k.get("AttributeName")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn the_keys_and_indexes_the_code_names_exist_in_the_table() {
    let mut problems = Vec::new();
    let root = template();
    let table = &root["Resources"]["AgendaTable"]["Properties"];
    if key_names(table.get("KeySchema")) != [PK, SK] {
        problems.push(format!(
            "AgendaTable's KeySchema is not [{PK}, {SK}] as shared/src/store/item.rs writes"
        ));
    }
    // The list of indexes is what the adapter queries.
    let dynamo = read(&repo().join("shared/src/store/dynamo.rs")).expect("dynamo.rs");
    let compact: String = dynamo.chars().filter(|c| !c.is_whitespace()).collect();
    let declared = compact
        .split_once("INDEXES:&[&str]=&[")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list.to_string())
        .unwrap_or_default();
    for (at, _) in compact.match_indices(".index_name(") {
        let argument: String = compact[at + ".index_name(".len()..]
            .chars()
            .take_while(|c| *c != ')')
            .collect();
        if !declared.split(',').any(|d| d == argument) {
            problems.push(format!(
                "shared/src/store/dynamo.rs queries index {argument}, which DynamoStore::INDEXES leaves out"
            ));
        }
    }
    let indexes: Vec<&Value> = list(table.get("GlobalSecondaryIndexes"));
    for name in DynamoStore::INDEXES {
        match indexes
            .iter()
            .find(|i| i.get("IndexName").and_then(Value::as_str) == Some(name))
        {
            None => problems.push(format!(
                "DynamoStore queries index {name}, which AgendaTable does not declare"
            )),
            Some(index) => {
                // The keys each index is written with (store/item.rs, store/reminders.rs).
                let expected = match *name {
                    GSI1 => [GSI1_PK, GSI1_SK],
                    GSI2 => [GSI2_PK, GSI2_SK],
                    other => {
                        problems.push(format!(
                            "index {other}: tests/consistency.rs does not know its key attributes"
                        ));
                        continue;
                    }
                };
                if key_names(index.get("KeySchema")) != expected {
                    problems.push(format!(
                        "index {name}'s KeySchema is not [{}, {}]",
                        expected[0], expected[1]
                    ));
                }
            }
        }
    }
    let ttl = table
        .get("TimeToLiveSpecification")
        .and_then(|t| t.get("AttributeName"))
        .and_then(Value::as_str);
    if ttl != Some(TTL) {
        problems.push(format!(
            "AgendaTable's TTL attribute is {ttl:?}, the code expires links with {TTL:?}"
        ));
    }
    fail_with(problems);
}

#[test]
fn the_checks_themselves_find_what_they_look_for() {
    // Guards against a scan that silently finds nothing.
    let dynamo = read(&repo().join("shared/src/store/dynamo.rs")).unwrap();
    assert!(actions_called(&dynamo, "dynamodb").contains("dynamodb:Query"));
    assert_eq!(pascal("put_events"), "PutEvents");
    assert_eq!(
        variables_read("required(TABLE_NAME, ..); MY_TABLE_NAME"),
        BTreeSet::from(["TABLE_NAME".to_string()])
    );
    assert!(with_wiring_helpers("x".into()) == "x" || !wiring_helpers().is_empty());
}
