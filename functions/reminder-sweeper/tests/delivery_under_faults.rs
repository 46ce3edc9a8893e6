//! The fault-injection proof of SPEC §5/§7 (docs/reliability.md): every
//! message called for goes out once, none is lost, under a sending service
//! that throttles 30 % of calls and answers late, stream batches replayed 3
//! times, 4 overlapping sweeps, and handlers aborted between send and settle.
//!
//! `DELIVERY_PROOF_APPOINTMENTS` (default 120, `make prove-delivery`: 1000)
//! and `DELIVERY_PROOF_SEED` choose the run; on one thread, the same seed
//! gives the same table.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::appointment::{
    Appointment, AppointmentChange, AppointmentRequest, Change, PatientRequest, Source,
};
use domain::communications::{Channel, DeliveryState, MessageKind};
use domain::ids::{AppointmentId, PractitionerId};
use domain::links::PublicUrls;
use domain::messages::{OutgoingEmail, OutgoingSms};
use domain::ports::capabilities::*;
use domain::ports::{Clock, Mailer, ProviderMessageId, SendError, SmsSender};
use domain::service::OnAppointmentChange;
use domain::service::cancellation::CancellationSender;
use domain::service::confirmation::ConfirmationSender;
use domain::service::delivery::{CLAIM_LEASE, Delivery};
use domain::service::reminders::{ReminderScheduler, ReminderSweeper, SweepOptions};
use domain::settings::PractitionerSettings;
use local::embedded::{AdjustableClock, MemoryStore, Outbox, OverwriteAppointment, RecordedEvents};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

type Triple = (AppointmentId, MessageKind, Channel);

/// Enough agendas for 1,000 appointments without two in one slot.
const PRACTITIONERS: usize = 50;
const THROTTLED_PER_MILLE: u64 = 300;
const ABORTED_PER_MILLE: u64 = 10;

/// The SES and SNS adapters as seen through a bad day: 30 % of calls
/// throttled, every call answered after other tasks ran, and now and then
/// the handler dies right after the provider accepted the message.
struct FaultySender {
    inner: Arc<Outbox>,
    state: Mutex<u64>,
    calls: AtomicUsize,
    throttled: AtomicUsize,
    aborted: Mutex<HashMap<Triple, usize>>,
}

impl FaultySender {
    fn new(inner: Arc<Outbox>, seed: u64) -> Self {
        Self {
            inner,
            state: Mutex::new(seed),
            calls: AtomicUsize::new(0),
            throttled: AtomicUsize::new(0),
            aborted: Mutex::default(),
        }
    }

    /// splitmix64: deterministic for a seed, no dependency.
    fn roll(&self) -> u64 {
        let mut state = self.state.lock().unwrap();
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % 1000
    }

    /// Latency: the answer comes after other handlers and sweeps ran.
    async fn answer_late(&self) -> Result<(), SendError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        for _ in 0..self.roll() % 8 {
            tokio::task::yield_now().await;
        }
        if self.roll() < THROTTLED_PER_MILLE {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(SendError::Unavailable("Throttling: rate exceeded".into()));
        }
        Ok(())
    }

    /// Sent, then the handler dies before settling: its claim stays held.
    fn maybe_abort(&self, triple: Triple) {
        if self.roll() < ABORTED_PER_MILLE {
            *self.aborted.lock().unwrap().entry(triple).or_default() += 1;
            panic!("handler aborted between send and settle (injected)");
        }
    }
}

#[async_trait]
impl Mailer for FaultySender {
    async fn send(&self, email: &OutgoingEmail) -> Result<ProviderMessageId, SendError> {
        self.answer_late().await?;
        let id = self.inner.send(email).await?;
        if let Some(appointment) = email.appointment_id {
            self.maybe_abort((appointment, email.kind, Channel::Email));
        }
        Ok(id)
    }
}

#[async_trait]
impl SmsSender for FaultySender {
    async fn send_sms(&self, sms: &OutgoingSms) -> Result<ProviderMessageId, SendError> {
        self.answer_late().await?;
        let id = self.inner.send_sms(sms).await?;
        self.maybe_abort((sms.appointment_id, sms.kind, Channel::Sms));
        Ok(id)
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn settings(id: &str) -> PractitionerSettings {
    serde_json::from_value::<PractitionerSettings>(json!({
        "name": "Dr Marie Martin", "address": "12 rue de la Paix, 75002 Paris",
        "secretariat_phone": "+33140000000",
        "reasons": [{"id": "consultation", "label": "Consultation", "duration_minutes": 20,
             "confirmation_email": true, "online_booking": true, "sms_reminder": true}],
        "email_service": {"enabled": true, "reminder_hours_before": 48},
        "sms_service": {"enabled": true, "reminder_hours_before": 24, "cancellation_sms": true},
        "online_booking": {"enabled": true, "modify_cancel_deadline_hours": 24, "booking_horizon_days": 60},
        "quiet_hours": {"start": "21:00", "end": "08:00"}
    }))
    .unwrap()
    .validated(PractitionerId::parse(id).unwrap())
    .unwrap()
}

/// What happens to one appointment after it is booked.
#[derive(Clone, Copy)]
enum Story {
    /// Booked and kept: confirmed, then reminded by e-mail and SMS.
    Kept,
    MovedByPatient,
    CancelledByPatient,
    CancelledByPractice,
}

struct Proof {
    clock: Arc<AdjustableClock>,
    store: Arc<MemoryStore>,
    outbox: Arc<Outbox>,
    faulty: Arc<FaultySender>,
    confirmation: Arc<ConfirmationSender>,
    cancellation: Arc<CancellationSender>,
    scheduler: ReminderScheduler<MemoryStore>,
    sweeper: ReminderSweeper,
    /// Rounds in which every handler still to succeed met a claim held by an
    /// aborted one, so the lease had to run out.
    leases_waited: usize,
}

impl Proof {
    async fn new(seed: u64) -> Self {
        let clock = Arc::new(AdjustableClock::starting_at(at("2026-12-01T09:00:00Z")));
        let store = Arc::new(MemoryStore::default());
        let outbox = Arc::new(Outbox::new(clock.clone()));
        let faulty = Arc::new(FaultySender::new(outbox.clone(), seed));
        let delivery: Delivery = Delivery {
            store: store.clone(),
            mailer: faulty.clone(),
            sms: faulty.clone(),
            events: Arc::new(RecordedEvents::new()),
            clock: clock.clone(),
        };
        for p in 0..PRACTITIONERS {
            store
                .put_settings(&settings(&format!("dr-p{p}")))
                .await
                .unwrap();
        }
        let urls = PublicUrls::new("https://rdv.example.org");
        let options = SweepOptions {
            concurrency: 8,
            per_second: None,
            page_size: 25,
            send_attempts: 2,
            first_backoff: std::time::Duration::from_millis(1),
            safety_margin: std::time::Duration::from_secs(1),
        };
        Self {
            confirmation: Arc::new(ConfirmationSender::new(delivery.clone(), urls.clone())),
            cancellation: Arc::new(CancellationSender::new(
                delivery.clone(),
                urls.clone(),
                None,
            )),
            scheduler: ReminderScheduler::new(store.clone(), clock.clone()),
            sweeper: ReminderSweeper::new(delivery, urls, options),
            clock,
            store,
            outbox,
            faulty,
            leases_waited: 0,
        }
    }

    async fn book(&self, n: usize, story: Story) -> Appointment {
        let practitioner = format!("dr-p{}", n % PRACTITIONERS);
        let slot = n / PRACTITIONERS;
        // Kept ones on Sunday 6 December (their reminders are swept that
        // morning), the others on the days after; 20-minute slots from 09:00 UTC.
        let day = if matches!(story, Story::Kept) {
            5
        } else {
            7 + slot / 20
        };
        let start = at("2026-12-01T09:00:00Z")
            + Duration::days(day as i64)
            + Duration::minutes(20 * (slot % 20) as i64);
        let settings = settings(&practitioner);
        let request = AppointmentRequest {
            reason_id: "consultation".into(),
            start: start.to_rfc3339(),
            patient: PatientRequest {
                first_name: "Jeanne".into(),
                last_name: "Dupont".into(),
                email: Some("jeanne@example.org".into()),
                mobile: Some("06 12 34 56 78".into()),
                language: None,
            },
        };
        let now = self.clock.now();
        let appointment = request.validate(&settings, now).unwrap().into_appointment(
            settings.id.clone(),
            Source::Practitioner,
            None,
            now,
        );
        self.store.insert_appointment(&appointment).await.unwrap();
        appointment
    }

    fn change(&self, appointment: &Appointment, what: Change) -> AppointmentChange {
        let mut next = appointment.clone();
        next.version += 1;
        next.last_change = what;
        next.updated_at = self.clock.now();
        if matches!(what, Change::CancelledByPatient) {
            next.status = domain::appointment::Status::Cancelled;
        }
        if matches!(what, Change::SetToReschedule) {
            next.status = domain::appointment::Status::ToReschedule;
        }
        self.store.overwrite_appointment(&next).unwrap();
        AppointmentChange {
            old: Some(appointment.clone()),
            new: Some(next),
        }
    }

    /// Each change handed to its sender as Lambda would after failures:
    /// three replays at once, again until one succeeds.
    async fn deliver(&mut self, changes: Vec<AppointmentChange>) {
        let mut pending = changes;
        for _round in 0..500 {
            if pending.is_empty() {
                return;
            }
            let mut tasks = Vec::new();
            for change in &pending {
                for _replay in 0..3 {
                    let change = change.clone();
                    let confirmation = self.confirmation.clone();
                    let cancellation = self.cancellation.clone();
                    tasks.push(tokio::spawn(async move {
                        match change.new.as_ref().map(|a| a.last_change) {
                            Some(Change::Created | Change::MovedByPatient) => {
                                confirmation.on_change(change).await
                            }
                            _ => cancellation.on_change(change).await,
                        }
                        .is_ok()
                    }));
                }
            }
            let results = futures::future::join_all(tasks).await;
            let before = pending.len();
            let mut still = Vec::new();
            for (i, change) in pending.into_iter().enumerate() {
                let done = results[i * 3..i * 3 + 3]
                    .iter()
                    .any(|r| matches!(r, Ok(true)));
                if !done {
                    still.push(change);
                }
            }
            if still.len() == before {
                self.wait_out_the_lease();
            }
            pending = still;
        }
        panic!("changes still undelivered after 500 rounds");
    }

    fn wait_out_the_lease(&mut self) {
        self.leases_waited += 1;
        let later = self.clock.now() + CLAIM_LEASE + Duration::seconds(1);
        self.clock.move_to(later).unwrap();
    }

    /// Four sweeps at once, as often as the schedule would, until nothing is due.
    async fn sweep_until_done(&mut self) {
        for _round in 0..500 {
            let due = self
                .store
                .reminders_due(self.clock.now(), None, 1)
                .await
                .unwrap();
            if due.is_empty() {
                return;
            }
            let sweeps: Vec<_> = (0..4)
                .map(|_| {
                    let sweeper = self.sweeper.clone();
                    tokio::spawn(async move { sweeper.sweep(None).await })
                })
                .collect();
            let reports = futures::future::join_all(sweeps).await;
            let progress: usize = reports
                .iter()
                .filter_map(|r| r.as_ref().ok().and_then(|r| r.as_ref().ok()))
                .map(|r| r.sent + r.skipped + r.failed)
                .sum();
            if progress == 0 {
                self.wait_out_the_lease();
            }
        }
        panic!("reminders still due after 500 sweeps");
    }
}

/// Per message kind: called for, decided in the log, sent once, lost, sent
/// twice outside the crash window, resent after an abort.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    called_for: usize,
    logged_sent: usize,
    logged_other: usize,
    exactly_once: usize,
    lost: usize,
    twice: usize,
    resent_after_abort: usize,
}

async fn run(appointments: usize, seed: u64) -> (BTreeMap<String, Row>, Proof) {
    let mut proof = Proof::new(seed).await;
    let stories = [
        Story::Kept,
        Story::MovedByPatient,
        Story::CancelledByPatient,
        Story::CancelledByPractice,
    ];
    let mut booked = Vec::new();
    let mut bookings = Vec::new();
    for n in 0..appointments {
        let story = stories[n % 4];
        let appointment = proof.book(n, story).await;
        bookings.push(AppointmentChange {
            old: None,
            new: Some(appointment.clone()),
        });
        booked.push((story, appointment));
    }
    let mut called_for: Vec<Triple> = Vec::new();
    for change in &bookings {
        proof.scheduler.on_appointment(change).await.unwrap();
    }
    proof.deliver(bookings).await;
    let mut changes = Vec::new();
    for (story, appointment) in &booked {
        called_for.push((appointment.id, MessageKind::Confirmation, Channel::Email));
        let what = match story {
            Story::Kept => {
                called_for.push((appointment.id, MessageKind::Reminder, Channel::Email));
                called_for.push((appointment.id, MessageKind::Reminder, Channel::Sms));
                continue;
            }
            Story::MovedByPatient => {
                called_for.push((appointment.id, MessageKind::Confirmation, Channel::Email));
                Change::MovedByPatient
            }
            Story::CancelledByPatient => {
                called_for.push((appointment.id, MessageKind::CancellationAck, Channel::Email));
                Change::CancelledByPatient
            }
            Story::CancelledByPractice => {
                called_for.push((
                    appointment.id,
                    MessageKind::PractitionerCancellation,
                    Channel::Sms,
                ));
                called_for.push((
                    appointment.id,
                    MessageKind::PractitionerCancellation,
                    Channel::Email,
                ));
                Change::SetToReschedule
            }
        };
        changes.push(proof.change(appointment, what));
    }
    for change in &changes {
        proof.scheduler.on_appointment(change).await.unwrap();
    }
    proof.deliver(changes).await;
    // Sunday 6 December, 08:00 UTC: the kept ones' reminders are due.
    proof.clock.move_to(at("2026-12-06T08:00:00Z")).unwrap();
    proof.sweep_until_done().await;

    // Whose appointment each is: the log is read as its practitioner's.
    let whose: HashMap<AppointmentId, domain::ids::PractitionerId> = booked
        .iter()
        .map(|(_, a)| (a.id, a.practitioner_id.clone()))
        .collect();
    let mut expected: HashMap<Triple, usize> = HashMap::new();
    for triple in &called_for {
        *expected.entry(*triple).or_default() += 1;
    }
    let mut out: HashMap<Triple, usize> = HashMap::new();
    for message in proof.outbox.messages() {
        let appointment = message
            .appointment_id
            .expect("every message here is about an appointment");
        *out.entry((appointment, message.kind, message.channel))
            .or_default() += 1;
    }
    let aborted = proof.faulty.aborted.lock().unwrap().clone();
    let mut table: BTreeMap<String, Row> = BTreeMap::new();
    for (triple, wanted) in &expected {
        let log = proof
            .store
            .communications(&whose[&triple.0], &triple.0)
            .await
            .unwrap();
        let entries: Vec<_> = log
            .iter()
            .filter(|e| e.kind == triple.1 && e.channel == triple.2)
            .collect();
        let sent_logged = entries
            .iter()
            .filter(|e| e.state == DeliveryState::Sent)
            .count();
        let row = table
            .entry(format!("{:?} ({:?})", triple.1, triple.2))
            .or_default();
        row.called_for += wanted;
        row.logged_sent += sent_logged;
        row.logged_other += entries.len() - sent_logged;
        let got = out.get(triple).copied().unwrap_or(0);
        let resent = aborted
            .get(triple)
            .copied()
            .unwrap_or(0)
            .min(got.saturating_sub(sent_logged));
        row.resent_after_abort += resent;
        if entries.len() < *wanted {
            row.lost += wanted - entries.len();
        }
        let extra = got.saturating_sub(sent_logged + resent);
        row.twice += extra;
        if got == sent_logged && entries.len() == *wanted {
            row.exactly_once += got;
        }
    }
    (table, proof)
}

fn print(table: &BTreeMap<String, Row>, proof: &Proof, appointments: usize, seed: u64) {
    println!(
        "appointments: {appointments}, seed: {seed}, provider calls: {}, throttled: {}, handlers aborted after send: {}, leases waited out: {}",
        proof.faulty.calls.load(Ordering::Relaxed),
        proof.faulty.throttled.load(Ordering::Relaxed),
        proof.faulty.aborted.lock().unwrap().values().sum::<usize>(),
        proof.leases_waited
    );
    println!(
        "| message | called for | logged sent | logged skipped/failed | sent once, no abort involved | lost | sent twice | resent after an abort (crash window) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (kind, r) in table {
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {} | {} |",
            r.called_for,
            r.logged_sent,
            r.logged_other,
            r.exactly_once,
            r.lost,
            r.twice,
            r.resent_after_abort
        );
    }
}

#[tokio::test]
async fn every_message_goes_out_once_under_throttling_replays_overlaps_and_aborts() {
    // Given a sending service that throttles 30 % of calls and handlers that die after sending
    let appointments: usize = std::env::var("DELIVERY_PROOF_APPOINTMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let seed: u64 = std::env::var("DELIVERY_PROOF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2026);
    // (the injected aborts are expected: their panic messages are not printed)
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("(injected)") {
            report(info);
        }
    }));
    // When bookings, moves, cancellations and reminders go through replays and overlapping sweeps
    let (table, proof) = run(appointments, seed).await;
    print(&table, &proof, appointments, seed);
    // Then every message called for is decided once in the log, none is lost,
    // none is sent twice except the resends after an abort between send and settle
    for (kind, row) in &table {
        assert_eq!(row.lost, 0, "{kind}: {row:?}");
        assert_eq!(row.twice, 0, "{kind}: {row:?}");
        assert_eq!(
            row.logged_sent + row.logged_other,
            row.called_for,
            "{kind}: {row:?}"
        );
        assert_eq!(
            row.logged_other, 0,
            "{kind}: nothing here is to be skipped: {row:?}"
        );
    }
    assert!(proof.faulty.throttled.load(Ordering::Relaxed) > 0);
}

/// A confirmation handed to its sender once a minute, as Lambda's retries
/// would, while SES throttles every call for `throttled_minutes`.
async fn confirmation_through_throttling(
    throttled_minutes: i64,
) -> Vec<domain::communications::CommunicationEntry> {
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-12-01T09:00:00Z")));
    let store = Arc::new(MemoryStore::default());
    let outbox = Arc::new(Outbox::new(clock.clone()));
    let events = Arc::new(RecordedEvents::new());
    let delivery: Delivery = Delivery {
        store: store.clone(),
        mailer: outbox.clone(),
        sms: outbox.clone(),
        events: events.clone(),
        clock: clock.clone(),
    };
    store.put_settings(&settings("dr-p0")).await.unwrap();
    let proof_clock = clock.clone();
    let sender = ConfirmationSender::new(delivery, PublicUrls::new("https://rdv.example.org"));
    // Booked through the proof's helper, into this store, on this clock.
    let mut proof = Proof::new(0).await;
    proof.store = store.clone();
    proof.clock = proof_clock;
    let appointment = proof.book(0, Story::MovedByPatient).await;
    let change = AppointmentChange {
        old: None,
        new: Some(appointment.clone()),
    };
    let start = clock.now();
    for minute in 0..=60 {
        if minute > 0 {
            clock.move_to(start + Duration::minutes(minute)).unwrap();
        }
        if minute < throttled_minutes {
            outbox.fail_next([SendError::Unavailable(
                "Throttling: maximum sending rate exceeded".into(),
            )]);
        }
        let result = sender.on_change(change.clone()).await;
        if result.is_ok() {
            break;
        }
    }
    assert_eq!(outbox.failures_left(), 0);
    store
        .communications(&appointment.practitioner_id, &appointment.id)
        .await
        .unwrap()
}

#[tokio::test]
async fn ten_minutes_of_ses_throttling_lose_nothing() {
    // Given SES throttling every call for ten minutes, when the stream retries
    let log = confirmation_through_throttling(10).await;
    // Then the confirmation goes out once, after it
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Sent);
}

#[tokio::test]
async fn a_message_the_provider_refuses_for_too_long_is_logged_failed_with_its_reason() {
    // Given SES throttling for an hour, when the stream retries
    let log = confirmation_through_throttling(61).await;
    // Then after 30 minutes the confirmation is logged failed, in the secretariat's words
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Failed);
    assert_eq!(
        log[0].reason_code.as_deref(),
        Some("service_unavailable_too_long")
    );
    assert_eq!(
        log[0].reason.as_deref(),
        Some("le service d'envoi des e-mails est resté indisponible trop longtemps")
    );
    assert!(log[0].at >= at("2026-12-01T09:30:00Z") && log[0].at < at("2026-12-01T09:31:00Z"));
}
