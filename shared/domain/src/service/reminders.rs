//! Reminders (SPEC §4.3): the scheduler keeps the due index right from the
//! table's stream; the sweeper sends what is due, once: reminders, and the
//! practice's cancellation SMS held through quiet hours (SPEC §4.4).
//!
//! The scheduler reacts to appointment and settings items, so the writers of
//! appointments (booking, patient links, status changes, absences) need to
//! know nothing about reminders. The sweeper trusts the index only to find
//! candidates: at send time it decides again on the current appointment and
//! settings, through [`Delivery`], whose claim makes each reminder go out once
//! however many sweeps overlap or retry.

use super::cancellation::practitioner_cancellation;
use super::delivery::{Delivered, Delivery, DeliveryError, Outcome};
use super::pacing::Pacer;
use crate::appointment::Appointment;
use crate::appointment::AppointmentChange;
use crate::communications::{Channel, DeliveryState, MessageKind};
use crate::links::PublicUrls;
use crate::messages::reminder::{reminder_email, reminder_sms};
use crate::ports::{AgendaStore, Clock, DueIndex, SettingsStore, Store, StoreError};
use crate::reminder::{Retiming, ScheduledReminder};
use crate::rules::SkipReason;
use crate::rules::reminders::{self, CHANNELS, Decision};
use crate::settings::PractitionerSettings;
use crate::time::TimeRange;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use tokio::time::Instant;

/// How far ahead a settings change re-indexes the practitioner's appointments:
/// beyond any booking horizon the settings allow.
pub const REINDEX_HORIZON: Duration = Duration::days(2 * 366);
/// Appointments re-indexed at once after a settings change.
const REINDEX_CONCURRENCY: usize = 8;
/// The span of coming appointments one piece of re-timing covers: 14 days
/// of a full agenda (~350 appointments, ~700 index writes) take a second or
/// two, far inside the scheduler's timeout, and two years take ~53 pieces.
pub const RETIMING_PIECE: Duration = Duration::days(14);

/// Keeps the due index of reminders in step with appointments and settings.
/// Clones share the store and clock.
impl<S: ?Sized> Clone for ReminderScheduler<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
        }
    }
}

pub struct ReminderScheduler<S: ?Sized = dyn Store> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
}

impl<S: SettingsStore + AgendaStore + DueIndex + ?Sized> ReminderScheduler<S> {
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// A booking, a move, a status change or a removal: the appointment's
    /// entries follow its current state.
    pub async fn on_appointment(&self, change: &AppointmentChange) -> Result<(), StoreError> {
        match &change.new {
            Some(appointment) => {
                let settings = self.store.settings(&appointment.practitioner_id).await?;
                self.reindex(settings.as_ref(), appointment).await
            }
            None => match &change.old {
                Some(old) => self.reindex(None, old).await,
                None => Ok(()),
            },
        }
    }

    /// Settings apply to every reminder not yet sent (SPEC §2): the
    /// practitioner's coming appointments are re-indexed, in pieces
    /// ([`Self::on_retiming`]): this starts the re-timing (replacing one in
    /// progress), whose write's stream record brings the first piece.
    pub async fn on_settings(&self, settings: &PractitionerSettings) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.store
            .put_retiming(&Retiming {
                practitioner_id: settings.id.clone(),
                from: now,
                until: now + REINDEX_HORIZON,
            })
            .await
    }

    /// One piece of re-timing: the coming appointments of
    /// [`RETIMING_PIECE`] from `retiming.from`, read through the agenda
    /// index (never a scan), re-indexed on the settings as they are now;
    /// then the next piece is recorded (its stream record brings it).
    /// Replayed, a piece does the same again. Answers how many were.
    pub async fn on_retiming(&self, retiming: &Retiming) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let end = (retiming.from + RETIMING_PIECE).min(retiming.until);
        let settings = self.store.settings(&retiming.practitioner_id).await?;
        let range = TimeRange {
            start: retiming.from,
            end,
        };
        let coming: Vec<Appointment> = self
            .store
            .agenda(&retiming.practitioner_id, range)
            .await?
            .into_iter()
            .filter(|a| a.status.is_booked() && a.start > now && a.start >= retiming.from)
            .collect();
        let count = coming.len();
        let shared_settings = Arc::new(settings);
        futures::stream::iter(coming)
            .map(|appointment| {
                let settings = shared_settings.clone();
                async move { self.reindex(settings.as_ref().as_ref(), &appointment).await }
            })
            .buffer_unordered(REINDEX_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<()>, _>>()?;
        self.store
            .retiming_done(retiming, (end < retiming.until).then_some(end))
            .await?;
        tracing::info!(practitioner = %retiming.practitioner_id, appointments = count, from = %retiming.from, "reminders re-timed");
        Ok(count)
    }

    async fn reindex(
        &self,
        settings: Option<&PractitionerSettings>,
        appointment: &Appointment,
    ) -> Result<(), StoreError> {
        for channel in CHANNELS {
            match settings.and_then(|s| ScheduledReminder::of(s, appointment, channel)) {
                Some(reminder) => self.store.put_reminder(&reminder, self.clock.now()).await?,
                None => self.store.remove_reminder(&appointment.id, channel).await?,
            }
        }
        Ok(())
    }
}

/// How a sweep sends.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Reminders handled at once.
    pub concurrency: usize,
    /// At most this many reminders a second (the SMS provider's rate); `None`: no limit.
    pub per_second: Option<u32>,
    /// Due entries read per query.
    pub page_size: usize,
    /// Tries of one send when the provider throttles, before leaving it to the next sweep.
    pub send_attempts: u32,
    pub first_backoff: std::time::Duration,
    /// No reminder is started closer than this to the deadline.
    pub safety_margin: std::time::Duration,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            per_second: Some(super::pacing::DEFAULT_SMS_PER_SECOND),
            page_size: 100,
            send_attempts: 4,
            first_backoff: std::time::Duration::from_millis(200),
            safety_margin: std::time::Duration::from_secs(10),
        }
    }
}

/// What a sweep did; the sweeper's answer and log line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Due entries read.
    pub due: usize,
    pub sent: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Found due but due later after all (settings, quiet hours, a move): re-indexed.
    pub deferred: usize,
    /// Decided by an overlapping sweep.
    pub already_decided: usize,
    /// Left for the next sweep: held by another sweep, throttled, store trouble,
    /// or not started before the deadline.
    pub left_for_next_sweep: usize,
    pub stopped_at_deadline: bool,
    /// How late the most overdue reminder was when the sweep began, in
    /// seconds (0 when none was due): the operator's `SweepLag`.
    pub lag_seconds: i64,
}

enum Handled {
    Delivered(Delivered),
    Left,
}

#[derive(Clone)]
pub struct ReminderSweeper {
    delivery: Delivery,
    /// For the rebooking links of held cancellation SMS.
    urls: PublicUrls,
    options: SweepOptions,
}

impl ReminderSweeper {
    pub fn new(delivery: Delivery, urls: PublicUrls, options: SweepOptions) -> Self {
        Self {
            delivery,
            urls,
            options,
        }
    }

    fn store(&self) -> &Arc<dyn Store> {
        &self.delivery.store
    }

    /// Sends every reminder due up to now, missed ones included; starts none
    /// after `deadline` minus the safety margin and leaves those to the next sweep.
    pub async fn sweep(&self, deadline: Option<Instant>) -> Result<SweepReport, StoreError> {
        let now = self.delivery.clock.now();
        self.store().sweep_begins(now).await?;
        let pacer = Pacer::new(self.options.per_second);
        let out_of_time =
            || deadline.is_some_and(|d| Instant::now() + self.options.safety_margin >= d);
        let mut report = SweepReport::default();
        let mut after: Option<ScheduledReminder> = None;
        loop {
            if out_of_time() {
                report.stopped_at_deadline = true;
                break;
            }
            let page_size = self.options.page_size.max(1);
            let page = self
                .store()
                .reminders_due(now, after.as_ref(), page_size)
                .await?;
            if report.due == 0 {
                // The index is read in due order: the first page holds the oldest.
                if let Some(oldest) = page.iter().map(|r| r.due_at).min() {
                    report.lag_seconds = (now - oldest).num_seconds().max(0);
                }
            }
            report.due += page.len();
            let last_page = page.len() < page_size;
            after = page.last().cloned();
            let outcomes: Vec<Handled> = futures::stream::iter(page.into_iter().map(|r| {
                let pacer = &pacer;
                let out_of_time = &out_of_time;
                async move {
                    if out_of_time() {
                        return Handled::Left;
                    }
                    self.remind(r, pacer, out_of_time).await
                }
            }))
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
            for outcome in outcomes {
                match outcome {
                    Handled::Delivered(Delivered::Decided(entry)) => match entry.state {
                        DeliveryState::Skipped => report.skipped += 1,
                        DeliveryState::Failed => report.failed += 1,
                        // Held entries come back as `Delivered::Held`.
                        DeliveryState::Scheduled => report.deferred += 1,
                        // Feedback comes later: a decided message was sent.
                        _ => report.sent += 1,
                    },
                    Handled::Delivered(Delivered::AlreadyDecided) => report.already_decided += 1,
                    Handled::Delivered(Delivered::Deferred | Delivered::Held(_)) => {
                        report.deferred += 1
                    }
                    Handled::Left => report.left_for_next_sweep += 1,
                }
            }
            if out_of_time() && !last_page {
                report.stopped_at_deadline = true;
                break;
            }
            if last_page {
                break;
            }
        }
        tracing::info!(
            due = report.due,
            sent = report.sent,
            skipped = report.skipped,
            failed = report.failed,
            deferred = report.deferred,
            left = report.left_for_next_sweep,
            stopped_at_deadline = report.stopped_at_deadline,
            lag_seconds = report.lag_seconds,
            "reminder sweep done"
        );
        Ok(report)
    }

    /// One due entry: decide and send through the claim, retrying throttling
    /// with backoff, then take the entry out of the index (or move it).
    async fn remind(
        &self,
        reminder: ScheduledReminder,
        pacer: &Pacer,
        out_of_time: &(impl Fn() -> bool + Sync),
    ) -> Handled {
        let mut backoff = self.options.first_backoff;
        let mut attempt = 1;
        let (result, next) = loop {
            pacer.wait().await;
            let mut next: Option<ScheduledReminder> = None;
            let result = match reminder.version {
                // A cancellation SMS held through quiet hours: about the
                // version that was set to reschedule, and nothing later.
                Some(version) if reminder.kind == MessageKind::PractitionerCancellation => {
                    self.delivery
                        .deliver_current(
                            reminder.key(),
                            &reminder.practitioner_id,
                            Some(version),
                            None,
                            |settings, current, now| {
                                practitioner_cancellation(
                                    &self.urls,
                                    reminder.channel,
                                    settings,
                                    current,
                                    now,
                                )
                            },
                        )
                        .await
                }
                _ => {
                    self.delivery
                        .deliver_current(
                            reminder.key(),
                            &reminder.practitioner_id,
                            None,
                            // Left for the next sweep until the appointment starts.
                            None,
                            |settings, current, now| {
                                compose(&reminder, settings, current, now, &mut next)
                            },
                        )
                        .await
                }
            };
            if let Ok(Delivered::Held(until)) = &result {
                // Quiet hours again (the settings changed): due when they end.
                next = Some(ScheduledReminder {
                    due_at: *until,
                    ..reminder.clone()
                });
            }
            match result {
                Err(DeliveryError::SendLater(detail))
                    if attempt < self.options.send_attempts && !out_of_time() =>
                {
                    tracing::warn!(appointment = %reminder.appointment_id, attempt, %detail, "reminder throttled, trying again");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                result => break (result, next),
            }
        };
        let store = self.store();
        let tidied = match &result {
            Ok(Delivered::Decided(_) | Delivered::AlreadyDecided) => {
                store.reminder_done(&reminder).await
            }
            Ok(Delivered::Deferred | Delivered::Held(_)) => match &next {
                Some(next) => store.put_reminder(next, self.delivery.clock.now()).await,
                None => store.reminder_done(&reminder).await,
            },
            Err(_) => Ok(()),
        };
        if let Err(e) = tidied {
            // The entry stays; the next sweep finds the reminder decided.
            tracing::warn!(appointment = %reminder.appointment_id, error = %e, "due entry not updated");
        }
        match result {
            Ok(delivered) => Handled::Delivered(delivered),
            Err(e) => {
                tracing::warn!(appointment = %reminder.appointment_id, channel = reminder.channel.as_str(), error = %e, "reminder left for the next sweep");
                Handled::Left
            }
        }
    }
}

/// The message a due reminder calls for, on the appointment and settings as
/// they are now. Sets `next` when the reminder is due later after all.
fn compose(
    reminder: &ScheduledReminder,
    settings: &PractitionerSettings,
    current: &Appointment,
    now: DateTime<Utc>,
    next: &mut Option<ScheduledReminder>,
) -> Outcome {
    if current.start != reminder.start {
        // Moved since it was indexed: the reminder of the new time replaces it.
        *next = ScheduledReminder::of(settings, current, reminder.channel);
        return Outcome::Defer;
    }
    match reminders::decide(settings, current, reminder.channel, now) {
        Decision::NotYet(due_at) => {
            *next = Some(ScheduledReminder {
                due_at,
                ..reminder.clone()
            });
            Outcome::Defer
        }
        Decision::Skip(reason) => Outcome::Skip(reason),
        Decision::Send => match reminder.channel {
            Channel::Email => match current.patient.email.clone() {
                Some(to) => Outcome::Email {
                    email: reminder_email(current, settings, to),
                    links: Vec::new(),
                },
                None => Outcome::Skip(SkipReason::NoEmail),
            },
            Channel::Sms => match current.patient.mobile.clone() {
                Some(to) => Outcome::Sms {
                    sms: reminder_sms(current, settings, to),
                    links: Vec::new(),
                },
                None => Outcome::Skip(SkipReason::NoMobile),
            },
        },
    }
}
