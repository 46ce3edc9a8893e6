//! The agenda of a busy practice (issue 14): 3,000 appointments over 92 days,
//! each with three log entries, read as `GET /practitioners/{id}/appointments`
//! answers it (the booking service, then the JSON views), on the memory table.
//!
//!     cargo run --release -p local --example agenda [appointments]
//!
//! Prints the time of the read, the store's queries (the agenda's and one for
//! every appointment's log, whatever their number: `MessageLog::communications_of`)
//! and the size of the response body, against Lambda's 6 MB response limit.

use chrono::Duration;
use domain::communications::{Channel, CommunicationEntry, DeliveryState, MessageKey, MessageKind};
use domain::contact::Mobile;
use domain::fixtures::{at, booked, dr_martin};
use domain::ports::capabilities::*;
use domain::service::booking::BookingService;
use domain::time::{WindowBound, WindowRequest};
use edge::views::AppointmentView;
use local::embedded::clock::AdjustableClock;
use local::embedded::{MemoryStore, OverwriteAppointment};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("a number of appointments"))
        .unwrap_or(3_000);
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-30T06:00:00Z")));
    let settings = dr_martin();
    store.put_settings(&settings).await.unwrap();

    // Given n appointments spread over the 92 days from 1 December, each
    // patient with an e-mail address and a mobile, each told three times
    let first = at("2026-12-01T07:00:00Z");
    let every = Duration::minutes(92 * 24 * 60 / n);
    for i in 0..n as i32 {
        let mut a = booked(first + every * i, 20);
        a.patient.mobile = Some(Mobile::parse("06 12 34 56 78").unwrap());
        a.created_at = at("2026-11-30T06:00:00Z");
        store.overwrite_appointment(&a).unwrap();
        for (kind, channel, occasion) in [
            (MessageKind::Confirmation, Channel::Email, "v000001"),
            (MessageKind::Reminder, Channel::Email, "48h"),
            (MessageKind::Reminder, Channel::Sms, "24h"),
        ] {
            let key = MessageKey {
                appointment_id: a.id,
                kind,
                channel,
                occasion: occasion.into(),
            };
            let entry = CommunicationEntry {
                kind,
                channel,
                state: DeliveryState::Sent,
                reason: None,
                reason_code: None,
                message_id: Some(format!("sent-{}", a.id)),
                at: a.start - Duration::hours(24),
            };
            store
                .settle_message(&key, &a.practitioner_id, &entry, a.end)
                .await
                .unwrap();
        }
    }

    // When the practice reads the 92 days
    let service = BookingService::new(store.clone(), clock);
    let window = WindowRequest {
        from: Some(WindowBound::Day(
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        )),
        to: Some(WindowBound::Day(
            chrono::NaiveDate::from_ymd_opt(2027, 3, 3).unwrap(),
        )),
    };
    let read_before = store.table().items_read();
    let started = Instant::now();
    let agenda = service.agenda(&settings.id, window).await.unwrap();
    let body = serde_json::to_vec(&serde_json::json!({
        "appointments": agenda.iter().map(AppointmentView::new).collect::<Vec<_>>()
    }))
    .unwrap();
    let took = started.elapsed();
    let read = store.table().items_read() - read_before;

    let entries: usize = agenda.iter().map(|a| a.communications.len()).sum();
    println!(
        "{} appointments, {entries} log entries: read in {:.1} ms ({read} items), response body {:.2} MB (limit 6 MB)",
        agenda.len(),
        took.as_secs_f64() * 1e3,
        body.len() as f64 / 1e6,
    );
}
