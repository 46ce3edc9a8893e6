//! What `template.yaml` promises for health data (SPEC §7, issue 22), read
//! from the template itself: the table under a customer-managed key that
//! rotates, its use only through DynamoDB (and SQS for the feedback queue),
//! deletion protection and a stated point-in-time recovery window, API access
//! logs of route keys and never paths, a short stated retention on every log
//! group and queue that holds personal data, and the conditions that keep
//! other accounts and other senders out. Which indexes each function may
//! query is held against its `NEEDS` in consistency.rs.

use local::template::TEMPLATE;
use serde_json::Value as Json;
use serde_norway::Value;
use std::collections::BTreeSet;

/// How every resource names the key of patients' data: the stack's own, or
/// the one given as a parameter.
const DATA_KEY: &str = "!If CreatesDataKey !GetAtt DataKey.Arn !Ref DataKeyArn";

/// What a function that uses the table may do with the key (through
/// DynamoDB); consistency.rs requires exactly these of each table user.
const TABLE_KEY_ACTIONS: &[&str] = &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];

/// The key's cryptographic actions: what no principal may have but through
/// a service that stores our data.
const KEY_USE: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:GenerateDataKey",
];

/// The access log variables, each one read for what it may hold: ids, times,
/// statuses, the caller's IP and the token's subject. Not the path (a patient
/// link's token), the query string or any header.
const ACCESS_LOG_VARIABLES: &[&str] = &[
    "$context.requestId",
    "$context.requestTime",
    "$context.routeKey",
    "$context.status",
    "$context.responseLatency",
    "$context.integrationStatus",
    "$context.integrationLatency",
    "$context.responseLength",
    "$context.error.message",
    "$context.identity.sourceIp",
    "$context.authorizer.claims.sub",
];

fn template() -> Value {
    serde_norway::from_str(TEMPLATE).expect("template.yaml parses")
}

fn resource(root: &Value, id: &str) -> Value {
    root["Resources"]
        .get(id)
        .cloned()
        .unwrap_or_else(|| panic!("template.yaml declares no resource {id}"))
}

fn resources_of_type<'a>(root: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    root["Resources"]
        .as_mapping()
        .expect("template.yaml has Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap_or_default().to_string(), r))
        .collect()
}

/// Text of a YAML scalar or CloudFormation intrinsic (`!Sub "..."`,
/// `!If [a, b, c]` as `!If a b c`).
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

fn texts(value: Option<&Value>) -> Vec<String> {
    list(value).into_iter().map(text).collect()
}

fn fail_with(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "template.yaml breaks its health-data promises:\n  - {}",
        problems.join("\n  - ")
    );
}

/// The Allow statements of a function's inline policies.
fn allow_statements(function: &Value) -> Vec<&Value> {
    list(function["Properties"].get("Policies"))
        .into_iter()
        .flat_map(|policy| list(policy.get("Statement")))
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .collect()
}

/// A number the template gives directly, or the default of the parameter it
/// refers to (`!Ref Name`), with that parameter's largest allowed value.
fn number_or_parameter(root: &Value, value: &Value) -> Option<(u64, u64)> {
    if let Some(n) = value.as_u64() {
        return Some((n, n));
    }
    let name = text(value).strip_prefix("!Ref ")?.to_string();
    let parameter = &root["Parameters"][name.as_str()];
    let default = parameter["Default"].as_u64()?;
    let largest = parameter["AllowedValues"]
        .as_sequence()
        .and_then(|v| v.iter().filter_map(Value::as_u64).max())
        .or_else(|| parameter["MaxValue"].as_u64())?;
    Some((default, largest))
}

#[test]
fn the_table_is_kept_under_a_customer_managed_key_that_rotates() {
    let root = template();
    let mut problems = Vec::new();

    // The table names the data key.
    let sse = &resource(&root, "AgendaTable")["Properties"]["SSESpecification"];
    if sse["SSEEnabled"].as_bool() != Some(true) || sse["SSEType"].as_str() != Some("KMS") {
        problems.push("AgendaTable is not encrypted with KMS (SSEEnabled, SSEType: KMS)".into());
    }
    let table_key = sse.get("KMSMasterKeyId").map(text).unwrap_or_default();
    if table_key != DATA_KEY {
        problems.push(format!(
            "AgendaTable's KMSMasterKeyId is {table_key:?}, not the data key ({DATA_KEY})"
        ));
    }

    // The stack creates the key unless one is given, keeps it with the
    // table, and rotates it.
    let key = resource(&root, "DataKey");
    if key["Type"].as_str() != Some("AWS::KMS::Key") {
        problems.push("DataKey is not an AWS::KMS::Key".into());
    }
    if key["Condition"].as_str() != Some("CreatesDataKey") {
        problems.push("DataKey is not created under the condition CreatesDataKey".into());
    }
    if text(&root["Conditions"]["CreatesDataKey"]) != "!Equals !Ref DataKeyArn " {
        problems.push(format!(
            "CreatesDataKey is {:?}: it must hold when DataKeyArn is empty",
            text(&root["Conditions"]["CreatesDataKey"])
        ));
    }
    if root["Parameters"]["DataKeyArn"]["Default"].as_str() != Some("") {
        problems.push("DataKeyArn's default is not empty (the stack's own key)".into());
    }
    if key["Properties"]["EnableKeyRotation"].as_bool() != Some(true) {
        problems.push("DataKey does not rotate (EnableKeyRotation: true)".into());
    }
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if key[policy].as_str() != Some("Retain") {
            problems.push(format!(
                "DataKey's {policy} is not Retain: the retained table would be unreadable"
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn the_key_is_used_only_through_the_services_that_store_our_data() {
    let root = template();
    let policy = &resource(&root, "DataKey")["Properties"]["KeyPolicy"];
    let account_root = "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root";
    let mut problems = Vec::new();
    let mut administered = false;

    for statement in list(policy.get("Statement")) {
        let sid = statement.get("Sid").map(text).unwrap_or_default();
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions = texts(statement.get("Action"));
        let principal = &statement["Principal"];
        let uses_key = actions
            .iter()
            .any(|a| KEY_USE.contains(&a.as_str()) || a == "kms:*");
        let condition = &statement["Condition"];
        if actions.iter().any(|a| a == "kms:*") {
            problems.push(format!("{sid}: allows kms:*"));
        }
        if let Some(aws) = principal.get("AWS") {
            let who = text(aws);
            if who != account_root {
                problems.push(format!(
                    "{sid}: names {who}; only the account (through IAM policies) may appear"
                ));
            }
            if uses_key {
                // Encryption and decryption only through DynamoDB or SQS in
                // this region, by this account.
                let via: BTreeSet<String> = texts(condition["StringEquals"].get("kms:ViaService"))
                    .into_iter()
                    .collect();
                let allowed: BTreeSet<String> = [
                    "!Sub dynamodb.${AWS::Region}.amazonaws.com",
                    "!Sub sqs.${AWS::Region}.amazonaws.com",
                ]
                .map(str::to_string)
                .into();
                if via.is_empty() || !via.is_subset(&allowed) {
                    problems.push(format!(
                        "{sid}: the account may use the key through {via:?}, not only DynamoDB and SQS of this region"
                    ));
                }
                if text(&condition["StringEquals"]["kms:CallerAccount"]) != "!Ref AWS::AccountId" {
                    problems.push(format!("{sid}: no kms:CallerAccount condition"));
                }
            } else if actions.iter().any(|a| a == "kms:ScheduleKeyDeletion") {
                administered = true;
                // A grant given outside DynamoDB could hand decryption to anyone.
                if actions
                    .iter()
                    .any(|a| a == "kms:CreateGrant" || a == "kms:Create*")
                {
                    problems.push(format!(
                        "{sid}: the account may create grants outside DynamoDB"
                    ));
                }
            }
        }
        if let Some(service) = principal.get("Service") {
            let service = text(service);
            if service == "!Sub logs.${AWS::Region}.amazonaws.com" {
                let context = text(&condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]);
                if !context.contains(":${AWS::AccountId}:log-group:") {
                    problems.push(format!(
                        "{sid}: CloudWatch Logs may use the key for {context:?}, not only this account's log groups"
                    ));
                }
            } else if service == "events.amazonaws.com" {
                if text(&condition["StringEquals"]["aws:SourceAccount"]) != "!Ref AWS::AccountId" {
                    problems.push(format!("{sid}: EventBridge without aws:SourceAccount"));
                }
                if actions
                    .iter()
                    .any(|a| !["kms:GenerateDataKey", "kms:Decrypt"].contains(&a.as_str()))
                {
                    problems.push(format!("{sid}: EventBridge gets {actions:?}"));
                }
            } else if service == "dynamodb.amazonaws.com" {
                if uses_key {
                    problems.push(format!(
                        "{sid}: DynamoDB itself gets {actions:?}; it describes the key only"
                    ));
                }
            } else {
                problems.push(format!("{sid}: unexpected service {service}"));
            }
        }
        if principal.as_str() == Some("*") {
            problems.push(format!("{sid}: open to any principal"));
        }
    }
    if !administered {
        problems.push("no statement lets the account administer the key".into());
    }
    fail_with(problems);
}

#[test]
fn each_function_uses_the_key_only_through_dynamodb_or_its_failure_queue() {
    let root = template();
    let mut problems = Vec::new();
    for (id, function) in resources_of_type(&root, "AWS::Serverless::Function") {
        let has_failure_queue = function["Properties"]
            .get("EventInvokeConfig")
            .is_some_and(|c| c["DestinationConfig"]["OnFailure"]["Type"].as_str() == Some("SQS"));
        for statement in allow_statements(function) {
            let actions = texts(statement.get("Action"));
            if !actions.iter().any(|a| a.starts_with("kms:")) {
                continue;
            }
            let resource = statement.get("Resource").map(text).unwrap_or_default();
            if resource != DATA_KEY {
                problems.push(format!(
                    "{id}: KMS actions {actions:?} on {resource:?}, not the data key"
                ));
            }
            let via = text(&statement["Condition"]["StringEquals"]["kms:ViaService"]);
            match via.as_str() {
                "!Sub dynamodb.${AWS::Region}.amazonaws.com" => {
                    if actions.iter().any(|a| !TABLE_KEY_ACTIONS.contains(&a.as_str())) {
                        problems.push(format!("{id}: {actions:?} through DynamoDB, beyond {TABLE_KEY_ACTIONS:?}"));
                    }
                }
                "!Sub sqs.${AWS::Region}.amazonaws.com" if has_failure_queue => {
                    if actions.iter().any(|a| !["kms:GenerateDataKey", "kms:Decrypt"].contains(&a.as_str())) {
                        problems.push(format!("{id}: {actions:?} through SQS, beyond sending to its failure queue"));
                    }
                }
                other => problems.push(format!(
                    "{id}: KMS actions {actions:?} through {other:?}, not DynamoDB (or SQS for a failure destination)"
                )),
            }
        }
    }
    fail_with(problems);
}

#[test]
fn the_table_cannot_be_deleted_by_accident_and_recovers_a_stated_window() {
    let root = template();
    let table = resource(&root, "AgendaTable");
    let mut problems = Vec::new();
    if table["Properties"]["DeletionProtectionEnabled"].as_bool() != Some(true) {
        problems.push("AgendaTable has no DeletionProtectionEnabled: true".into());
    }
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if table[policy].as_str() != Some("Retain") {
            problems.push(format!("AgendaTable's {policy} is not Retain"));
        }
    }
    let pitr = &table["Properties"]["PointInTimeRecoverySpecification"];
    if pitr["PointInTimeRecoveryEnabled"].as_bool() != Some(true) {
        problems.push("AgendaTable has no point-in-time recovery".into());
    }
    if text(&pitr["RecoveryPeriodInDays"]) != "!Ref PointInTimeRecoveryDays" {
        problems.push("the recovery period is not the parameter PointInTimeRecoveryDays".into());
    }
    let days = &root["Parameters"]["PointInTimeRecoveryDays"];
    if days["MinValue"].as_u64() != Some(1) || days["MaxValue"].as_u64() != Some(35) {
        problems.push("PointInTimeRecoveryDays is not bounded 1 to 35 (DynamoDB's range)".into());
    }
    fail_with(problems);
}

#[test]
fn api_access_logs_name_route_keys_and_never_a_path() {
    let root = template();
    let settings = &resource(&root, "Api")["Properties"]["AccessLogSettings"];
    let mut problems = Vec::new();

    let destination = settings.get("DestinationArn").map(text).unwrap_or_default();
    if destination != "!GetAtt ApiAccessLogs.Arn" {
        problems.push(format!(
            "the access logs go to {destination:?}, not ApiAccessLogs"
        ));
    }
    let format: Json = match settings["Format"].as_str().map(serde_json::from_str) {
        Some(Ok(format)) => format,
        _ => panic!(
            "the access log format is not one JSON object: {:?}",
            settings["Format"]
        ),
    };
    let variables: Vec<&str> = format
        .as_object()
        .expect("the access log format is a JSON object")
        .values()
        .filter_map(Json::as_str)
        .collect();
    for required in ["$context.routeKey", "$context.status", "$context.requestId"] {
        if !variables.contains(&required) {
            problems.push(format!("the access log format lacks {required}"));
        }
    }
    for variable in &variables {
        let lower = variable.to_lowercase();
        if [
            "path",
            "querystring",
            "header",
            "token",
            "$input",
            "$request",
        ]
        .iter()
        .any(|word| lower.contains(word))
        {
            problems.push(format!(
                "the access log format holds {variable}, which may carry a link token"
            ));
        } else if !ACCESS_LOG_VARIABLES.contains(variable) {
            problems.push(format!(
                "the access log format holds {variable}: read what it may hold, then add it to ACCESS_LOG_VARIABLES"
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn every_log_group_has_a_stated_retention_and_the_data_key() {
    let root = template();
    let mut problems = Vec::new();
    for (id, group) in resources_of_type(&root, "AWS::Logs::LogGroup") {
        let properties = &group["Properties"];
        match properties.get("RetentionInDays") {
            None => problems.push(format!("{id} keeps its logs forever (no RetentionInDays)")),
            Some(days) if number_or_parameter(&root, days).is_none() => problems.push(format!(
                "{id}: RetentionInDays {:?} is neither a number nor a parameter with a default and a bound",
                text(days)
            )),
            Some(_) => {}
        }
        let key = properties.get("KmsKeyId").map(text).unwrap_or_default();
        if key != DATA_KEY {
            problems.push(format!(
                "{id} is not encrypted with the data key (KmsKeyId {key:?})"
            ));
        }
    }
    // Lambda would create a function's log group itself, kept forever: each
    // function has its own, declared.
    let groups: BTreeSet<String> = resources_of_type(&root, "AWS::Logs::LogGroup")
        .into_iter()
        .filter_map(|(_, g)| g["Properties"].get("LogGroupName").map(text))
        .collect();
    for (id, _) in resources_of_type(&root, "AWS::Serverless::Function") {
        let name = format!("!Sub /aws/lambda/${{{id}}}");
        if !groups.contains(&name) {
            problems.push(format!("{id} has no declared log group {name:?}"));
        }
    }
    fail_with(problems);
}

#[test]
fn personal_data_in_logs_and_queues_is_kept_briefly() {
    let root = template();
    let mut problems = Vec::new();
    // (resource, property, longest default, longest allowed) in days: SNS's
    // SMS delivery logs hold phone numbers; the access logs IP addresses.
    let short = [
        ("SmsDeliveryStatusLogs", 7, 30),
        ("SmsDeliveryFailureLogs", 7, 30),
        ("ApiAccessLogs", 30, 90),
    ];
    for (id, longest_default, longest_allowed) in short {
        let days = &resource(&root, id)["Properties"]["RetentionInDays"];
        match number_or_parameter(&root, days) {
            Some((default, allowed))
                if default <= longest_default && allowed <= longest_allowed => {}
            other => problems.push(format!(
                "{id} keeps personal data (default, longest) {other:?} days: at most {longest_default} by default and {longest_allowed} at all"
            )),
        }
    }
    let functions_logs = &root["Parameters"]["LogRetentionDays"]["Description"];
    if text(functions_logs).contains("hold ids, never contact details")
        && !text(functions_logs).contains("SMS")
    {
        problems.push("LogRetentionDays still describes every log as ids only".into());
    }

    // Every queue says how long it keeps messages; the one that keeps whole
    // SES events and SMS log lines keeps them 4 days at most, under the key.
    for (id, queue) in resources_of_type(&root, "AWS::SQS::Queue") {
        if queue["Properties"].get("MessageRetentionPeriod").is_none() {
            problems.push(format!(
                "{id} has no MessageRetentionPeriod (SQS's default is silent)"
            ));
        }
    }
    let feedback = &resource(&root, "FeedbackFailureQueue")["Properties"];
    match feedback["MessageRetentionPeriod"].as_u64() {
        Some(seconds) if seconds <= 4 * 24 * 3600 => {}
        other => problems.push(format!(
            "FeedbackFailureQueue keeps patients' addresses and numbers {other:?} seconds, over 4 days"
        )),
    }
    if feedback.get("KmsMasterKeyId").map(text).as_deref() != Some(DATA_KEY) {
        problems.push("FeedbackFailureQueue is not encrypted with the data key".into());
    }
    let stream = &resource(&root, "StreamFailureQueue")["Properties"];
    if stream["SqsManagedSseEnabled"].as_bool() != Some(true)
        && stream.get("KmsMasterKeyId").is_none()
    {
        problems.push("StreamFailureQueue is not encrypted".into());
    }
    fail_with(problems);
}

#[test]
fn only_the_ses_events_rule_may_put_on_the_feedback_failure_queue() {
    let root = template();
    let mut problems = Vec::new();
    let policy = resource(&root, "FeedbackFailureQueuePolicy");
    for statement in list(policy["Properties"]["PolicyDocument"].get("Statement")) {
        let source = text(&statement["Condition"]["ArnEquals"]["aws:SourceArn"]);
        if source != "!GetAtt DeliveryFeedbackFunctionEmailEvents.Arn" {
            problems.push(format!(
                "the queue policy lets {} send with source {source:?}, not only the SES-events rule",
                text(&statement["Principal"])
            ));
        }
    }
    // That rule is SAM's for the EmailEvents event, which dead-letters to
    // this queue.
    let events =
        &resource(&root, "DeliveryFeedbackFunction")["Properties"]["Events"]["EmailEvents"];
    if events["Type"].as_str() != Some("EventBridgeRule")
        || text(&events["Properties"]["DeadLetterConfig"]["Arn"])
            != "!GetAtt FeedbackFailureQueue.Arn"
    {
        problems.push(
            "DeliveryFeedbackFunction's EmailEvents is not the EventBridge rule that dead-letters to FeedbackFailureQueue".into(),
        );
    }
    fail_with(problems);
}

#[test]
fn sns_takes_the_sms_delivery_role_only_for_this_account() {
    let root = template();
    let mut problems = Vec::new();
    let trust = &resource(&root, "SmsDeliveryStatusRole")["Properties"]["AssumeRolePolicyDocument"];
    for statement in list(trust.get("Statement")) {
        let account = text(&statement["Condition"]["StringEquals"]["aws:SourceAccount"]);
        if account != "!Ref AWS::AccountId" {
            problems.push(format!(
                "{} may assume SmsDeliveryStatusRole for any account (aws:SourceAccount {account:?})",
                text(&statement["Principal"])
            ));
        }
    }
    fail_with(problems);
}

#[test]
fn e_mail_is_sent_only_from_the_sender_address() {
    let root = template();
    let mut problems = Vec::new();
    for (id, function) in resources_of_type(&root, "AWS::Serverless::Function") {
        for statement in allow_statements(function) {
            let actions = texts(statement.get("Action"));
            if !actions.iter().any(|a| a.starts_with("ses:Send")) {
                continue;
            }
            let from = text(&statement["Condition"]["StringEquals"]["ses:FromAddress"]);
            if from != "!Ref SenderEmail" {
                problems.push(format!(
                    "{id} may send {actions:?} from any address the identity covers (ses:FromAddress {from:?})"
                ));
            }
        }
    }
    fail_with(problems);
}

/// Issue 24: the two alarms of abuse take their thresholds from parameters,
/// the keyed hashes' key is generated by the stack and never a parameter,
/// and the CDN's secret is never echoed.
#[test]
fn abuse_alarms_have_parameter_thresholds_and_the_hash_key_is_the_stacks_own() {
    let root = template();
    let mut problems = Vec::new();
    for (alarm, namespace, metric, threshold) in [
        (
            "SmsSpendAlarm",
            "AWS/SNS",
            "SMSMonthToDateSpentUSD",
            "SmsSpendAlarmThresholdUsd",
        ),
        (
            "OnlineBookingsAlarm",
            "PatientCommunications",
            "OnlineBookings",
            "OnlineBookingsAlarmThreshold",
        ),
    ] {
        let properties = &resource(&root, alarm)["Properties"];
        let said = (
            text(&properties["Namespace"]),
            text(&properties["MetricName"]),
            text(&properties["Threshold"]),
        );
        let wanted = (
            namespace.to_string(),
            metric.to_string(),
            format!("!Ref {threshold}"),
        );
        if said != wanted {
            problems.push(format!("{alarm} watches {said:?}, not {wanted:?}"));
        }
        if root["Parameters"].get(threshold).is_none() {
            problems.push(format!("no parameter {threshold}"));
        }
    }
    let secret = resource(&root, "ContactHashKeySecret");
    if secret["Type"].as_str() != Some("AWS::SecretsManager::Secret")
        || secret["Properties"]["GenerateSecretString"]["PasswordLength"].as_u64() < Some(32)
    {
        problems.push(
            "the keyed hashes' key is not a generated secret of 32 characters or more".into(),
        );
    }
    for (id, function) in resources_of_type(&root, "AWS::Serverless::Function") {
        let key = &function["Properties"]["Environment"]["Variables"]["CONTACT_HASH_KEY"];
        if !key.is_null() && !text(key).contains("{{resolve:secretsmanager:${ContactHashKeySecret}")
        {
            problems.push(format!(
                "{id} gets CONTACT_HASH_KEY from elsewhere than the stack's secret"
            ));
        }
    }
    if root["Parameters"]["OriginVerifyHeaderSecret"]["NoEcho"].as_bool() != Some(true) {
        problems.push("OriginVerifyHeaderSecret is echoed".into());
    }
    fail_with(problems);
}
