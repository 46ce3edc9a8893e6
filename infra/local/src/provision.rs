//! Creates what local mode needs on an empty AWS endpoint (moto): the table
//! from template.yaml's own definition, the bus, and the sender as an SES
//! identity. Used by the tests on moto and by `AGENDA_CREATE_RESOURCES=1`.

use crate::backend::AwsBackend;
use crate::template::TEMPLATE;
use aws_adapters::config::{self, Config};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_smithy_types::error::display::DisplayErrorContext;
use serde_norway::Value;

/// Set to `1` with `AGENDA_BACKEND=aws` to create missing resources at start.
pub const AGENDA_CREATE_RESOURCES: &str = "AGENDA_CREATE_RESOURCES";

fn error_text<E: std::error::Error>(e: E) -> String {
    aws_adapters::telemetry::redact(&DisplayErrorContext(e).to_string())
}

/// The table, the bus and the verified sender `config` names, each unless
/// it already exists.
pub async fn create_missing(aws: &AwsBackend, config: &Config) -> Result<(), String> {
    let required = |v| config.required(v).map_err(|e| e.to_string());
    let (table, bus, sender) = (
        required(config::TABLE_NAME)?,
        required(config::EVENT_BUS_NAME)?,
        required(config::SENDER_EMAIL)?,
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.sdk);
    if dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .is_err()
    {
        create_table_from_template(&dynamodb, &table).await?;
        tracing::info!(%table, "created the table from template.yaml");
    }
    let events = aws_sdk_eventbridge::Client::new(&aws.sdk);
    if let Err(e) = events.create_event_bus().name(&bus).send().await {
        if e.code() != Some("ResourceAlreadyExistsException") {
            return Err(format!("cannot create bus {bus}: {}", error_text(e)));
        }
    }
    let ses = aws_sdk_sesv2::Client::new(&aws.sdk);
    if let Err(e) = ses
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
    {
        if e.code() != Some("AlreadyExistsException") {
            return Err(format!("cannot verify the sender: {}", error_text(e)));
        }
    }
    Ok(())
}

fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("template.yaml: no {key}"))
}

fn key_schema(v: &Value) -> Vec<KeySchemaElement> {
    v.as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(get(k, "AttributeName").as_str().unwrap())
                .key_type(KeyType::from(get(k, "KeyType").as_str().unwrap()))
                .build()
                .unwrap()
        })
        .collect()
}

/// Creates `name` with the keys, indexes and stream of `AgendaTable` in
/// template.yaml. The template is compiled in and checked by the tests, so a
/// shape it does not have is a bug (panic), not a condition to handle.
pub async fn create_table_from_template(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), String> {
    let template: Value = serde_norway::from_str(TEMPLATE).expect("template.yaml parses");
    let table = get(
        get(get(&template, "Resources"), "AgendaTable"),
        "Properties",
    );
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(get(table, "KeySchema"))));
    for a in get(table, "AttributeDefinitions").as_sequence().unwrap() {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(get(a, "AttributeName").as_str().unwrap())
                .attribute_type(ScalarAttributeType::from(
                    get(a, "AttributeType").as_str().unwrap(),
                ))
                .build()
                .unwrap(),
        );
    }
    for index in table
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(get(index, "IndexName").as_str().unwrap())
                .set_key_schema(Some(key_schema(get(index, "KeySchema"))))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(
                            get(get(index, "Projection"), "ProjectionType")
                                .as_str()
                                .unwrap(),
                        ))
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    if let Some(stream) = table.get("StreamSpecification") {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(
                    get(stream, "StreamViewType").as_str().unwrap(),
                ))
                .build()
                .unwrap(),
        );
    }
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot create table {name}: {}", error_text(e)))
}
