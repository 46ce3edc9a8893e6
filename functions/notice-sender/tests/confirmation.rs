//! The notice sender through its handler, for confirmations: stream batches in, e-mails,
//! communications log entries and events out (SPEC §4.1, §5, §7).

use aws_lambda_events::event::dynamodb::Event;
use chrono::{DateTime, Duration, Utc};
use domain::appointment::{Appointment, AppointmentRequest, PatientRequest, Source};
use domain::communications::DeliveryState;
use domain::ids::PractitionerId;
use domain::links::{LinkToken, PublicUrls};
use domain::ports::SendError;
use domain::ports::capabilities::*;
use domain::service::delivery::Delivery;
use domain::settings::PractitionerSettings;
use lambda_runtime::{Context, LambdaEvent};
use local::embedded::AdjustableClock;
use local::embedded::MemoryStore;
use local::embedded::Outbox;
use local::embedded::RecordedEvents;
use local::embedded::StreamSubscription;
use notice_sender::NoticeSenderFunction;
use serde_json::json;
use std::sync::Arc;

fn now() -> DateTime<Utc> {
    "2026-11-25T10:00:00Z".parse().unwrap()
}

struct World {
    store: Arc<MemoryStore>,
    outbox: Arc<Outbox>,
    events: Arc<RecordedEvents>,
    sender: NoticeSenderFunction,
    stream: StreamSubscription,
    settings: PractitionerSettings,
}

fn settings() -> PractitionerSettings {
    let doc = json!({
        "name": "Dr Marie Martin", "address": "12 rue de la Paix, 75002 Paris",
        "secretariat_phone": "+33140000000",
        "reasons": [
            {"id": "consultation", "label": "Suivi psychiatrique", "duration_minutes": 20,
             "confirmation_email": true, "online_booking": true, "sms_reminder": true},
            {"id": "vaccination", "label": "Vaccination", "duration_minutes": 15,
             "confirmation_email": false, "online_booking": true, "sms_reminder": true}
        ],
        "email_service": {"enabled": true, "reminder_hours_before": 48},
        "online_booking": {"enabled": true, "modify_cancel_deadline_hours": 24, "booking_horizon_days": 60}
    });
    serde_json::from_value::<PractitionerSettings>(doc)
        .unwrap()
        .validated(PractitionerId::parse("dr-martin").unwrap())
        .unwrap()
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(AdjustableClock::starting_at(now()));
    let outbox = Arc::new(Outbox::new(clock.clone()));
    let events = Arc::new(RecordedEvents::new());
    let settings = settings();
    store.put_settings(&settings).await.unwrap();
    let stream = store.table().subscribe();
    let delivery: Delivery = Delivery {
        store: store.clone(),
        mailer: outbox.clone(),
        sms: outbox.clone(),
        events: events.clone(),
        clock,
    };
    let sender = notice_sender::new(delivery, PublicUrls::new("https://rdv.example.org"), None);
    World {
        store,
        outbox,
        events,
        sender,
        stream,
        settings,
    }
}

impl World {
    async fn book(&self, reason: &str, email: Option<&str>, start_in: Duration) -> Appointment {
        let request = AppointmentRequest {
            reason_id: reason.into(),
            start: (now() + start_in).to_rfc3339(),
            patient: PatientRequest {
                first_name: "Jeanne".into(),
                last_name: "Dupont".into(),
                email: email.map(Into::into),
                mobile: None,
                language: None,
            },
        };
        let appointment = request
            .validate(&self.settings, now())
            .unwrap()
            .into_appointment(self.settings.id.clone(), Source::Practitioner, None, now());
        self.store.insert_appointment(&appointment).await.unwrap();
        appointment
    }

    /// The stream records written so far, as one Lambda batch.
    fn batch(&mut self) -> Event {
        let mut records = Vec::new();
        while let Ok(record) = self.stream.records.try_recv() {
            records.push(record);
        }
        self.stream.done(records.len());
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    async fn deliver(&self, batch: &Event) -> Vec<String> {
        let response = self
            .sender
            .handle(LambdaEvent::new(batch.clone(), Context::default()))
            .await
            .unwrap();
        response
            .batch_item_failures
            .into_iter()
            .filter_map(|f| f.item_identifier)
            .collect()
    }
}

#[tokio::test]
async fn one_email_with_links_for_a_booking_and_none_more_when_the_batch_is_redelivered() {
    let mut world = world().await;
    let appointment = world
        .book(
            "consultation",
            Some("jeanne@example.org"),
            Duration::days(8),
        )
        .await;
    let batch = world.batch();

    assert!(world.deliver(&batch).await.is_empty());
    assert!(world.deliver(&batch).await.is_empty());

    let sent = world.outbox.messages();
    assert_eq!(sent.len(), 1);
    let email = &sent[0];
    assert_eq!(email.to, "jeanne@example.org");
    assert!(
        email.text.contains("jeudi 3 décembre 2026 à 11h00"),
        "{}",
        email.text
    );
    assert!(email.text.contains("Dr Marie Martin"));
    assert!(
        !email.text.contains("psychiatrique")
            && !email.html.as_ref().unwrap().contains("psychiatrique")
    );
    assert_eq!(email.links.len(), 2);
    assert!(
        email
            .links
            .iter()
            .all(|l| l.starts_with("https://rdv.example.org/a/"))
    );

    // The link's token is stored only as a hash, bound to this version.
    let token = email.links[1].rsplit('/').next().unwrap();
    let grant = world
        .store
        .link(&LinkToken::parse(token).unwrap().hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((grant.appointment_id, grant.version), (appointment.id, 1));

    let log = world
        .store
        .communications(&appointment.practitioner_id, &appointment.id)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Sent);
    assert_eq!(world.events.events().len(), 1);
    assert!(
        !serde_json::to_string(&world.events.events())
            .unwrap()
            .contains("jeanne")
    );
}

#[tokio::test]
async fn skipped_messages_are_logged_with_the_reason_in_words() {
    let mut world = world().await;
    let no_email = world.book("consultation", None, Duration::days(8)).await;
    let not_ticked = world
        .book("vaccination", Some("jeanne@example.org"), Duration::days(9))
        .await;
    let batch = world.batch();
    assert!(world.deliver(&batch).await.is_empty());

    assert!(world.outbox.messages().is_empty());
    let log = world
        .store
        .communications(&no_email.practitioner_id, &no_email.id)
        .await
        .unwrap();
    assert_eq!(log[0].state, DeliveryState::Skipped);
    assert_eq!(
        log[0].reason.as_deref(),
        Some("pas d'adresse e-mail sur la fiche contact")
    );
    let log = world
        .store
        .communications(&not_ticked.practitioner_id, &not_ticked.id)
        .await
        .unwrap();
    assert_eq!(
        log[0].reason_code.as_deref(),
        Some("reason_not_ticked_for_confirmation")
    );
    assert_eq!(world.events.events().len(), 2);
}

#[tokio::test]
async fn no_links_once_the_deadline_has_passed() {
    let mut world = world().await;
    world
        .book(
            "consultation",
            Some("jeanne@example.org"),
            Duration::hours(5),
        )
        .await;
    let batch = world.batch();
    world.deliver(&batch).await;
    let sent = world.outbox.messages();
    assert!(sent[0].links.is_empty());
    assert!(sent[0].text.contains("01 40 00 00 00"));
}

#[tokio::test]
async fn a_passing_failure_is_retried_from_that_record_and_sent_once() {
    let mut world = world().await;
    world
        .book(
            "consultation",
            Some("jeanne@example.org"),
            Duration::days(8),
        )
        .await;
    let batch = world.batch();
    world
        .outbox
        .fail_next([SendError::Unavailable("throttled".into())]);

    let failed = world.deliver(&batch).await;
    assert_eq!(failed.len(), 1, "the record is reported for retry");
    assert!(world.outbox.messages().is_empty());

    assert!(world.deliver(&batch).await.is_empty());
    assert_eq!(world.outbox.messages().len(), 1);
}

#[tokio::test]
async fn a_refused_address_is_logged_as_failed_and_not_retried() {
    let mut world = world().await;
    let appointment = world
        .book(
            "consultation",
            Some("jeanne@example.org"),
            Duration::days(8),
        )
        .await;
    let batch = world.batch();
    world
        .outbox
        .fail_next([SendError::Rejected("MessageRejected".into())]);
    assert!(world.deliver(&batch).await.is_empty());
    let log = world
        .store
        .communications(&appointment.practitioner_id, &appointment.id)
        .await
        .unwrap();
    assert_eq!(log[0].state, DeliveryState::Failed);
    assert!(world.deliver(&batch).await.is_empty());
    assert!(world.outbox.messages().is_empty());
}

#[tokio::test]
async fn the_sample_event_sends_through_the_handler() {
    let world = world().await;
    let event: Event =
        serde_json::from_str(include_str!("../../../events/notice-sender-insert.json")).unwrap();
    // The store holds the appointment the record describes.
    let change = aws_adapters::stream::appointment_change(&event.records[0])
        .unwrap()
        .unwrap();
    world
        .store
        .insert_appointment(change.new.as_ref().unwrap())
        .await
        .unwrap();

    assert!(world.deliver(&event).await.is_empty());
    let sent = world.outbox.messages();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.contains("jeudi 3 décembre 2026 à 14h30"));
}
