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
