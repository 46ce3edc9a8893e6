//! The SNS adapter against a mocked SDK client (aws-smithy-mocks): the request
//! it makes for an SMS, and how it reads SNS's refusals and throttling.

use aws_adapters::sns::SnsSmsSender;
use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
use aws_sdk_sns::types::error::{InternalErrorException, InvalidParameterException};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use domain::communications::MessageKind;
use domain::contact::Mobile;
use domain::ids::AppointmentId;
use domain::messages::OutgoingSms;
use domain::ports::{SendError, SmsSender};

fn sms() -> OutgoingSms {
    OutgoingSms {
        to: Mobile::parse("06 12 34 56 78").unwrap(),
        text: "Bonjour Jeanne Dupont, rappel : rendez-vous le jeudi 3 décembre 2026 à 14h30 avec Dr Marie Martin.".into(),
        kind: MessageKind::Reminder,
        appointment_id: AppointmentId::new(),
        links: vec![],
    }
}

#[tokio::test]
async fn an_sms_is_published_to_the_e164_number_as_transactional_with_the_sender_id() {
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            let attribute = |name: &str| {
                r.message_attributes()
                    .and_then(|a| a.get(name))
                    .and_then(|v| v.string_value())
                    .map(str::to_string)
            };
            r.phone_number() == Some("+33612345678")
                && r.message()
                    .is_some_and(|m| m.contains("jeudi 3 décembre 2026 à 14h30"))
                && r.topic_arn().is_none()
                && attribute("AWS.SNS.SMS.SMSType").as_deref() == Some("Transactional")
                && attribute("AWS.SNS.SMS.SenderID").as_deref() == Some("DrMartin")
        })
        .then_output(|| PublishOutput::builder().message_id("m-1").build());
    let client = mock_client!(aws_sdk_sns, [&publish]);
    SnsSmsSender::new(client, Some("DrMartin".into()), "0.25".into())
        .send_sms(&sms())
        .await
        .unwrap();
    assert_eq!(publish.num_calls(), 1);
}

#[tokio::test]
async fn without_a_sender_id_none_is_sent() {
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            r.message_attributes()
                .is_some_and(|a| !a.contains_key("AWS.SNS.SMS.SenderID"))
        })
        .then_output(|| PublishOutput::builder().message_id("m-2").build());
    let client = mock_client!(aws_sdk_sns, [&publish]);
    SnsSmsSender::new(client, None, "0.25".into())
        .send_sms(&sms())
        .await
        .unwrap();
    assert_eq!(publish.num_calls(), 1);
}

#[tokio::test]
async fn sns_refusals_are_final_throttling_is_worth_a_retry_and_numbers_never_show() {
    let refused = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::InvalidParameterException(
            InvalidParameterException::builder()
                .message("Invalid parameter: PhoneNumber Reason: +33612345678 is not valid to publish to")
                .build(),
        )
    });
    let outage = mock!(aws_sdk_sns::Client::publish).then_error(|| {
        PublishError::InternalErrorException(
            InternalErrorException::builder()
                .message("Internal error while sending to +33612345678")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_sns, RuleMode::Sequential, [&refused, &outage]);
    let sender = SnsSmsSender::new(client, None, "0.25".into());
    match sender.send_sms(&sms()).await {
        Err(SendError::Rejected(detail)) => {
            assert!(!detail.contains("612345678"), "{detail}");
            assert!(detail.contains("PhoneNumber"), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    match sender.send_sms(&sms()).await {
        Err(SendError::Unavailable(detail)) => assert!(!detail.contains("612345678"), "{detail}"),
        other => panic!("expected a passing failure, got {other:?}"),
    }
}

/// An HTTP client that records the body of every request the SDK sends and
/// answers SNS's `Publish` success: what leaves the process, serialised.
#[derive(Debug, Clone, Default)]
struct RecordingHttp(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl aws_smithy_runtime_api::client::http::HttpConnector for RecordingHttp {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        self.0.lock().unwrap().push(body);
        let mut response = aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            200.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(
                "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\
                 <PublishResult><MessageId>m-3</MessageId></PublishResult>\
                 <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>",
            ),
        );
        response.headers_mut().insert("content-type", "text/xml");
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for RecordingHttp {
    fn http_connector(
        &self,
        _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
    }
}

#[tokio::test]
async fn every_sms_request_as_sent_carries_the_maximum_price() {
    // Given the adapter over an SDK client whose HTTP requests are recorded
    let http = RecordingHttp::default();
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .region(aws_sdk_sns::config::Region::new("eu-west-3"))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .http_client(http.clone())
        .build();
    let sender = SnsSmsSender::new(aws_sdk_sns::Client::from_conf(config), None, "0.25".into());
    // When two SMS are sent
    for _ in 0..2 {
        sender.send_sms(&sms()).await.unwrap();
    }
    // Then each request, as serialised for SNS, names the maximum price as a
    // Number attribute of 0.25 (USD)
    let sent = http.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    for body in sent {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        let value = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(value("Action"), Some("Publish"), "{body}");
        let entry = (1..=pairs.len())
            .find(|i| {
                value(&format!("MessageAttributes.entry.{i}.Name")) == Some("AWS.SNS.SMS.MaxPrice")
            })
            .unwrap_or_else(|| panic!("no MaxPrice attribute in {body}"));
        assert_eq!(
            value(&format!("MessageAttributes.entry.{entry}.Value.DataType")),
            Some("Number")
        );
        assert_eq!(
            value(&format!(
                "MessageAttributes.entry.{entry}.Value.StringValue"
            )),
            Some("0.25")
        );
    }
}
