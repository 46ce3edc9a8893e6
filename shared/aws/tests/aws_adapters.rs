//! The AWS adapters against mocked SDK clients (aws-smithy-mocks): the requests
//! they make, and how they read the answers and errors of DynamoDB, SES and
//! EventBridge.

use aws_adapters::dynamo::DynamoTable;
use aws_adapters::eventbridge::EventBridgePublisher;
use aws_adapters::item::{AgendaDayItem, MessageItem, MessageState, encode};
use aws_adapters::ses::SesMailer;
use aws_adapters::store::TableStore;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, TransactionCanceledException,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use chrono::Duration;
use domain::appointment::Appointment;
use domain::communications::{
    Channel, CommunicationEntry, CommunicationEvent, DeliveryState, MessageKey, MessageKind,
};
use domain::contact::Email;
use domain::fixtures::{at, booked};
use domain::ids::{AppointmentId, PractitionerId};
use domain::messages::OutgoingEmail;
use domain::ports::capabilities::*;
use domain::ports::{Claim, EventPublisher, InsertError, Mailer, SendError, StoreError};
use domain::time::TimeRange;
use std::collections::HashMap;

fn appointment(start: &str) -> Appointment {
    booked(at(start), 20)
}

/// The one store over the DynamoDB table of `client`.
fn store(client: aws_sdk_dynamodb::Client) -> TableStore {
    TableStore::new(std::sync::Arc::new(DynamoTable::new(client, "agenda")))
}

/// A condition expression with its attribute names put back in place of
/// their placeholders (values stay placeholders).
fn readable(expression: Option<&str>, names: Option<&HashMap<String, String>>) -> String {
    let mut text = expression.unwrap_or_default().to_string();
    let mut names: Vec<_> = names.into_iter().flatten().collect();
    // `#n10` before `#n1`
    names.sort_by_key(|(placeholder, _)| std::cmp::Reverse(placeholder.len()));
    for (placeholder, name) in names {
        text = text.replace(placeholder.as_str(), name);
    }
    text
}

fn sdk_item<T: serde::Serialize>(
    value: &T,
) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    encode(value).unwrap().into()
}

#[tokio::test]
async fn a_booking_writes_the_appointment_and_its_day_in_one_conditional_transaction() {
    let no_day =
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let transaction = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|r| {
            let items = r.transact_items();
            let conditions: Vec<_> = items
                .iter()
                .filter_map(|i| i.put())
                .map(|p| readable(p.condition_expression(), p.expression_attribute_names()))
                .collect();
            // The appointment, its line of history (unconditioned) and its day
            items.len() == 3
                && conditions == ["attribute_not_exists(pk)", "", "attribute_not_exists(pk)"]
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&no_day, &transaction]
    );
    let store = store(client);

    store
        .insert_appointment(&appointment("2026-12-03T13:30:00Z"))
        .await
        .unwrap();
    assert_eq!(transaction.num_calls(), 1);
}

#[tokio::test]
async fn an_overlap_seen_in_the_day_item_is_refused_without_writing() {
    let existing = appointment("2026-12-03T13:30:00Z");
    let mut day = AgendaDayItem::empty(&existing.practitioner_id, existing.start.date_naive());
    day.revision = 3;
    day.booked.insert(existing.id.to_string(), existing.range());
    let day_item = sdk_item(&day);
    let stored_day = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .set_item(Some(day_item.clone()))
            .build()
    });
    let transaction = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&stored_day, &transaction]
    );
    let store = store(client);

    let result = store
        .insert_appointment(&appointment("2026-12-03T13:40:00Z"))
        .await;
    match result {
        Err(InsertError::Overlap(ids)) => assert_eq!(ids, vec![existing.id]),
        other => panic!("expected an overlap, got {other:?}"),
    }
    assert_eq!(transaction.num_calls(), 0);
}

#[tokio::test]
async fn a_booking_that_keeps_losing_races_gives_up_after_bounded_retries() {
    let mut day = AgendaDayItem::empty(
        &PractitionerId::parse("dr-martin").unwrap(),
        at("2026-12-03T00:00:00Z").date_naive(),
    );
    day.revision = 7;
    let day_item = sdk_item(&day);
    let stored_day = mock!(aws_sdk_dynamodb::Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .set_item(Some(day_item.clone()))
            .build()
    });
    let lost = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|r| {
            // [appointment, its history line, its day]
            r.transact_items()[2].put().is_some_and(|p| {
                readable(p.condition_expression(), p.expression_attribute_names())
                    == "revision = :v0"
            })
        })
        .then_error(|| {
            TransactWriteItemsError::TransactionCanceledException(
                TransactionCanceledException::builder()
                    .message("ConditionalCheckFailed")
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&stored_day, &lost]);
    let store = store(client);

    let result = store
        .insert_appointment(&appointment("2026-12-03T13:30:00Z"))
        .await;
    assert!(
        matches!(result, Err(InsertError::Store(StoreError::Contention))),
        "{result:?}"
    );
    assert_eq!(lost.num_calls(), 5);
}

fn key() -> MessageKey {
    MessageKey::for_version(
        AppointmentId::new(),
        MessageKind::Confirmation,
        Channel::Email,
        1,
    )
}

fn sent_entry() -> CommunicationEntry {
    CommunicationEntry {
        kind: MessageKind::Confirmation,
        channel: Channel::Email,
        state: DeliveryState::Sent,
        reason: None,
        reason_code: None,
        message_id: None,
        at: at("2026-11-25T10:00:00Z"),
    }
}

#[tokio::test]
async fn claiming_an_already_sent_message_reads_it_back_instead_of_sending_again() {
    let key = key();
    let mut settled = MessageItem::claimed(&key, at("2026-11-25T10:00:00Z"));
    settled.message_state = MessageState::Settled;
    settled.entry = Some(sent_entry());
    settled.published = true;
    let settled_item = sdk_item(&settled);
    let refused = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| {
            readable(r.condition_expression(), r.expression_attribute_names())
                .starts_with("(attribute_not_exists(pk)) OR ")
        })
        .then_error(move || {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .set_item(Some(settled_item.clone()))
                    .build(),
            )
        });
    let client = mock_client!(aws_sdk_dynamodb, [&refused]);
    let store = store(client);

    let claim = store
        .claim_message(&key, at("2026-11-25T10:05:00Z"), Duration::minutes(16))
        .await
        .unwrap();
    assert_eq!(
        claim,
        Claim::Settled {
            entry: sent_entry(),
            published: true
        }
    );
}

#[tokio::test]
async fn a_free_message_key_is_granted() {
    let granted =
        mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, [&granted]);
    let store = store(client);
    let claim = store
        .claim_message(&key(), at("2026-11-25T10:05:00Z"), Duration::minutes(16))
        .await
        .unwrap();
    assert_eq!(claim, Claim::Granted);
}

fn email() -> OutgoingEmail {
    OutgoingEmail {
        to: Email::parse("jeanne@example.org").unwrap(),
        sender_name: "Dr Marie Martin".into(),
        subject: "Votre rendez-vous du jeudi 3 décembre 2026 à 14h30 est confirmé".into(),
        text: "Bonjour".into(),
        html: "<p>Bonjour</p>".into(),
        attachments: vec![],
        kind: MessageKind::Confirmation,
        appointment_id: Some(AppointmentId::new()),
        links: vec![],
    }
}

#[tokio::test]
async fn ses_gets_a_raw_mime_message_to_the_patient_from_the_configured_sender() {
    use aws_sdk_sesv2::operation::send_email::SendEmailOutput;
    let send = mock!(aws_sdk_sesv2::Client::send_email)
        .match_requests(|r| {
            let raw = r
                .content()
                .and_then(|c| c.raw())
                .map(|raw| raw.data().as_ref().to_vec());
            let raw = String::from_utf8(raw.unwrap_or_default()).unwrap_or_default();
            r.from_email_address() == Some("rdv@example.org")
                && r.destination().map(|d| d.to_addresses())
                    == Some(&["jeanne@example.org".to_string()][..])
                && raw.contains("Subject:")
                && raw.contains("text/html")
                && r.email_tags()
                    .iter()
                    .any(|t| t.name() == "kind" && t.value() == "confirmation")
        })
        .then_output(|| SendEmailOutput::builder().message_id("m-1").build());
    let client = mock_client!(aws_sdk_sesv2, [&send]);
    let mailer = SesMailer::new(client, "rdv@example.org".into(), None);
    mailer.send(&email()).await.unwrap();
    assert_eq!(send.num_calls(), 1);
}

#[tokio::test]
async fn ses_refusals_are_final_and_throttling_is_worth_a_retry() {
    use aws_sdk_sesv2::operation::send_email::SendEmailError;
    use aws_sdk_sesv2::types::error::{MessageRejected, TooManyRequestsException};
    let rejected = mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
        SendEmailError::MessageRejected(
            MessageRejected::builder()
                .message("Email address is not verified: jeanne@example.org")
                .build(),
        )
    });
    let throttled = mock!(aws_sdk_sesv2::Client::send_email).then_error(|| {
        SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().build())
    });
    let client = mock_client!(aws_sdk_sesv2, RuleMode::Sequential, [&rejected, &throttled]);
    let mailer = SesMailer::new(client, "rdv@example.org".into(), None);
    match mailer.send(&email()).await {
        Err(SendError::Rejected(detail)) => assert!(!detail.contains("jeanne"), "{detail}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        mailer.send(&email()).await,
        Err(SendError::Unavailable(_))
    ));
}

fn event() -> CommunicationEvent {
    CommunicationEvent {
        practitioner_id: PractitionerId::parse("dr-martin").unwrap(),
        by: domain::grants::Actor::System,
        appointment_id: AppointmentId::new(),
        message: "confirmation#email#v000001".into(),
        entry: sent_entry(),
    }
}

#[tokio::test]
async fn eventbridge_gets_one_entry_with_ids_and_states_only() {
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    let put = mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(|r| {
            let entry = &r.entries()[0];
            let detail = entry.detail().unwrap_or_default();
            entry.event_bus_name() == Some("comms")
                && entry.source() == Some(CommunicationEvent::SOURCE)
                && detail.contains("\"state\":\"sent\"")
                && !detail.contains('@')
        })
        .then_output(|| PutEventsOutput::builder().failed_entry_count(0).build());
    let client = mock_client!(aws_sdk_eventbridge, [&put]);
    EventBridgePublisher::new(client, "comms".into())
        .publish(&event())
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn an_event_the_bus_refuses_is_an_error_to_retry() {
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    let refused = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
        PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("InternalFailure")
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_eventbridge, [&refused]);
    let result = EventBridgePublisher::new(client, "comms".into())
        .publish(&event())
        .await;
    assert!(result.unwrap_err().0.contains("InternalFailure"));
}

#[test]
fn day_items_list_the_booked_ranges_that_overlap() {
    let a = appointment("2026-12-03T13:30:00Z");
    let mut day = AgendaDayItem::empty(&a.practitioner_id, a.start.date_naive());
    day.booked.insert(a.id.to_string(), a.range());
    let later = TimeRange::new(at("2026-12-03T13:50:00Z"), at("2026-12-03T14:10:00Z")).unwrap();
    assert_eq!(day.overlapping(later).count(), 0);
    let inside = TimeRange::new(at("2026-12-03T13:40:00Z"), at("2026-12-03T14:00:00Z")).unwrap();
    assert_eq!(day.overlapping(inside).collect::<Vec<_>>(), vec![a.id]);
}
