//! The IAM guard of local mode on moto refuses, as IAM would on AWS, a query
//! of an index the function's `NEEDS` do not declare; a declared one goes out.
#![cfg(feature = "iam-guard")]

use aws_adapters::dynamo::QUERY;
use aws_adapters::iam_guard::RefuseUngranted;
use aws_adapters::item::{GSI1, GSI3};
use aws_adapters::wiring::{Adapter, Needs, Trigger};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};

/// A function that reads the agenda index and nothing else.
const AGENDA_READER: Needs = Needs {
    function: "AgendaReaderFunction",
    trigger: Trigger::Http,
    adapters: &[Adapter::Table],
    table_actions: &[QUERY],
    indexes: &[GSI1],
    variables: &[],
};

fn guarded_client(table_answers: &aws_smithy_mocks::Rule) -> aws_sdk_dynamodb::Client {
    mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [table_answers],
        |config| config.interceptor(RefuseUngranted::new(&AGENDA_READER))
    )
}

#[tokio::test]
async fn a_query_of_a_declared_index_goes_out() {
    // Given the agenda reader's guarded client, and a table that answers
    let answers =
        mock!(aws_sdk_dynamodb::Client::query).then_output(|| QueryOutput::builder().build());
    let client = guarded_client(&answers);

    // When it queries the index it declares
    let result = client
        .query()
        .table_name("agenda")
        .index_name(GSI1)
        .key_condition_expression("gsi1pk = :pk")
        .send()
        .await;

    // Then the query is answered
    assert!(
        result.is_ok(),
        "{:?}",
        result.err().map(DisplayErrorContext)
    );
    assert_eq!(answers.num_calls(), 1);
}

#[tokio::test]
async fn a_query_of_an_undeclared_index_is_refused() {
    // Given the agenda reader's guarded client, and a table that answers
    let answers =
        mock!(aws_sdk_dynamodb::Client::query).then_output(|| QueryOutput::builder().build());
    let client = guarded_client(&answers);

    // When it queries an index it does not declare
    let result = client
        .query()
        .table_name("agenda")
        .index_name(GSI3)
        .key_condition_expression("gsi3pk = :pk")
        .send()
        .await;

    // Then the guard refuses it, naming the function and the index
    let error = DisplayErrorContext(result.expect_err("the query was refused")).to_string();
    assert!(
        error.contains("AgendaReaderFunction may not query index gsi3"),
        "{error}"
    );
}
