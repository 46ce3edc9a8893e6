//! The AWS side of each Lambda's `main`: adapters built once per instance from
//! the environment `template.yaml` sets. Kept here so every function wires the
//! same way and `main.rs` stays a few lines.

use crate::clock::SystemClock;
use crate::config::*;
use crate::events::EventBridgePublisher;
use crate::links::PublicUrls;
use crate::mail::{NoSms, SesMailer, SnsSmsSender};
use crate::service::delivery::Delivery;
use crate::store::DynamoStore;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use std::sync::Arc;

pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// The roots of Amazon Trust Services, which issue the certificates of the AWS
/// endpoints these functions call (DynamoDB, SES, SNS, EventBridge): Amazon
/// Root CA 1–4 and the Starfield Services root that cross-signs them.
const AWS_ROOTS: &str = include_str!("aws_roots.pem");

/// The SDK's default HTTPS client (hyper 1, rustls on aws-lc) trusting the
/// roots above instead of the machine's store: reading and parsing a system
/// store (292 files here) was most of a function's init (issue 14).
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let tls = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(AWS_ROOTS))
        .build()
        .expect("a TLS context of compiled-in roots");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https()
}

pub fn store(aws: &SdkConfig) -> Result<Arc<DynamoStore>, ConfigError> {
    let table = required(TABLE_NAME, "the DynamoDB table of the agenda")?;
    Ok(Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        table,
    )))
}

pub fn public_urls() -> Result<PublicUrls, ConfigError> {
    let base_url = required(
        PUBLIC_BASE_URL,
        "the public URL of the API, for patient links",
    )?;
    Ok(PublicUrls::new(&base_url))
}

/// For pages served by the API itself: the public base URL when set, else
/// links relative to the API's root (same host as the page).
pub fn page_urls() -> PublicUrls {
    PublicUrls::new(&optional(PUBLIC_BASE_URL).unwrap_or_default())
}

/// Store, SES, SNS, EventBridge and the system clock: what a sender delivers through.
pub fn delivery(aws: &SdkConfig) -> Result<Delivery, ConfigError> {
    let email_only = email_delivery(aws)?;
    Ok(Delivery {
        sms: Arc::new(SnsSmsSender::new(
            aws_sdk_sns::Client::new(aws),
            optional(SMS_SENDER_ID),
        )),
        ..email_only
    })
}

/// The same for a function that sends e-mail only: no SNS client, so its
/// role needs no SNS permission.
pub fn email_delivery(aws: &SdkConfig) -> Result<Delivery, ConfigError> {
    let bus = required(
        EVENT_BUS_NAME,
        "the EventBridge bus for communication events",
    )?;
    let sender = required(
        SENDER_EMAIL,
        "the SES-verified address e-mails are sent from",
    )?;
    Ok(Delivery {
        store: store(aws)?,
        mailer: Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(aws),
            sender,
            optional(SES_CONFIGURATION_SET),
        )),
        sms: Arc::new(NoSms),
        events: Arc::new(EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(aws),
            bus,
        )),
        clock: Arc::new(SystemClock),
    })
}
