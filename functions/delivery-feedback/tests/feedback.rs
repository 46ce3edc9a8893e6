//! The delivery-feedback function through its handler, fed the samples of
//! `events/` (SES events as EventBridge delivers them, an SNS SMS
//! delivery-status batch as a CloudWatch Logs subscription delivers it),
//! again, and out of order (SPEC §5).

use chrono::{DateTime, Duration, Utc};
use delivery_feedback::{DeliveryFeedbackFunction, FeedbackSummary};
use domain::communications::{
    Channel, CommunicationEntry, CommunicationEvent, DeliveryState, MessageKey, MessageKind,
};
use domain::fixtures::{booked, dr_martin};
use domain::ids::AppointmentId;
use domain::ports::Clock;
use domain::ports::capabilities::*;
use domain::service::feedback::DeliveryFeedback;
use lambda_runtime::{Context, LambdaEvent};
use local::embedded::{AdjustableClock, MemoryStore, RecordedEvents};
use local::feedback::{Outcome, provider_event};
use serde_json::Value;
use std::sync::Arc;

const BOUNCED_EMAIL: &str = "0107019a3f6c2b1d-5e8f7a9b-1c2d-4e3f-8a7b-6c5d4e3f2a1b-000000";
const DELIVERED_EMAIL: &str = "0107019a3f6c2b1e-7d6c5b4a-3e2f-4d1c-9b8a-7f6e5d4c3b2a-000000";
const COMPLAINED_EMAIL: &str = "0107019a3f6c2b1f-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-000000";
/// Inside the gzipped batch of `delivery-feedback-sms-receipt.json`.
const UNDELIVERED_SMS: &str = "5f2d8c1e-7b3a-5e9f-a4c6-1d8b2e7f3a9c";

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/../../events/delivery-feedback-{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

struct World {
    store: Arc<MemoryStore>,
    events: Arc<RecordedEvents>,
    clock: Arc<AdjustableClock>,
    function: DeliveryFeedbackFunction,
    appointment: AppointmentId,
}

/// Dr Martin, one appointment, the clock just after the samples were sent.
async fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let events = Arc::new(RecordedEvents::new());
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-25T09:05:00Z")));
    store.put_settings(&dr_martin()).await.unwrap();
    let appointment = booked(at("2026-12-03T13:30:00Z"), 20);
    store.insert_appointment(&appointment).await.unwrap();
    let function = DeliveryFeedbackFunction::new(DeliveryFeedback {
        store: store.clone(),
        events: events.clone(),
        clock: clock.clone(),
    });
    World {
        store,
        events,
        clock,
        function,
        appointment: appointment.id,
    }
}

impl World {
    /// Given a message of `kind` and `channel` that the provider accepted as `message_id`.
    async fn sent(&self, kind: MessageKind, channel: Channel, message_id: &str) -> MessageKey {
        let key = MessageKey::for_version(self.appointment, kind, channel, 1);
        let entry = CommunicationEntry {
            kind,
            channel,
            state: DeliveryState::Sent,
            reason: None,
            reason_code: None,
            message_id: Some(message_id.into()),
            at: at("2026-11-25T09:02:11Z"),
        };
        self.store
            .claim_message(&key, entry.at, Duration::minutes(2))
            .await
            .unwrap();
        let end = at("2026-12-03T13:50:00Z");
        self.store
            .settle_message(&key, &dr_martin().id, &entry, end)
            .await
            .unwrap();
        self.store.mark_published(&key).await.unwrap();
        key
    }

    async fn handle(&self, event: Value) -> Result<FeedbackSummary, String> {
        self.function
            .handle(LambdaEvent::new(event, Context::default()))
            .await
            .map_err(|e| e.to_string())
    }

    async fn entry(&self, key: &MessageKey) -> CommunicationEntry {
        let log = self
            .store
            .communications(&dr_martin().id, &key.appointment_id)
            .await
            .unwrap();
        log.into_iter()
            .find(|e| e.kind == key.kind && e.channel == key.channel)
            .unwrap()
    }

    fn published(&self) -> Vec<CommunicationEvent> {
        self.events.events()
    }
}

fn changed(n: usize) -> FeedbackSummary {
    FeedbackSummary {
        changed: n,
        ..Default::default()
    }
}

fn unchanged(n: usize) -> FeedbackSummary {
    FeedbackSummary {
        unchanged: n,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_bounce_moves_the_confirmation_to_bounced_once_however_often_it_arrives() {
    let world = world().await;
    let key = world
        .sent(MessageKind::Confirmation, Channel::Email, BOUNCED_EMAIL)
        .await;

    // When SES's bounce arrives, then again (EventBridge and Lambda retry)
    assert_eq!(world.handle(sample("ses-bounce")).await, Ok(changed(1)));
    assert_eq!(world.handle(sample("ses-bounce")).await, Ok(unchanged(1)));

    // Then the entry is bounced, in the practitioner's words, with its id
    let entry = world.entry(&key).await;
    assert_eq!(entry.state, DeliveryState::Bounced);
    assert_eq!(entry.reason_code.as_deref(), Some("bounced_permanent"));
    assert!(entry.reason.unwrap().contains("rejet définitif"));
    assert_eq!(entry.message_id.as_deref(), Some(BOUNCED_EMAIL));
    // And one event tells the change, without the patient's address
    let events = world.published();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].entry.state, DeliveryState::Bounced);
    assert_eq!(events[0].message, key.to_string());
    assert!(!serde_json::to_string(&events[0]).unwrap().contains('@'));
}

#[tokio::test]
async fn a_delivery_reported_after_the_bounce_does_not_hide_it() {
    let world = world().await;
    let key = world
        .sent(MessageKind::Confirmation, Channel::Email, BOUNCED_EMAIL)
        .await;
    world.handle(sample("ses-bounce")).await.unwrap();

    // When a delivery report for the same message arrives late
    let mut late_delivery = sample("ses-delivery");
    late_delivery["detail"]["mail"]["messageId"] = BOUNCED_EMAIL.into();
    assert_eq!(world.handle(late_delivery).await, Ok(unchanged(1)));

    // Then it stays bounced, and nothing more is published
    assert_eq!(world.entry(&key).await.state, DeliveryState::Bounced);
    assert_eq!(world.published().len(), 1);
}

#[tokio::test]
async fn a_bounce_after_the_delivery_report_wins() {
    let world = world().await;
    let key = world
        .sent(MessageKind::Confirmation, Channel::Email, DELIVERED_EMAIL)
        .await;
    assert_eq!(world.handle(sample("ses-delivery")).await, Ok(changed(1)));
    assert_eq!(world.entry(&key).await.state, DeliveryState::Delivered);

    let mut bounce = sample("ses-bounce");
    bounce["detail"]["mail"]["messageId"] = DELIVERED_EMAIL.into();
    assert_eq!(world.handle(bounce).await, Ok(changed(1)));

    assert_eq!(world.entry(&key).await.state, DeliveryState::Bounced);
    let states: Vec<DeliveryState> = world.published().iter().map(|e| e.entry.state).collect();
    assert_eq!(states, [DeliveryState::Delivered, DeliveryState::Bounced]);
}

#[tokio::test]
async fn a_complaint_before_its_delivery_report_stays_a_complaint() {
    let world = world().await;
    let key = world
        .sent(MessageKind::Reminder, Channel::Email, COMPLAINED_EMAIL)
        .await;
    // Out of order: the complaint first, then the delivery it follows
    assert_eq!(world.handle(sample("ses-complaint")).await, Ok(changed(1)));
    let mut delivery = sample("ses-delivery");
    delivery["detail"]["mail"]["messageId"] = COMPLAINED_EMAIL.into();
    assert_eq!(world.handle(delivery).await, Ok(unchanged(1)));

    let entry = world.entry(&key).await;
    assert_eq!(entry.state, DeliveryState::Complained);
    assert_eq!(entry.reason_code.as_deref(), Some("complained"));
}

#[tokio::test]
async fn an_sms_the_carrier_could_not_deliver_is_undelivered_and_a_late_success_changes_nothing() {
    let world = world().await;
    let key = world
        .sent(MessageKind::Reminder, Channel::Sms, UNDELIVERED_SMS)
        .await;
    world.clock.move_to(at("2026-11-26T13:31:00Z")).unwrap();

    assert_eq!(world.handle(sample("sms-receipt")).await, Ok(changed(1)));
    assert_eq!(world.handle(sample("sms-receipt")).await, Ok(unchanged(1)));
    let success = provider_event(
        Channel::Sms,
        UNDELIVERED_SMS,
        Outcome::Delivered,
        at("2026-11-26T13:30:00Z"),
        world.clock.now(),
    );
    assert_eq!(world.handle(success).await, Ok(unchanged(1)));

    let entry = world.entry(&key).await;
    assert_eq!(entry.state, DeliveryState::Undelivered);
    assert_eq!(entry.reason_code.as_deref(), Some("undelivered"));
    assert_eq!(world.published().len(), 1);
}

#[tokio::test]
async fn an_address_on_the_suppression_list_is_logged_failed_with_that_reason() {
    let world = world().await;
    let key = world
        .sent(MessageKind::Confirmation, Channel::Email, BOUNCED_EMAIL)
        .await;
    // SES accepts the call, sends nothing, and reports a bounce of subtype
    // OnAccountSuppressionList
    let mut suppressed = sample("ses-bounce");
    suppressed["detail"]["bounce"]["bounceSubType"] = "OnAccountSuppressionList".into();
    assert_eq!(world.handle(suppressed).await, Ok(changed(1)));

    let entry = world.entry(&key).await;
    assert_eq!(entry.state, DeliveryState::Failed);
    assert_eq!(entry.reason_code.as_deref(), Some("on_suppression_list"));
    assert!(entry.reason.unwrap().contains("liste de suppression"));
}

#[tokio::test]
async fn feedback_for_a_message_not_logged_yet_is_retried_and_for_a_stranger_dropped() {
    let world = world().await;
    // Given no log holds the bounced message: a moment after its send
    // (the sender has not logged it yet), the invocation fails for a retry
    assert!(world.handle(sample("ses-bounce")).await.is_err());
    // And when the sender logs it, the retry applies it
    let key = world
        .sent(MessageKind::Confirmation, Channel::Email, BOUNCED_EMAIL)
        .await;
    assert_eq!(world.handle(sample("ses-bounce")).await, Ok(changed(1)));
    assert_eq!(world.entry(&key).await.state, DeliveryState::Bounced);

    // Long after its send, a message no log holds belongs to another sender
    world.clock.move_to(at("2026-11-25T12:00:00Z")).unwrap();
    let mut stranger = sample("ses-delivery");
    stranger["detail"]["mail"]["messageId"] = "0107019a-not-ours-000000".into();
    assert_eq!(
        world.handle(stranger).await,
        Ok(FeedbackSummary {
            unknown: 1,
            ..Default::default()
        })
    );
}

#[tokio::test]
async fn an_event_that_is_neither_ses_nor_a_log_batch_fails_the_invocation() {
    let world = world().await;
    let error = world
        .handle(serde_json::json!({"source": "aws.events", "detail": {}}))
        .await
        .unwrap_err();
    assert!(error.contains("neither an SES event"), "{error}");
}
