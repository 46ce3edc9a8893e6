//! The functions' HTTP client builds its connector for requests only, not
//! once more per SDK client at construction (docs/benchmarks.md, fourth pass).

use aws_adapters::wiring::ConnectorOnFirstRequest;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts what the SDK asks of an HTTP client: checks at construction, and
/// connectors for requests (each answering `{}` with 200).
#[derive(Debug, Default, Clone)]
struct Counting {
    checks: Arc<AtomicUsize>,
    connectors: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct EmptyObject;

impl HttpConnector for EmptyObject {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let response = HttpResponse::new(200u16.try_into().unwrap(), SdkBody::from("{}"));
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Counting {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.connectors.fetch_add(1, Ordering::SeqCst);
        SharedHttpConnector::new(EmptyObject)
    }

    fn validate_base_client_config(
        &self,
        _components: &RuntimeComponentsBuilder,
        _cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn sdk_config(http: SharedHttpClient) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-3"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        )))
        .http_client(http)
        .build()
}

#[tokio::test]
async fn sdk_clients_are_built_without_building_a_connector_each() {
    let counting = Counting::default();
    let sdk = sdk_config(SharedHttpClient::new(ConnectorOnFirstRequest(
        counting.clone(),
    )));

    let table = aws_sdk_dynamodb::Client::new(&sdk);
    let _mail = aws_sdk_sesv2::Client::new(&sdk);
    let _sms = aws_sdk_sns::Client::new(&sdk);
    let _events = aws_sdk_eventbridge::Client::new(&sdk);
    assert_eq!(counting.checks.load(Ordering::SeqCst), 0);
    assert_eq!(counting.connectors.load(Ordering::SeqCst), 0);

    // Requests still go through the inner client's connector.
    table.list_tables().send().await.expect("an empty answer");
    assert!(counting.connectors.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn without_it_each_sdk_client_checks_its_http_client_at_construction() {
    // The behaviour of the SDK that ConnectorOnFirstRequest answers: if this
    // stops holding (a new SDK), the wrapper may be dropped.
    let counting = Counting::default();
    let sdk = sdk_config(SharedHttpClient::new(counting.clone()));
    let _table = aws_sdk_dynamodb::Client::new(&sdk);
    let _mail = aws_sdk_sesv2::Client::new(&sdk);
    assert_eq!(counting.checks.load(Ordering::SeqCst), 2);
}
