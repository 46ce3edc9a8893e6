//! Messages per second of the project's own code (issue 14): the confirmation
//! sender, the reminder sweeper and the cancellation sender over the embedded
//! store, with an e-mail,
//! SMS and event bus that accept everything at once, so only our code (and the
//! memory table's encoding of DynamoDB items) is timed.
//!
//!     cargo run --release -p local --example throughput [appointments]
//!
//! The appointments (5,000 by default) are written straight to the store; their
//! stream records are handed to the confirmation sender in batches of 100 (the
//! template's `BatchSize`), then to the reminder scheduler; the clock moves to
//! when every reminder is due (outside quiet hours) and one sweep sends them
//! all. Then the practice sets every appointment to « à reporter, à prévenir »
//! with the SMS ticked, and the cancellation sender gets those records, in
//! batches of 100 too. SMS pacing is off for the sweep and the cancellations:
//! it spaces sends out in real time, which is the provider's limit, not our
//! code's cost.

use async_trait::async_trait;
use aws_adapters::stream::ChangeFunction;
use aws_lambda_events::dynamodb::Event;
use domain::communications::CommunicationEvent;
use domain::contact::Mobile;
use domain::fixtures::{at, booked, dr_martin};
use domain::links::PublicUrls;
use domain::messages::{OutgoingEmail, OutgoingSms};
use domain::ports::{
    EventPublisher, Mailer, ProviderMessageId, PublishError, SendError, SettingsStore, SmsSender,
};
use domain::rules::status::PractitionerStatus;
use domain::service::OnAppointmentChange;
use domain::service::cancellation::CancellationSender;
use domain::service::delivery::Delivery;
use domain::service::practice::{PracticeService, StatusRequest};
use domain::service::reminders::SweepOptions;
use lambda_runtime::{Context, LambdaEvent};
use local::embedded::clock::AdjustableClock;
use local::embedded::{MemoryStore, OverwriteAppointment};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Takes every message at once and counts it.
#[derive(Default)]
struct Accepting {
    emails: AtomicUsize,
    sms: AtomicUsize,
    events: AtomicUsize,
}

#[async_trait]
impl Mailer for Accepting {
    async fn send(&self, _: &OutgoingEmail) -> Result<ProviderMessageId, SendError> {
        let n = self.emails.fetch_add(1, Ordering::Relaxed);
        Ok(ProviderMessageId(format!("email-{n}")))
    }
}
#[async_trait]
impl SmsSender for Accepting {
    async fn send_sms(&self, _: &OutgoingSms) -> Result<ProviderMessageId, SendError> {
        let n = self.sms.fetch_add(1, Ordering::Relaxed);
        Ok(ProviderMessageId(format!("sms-{n}")))
    }
}
#[async_trait]
impl EventPublisher for Accepting {
    async fn publish(&self, _: &CommunicationEvent) -> Result<(), PublishError> {
        self.events.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn batches(records: Vec<serde_json::Value>) -> Vec<Event> {
    records
        .chunks(100)
        .map(|chunk| serde_json::from_value(serde_json::json!({ "Records": chunk })).unwrap())
        .collect()
}

// The functions' runtime (docs/decisions.md): one thread, as on Lambda.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("a number of appointments"))
        .unwrap_or(5_000);
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-30T06:00:00Z")));
    let out = Arc::new(Accepting::default());
    let delivery: Delivery = Delivery {
        store: store.clone(),
        mailer: out.clone(),
        sms: out.clone(),
        events: out.clone(),
        clock: clock.clone(),
    };
    store.put_settings(&dr_martin()).await.unwrap();

    // Given n appointments on 10 December at 15:00 in Paris (the store does
    // not check overlaps here), each patient with an e-mail address and a mobile
    let stream = store.table().subscribe();
    let mut booked_ids = Vec::new();
    for _ in 0..n {
        let mut a = booked(at("2026-12-10T14:00:00Z"), 20);
        a.patient.mobile = Some(Mobile::parse("06 12 34 56 78").unwrap());
        a.created_at = at("2026-11-30T06:00:00Z");
        store.overwrite_appointment(&a).unwrap();
        booked_ids.push((a.practitioner_id, a.id));
    }
    let records = received(stream);

    // When the notice sender handles their stream records (confirmations)
    let sender = notice_sender::new(
        delivery.clone(),
        PublicUrls::new("https://rdv.example.org"),
        None,
    );
    let confirmations = handle_all(&sender, records.clone()).await;
    let emails = out.emails.load(Ordering::Relaxed);
    report("confirmation sender", emails, confirmations);

    // and the reminder scheduler, then one sweep once every reminder is due
    let scheduler =
        reminder_scheduler::ReminderSchedulerFunction::new(store.clone(), clock.clone());
    for batch in batches(records) {
        scheduler
            .handle(LambdaEvent::new(batch, Context::default()))
            .await
            .unwrap();
    }
    let sweeper = reminder_sweeper::ReminderSweeperFunction::new(
        delivery.clone(),
        PublicUrls::new("https://rdv.example.org"),
        SweepOptions {
            per_second: None,
            ..SweepOptions::default()
        },
    );
    // the e-mail reminders fall due 48 h before, the SMS ones 24 h before
    clock.move_to(at("2026-12-09T15:00:00Z")).unwrap();
    let (emails_before, sms_before) = (
        out.emails.load(Ordering::Relaxed),
        out.sms.load(Ordering::Relaxed),
    );
    let started = Instant::now();
    let swept = sweeper
        .handle(LambdaEvent::new(serde_json::json!({}), Context::default()))
        .await
        .unwrap();
    let sweep = started.elapsed();
    let reminders = out.emails.load(Ordering::Relaxed) - emails_before
        + out.sms.load(Ordering::Relaxed)
        - sms_before;
    eprintln!("sweep: {}", serde_json::to_string(&swept).unwrap());
    report("reminder sweeper", reminders, sweep);

    // Then the practice cancels them all, the patients to be told by e-mail
    // and SMS, and the cancellation sender handles those records
    let practice = PracticeService::new(store.clone(), clock.clone());
    let stream = store.table().subscribe();
    let to_reschedule = StatusRequest {
        status: PractitionerStatus::ToReschedule,
        send_cancellation_sms: true,
    };
    for (practitioner, id) in &booked_ids {
        practice
            .set_status(
                practitioner,
                id,
                &to_reschedule,
                &domain::grants::Actor::System,
            )
            .await
            .unwrap();
    }
    let records = received(stream);
    let cancellations = ChangeFunction::new(CancellationSender::new(
        delivery,
        PublicUrls::new("https://rdv.example.org"),
        None,
    ));
    let sent_before = out.emails.load(Ordering::Relaxed) + out.sms.load(Ordering::Relaxed);
    let took = handle_all(&cancellations, records).await;
    let sent = out.emails.load(Ordering::Relaxed) + out.sms.load(Ordering::Relaxed) - sent_before;
    report("cancellation sender", sent, took);
}

/// Hands `records` to a stream function in batches of 100, each handled
/// whole; how long that took.
async fn handle_all<S: OnAppointmentChange>(
    function: &ChangeFunction<S>,
    records: Vec<serde_json::Value>,
) -> Duration {
    let started = Instant::now();
    for batch in batches(records) {
        let answer = function
            .handle(LambdaEvent::new(batch, Context::default()))
            .await
            .unwrap();
        assert!(answer.batch_item_failures.is_empty());
    }
    started.elapsed()
}

/// The stream records written since `stream` subscribed.
fn received(mut stream: local::embedded::StreamSubscription) -> Vec<serde_json::Value> {
    let mut records = Vec::new();
    while let Ok(r) = stream.records.try_recv() {
        records.push(r);
    }
    stream.done(records.len());
    records
}

fn report(what: &str, messages: usize, took: Duration) {
    println!(
        "{what}: {messages} messages in {:.0} ms: {:.0} messages/s",
        took.as_secs_f64() * 1e3,
        messages as f64 / took.as_secs_f64()
    );
}
