//! The template and the code agree, read from values the code declares: each
//! function's `NEEDS` (its logical id, trigger, adapters and own variables),
//! each HTTP function's `ROUTES`, each adapter's IAM actions and variables,
//! the codec's keys and indexes. `template.yaml` must declare exactly the
//! functions that have `NEEDS`, give each exactly the grants, variables, event
//! source and routes they declare, and hold the keys and indexes the code
//! writes and queries. Whether each adapter's
//! IAM list is what its code really calls is recorded at run time, against
//! moto. No Rust source is read. Each test lists every problem it finds, by
//! name, in its failure message.

use acceptance::aws::{MotoRun, sdk_config};
use acceptance::recording::Recorded;
use aws_adapters::config::Variable;
use aws_adapters::dynamo::DynamoTable;
use aws_adapters::eventbridge::EventBridgePublisher;
use aws_adapters::item::{PK, SK, TTL};
use aws_adapters::ses::SesMailer;
use aws_adapters::sns::SnsSmsSender;
use aws_adapters::store::TableStore;
use aws_adapters::table::schema;
use aws_adapters::telemetry::LOG_FILTER;
use aws_adapters::wiring::{Adapter, Needs, Trigger};
use edge::routes::{Access, Route};
use local::template::{TEMPLATE, Template as LocalTemplate, matches};
use local::{LocalApp, LocalConfig};
use serde_json::Value as Json;
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What every function declares; a new function joins this list.
const DECLARED: &[&Needs] = &[
    &booking::NEEDS,
    &status_change::NEEDS,
    &patient_links::NEEDS,
    &notice_sender::NEEDS,
    &reminder_scheduler::NEEDS,
    &reminder_sweeper::NEEDS,
    &delivery_feedback::NEEDS,
];

/// A route as the template and the declarations both say it: method, path,
/// and whether anyone may call it without a token.
type RouteKey = (String, String, bool);

fn route_keys<A>(routes: &[Route<A>]) -> BTreeSet<RouteKey> {
    routes
        .iter()
        .map(|r| {
            (
                r.method.as_str().to_string(),
                r.path.to_string(),
                r.access == Access::Anyone,
            )
        })
        .collect()
}

/// What every HTTP function declares of its routes (`ROUTES`), by the
/// function's logical id, with what is wrong with the declaration itself.
fn declared_routes() -> Vec<(&'static str, BTreeSet<RouteKey>, Vec<String>)> {
    use edge::routes::declaration_problems as problems;
    vec![
        (
            booking::NEEDS.function,
            route_keys(booking::ROUTES),
            problems(booking::ROUTES),
        ),
        (
            status_change::NEEDS.function,
            route_keys(status_change::ROUTES),
            problems(status_change::ROUTES),
        ),
        (
            patient_links::NEEDS.function,
            route_keys(patient_links::ROUTES),
            problems(patient_links::ROUTES),
        ),
    ]
}

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

    fn main_rs(&self) -> Option<PathBuf> {
        let main = repo()
            .join("functions")
            .join(self.binary()?)
            .join("src/main.rs");
        main.is_file().then_some(main)
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

    /// `Environment.Variables` of the function's own block.
    fn variables(&self) -> BTreeMap<String, Value> {
        variables_of(&self.properties)
    }
}

fn variables_of(block: &Value) -> BTreeMap<String, Value> {
    block
        .get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
        .collect()
}

fn global_variables() -> BTreeMap<String, Value> {
    variables_of(&template()["Globals"]["Function"])
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

/// Each function of the template with its `NEEDS`; a function without one is
/// reported by [`every_function_of_the_template_declares_its_needs_and_no_other`].
fn declared_functions() -> Vec<(Function, &'static Needs)> {
    functions()
        .into_iter()
        .filter_map(|f| {
            let needs = DECLARED.iter().find(|n| n.function == f.id)?;
            Some((f, *needs))
        })
        .collect()
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

#[test]
fn every_function_of_the_template_declares_its_needs_and_no_other() {
    let mut problems = Vec::new();
    let in_template: BTreeSet<String> = functions().into_iter().map(|f| f.id).collect();
    let mut declared = BTreeSet::new();
    for needs in DECLARED {
        if !declared.insert(needs.function.to_string()) {
            problems.push(format!(
                "two crates' NEEDS name the function {}",
                needs.function
            ));
        }
    }
    for id in in_template.difference(&declared) {
        problems.push(format!(
            "template.yaml declares {id}, which no NEEDS in tests/consistency.rs (DECLARED) describes"
        ));
    }
    for id in declared.difference(&in_template) {
        problems.push(format!(
            "a NEEDS names {id}, which template.yaml does not declare as an AWS::Serverless::Function"
        ));
    }
    fail_with(problems);
}

/// Local mode walks one table of (`NEEDS`, constructor): it must hold every
/// declared function, once.
#[test]
fn local_mode_runs_every_declared_function_and_no_other() {
    let run: Vec<&str> = local::functions::all()
        .iter()
        .map(|f| f.needs.function)
        .collect();
    let mut declared: Vec<&str> = DECLARED.iter().map(|n| n.function).collect();
    let mut sorted = run.clone();
    sorted.sort_unstable();
    declared.sort_unstable();
    assert_eq!(
        sorted, declared,
        "local::functions::all() and DECLARED differ"
    );
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        run.len(),
        "a function twice in local::functions::all()"
    );
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
            } else if kinds.contains("EventBridgeRule") || kinds.contains("CloudWatchLogs") {
                // Provider feedback about messages a fresh store never sent:
                // read, and dropped as another sender's (their send is long past).
                match app.invoke(id, &event).await {
                    Ok(summary) if summary["unknown"].as_u64().is_some_and(|n| n > 0) => {}
                    Ok(summary) => problems.push(format!(
                        "{id}: its handler found no report in events/{name}: {summary}"
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

/// A value CloudFormation would set to the empty string (or not at all).
fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

#[test]
fn every_variable_a_function_declares_is_set_for_it_and_no_other() {
    let mut problems = Vec::new();
    let globals = global_variables();
    for (function, needs) in declared_functions() {
        let id = &function.id;
        let own = function.variables();
        let declared = needs.all_variables();
        for variable in &declared {
            let name = variable.name;
            match own.get(name).or_else(|| globals.get(name)) {
                None => problems.push(format!(
                    "{id} declares {name} ({}), which template.yaml does not set for it",
                    variable.why
                )),
                Some(value) if variable.required && is_blank(value) => problems.push(format!(
                    "{id} requires {name} ({}), which template.yaml sets empty",
                    variable.why
                )),
                Some(_) => {}
            }
        }
        for name in own.keys() {
            if !declared.iter().any(|v| v.name == name.as_str()) {
                problems.push(format!(
                    "template.yaml sets {name} for {id}, whose NEEDS do not declare it"
                ));
            }
        }
    }
    // Globals serve every function: each must be read by all of them.
    let everywhere: &[Variable] = &[LOG_FILTER];
    for name in globals.keys() {
        if everywhere.iter().any(|v| v.name == name.as_str()) {
            continue;
        }
        for (function, needs) in declared_functions() {
            if !needs
                .all_variables()
                .iter()
                .any(|v| v.name == name.as_str())
            {
                problems.push(format!(
                    "template.yaml's Globals set {name} for {}, whose NEEDS do not declare it",
                    function.id
                ));
            }
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

/// What a function that uses the table may do with its key, through
/// DynamoDB only (template_security.rs checks the condition): DynamoDB reads
/// the table and the stream with the caller's right to the key.
const TABLE_KEY_ACTIONS: &[&str] = &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];

/// What Lambda needs of the key to put a failed asynchronous invocation on
/// the encrypted feedback failure queue, with the function's role.
const QUEUE_KEY_ACTIONS: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

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

/// An asynchronous invocation that failed goes to a queue, sent with the
/// function's role (SAM grants the sqs:SendMessage itself).
fn async_on_failure_sqs(function: &Function) -> bool {
    function
        .properties
        .get("EventInvokeConfig")
        .and_then(|c| c.get("DestinationConfig"))
        .and_then(|d| d.get("OnFailure"))
        .and_then(|o| o.get("Type"))
        .and_then(Value::as_str)
        == Some("SQS")
}

/// The indexes a function's policies let it reach: `.../index/{name}`
/// resources of its DynamoDB grants.
fn granted_indexes(grants: &[(String, Vec<String>)]) -> BTreeSet<String> {
    grants
        .iter()
        .filter(|(action, _)| action.starts_with("dynamodb:"))
        .flat_map(|(_, resources)| resources)
        .filter_map(|r| r.rsplit_once("/index/").map(|(_, index)| index.to_string()))
        .collect()
}

#[test]
fn each_function_declares_table_actions_the_adapter_has_and_only_with_the_table() {
    let mut problems = Vec::new();
    for (function, needs) in declared_functions() {
        let id = &function.id;
        for action in needs.table_actions {
            if !DynamoTable::IAM_ACTIONS.contains(action) {
                problems.push(format!(
                    "{id} declares {action}, which the table adapter never calls"
                ));
            }
        }
        if needs.uses(Adapter::Table) == needs.table_actions.is_empty() {
            problems.push(format!(
                "{id}: table actions {:?} do not match its use of the table",
                needs.table_actions
            ));
        }
        for index in needs.indexes {
            if !schema::INDEXES.iter().any(|i| i.name == *index) {
                problems.push(format!(
                    "{id} declares index {index}, which the table adapter never queries"
                ));
            }
        }
        if !needs.indexes.is_empty() && !needs.table_actions.contains(&"dynamodb:Query") {
            problems.push(format!(
                "{id} declares indexes {:?} but not dynamodb:Query, the only way to read them",
                needs.indexes
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn each_function_is_granted_exactly_the_actions_of_the_adapters_it_declares() {
    let mut problems = Vec::new();
    for (function, needs) in declared_functions() {
        let id = &function.id;
        let mut needed: BTreeSet<String> = needs
            .iam_actions()
            .into_iter()
            .map(str::to_string)
            .collect();
        if on_failure_sqs(&function) {
            needed.insert("sqs:SendMessage".into());
        }
        if needs.uses(Adapter::Table) {
            needed.extend(TABLE_KEY_ACTIONS.iter().map(|a| a.to_string()));
        }
        if async_on_failure_sqs(&function) {
            needed.extend(QUEUE_KEY_ACTIONS.iter().map(|a| a.to_string()));
        }
        let grants = granted(&function, &mut problems);
        let given: BTreeSet<String> = grants.iter().map(|(a, _)| a.clone()).collect();
        for action in needed.difference(&given) {
            let by = needs
                .adapters
                .iter()
                .find(|a| a.iam_actions().contains(&action.as_str()))
                .map(|a| format!("its {a:?} adapter"))
                .unwrap_or_else(|| {
                    if action.starts_with("kms:") {
                        "the key of the table or of its failure queue".into()
                    } else {
                        "its on-failure destination".into()
                    }
                });
            problems.push(format!(
                "{id} calls {action} (through {by}), which template.yaml does not grant it"
            ));
        }
        for action in given.difference(&needed) {
            problems.push(format!(
                "{id} is granted {action} in template.yaml, which none of its declared adapters calls"
            ));
        }
    }
    fail_with(problems);
}

/// A function's role reaches exactly the indexes its `NEEDS.indexes` name
/// (local mode on moto refuses a query of any other: `iam_guard`).
#[test]
fn each_function_may_query_exactly_the_indexes_it_declares() {
    let mut problems = Vec::new();
    for (function, needs) in declared_functions() {
        let id = &function.id;
        let grants = granted(&function, &mut problems);
        let given = granted_indexes(&grants);
        let declared: BTreeSet<String> = needs.indexes.iter().map(|i| i.to_string()).collect();
        for index in declared.difference(&given) {
            problems.push(format!(
                "{id} queries index {index} (its NEEDS.indexes), which template.yaml does not grant it (no .../index/{index} resource)"
            ));
        }
        for index in given.difference(&declared) {
            problems.push(format!(
                "{id} is granted index {index} in template.yaml, which its NEEDS.indexes do not name"
            ));
        }
    }
    fail_with(problems);
}

/// The trigger an event source of the template stands for.
fn trigger_of(kind: &str) -> Option<Trigger> {
    match kind {
        "HttpApi" => Some(Trigger::Http),
        "DynamoDB" => Some(Trigger::TableStream),
        "Schedule" | "ScheduleV2" => Some(Trigger::Schedule),
        "EventBridgeRule" | "CloudWatchLogs" => Some(Trigger::ProviderFeedback),
        _ => None,
    }
}

#[test]
fn each_function_is_triggered_as_it_declares() {
    let mut problems = Vec::new();
    for (function, needs) in declared_functions() {
        let id = &function.id;
        let events = function.events();
        if events.is_empty() {
            problems.push(format!(
                "{id} declares trigger {:?}, but template.yaml gives it no event",
                needs.trigger
            ));
        }
        for (kind, properties) in events {
            match trigger_of(&kind) {
                None => problems.push(format!(
                    "{id} has a {kind} event, which no Trigger stands for"
                )),
                Some(trigger) if trigger != needs.trigger => problems.push(format!(
                    "{id} has a {kind} event, but declares trigger {:?}",
                    needs.trigger
                )),
                Some(Trigger::TableStream) => {
                    let stream = properties.get("Stream").map(text).unwrap_or_default();
                    if stream != "!GetAtt AgendaTable.StreamArn" {
                        problems.push(format!(
                            "{id} reads the stream {stream:?}, not AgendaTable's (!GetAtt AgendaTable.StreamArn)"
                        ));
                    }
                }
                Some(_) => {}
            }
        }
    }
    fail_with(problems);
}

#[test]
fn each_http_function_declares_exactly_the_routes_the_template_gives_it() {
    let mut problems = Vec::new();
    let declared = declared_routes();
    for (function, needs) in declared_functions() {
        let id = &function.id;
        let in_template: BTreeSet<RouteKey> = function
            .events()
            .into_iter()
            .filter(|(kind, _)| kind == "HttpApi")
            .map(|(_, p)| {
                (
                    text(&p["Method"]).to_uppercase(),
                    text(&p["Path"]),
                    p.get("Auth").map(|a| text(&a["Authorizer"])).as_deref() == Some("NONE"),
                )
            })
            .collect();
        let routes = declared.iter().find(|(f, _, _)| f == id);
        match (needs.trigger, routes) {
            (Trigger::Http, None) => problems.push(format!(
                "{id} is triggered by HTTP, but tests/consistency.rs knows no ROUTES of it (declared_routes)"
            )),
            (Trigger::Http, Some((_, routes, wrong))) => {
                problems.extend(wrong.iter().map(|w| format!("{id}: ROUTES: {w}")));
                let show = |(method, path, public): &RouteKey| {
                    format!("{method} {path}{}", if *public { " (no token)" } else { "" })
                };
                for route in routes.difference(&in_template) {
                    problems.push(format!(
                        "{id} declares {}, which is not an HttpApi event of it in template.yaml",
                        show(route)
                    ));
                }
                for route in in_template.difference(routes) {
                    problems.push(format!(
                        "template.yaml routes {} to {id}, which its ROUTES do not declare",
                        show(route)
                    ));
                }
            }
            (_, Some(_)) => problems.push(format!(
                "{id} declares ROUTES, but its trigger is {:?}",
                needs.trigger
            )),
            (_, None) => {}
        }
    }
    // Guards the test against a reading that finds nothing.
    assert!(declared.iter().map(|(_, r, _)| r.len()).sum::<usize>() >= 17);
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
            "AgendaTable's KeySchema is not [{PK}, {SK}] as aws_adapters::item writes"
        ));
    }
    let indexes: Vec<&Value> = list(table.get("GlobalSecondaryIndexes"));
    for index in schema::INDEXES {
        let name = index.name;
        match indexes
            .iter()
            .find(|i| i.get("IndexName").and_then(Value::as_str) == Some(name))
        {
            None => problems.push(format!(
                "schema::INDEXES lists {name}, which AgendaTable does not declare"
            )),
            Some(declared) => {
                let keys = [index.key.partition, index.key.sort];
                if key_names(declared.get("KeySchema")) != keys {
                    problems.push(format!(
                        "index {name}'s KeySchema is not [{}, {}] as schema::INDEXES says",
                        keys[0], keys[1]
                    ));
                }
                let projection = declared
                    .get("Projection")
                    .and_then(|p| p.get("ProjectionType"))
                    .and_then(Value::as_str);
                if projection != Some(index.projection.name()) {
                    problems.push(format!(
                        "index {name} projects {projection:?} in template.yaml, {} in schema::INDEXES",
                        index.projection.name()
                    ));
                }
            }
        }
    }
    for index in &indexes {
        let name = index.get("IndexName").map(text).unwrap_or_default();
        if !schema::INDEXES.iter().any(|i| i.name == name) {
            problems.push(format!(
                "AgendaTable declares index {name}, which schema::INDEXES does not list"
            ));
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

/// A confirmation e-mail sent at `at`, as the communications log keeps it.
fn sent_entry(at: chrono::DateTime<chrono::Utc>) -> domain::communications::CommunicationEntry {
    use domain::communications::{Channel, CommunicationEntry, DeliveryState, MessageKind};
    CommunicationEntry {
        kind: MessageKind::Confirmation,
        channel: Channel::Email,
        state: DeliveryState::Sent,
        reason: None,
        reason_code: None,
        message_id: Some("0100019a-consistency-000000".into()),
        at,
    }
}

/// Calls every operation of the store's ports on moto, each once at least,
/// on paths that succeed: every write, read, query and transaction.
async fn exercise_the_table(store: &TableStore) {
    use domain::absence::{Absence, AbsenceId};
    use domain::appointment::{Change, Status};
    use domain::communications::{Channel, MessageKey, MessageKind};
    use domain::fixtures::{at, booked, dr_martin};
    use domain::links::{LinkGrant, LinkPurpose, TokenHash};
    use domain::ports::{AgendaStore, Claim, DueIndex, LinkStore, MessageLog, SettingsStore};
    use domain::reminder::ScheduledReminder;
    use domain::time::TimeRange;

    let settings = dr_martin();
    let practitioner = settings.id.clone();
    store.put_settings(&settings).await.unwrap();
    assert!(store.settings(&practitioner).await.unwrap().is_some());

    // A booking, moved, then set to reschedule and rebooked by the patient.
    let booking = booked(at("2026-12-03T09:00:00Z"), 20);
    store.insert_appointment(&booking).await.unwrap();
    let mut moved = booking.clone();
    moved.version = 2;
    moved.start += chrono::Duration::hours(1);
    moved.end += chrono::Duration::hours(1);
    moved.last_change = Change::MovedByPatient;
    store.update_appointment(1, &moved).await.unwrap();
    let mut to_reschedule = moved.clone();
    to_reschedule.version = 3;
    to_reschedule.status = Status::ToReschedule;
    to_reschedule.last_change = Change::SetToReschedule;
    store.update_appointment(2, &to_reschedule).await.unwrap();
    let mut rebooked = to_reschedule.clone();
    rebooked.version = 4;
    rebooked.status = Status::Rebooked;
    rebooked.last_change = Change::Rebooked;
    let mut replacement = booked(at("2026-12-04T09:00:00Z"), 20);
    replacement.replaces = Some(booking.id);
    store.rebook(3, &rebooked, &replacement).await.unwrap();
    assert_eq!(
        store.appointment(&practitioner, &booking.id).await.unwrap(),
        Some(rebooked)
    );
    let week = TimeRange::new(at("2026-12-01T00:00:00Z"), at("2026-12-08T00:00:00Z")).unwrap();
    assert_eq!(store.agenda(&practitioner, week).await.unwrap().len(), 2);

    let off = TimeRange::new(at("2026-12-05T08:00:00Z"), at("2026-12-05T18:00:00Z")).unwrap();
    let absence = Absence {
        id: AbsenceId::of(&practitioner, off),
        practitioner_id: practitioner.clone(),
        start: off.start,
        end: off.end,
        label: None,
        created_at: at("2026-11-27T10:00:00Z"),
    };
    store.place_absence(&absence).await.unwrap();
    assert_eq!(store.absences(&practitioner, week).await.unwrap().len(), 1);

    // A message claimed, given back, claimed again, settled and published.
    let key = MessageKey::for_version(booking.id, MessageKind::Confirmation, Channel::Email, 1);
    let now = at("2026-11-27T10:00:00Z");
    let lease = chrono::Duration::minutes(16);
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Granted
    );
    store.release_message(&key).await.unwrap();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Granted
    );
    let entry = sent_entry(now);
    store
        .settle_message(&key, &practitioner, &entry, now)
        .await
        .unwrap();
    store.mark_published(&key).await.unwrap();
    assert_eq!(
        store
            .communications(&practitioner, &booking.id)
            .await
            .unwrap(),
        vec![entry.clone()]
    );
    assert_eq!(
        store
            .communications_of(&practitioner, &[booking.id])
            .await
            .unwrap(),
        vec![vec![entry.clone()]]
    );
    // Its delivery feedback: found by the provider's id, then moved.
    let message_id = entry.message_id.clone().unwrap();
    let logged = store.message_sent_as(&message_id).await.unwrap().unwrap();
    assert_eq!(logged.key, key);
    let delivered = domain::communications::CommunicationEntry {
        state: domain::communications::DeliveryState::Delivered,
        ..entry
    };
    assert!(
        store
            .record_feedback(&key, logged.entry.state, &delivered)
            .await
            .unwrap()
    );

    // A cancellation SMS held through quiet hours, then claimed when they end.
    let held = MessageKey::for_version(
        booking.id,
        MessageKind::PractitionerCancellation,
        Channel::Sms,
        3,
    );
    assert_eq!(
        store.claim_message(&held, now, lease).await.unwrap(),
        Claim::Granted
    );
    let mut scheduled = sent_entry(now + chrono::Duration::hours(9));
    scheduled.state = domain::communications::DeliveryState::Scheduled;
    store
        .hold_message(&held, &practitioner, &scheduled, booking.end)
        .await
        .unwrap();
    assert_eq!(
        store.claim_message(&held, now, lease).await.unwrap(),
        Claim::Granted,
        "a held message is claimable at once"
    );
    store.release_message(&held).await.unwrap();

    let hash = TokenHash("a-link-token-hash".into());
    let grant = LinkGrant {
        appointment_id: replacement.id,
        practitioner_id: practitioner.clone(),
        purpose: LinkPurpose::ManageAppointment,
        version: 1,
        expires_at: at("2026-12-04T09:00:00Z"),
    };
    store.put_link(&hash, &grant).await.unwrap();
    assert!(store.link(&hash).await.unwrap().is_some());

    let reminder = ScheduledReminder {
        appointment_id: replacement.id,
        practitioner_id: practitioner.clone(),
        kind: MessageKind::Reminder,
        channel: Channel::Sms,
        start: replacement.start,
        due_at: at("2026-12-03T09:00:00Z"),
        version: None,
    };
    store
        .put_reminder(&reminder, at("2026-11-30T00:00:00Z"))
        .await
        .unwrap();
    let due = store
        .reminders_due(reminder.due_at, None, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![reminder.clone()]);
    store.reminder_done(&reminder).await.unwrap();
    store
        .sweep_begins(at("2026-12-05T00:00:00Z"))
        .await
        .unwrap();
    store
        .put_reminder(&reminder, at("2026-11-30T00:00:00Z"))
        .await
        .unwrap();
    store
        .remove_reminder(&reminder.appointment_id, reminder.channel)
        .await
        .unwrap();
}

/// Each adapter's `IAM_ACTIONS` is what its code calls: every operation of
/// each adapter runs against moto through SDK clients that record the IAM
/// action of each request (a DynamoDB transaction by its parts), and the
/// recorded actions must be exactly the declared ones.
#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn each_adapters_iam_actions_are_what_it_calls() {
    use domain::communications::{CommunicationEvent, MessageKind};
    use domain::contact::{Email, Mobile};
    use domain::fixtures::at;
    use domain::ids::{AppointmentId, PractitionerId};
    use domain::messages::{OutgoingEmail, OutgoingSms};
    use domain::ports::{EventPublisher, Mailer, SmsSender};

    // Given this run's table, bus and verified sender on moto
    let sdk = sdk_config().await;
    let run = MotoRun::new();
    run.provision(&sdk).await;
    let recorded: HashMap<Adapter, Recorded> = Adapter::ALL
        .iter()
        .map(|a| (*a, Recorded::default()))
        .collect();

    // When each adapter runs every operation it has
    let table: TableStore = TableStore::new(std::sync::Arc::new(DynamoTable::new(
        recorded[&Adapter::Table].dynamodb(&sdk),
        run.table.clone(),
    )));
    exercise_the_table(&table).await;
    let appointment_id = AppointmentId::new();
    SesMailer::new(recorded[&Adapter::Ses].ses(&sdk), run.sender.clone(), None)
        .send(&OutgoingEmail {
            to: Email::parse("patient@example.org").unwrap(),
            sender_name: "Dr Marie Martin".into(),
            subject: "Rendez-vous".into(),
            text: "Bonjour".into(),
            html: "<p>Bonjour</p>".into(),
            attachments: vec![],
            kind: MessageKind::Confirmation,
            appointment_id: Some(appointment_id),
            links: vec![],
        })
        .await
        .unwrap();
    SnsSmsSender::new(
        recorded[&Adapter::Sns].sns(&sdk),
        Some("DrMartin".into()),
        "0.25".into(),
    )
    .send_sms(&OutgoingSms {
        to: Mobile::parse(&acceptance::mobile()).unwrap(),
        text: "Rappel".into(),
        kind: MessageKind::Reminder,
        appointment_id,
        links: vec![],
    })
    .await
    .unwrap();
    EventBridgePublisher::new(
        recorded[&Adapter::EventBridge].eventbridge(&sdk),
        run.bus.clone(),
    )
    .publish(&CommunicationEvent {
        practitioner_id: PractitionerId::parse("dr-martin").unwrap(),
        by: domain::grants::Actor::System,
        appointment_id,
        message: "confirmation#email#v000001".into(),
        entry: sent_entry(at("2026-11-27T10:00:00Z")),
    })
    .await
    .unwrap();

    // Then each one called exactly the actions it declares
    let mut problems = Vec::new();
    for adapter in Adapter::ALL {
        let called = recorded[&adapter].actions();
        let declared: BTreeSet<String> = adapter
            .iam_actions()
            .iter()
            .map(|a| a.to_string())
            .collect();
        for action in called.difference(&declared) {
            problems.push(format!(
                "the {adapter:?} adapter calls {action}, which its IAM_ACTIONS leave out"
            ));
        }
        for action in declared.difference(&called) {
            problems.push(format!(
                "the {adapter:?} adapter's IAM_ACTIONS list {action}, which none of its operations called"
            ));
        }
    }
    fail_with(problems);
}
