//! SPEC §6.2: an absence over 2,000 appointments answers in seconds. The
//! statuses are written a day's appointments at a time, many days at once,
//! and the notices follow from the stream after the answer; the request's
//! round trips to the table no longer grow by four in series per
//! appointment (read, read again, the agenda day, the write).

use domain::absence::{AbsenceRequest, CoveredAppointments};
use domain::appointment::Status;
use domain::fixtures::{at, booked, dr_martin};
use domain::grants::{Actor, MemberSub};
use domain::ports::capabilities::*;
use domain::service::practice::PracticeService;
use domain::time::TimeRange;
use local::embedded::{AdjustableClock, MemoryStore};
use std::sync::Arc;

#[tokio::test]
async fn an_absence_over_two_thousand_appointments_sets_them_all_to_reschedule_in_batches() {
    // Given Dr Martin's 2,000 booked appointments: 25 a day over 80 days
    let store = Arc::new(MemoryStore::default());
    store.put_settings(&dr_martin()).await.unwrap();
    let first_day = at("2026-12-01T07:00:00Z");
    for day in 0..80 {
        for slot in 0..25 {
            let start =
                first_day + chrono::Duration::days(day) + chrono::Duration::minutes(20 * slot);
            store.insert_appointment(&booked(start, 20)).await.unwrap();
        }
    }
    let clock = Arc::new(AdjustableClock::starting_at(at("2026-11-30T06:00:00Z")));
    let practice = PracticeService::new(store.clone() as Arc<dyn Store>, clock);

    // When the practice places an absence over them, to reschedule
    let before = store.table().requests();
    let placed = practice
        .place_absence(
            &dr_martin().id,
            &AbsenceRequest {
                start: "2026-12-01T00:00:00Z".into(),
                end: "2027-02-20T00:00:00Z".into(),
                label: None,
                appointments: CoveredAppointments::ToReschedule,
                send_cancellation_sms: true,
            },
            &Actor::Member(MemberSub::parse("dr-martin").unwrap()),
        )
        .await
        .unwrap();
    let requests = store.table().requests() - before;

    // Then every one is to reschedule, in one request
    assert_eq!(placed.affected.len(), 2_000);
    let agenda = store
        .agenda(
            &dr_martin().id,
            TimeRange {
                start: at("2026-12-01T00:00:00Z"),
                end: at("2027-02-20T00:00:00Z"),
            },
        )
        .await
        .unwrap();
    assert_eq!(agenda.len(), 2_000);
    assert!(agenda.iter().all(|a| a.status == Status::ToReschedule));
    // in far fewer round trips than four per appointment, and one write a
    // day's batch (25 a day: two writes a day)
    eprintln!("an absence over 2,000 appointments: {requests} requests to the table");
    assert!(requests < 2_000 * 5 / 2, "{requests}");
}
