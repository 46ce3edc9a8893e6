//! The notice sender through its handler, for cancellations: the patient's cancellation
//! e-mail, sent once however often the record is delivered (SPEC §4.2, §5, §7).

use aws_lambda_events::event::dynamodb::Event;
use domain::communications::{DeliveryState, MessageKind};
use domain::fixtures::{at, dr_martin};
use domain::ports::SendError;
use domain::ports::capabilities::*;
use domain::service::delivery::Delivery;
use lambda_runtime::{Context, LambdaEvent};
use local::embedded::AdjustableClock;
use local::embedded::MemoryStore;
use local::embedded::Outbox;
use local::embedded::RecordedEvents;
use notice_sender::NoticeSenderFunction;
use std::sync::Arc;

const SAMPLE: &str = include_str!("../../../events/notice-sender-modify.json");

struct World {
    store: Arc<MemoryStore>,
    outbox: Arc<Outbox>,
    events: Arc<RecordedEvents>,
    sender: NoticeSenderFunction,
}

/// The store as the sample's record left it: the appointment cancelled by the patient.
async fn world() -> (World, Event) {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-27T08:15:01Z")));
    let outbox = Arc::new(Outbox::new(clock.clone()));
    let events = Arc::new(RecordedEvents::new());
    store.put_settings(&dr_martin()).await.unwrap();
    let event: Event = serde_json::from_str(SAMPLE).unwrap();
    let change = aws_adapters::stream::appointment_change(&event.records[0])
        .unwrap()
        .unwrap();
    let before = change.old.clone().unwrap();
    store.insert_appointment(&before).await.unwrap();
    store
        .update_appointment(before.version, change.new.as_ref().unwrap())
        .await
        .unwrap();
    let sender = notice_sender::new(
        Delivery {
            store: store.clone(),
            mailer: outbox.clone(),
            sms: outbox.clone(),
            events: events.clone(),
            clock,
        },
        domain::links::PublicUrls::new("https://rdv.example.org"),
        None,
    );
    (
        World {
            store,
            outbox,
            events,
            sender,
        },
        event,
    )
}

impl World {
    /// Ids of the records the handler asks Lambda to retry.
    async fn deliver(&self, event: &Event) -> Vec<String> {
        let invocation = LambdaEvent::new(event.clone(), Context::default());
        let response = self.sender.handle(invocation).await.unwrap();
        response
            .batch_item_failures
            .into_iter()
            .filter_map(|f| f.item_identifier)
            .collect()
    }
}

#[tokio::test]
async fn the_sample_cancellation_sends_one_acknowledgement_however_often_it_is_delivered() {
    let (world, event) = world().await;
    for _ in 0..3 {
        assert!(world.deliver(&event).await.is_empty());
    }
    let sent = world.outbox.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, MessageKind::CancellationAck);
    assert!(
        sent[0].text.contains("jeudi 3 décembre 2026 à 14h30"),
        "{}",
        sent[0].text
    );
    let id = sent[0].appointment_id.unwrap();
    let log = world
        .store
        .communications(&dr_martin().id, &id)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].kind, log[0].state),
        (MessageKind::CancellationAck, DeliveryState::Sent)
    );
    assert_eq!(world.events.events().len(), 1);
}

#[tokio::test]
async fn a_throttled_send_is_retried_and_then_sent_once() {
    let (world, event) = world().await;
    world
        .outbox
        .fail_next([SendError::Unavailable("throttled".into())]);
    let failed = world.deliver(&event).await;
    // Lambda retries a stream from the failed record's sequence number.
    assert_eq!(
        failed,
        vec![event.records[0].change.sequence_number.clone().unwrap()]
    );
    assert!(world.outbox.messages().is_empty());
    assert!(world.deliver(&event).await.is_empty());
    assert_eq!(world.outbox.messages().len(), 1);
}

#[tokio::test]
async fn other_changes_send_nothing() {
    let (world, _) = world().await;
    let mut record: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    record["Records"][0]["dynamodb"]["NewImage"]["last_change"]["S"] = "moved_by_patient".into();
    let event: Event = serde_json::from_value(record).unwrap();
    assert!(world.deliver(&event).await.is_empty());
    assert!(world.outbox.messages().is_empty());
}
