//! AWS clients for moto, and the table created from `template.yaml` itself so
//! that the code and the template cannot drift apart.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use serde_norway::Value;

pub const TEMPLATE: &str = include_str!("../../template.yaml");

/// The moto server `make test` starts; these tests are `#[ignore]`d without it.
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT")
        .expect("MOTO_ENDPOINT is not set: run these tests through `make test`, which starts moto")
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new("eu-west-3"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
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

/// Creates `name` with the keys, indexes and stream of `AgendaTable` in template.yaml.
pub async fn create_table_from_template(client: &aws_sdk_dynamodb::Client, name: &str) {
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
    request.send().await.expect("moto creates the table");
}
