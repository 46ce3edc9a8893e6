//! The reminder sweeper and scheduler through their handlers: appointments
//! and settings written to the store, the stream fed to the scheduler, sweeps
//! run as the schedule would, messages out (SPEC §4.3, §5, §7).

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use domain::appointment::{
    Appointment, AppointmentRequest, Change, PatientRequest, Source, Status,
};
use domain::communications::{Channel, DeliveryState, MessageKind};
use domain::ids::{AppointmentId, PractitionerId};
use domain::messages::sms::fits_one_segment;
use domain::ports::capabilities::*;
use domain::ports::{Clock, SendError};
use domain::service::booking::BookingService;
use domain::service::delivery::Delivery;
use domain::service::reminders::{SweepOptions, SweepReport};
use domain::settings::PractitionerSettings;
use edge::views::AppointmentView;
use lambda_runtime::{Context, LambdaEvent};
use local::embedded::AdjustableClock;
use local::embedded::RecordedEvents;
use local::embedded::StreamSubscription;
use local::embedded::{MemoryStore, OverwriteAppointment};
use local::embedded::{Outbox, OutboxMessage};
use reminder_scheduler::ReminderSchedulerFunction;
use reminder_sweeper::ReminderSweeperFunction;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Dr Martin: e-mail reminders 48 h before, SMS 24 h before, quiet hours
/// 21:00-08:00 Paris; `consultation` is ticked for SMS, `vaccination` is not.
fn settings_doc() -> serde_json::Value {
    json!({
        "name": "Dr Marie Martin", "address": "12 rue de la Paix, 75002 Paris",
        "secretariat_phone": "+33140000000",
        "reasons": [
            {"id": "consultation", "label": "Suivi psychiatrique", "duration_minutes": 20,
             "confirmation_email": true, "online_booking": true, "sms_reminder": true},
            {"id": "vaccination", "label": "Vaccination", "duration_minutes": 20,
             "confirmation_email": true, "online_booking": true, "sms_reminder": false}
        ],
        "email_service": {"enabled": true, "reminder_hours_before": 48},
        "sms_service": {"enabled": true, "reminder_hours_before": 24, "cancellation_sms": true},
        "online_booking": {"enabled": true, "modify_cancel_deadline_hours": 24, "booking_horizon_days": 60},
        "quiet_hours": {"start": "21:00", "end": "08:00"}
    })
}

fn settings_of(doc: serde_json::Value, id: &str) -> PractitionerSettings {
    serde_json::from_value::<PractitionerSettings>(doc)
        .unwrap()
        .validated(PractitionerId::parse(id).unwrap())
        .unwrap()
}

fn urls() -> domain::links::PublicUrls {
    domain::links::PublicUrls::new("https://rdv.example.org")
}

fn fast() -> SweepOptions {
    SweepOptions {
        concurrency: 8,
        per_second: None,
        page_size: 25,
        send_attempts: 4,
        first_backoff: std::time::Duration::from_millis(1),
        safety_margin: std::time::Duration::from_secs(1),
    }
}

struct World {
    store: Arc<MemoryStore>,
    clock: Arc<AdjustableClock>,
    outbox: Arc<Outbox>,
    events: Arc<RecordedEvents>,
    delivery: Delivery,
    scheduler: ReminderSchedulerFunction,
    sweeper: ReminderSweeperFunction,
    stream: StreamSubscription,
    booking: BookingService,
}

async fn world(now: &str) -> World {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(AdjustableClock::starting_at(at(now)));
    let outbox = Arc::new(Outbox::new(clock.clone()));
    let events = Arc::new(RecordedEvents::new());
    let stream = store.table().subscribe();
    let delivery: Delivery = Delivery {
        store: store.clone(),
        mailer: outbox.clone(),
        sms: outbox.clone(),
        events: events.clone(),
        clock: clock.clone(),
    };
    let mut world = World {
        scheduler: ReminderSchedulerFunction::new(store.clone(), clock.clone()),
        sweeper: ReminderSweeperFunction::new(delivery.clone(), urls(), fast()),
        booking: BookingService::new(store.clone(), clock.clone()),
        store,
        clock,
        outbox,
        events,
        delivery,
        stream,
    };
    world.put_settings(settings_doc(), "dr-martin").await;
    world
}

struct Patient {
    first: &'static str,
    last: &'static str,
    email: bool,
    mobile: bool,
}

const BOTH: Patient = Patient {
    first: "Jeanne",
    last: "Dupont",
    email: true,
    mobile: true,
};

impl World {
    async fn put_settings(&mut self, doc: serde_json::Value, id: &str) {
        self.store
            .put_settings(&settings_of(doc, id))
            .await
            .unwrap();
        self.sync().await;
    }

    async fn book_for(
        &self,
        practitioner: &str,
        reason: &str,
        start: DateTime<Utc>,
        p: &Patient,
    ) -> Appointment {
        let settings = self
            .store
            .settings(&PractitionerId::parse(practitioner).unwrap())
            .await
            .unwrap()
            .unwrap();
        let request = AppointmentRequest {
            reason_id: reason.into(),
            start: start.to_rfc3339(),
            patient: PatientRequest {
                first_name: p.first.into(),
                last_name: p.last.into(),
                email: p.email.then(|| "jeanne@example.org".into()),
                mobile: p.mobile.then(|| "06 12 34 56 78".into()),
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

    async fn book(&self, reason: &str, start: DateTime<Utc>, p: &Patient) -> Appointment {
        self.book_for("dr-martin", reason, start, p).await
    }

    /// A change written by another function (a move by the patient, a
    /// cancellation): the same item with a new version.
    fn change(&self, appointment: &mut Appointment, what: Change) {
        appointment.version += 1;
        appointment.last_change = what;
        appointment.updated_at = self.clock.now();
        self.store.overwrite_appointment(appointment).unwrap();
    }

    /// Hands the stream records written so far to the scheduler, as Lambda would.
    async fn sync(&mut self) {
        let mut records = Vec::new();
        while let Ok(record) = self.stream.records.try_recv() {
            records.push(record);
        }
        self.stream.done(records.len());
        let event = serde_json::from_value(json!({ "Records": records })).unwrap();
        let response = self
            .scheduler
            .handle(LambdaEvent::new(event, Context::default()))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
    }

    async fn sweep(&mut self) -> SweepReport {
        self.sync().await;
        let report = sweep_with(&self.sweeper).await;
        self.sync().await;
        report
    }

    /// Moves the clock to `t`, unless it is there already (it runs on at the real pace).
    fn move_clock(&self, t: DateTime<Utc>) {
        if t > self.clock.now() {
            self.clock.move_to(t).unwrap();
        }
    }

    fn reminders(&self) -> Vec<OutboxMessage> {
        self.outbox
            .messages()
            .into_iter()
            .filter(|m| m.kind == MessageKind::Reminder)
            .collect()
    }
}

async fn sweep_with(sweeper: &ReminderSweeperFunction) -> SweepReport {
    sweeper
        .handle(LambdaEvent::new(json!({}), Context::default()))
        .await
        .unwrap()
}

/// SPEC §4.3 restated for Paris in winter (UTC+1), quiet hours 21:00-08:00,
/// e-mail 48 h and SMS 24 h before: the test's own oracle, independent of the
/// rules module.
fn expected_due(
    a: &Appointment,
    booked: DateTime<Utc>,
    channel: Channel,
    sms_ticked: bool,
) -> Option<DateTime<Utc>> {
    let paris = Duration::hours(1);
    let local = |t: DateTime<Utc>| (t + paris).naive_utc();
    let utc = |naive: chrono::NaiveDateTime| naive.and_utc() - paris;
    match channel {
        Channel::Email => {
            let due = a.start - Duration::hours(48);
            (a.patient.email.is_some() && due > booked).then_some(due)
        }
        Channel::Sms => {
            if a.patient.mobile.is_none() || !sms_ticked {
                return None;
            }
            let nominal = a.start - Duration::hours(24);
            if nominal <= booked {
                return None;
            }
            let l = local(nominal);
            let quiet_start_day = if l.time() >= NaiveTime::from_hms_opt(21, 0, 0).unwrap() {
                l.date()
            } else if l.time() < NaiveTime::from_hms_opt(8, 0, 0).unwrap() {
                l.date().pred_opt().unwrap()
            } else {
                return Some(nominal);
            };
            let before = utc(quiet_start_day.and_hms_opt(20, 45, 0).unwrap());
            if before > booked {
                return Some(before);
            }
            let end = utc(quiet_start_day
                .succ_opt()
                .unwrap()
                .and_hms_opt(8, 0, 0)
                .unwrap());
            (end < a.start).then_some(end)
        }
    }
}

#[tokio::test]
async fn two_weeks_of_clock_send_every_due_reminder_once_on_time_and_nothing_else() {
    // Given a practice on Monday 30 November 2026 at 07:00 Paris, with six
    // appointments a day for two weeks and patients of every kind
    let begin = at("2026-11-30T06:00:00Z");
    let end = begin + Duration::days(14);
    let mut world = world("2026-11-30T06:00:00Z").await;
    let patients = [
        BOTH,
        Patient {
            first: "Élodie",
            last: "Lefèvre",
            email: true,
            mobile: false,
        },
        Patient {
            first: "François",
            last: "Benoît",
            email: false,
            mobile: true,
        },
        BOTH,
    ];
    let times = ["07:30", "09:00", "10:20", "14:00", "17:40", "20:30"];
    let mut booked: Vec<(Appointment, DateTime<Utc>)> = Vec::new();
    for day in 1..=13 {
        for (slot, time) in times.iter().enumerate() {
            let i = booked.len();
            let (h, m) = time.split_once(':').unwrap();
            let start = at("2026-11-30T00:00:00Z")
                + Duration::days(day)
                + Duration::hours(h.parse::<i64>().unwrap() - 1)
                + Duration::minutes(m.parse().unwrap());
            let reason = if i % 4 == 3 {
                "vaccination"
            } else {
                "consultation"
            };
            let a = world.book(reason, start, &patients[(i + slot) % 4]).await;
            booked.push((a, begin));
        }
    }
    world.sync().await;
    // (nothing is due at booking)
    assert_eq!(world.sweep().await.sent, 0);

    let mut cancelled = Vec::new();
    let mut step = begin;
    let mut day_bookings = 0;
    while step <= end {
        // When, on the first morning, some patients cancel and others move
        if step == at("2026-11-30T07:00:00Z") {
            for (i, (a, _)) in booked.iter_mut().enumerate() {
                if i % 7 == 0 && a.start > step + Duration::hours(48) {
                    a.status = Status::CancelledByPatient;
                    world.change(a, Change::CancelledByPatient);
                    cancelled.push(a.id);
                }
            }
        }
        if step == at("2026-11-30T12:00:00Z") {
            for (i, (a, when)) in booked.iter_mut().enumerate() {
                if i % 11 == 5 && a.status == Status::Booked && a.start > step + Duration::hours(48)
                {
                    let day = a.start.date_naive() + Duration::days(3);
                    a.start = day.and_hms_opt(10, 40, 0).unwrap().and_utc();
                    a.end = a.start + Duration::minutes(20);
                    world.change(a, Change::MovedByPatient);
                    *when = step;
                }
            }
        }
        // and every day at 11:00 two late bookings come in: one for the next
        // morning (both reminders already due), one for the day after.
        if step.hour() == 10 && step.minute() == 0 && step < end - Duration::days(2) {
            let tomorrow = step.date_naive() + Duration::days(1);
            for (start, p) in [
                (tomorrow.and_hms_opt(7, 40, 0).unwrap().and_utc(), &BOTH),
                (
                    (tomorrow + Duration::days(1))
                        .and_hms_opt(11, 40, 0)
                        .unwrap()
                        .and_utc(),
                    &BOTH,
                ),
            ] {
                world.move_clock(step);
                let a = world.book("consultation", start, p).await;
                booked.push((a, step));
                day_bookings += 1;
            }
        }
        world.move_clock(step);
        world.sweep().await;
        step += Duration::minutes(5);
    }

    // Then every reminder due in the two weeks went out once, at its time
    let sent = world.reminders();
    let mut by_key: HashMap<(Option<AppointmentId>, Channel), Vec<&OutboxMessage>> = HashMap::new();
    for m in &sent {
        by_key
            .entry((m.appointment_id, m.channel))
            .or_default()
            .push(m);
    }
    let mut expected_count = 0;
    for (a, booked_at) in &booked {
        for channel in [Channel::Email, Channel::Sms] {
            let got = by_key.remove(&(Some(a.id), channel)).unwrap_or_default();
            let due = (a.status == Status::Booked)
                .then(|| {
                    expected_due(
                        a,
                        *booked_at,
                        channel,
                        a.reason_id.as_str() == "consultation",
                    )
                })
                .flatten()
                .filter(|d| *d <= end);
            match due {
                Some(due) => {
                    expected_count += 1;
                    assert_eq!(
                        got.len(),
                        1,
                        "{channel:?} reminder of {} due {due}",
                        a.start
                    );
                    let m = got[0];
                    assert!(
                        m.sent_at >= due && m.sent_at < due + Duration::minutes(5),
                        "{channel:?} due {due}, sent {}",
                        m.sent_at
                    );
                    // about the appointment's current time
                    let time = domain::messages::dates::time_of_day(
                        a.start,
                        domain::time::Zone::default(),
                        domain::contact::Language::Fr,
                    );
                    assert!(m.text.contains(&time), "{} lacks {time}", m.text);
                }
                None => assert!(
                    got.is_empty(),
                    "unexpected {channel:?} reminder for {}",
                    a.start
                ),
            }
        }
    }
    // none for anything else (cancelled or moved-away times included)
    assert!(by_key.is_empty(), "{by_key:?}");
    assert!(!cancelled.is_empty() && day_bookings > 0);
    // quiet hours were met both ways: brought forward to 20:45, and sent at 08:00
    let local_times: Vec<String> = sent
        .iter()
        .filter(|m| m.channel == Channel::Sms)
        .map(|m| (m.sent_at + Duration::hours(1)).format("%H:%M").to_string())
        .collect();
    assert!(local_times.iter().any(|t| t == "20:45"), "{local_times:?}");
    assert!(local_times.iter().any(|t| t == "08:00"), "{local_times:?}");
    assert!(
        sent.iter()
            .filter(|m| m.channel == Channel::Sms)
            .all(|m| fits_one_segment(&m.text))
    );
    assert!(
        sent.iter()
            .all(|m| !m.text.contains("psychiatrique") && m.links.is_empty())
    );
    eprintln!(
        "two weeks: {} appointments, {} reminders sent ({} e-mail, {} SMS), {} cancelled",
        booked.len(),
        sent.len(),
        sent.iter().filter(|m| m.channel == Channel::Email).count(),
        sent.iter().filter(|m| m.channel == Channel::Sms).count(),
        cancelled.len()
    );
    assert_eq!(sent.len(), expected_count);

    // and the reminders already due at booking were logged as skipped, not sent late
    let first_late = &booked[78].0;
    let log = world
        .store
        .communications(&first_late.practitioner_id, &first_late.id)
        .await
        .unwrap();
    for channel in [Channel::Email, Channel::Sms] {
        let decided: Vec<_> = log
            .iter()
            .filter(|e| e.kind == MessageKind::Reminder && e.channel == channel)
            .map(|e| (e.state, e.reason_code.clone()))
            .collect();
        assert_eq!(
            decided,
            vec![(
                DeliveryState::Skipped,
                Some("reminder_time_already_passed".into())
            )],
            "{channel:?}"
        );
    }
    // and every decision was published on the bus
    assert!(world.events.events().len() >= sent.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_overlapping_sweeps_with_failing_sends_send_each_reminder_once() {
    // Given 30 appointments whose e-mail and SMS reminders are all due
    let mut world = world("2026-11-30T09:00:00Z").await;
    let mut appointments = Vec::new();
    for i in 0..30 {
        let start = at("2026-12-03T08:00:00Z") + Duration::minutes(20 * i);
        appointments.push(world.book("consultation", start, &BOTH).await);
    }
    world.sync().await;
    world.move_clock(at("2026-12-02T18:00:00Z"));
    // and a provider that throttles now and then
    world
        .outbox
        .fail_next((0..25).map(|i| SendError::Unavailable(format!("throttled {i}"))));

    // When four sweeps run at once
    let sweeps: Vec<_> = (0..4)
        .map(|_| {
            let sweeper = ReminderSweeperFunction::new(world.delivery.clone(), urls(), fast());
            tokio::spawn(async move { sweep_with(&sweeper).await })
        })
        .collect();
    let mut reports = Vec::new();
    for sweep in sweeps {
        reports.push(sweep.await.unwrap());
    }
    // and later sweeps pick up what they left
    for _ in 0..5 {
        world.sweep().await;
    }

    // Then each reminder went out exactly once
    let sent = world.reminders();
    let mut counts: HashMap<(Option<AppointmentId>, Channel), usize> = HashMap::new();
    for m in &sent {
        *counts.entry((m.appointment_id, m.channel)).or_default() += 1;
    }
    assert_eq!(counts.len(), 60, "{reports:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(sent.len(), 60);
    // the failures really happened and were retried
    assert_eq!(world.outbox.failures_left(), 0);
    assert!(reports.iter().map(|r| r.sent).sum::<usize>() > 0);
    for a in &appointments {
        let log = world
            .store
            .communications(&a.practitioner_id, &a.id)
            .await
            .unwrap();
        assert_eq!(
            log.iter()
                .filter(|e| e.state == DeliveryState::Sent)
                .count(),
            2
        );
    }
    // and nothing is left due
    assert_eq!(world.sweep().await.due, 0);
}

#[tokio::test]
async fn a_settings_change_changes_the_pending_reminders_shown_and_sent() {
    // Given e-mail and SMS reminders 24 h before
    let mut doc = settings_doc();
    doc["email_service"]["reminder_hours_before"] = 24.into();
    let mut world = world("2026-11-30T09:00:00Z").await;
    world.put_settings(doc.clone(), "dr-martin").await;
    let a = world
        .book("consultation", at("2026-12-04T13:00:00Z"), &BOTH)
        .await;
    world.sync().await;
    let pid = PractitionerId::parse("dr-martin").unwrap();
    let view = serde_json::to_value(AppointmentView::new(
        &world.booking.appointment(&pid, &a.id).await.unwrap(),
    ))
    .unwrap();
    assert_eq!(
        view["reminders"],
        json!({"email": {"due_at": "2026-12-03T14:00:00+01:00", "state": "scheduled"},
               "sms": {"due_at": "2026-12-03T14:00:00+01:00", "state": "scheduled"}})
    );

    // When the practitioner moves e-mail reminders to 48 h and turns SMS off
    doc["email_service"]["reminder_hours_before"] = 48.into();
    doc["sms_service"]["enabled"] = false.into();
    world.put_settings(doc, "dr-martin").await;

    // Then the API shows the new pending reminders
    let view = serde_json::to_value(AppointmentView::new(
        &world.booking.appointment(&pid, &a.id).await.unwrap(),
    ))
    .unwrap();
    assert_eq!(
        view["reminders"],
        json!({"email": {"due_at": "2026-12-02T14:00:00+01:00", "state": "scheduled"}, "sms": null})
    );
    // and the sweeps send the e-mail 48 h before, and no SMS
    world.move_clock(at("2026-12-02T12:55:00Z"));
    assert_eq!(world.sweep().await.sent, 0);
    world.move_clock(at("2026-12-02T13:00:00Z"));
    assert_eq!(world.sweep().await.sent, 1);
    world.move_clock(at("2026-12-03T13:00:00Z"));
    assert_eq!(world.sweep().await.sent, 0);
    let sent = world.reminders();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].channel, Channel::Email);
    let view = serde_json::to_value(AppointmentView::new(
        &world.booking.appointment(&pid, &a.id).await.unwrap(),
    ))
    .unwrap();
    assert_eq!(view["reminders"]["email"]["state"], "sent");
    assert_eq!(view["reminders"]["sms"], json!(null));

    // and a shorter delay set after sending never sends it twice
    let mut again = settings_doc();
    again["email_service"]["reminder_hours_before"] = 12.into();
    again["sms_service"]["enabled"] = false.into();
    world.put_settings(again, "dr-martin").await;
    world.move_clock(at("2026-12-04T01:00:00Z"));
    world.sweep().await;
    assert_eq!(world.reminders().len(), 1);
}

#[tokio::test]
async fn a_cancelled_appointment_shows_its_reminders_cancelled_and_gets_none() {
    let mut world = world("2026-11-30T09:00:00Z").await;
    let mut a = world
        .book("consultation", at("2026-12-04T13:00:00Z"), &BOTH)
        .await;
    world.sync().await;
    a.status = Status::CancelledByPatient;
    world.change(&mut a, Change::CancelledByPatient);
    world.sync().await;
    let pid = PractitionerId::parse("dr-martin").unwrap();
    let view = serde_json::to_value(AppointmentView::new(
        &world.booking.appointment(&pid, &a.id).await.unwrap(),
    ))
    .unwrap();
    assert_eq!(view["reminders"]["email"]["state"], "cancelled");
    assert_eq!(view["reminders"]["sms"]["state"], "cancelled");
    world.move_clock(at("2026-12-04T12:00:00Z"));
    let report = world.sweep().await;
    assert_eq!((report.due, report.sent), (0, 0));
}

#[tokio::test]
async fn a_sweep_with_ten_due_among_ten_thousand_appointments_reads_only_what_is_due() {
    // Given 10,000 future appointments of 20 practitioners, 10 of them with
    // a reminder due now
    let mut world = world("2026-11-30T06:00:00Z").await;
    let practitioners: Vec<String> = (0..20).map(|i| format!("dr-{i:02}")).collect();
    for p in &practitioners {
        let mut doc = settings_doc();
        doc["sms_service"]["enabled"] = false.into();
        world
            .store
            .put_settings(&settings_of(doc, p))
            .await
            .unwrap();
    }
    for i in 0..10_000i64 {
        // 500 per practitioner, 20 minutes apart, from 10 December on; written
        // straight to the store (this is about the sweep, not about booking)
        let start = at("2026-12-10T07:00:00Z") + Duration::minutes(20 * (i / 20));
        let mut a = domain::fixtures::booked(start, 20);
        a.practitioner_id = PractitionerId::parse(&practitioners[(i % 20) as usize]).unwrap();
        a.created_at = at("2026-11-30T06:00:00Z");
        world.store.overwrite_appointment(&a).unwrap();
    }
    // and ten more, whose e-mail reminders fall due between 09:00 and 12:00
    for i in 0..10 {
        let start = at("2026-12-02T09:00:00Z") + Duration::minutes(20 * i);
        world.book("consultation", start, &BOTH).await;
    }
    world.sync().await;

    // When the sweep runs at noon
    world.move_clock(at("2026-11-30T12:00:00Z"));
    let before = world.store.table().items_read();
    let report = sweep_with(&world.sweeper).await;
    let read = world.store.table().items_read() - before;

    // Then it sent the ten, reading their due entries, appointments and
    // settings only: 30 items (and the due index's cursor, twice), whatever
    // the size of the table
    eprintln!("10,000 appointments: a sweep of 10 due reminders read {read} items");
    assert_eq!((report.due, report.sent), (10, 10));
    assert!(read <= 10 * 3 + 2, "{read}");
    // and the next sweep reads nothing but the cursor
    let before = world.store.table().items_read();
    assert_eq!(sweep_with(&world.sweeper).await.due, 0);
    assert_eq!(world.store.table().items_read() - before, 2);
}

#[tokio::test]
async fn the_sample_scheduled_event_sweeps_through_the_handler() {
    let mut world = world("2026-11-30T09:00:00Z").await;
    world
        .book("consultation", at("2026-12-02T09:00:00Z"), &BOTH)
        .await;
    world.sync().await;
    world.move_clock(at("2026-12-01T09:00:00Z"));
    let event: serde_json::Value = serde_json::from_str(include_str!(
        "../../../events/reminder-sweeper-scheduled.json"
    ))
    .unwrap();
    let report = world
        .sweeper
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    // The e-mail (48 h before) was already past at booking; the SMS is due.
    assert_eq!((report.sent, report.skipped), (1, 1));
    assert_eq!(world.reminders()[0].channel, Channel::Sms);
}

#[tokio::test]
async fn a_sweep_near_its_deadline_starts_nothing_and_leaves_it_for_the_next() {
    let mut world = world("2026-11-30T09:00:00Z").await;
    world
        .book("consultation", at("2026-12-03T09:00:00Z"), &BOTH)
        .await;
    world.sync().await;
    world.move_clock(at("2026-12-02T09:00:00Z"));
    // A Lambda context with half a second left (less than the safety margin)
    let mut context = Context::default();
    context.deadline = (Utc::now() + Duration::milliseconds(500)).timestamp_millis() as u64;
    let report = world
        .sweeper
        .handle(LambdaEvent::new(json!({}), context))
        .await
        .unwrap();
    assert!(report.stopped_at_deadline);
    assert_eq!(report.sent, 0);
    assert!(world.reminders().is_empty());
    // The next sweep sends both.
    assert_eq!(world.sweep().await.sent, 2);
}

#[tokio::test]
async fn a_sweep_reports_how_late_its_oldest_due_reminder_was() {
    // Given an e-mail reminder due on 2 December at 13:00 (48 h before)
    let mut world = world("2026-11-30T09:00:00Z").await;
    world
        .book("consultation", at("2026-12-04T13:00:00Z"), &BOTH)
        .await;
    world.sync().await;
    // When the sweep runs ten minutes after it was due
    world.move_clock(at("2026-12-02T13:10:00Z"));
    let late = world.sweep().await;
    // Then it reports ten minutes of lag (the operator's SweepLag), and the
    // next sweep, with nothing due, none
    assert_eq!(late.sent, 1);
    assert!((600..660).contains(&late.lag_seconds), "{late:?}");
    assert_eq!(world.sweep().await.lag_seconds, 0);
}
