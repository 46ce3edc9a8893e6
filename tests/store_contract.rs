//! The store's contract, one suite on both tables (`<case>::memory` always,
//! `<case>::moto` under `make test`, on a table created from template.yaml):
//! the agenda's promises (no overlap, versions, absences, rebooking), the
//! claims that send each message once, the communications log, delivery
//! feedback, the due index and the retention of appointment data. The store
//! is the Lambdas' own on both; the cases where the two former stores
//! drifted are here by name (overlap ids, a settled item without entry, the
//! lease, feedback's expected state, a replaced due entry, an absence placed
//! again).

use acceptance::on_each_table;
use acceptance::tables::{TableKind, TableUnderTest};
use aws_adapters::item::{MessageItem, MessageState, encode};
use aws_adapters::table::{AttributeValue, Comparison, Condition, Item, Path, Put, TableError};
use chrono::Duration;
use domain::absence::{Absence, AbsenceId};
use domain::appointment::{Appointment, Change, Status};
use domain::communications::{Channel, CommunicationEntry, DeliveryState, MessageKey, MessageKind};
use domain::fixtures::{at, booked};
use domain::ids::{AppointmentId, PractitionerId};
use domain::ports::capabilities::*;
use domain::ports::{Claim, InsertError};
use domain::reminder::ScheduledReminder;
use domain::time::TimeRange;
use std::collections::HashMap;
use std::sync::Arc;

fn dr_martin() -> PractitionerId {
    PractitionerId::parse("dr-martin").unwrap()
}

/// A booked appointment of `minutes` starting at `start`, without contact details.
fn appointment(start: &str, minutes: i64) -> Appointment {
    let mut appointment = booked(at(start), minutes);
    appointment.patient.email = None;
    appointment
}

fn next(current: &Appointment, change: Change) -> Appointment {
    let mut next = current.clone();
    next.version += 1;
    next.last_change = change;
    next
}

fn moved(current: &Appointment, start: &str) -> Appointment {
    let mut next = next(current, Change::MovedByPatient);
    next.start = at(start);
    next.end = at(start) + Duration::minutes(20);
    next
}

fn absence(start: &str, end: &str) -> Absence {
    let range = TimeRange::new(at(start), at(end)).unwrap();
    let practitioner = dr_martin();
    Absence {
        id: AbsenceId::of(&practitioner, range),
        practitioner_id: practitioner,
        start: range.start,
        end: range.end,
        label: Some("Congrès".into()),
        created_at: at("2026-11-25T10:00:00Z"),
    }
}

fn entry(
    kind: MessageKind,
    channel: Channel,
    state: DeliveryState,
    when: &str,
) -> CommunicationEntry {
    CommunicationEntry {
        kind,
        channel,
        state,
        reason: None,
        reason_code: None,
        message_id: None,
        at: at(when),
    }
}

fn confirmation_key() -> MessageKey {
    MessageKey::for_version(
        AppointmentId::new(),
        MessageKind::Confirmation,
        Channel::Email,
        1,
    )
}

fn reminder(channel: Channel, start: &str, due: &str) -> ScheduledReminder {
    ScheduledReminder {
        appointment_id: AppointmentId::new(),
        practitioner_id: dr_martin(),
        kind: MessageKind::Reminder,
        channel,
        start: at(start),
        due_at: at(due),
        version: None,
    }
}

// The agenda

on_each_table!(
    moving_frees_the_old_time_and_takes_the_new,
    absences_keep_bookings_out_and_are_kept_out_by_bookings,
    appointments_spanning_midnight_guard_both_days_and_the_agenda_finds_them,
    overlapping_appointments_are_named_once_each_in_id_order,
    an_absence_placed_again_changes_nothing,
);

on_each_table!(racing:
    racing_changes_of_one_version_let_one_through,
    racing_bookings_of_one_slot_on_a_new_day_store_exactly_one,
    racing_bookings_of_one_slot_on_a_booked_day_store_exactly_one,
);

on_each_table!(a_retiming_goes_on_a_piece_at_a_time_and_a_newer_one_replaces_it);

/// A settings change's re-timing, in pieces: a piece recorded twice (a
/// replayed stream record) moves it on once; a newer settings change
/// replaces it, and the older one's pieces then change nothing.
async fn a_retiming_goes_on_a_piece_at_a_time_and_a_newer_one_replaces_it(table: TableUnderTest) {
    use domain::reminder::Retiming;
    let store = table.store();
    let stored = async || {
        table
            .items()
            .await
            .into_iter()
            .filter(|i| i["sk"] == "RETIME")
            .map(|i| {
                (
                    i["from"].as_str().unwrap().to_string(),
                    i["until"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let first = Retiming {
        practitioner_id: dr_martin(),
        from: at("2026-12-01T09:00:00Z"),
        until: at("2028-12-01T09:00:00Z"),
    };
    store.put_retiming(&first).await.unwrap();
    store
        .retiming_done(&first, Some(at("2026-12-15T09:00:00Z")))
        .await
        .unwrap();
    // replayed
    store
        .retiming_done(&first, Some(at("2026-12-15T09:00:00Z")))
        .await
        .unwrap();
    assert_eq!(
        stored().await,
        [(
            "2026-12-15T09:00:00Z".to_string(),
            "2028-12-01T09:00:00Z".to_string()
        )]
    );
    // A newer settings change starts again; the old piece's end changes nothing.
    let newer = Retiming {
        from: at("2026-12-02T10:00:00Z"),
        until: at("2028-12-02T10:00:00Z"),
        ..first.clone()
    };
    store.put_retiming(&newer).await.unwrap();
    let old_piece = Retiming {
        from: at("2026-12-15T09:00:00Z"),
        ..first
    };
    store.retiming_done(&old_piece, None).await.unwrap();
    assert_eq!(
        stored().await,
        [(
            "2026-12-02T10:00:00Z".to_string(),
            "2028-12-02T10:00:00Z".to_string()
        )]
    );
    // Its last piece done: nothing is left.
    store.retiming_done(&newer, None).await.unwrap();
    assert!(stored().await.is_empty());
}

on_each_table!(a_days_appointments_change_together_or_not_at_all);

/// Bulk work (an absence): several appointments in one write, all or none.
async fn a_days_appointments_change_together_or_not_at_all(table: TableUnderTest) {
    let store = table.store();
    let day: Vec<Appointment> = (0..3)
        .map(|i| appointment(&format!("2026-12-03T1{i}:00:00Z"), 20))
        .collect();
    for a in &day {
        store.insert_appointment(a).await.unwrap();
    }
    let to_reschedule = |a: &Appointment| {
        let mut n = next(a, Change::SetToReschedule);
        n.status = Status::ToReschedule;
        n
    };
    // One of them read at a version it no longer has: nothing changes
    let mut stale: Vec<(u32, Appointment)> = day.iter().map(|a| (1, to_reschedule(a))).collect();
    stale[2].0 = 7;
    assert!(matches!(
        store.update_appointments(&stale).await,
        Err(InsertError::Stale)
    ));
    assert_eq!(
        store
            .appointment(&day[0].practitioner_id, &day[0].id)
            .await
            .unwrap(),
        Some(day[0].clone())
    );
    // All at their versions: all change, and their times are free again
    let all: Vec<(u32, Appointment)> = day.iter().map(|a| (1, to_reschedule(a))).collect();
    store.update_appointments(&all).await.unwrap();
    for (_, a) in &all {
        assert_eq!(
            store.appointment(&a.practitioner_id, &a.id).await.unwrap(),
            Some(a.clone())
        );
    }
    store
        .insert_appointment(&appointment("2026-12-03T10:00:00Z", 20))
        .await
        .unwrap();
}

async fn moving_frees_the_old_time_and_takes_the_new(table: TableUnderTest) {
    let store = table.store();
    // Given Jeanne booked at 10:00
    let jeanne = appointment("2026-12-03T10:00:00Z", 20);
    store.insert_appointment(&jeanne).await.unwrap();
    // When she moves to 11:00
    let at_eleven = moved(&jeanne, "2026-12-03T11:00:00Z");
    store.update_appointment(1, &at_eleven).await.unwrap();
    // Then 10:00 is free and 11:00 is hers
    store
        .insert_appointment(&appointment("2026-12-03T10:00:00Z", 20))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_appointment(&appointment("2026-12-03T11:10:00Z", 20)).await,
        Err(InsertError::Overlap(ids)) if ids == vec![jeanne.id]
    ));
    assert_eq!(
        store.appointment(&dr_martin(), &jeanne.id).await.unwrap(),
        Some(at_eleven.clone())
    );

    // A change based on the version she had before is refused, and changes nothing
    let stale = moved(&jeanne, "2026-12-03T15:00:00Z");
    assert!(matches!(
        store.update_appointment(1, &stale).await,
        Err(InsertError::Stale)
    ));
    assert_eq!(
        store.appointment(&dr_martin(), &jeanne.id).await.unwrap(),
        Some(at_eleven.clone())
    );

    // Moving onto someone else's time is refused, and changes nothing
    let onto_ten = moved(&at_eleven, "2026-12-03T10:10:00Z");
    assert!(matches!(
        store.update_appointment(2, &onto_ten).await,
        Err(InsertError::Overlap(_))
    ));
    assert_eq!(
        store.appointment(&dr_martin(), &jeanne.id).await.unwrap(),
        Some(at_eleven.clone())
    );

    // Cancelling frees her time
    let mut cancelled = next(&at_eleven, Change::CancelledByPatient);
    cancelled.status = Status::CancelledByPatient;
    store.update_appointment(2, &cancelled).await.unwrap();
    store
        .insert_appointment(&appointment("2026-12-03T11:00:00Z", 20))
        .await
        .unwrap();
}

async fn racing_changes_of_one_version_let_one_through(table: TableUnderTest) {
    let store: Arc<dyn Store> = table.store();
    let jeanne = appointment("2026-12-03T08:00:00Z", 20);
    store.insert_appointment(&jeanne).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let target = moved(&jeanne, &format!("2026-12-03T{:02}:00:00Z", 12 + i));
            tokio::spawn(async move { store.update_appointment(1, &target).await })
        })
        .collect();
    let mut through = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => through += 1,
            Err(InsertError::Stale) => {}
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
    }
    assert_eq!(through, 1);
    assert_eq!(
        store
            .appointment(&dr_martin(), &jeanne.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

/// Twelve bookings overlapping 10:00-10:20 on 3 December, at once: one is
/// stored. On moto, needs its requests served one at a time, as AWS applies
/// transactions (docs/decisions.md, "Moto runs one request at a time").
async fn racing_bookings_of_ten_o_clock_store_exactly_one(store: Arc<dyn Store>) {
    let day = TimeRange::new(at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z")).unwrap();
    let booked_before = store.agenda(&dr_martin(), day).await.unwrap().len();
    let racers: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            // Different lengths and starts, all overlapping 10:00-10:20.
            let start = if i % 2 == 0 {
                "2026-12-03T10:00:00Z"
            } else {
                "2026-12-03T09:50:00Z"
            };
            let candidate = appointment(start, 20 + i);
            tokio::spawn(async move { store.insert_appointment(&candidate).await })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => won += 1,
            Err(InsertError::Overlap(_)) => {}
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        store.agenda(&dr_martin(), day).await.unwrap().len(),
        booked_before + 1
    );
}

/// On a day not yet in the table: the racers all create it, and its
/// `attribute_not_exists` condition lets one through.
async fn racing_bookings_of_one_slot_on_a_new_day_store_exactly_one(table: TableUnderTest) {
    racing_bookings_of_ten_o_clock_store_exactly_one(table.store()).await;
}

/// On a day that already holds a booking: the racers all rewrite it, and the
/// condition on the `revision` they read lets one through.
async fn racing_bookings_of_one_slot_on_a_booked_day_store_exactly_one(table: TableUnderTest) {
    let store = table.store();
    store
        .insert_appointment(&appointment("2026-12-03T08:00:00Z", 20))
        .await
        .unwrap();
    racing_bookings_of_ten_o_clock_store_exactly_one(store).await;
}

async fn appointments_spanning_midnight_guard_both_days_and_the_agenda_finds_them(
    table: TableUnderTest,
) {
    let store = table.store();
    let late = appointment("2026-12-03T23:50:00Z", 30);
    store.insert_appointment(&late).await.unwrap();
    let next_morning = appointment("2026-12-04T00:10:00Z", 20);
    assert!(matches!(
        store.insert_appointment(&next_morning).await,
        Err(InsertError::Overlap(ids)) if ids == vec![late.id]
    ));
    let morning = TimeRange::new(at("2026-12-04T00:00:00Z"), at("2026-12-04T12:00:00Z")).unwrap();
    let found = store.agenda(&dr_martin(), morning).await.unwrap();
    assert_eq!(
        found.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![late.id]
    );
    assert_eq!(
        store.appointment(&dr_martin(), &late.id).await.unwrap(),
        Some(late)
    );
}

/// The embedded store used to name overlapping appointments in the order it
/// found them, DynamoDB's in id order and once each however many days they
/// span: now there is one answer.
async fn overlapping_appointments_are_named_once_each_in_id_order(table: TableUnderTest) {
    let store = table.store();
    // Given three appointments around midnight, the first of them over it,
    // their ids made in another order than they are booked
    let after = appointment("2026-12-04T01:00:00Z", 30);
    let over_midnight = appointment("2026-12-03T23:00:00Z", 120);
    let before = appointment("2026-12-03T22:00:00Z", 40);
    for a in [&over_midnight, &before, &after] {
        store.insert_appointment(a).await.unwrap();
    }
    let mut expected = vec![after.id, over_midnight.id, before.id];
    expected.sort();

    // When a booking over all three is tried, and an absence over them placed
    let refused = store
        .insert_appointment(&appointment("2026-12-03T21:00:00Z", 300))
        .await;
    let absent = store
        .place_absence(&absence("2026-12-03T20:00:00Z", "2026-12-04T03:00:00Z"))
        .await;

    // Then both name each of them once, in id order
    assert!(
        matches!(refused, Err(InsertError::Overlap(ref ids)) if *ids == expected),
        "{refused:?}"
    );
    assert!(
        matches!(absent, Err(InsertError::Overlap(ref ids)) if *ids == expected),
        "{absent:?}"
    );
}

async fn absences_keep_bookings_out_and_are_kept_out_by_bookings(table: TableUnderTest) {
    let store = table.store();
    // Given Jeanne booked at 10:00
    let jeanne = appointment("2026-12-03T10:00:00Z", 20);
    store.insert_appointment(&jeanne).await.unwrap();
    // An absence over her is refused, naming her
    let morning = absence("2026-12-03T08:00:00Z", "2026-12-03T12:00:00Z");
    assert!(matches!(
        store.place_absence(&morning).await,
        Err(InsertError::Overlap(ids)) if ids == vec![jeanne.id]
    ));
    // Once she is set to reschedule, it is placed, and placing it again changes nothing
    let mut to_reschedule = next(&jeanne, Change::SetToReschedule);
    to_reschedule.status = Status::ToReschedule;
    store.update_appointment(1, &to_reschedule).await.unwrap();
    store.place_absence(&morning).await.unwrap();
    store.place_absence(&morning).await.unwrap();
    let day = TimeRange::new(at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z")).unwrap();
    assert_eq!(
        store.absences(&dr_martin(), day).await.unwrap(),
        vec![morning.clone()]
    );
    // and nothing can be booked or moved into it
    assert!(matches!(
        store
            .insert_appointment(&appointment("2026-12-03T11:50:00Z", 20))
            .await,
        Err(InsertError::Absent)
    ));
    let afternoon = appointment("2026-12-03T14:00:00Z", 20);
    store.insert_appointment(&afternoon).await.unwrap();
    assert!(matches!(
        store
            .update_appointment(1, &moved(&afternoon, "2026-12-03T09:00:00Z"))
            .await,
        Err(InsertError::Absent)
    ));
    // while right after it is free
    store
        .insert_appointment(&appointment("2026-12-03T12:00:00Z", 20))
        .await
        .unwrap();

    // Rebooking: the replacement and the old appointment's new version, both or neither
    let mut rebooked = next(&to_reschedule, Change::Rebooked);
    rebooked.status = Status::Rebooked;
    let mut replacement = appointment("2026-12-03T14:10:00Z", 20); // overlaps the afternoon one
    replacement.replaces = Some(jeanne.id);
    assert!(matches!(
        store.rebook(2, &rebooked, &replacement).await,
        Err(InsertError::Overlap(_))
    ));
    assert_eq!(
        store
            .appointment(&dr_martin(), &jeanne.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        store
            .appointment(&dr_martin(), &replacement.id)
            .await
            .unwrap(),
        None
    );
    let mut replacement = appointment("2026-12-03T15:00:00Z", 20);
    replacement.replaces = Some(jeanne.id);
    store.rebook(2, &rebooked, &replacement).await.unwrap();
    assert_eq!(
        store.appointment(&dr_martin(), &jeanne.id).await.unwrap(),
        Some(rebooked.clone())
    );
    assert_eq!(
        store
            .appointment(&dr_martin(), &replacement.id)
            .await
            .unwrap(),
        Some(replacement.clone())
    );
    // and the same link used again finds a stale version
    let mut again = appointment("2026-12-03T16:00:00Z", 20);
    again.replaces = Some(jeanne.id);
    assert!(matches!(
        store.rebook(2, &rebooked, &again).await,
        Err(InsertError::Stale)
    ));
}

/// A retried request places the same absence (its id comes from its span):
/// the second time writes nothing, even when the agenda has changed since.
async fn an_absence_placed_again_changes_nothing(table: TableUnderTest) {
    let store = table.store();
    // Given an absence placed over two days
    let congress = absence("2026-12-03T14:00:00Z", "2026-12-04T12:00:00Z");
    store.place_absence(&congress).await.unwrap();
    let placed = table.items().await;
    // When it is placed again
    store.place_absence(&congress).await.unwrap();
    // Then the table is as it was: the absence, and the two days naming it
    assert_eq!(table.items().await, placed);
    let days: Vec<&serde_json::Value> = placed
        .iter()
        .filter(|i| i["type"] == "agenda_day")
        .collect();
    assert_eq!(days.len(), 2);
    assert!(
        days.iter()
            .all(|d| d["absent"].get(congress.id.to_string()).is_some())
    );
}

// Claims and the communications log

on_each_table!(
    a_message_is_claimed_once_and_its_decision_is_read_back,
    a_claim_is_taken_over_when_its_lease_ran_out_and_a_held_message_at_once,
    a_settled_message_without_its_entry_is_never_taken_over,
    only_an_undecided_claim_is_given_back_and_only_a_logged_message_marked_published,
    a_report_moves_an_entry_only_from_the_state_it_expects,
    an_agenda_reads_the_logs_of_all_its_appointments_in_one_query,
    appointment_data_carries_its_expiry,
);

async fn a_message_is_claimed_once_and_its_decision_is_read_back(table: TableUnderTest) {
    let store = table.store();
    let key = confirmation_key();
    let now = at("2026-11-25T10:00:00Z");
    let lease = Duration::minutes(16);
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Granted
    );
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::InFlight
    );
    // A worker that died leaves its claim to be taken over after the lease.
    assert_eq!(
        store
            .claim_message(&key, now + lease + Duration::seconds(1), lease)
            .await
            .unwrap(),
        Claim::Granted
    );
    let sent = entry(
        MessageKind::Confirmation,
        Channel::Email,
        DeliveryState::Sent,
        "2026-11-25T10:00:00Z",
    );
    store
        .settle_message(&key, &dr_martin(), &sent, now)
        .await
        .unwrap();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Settled {
            entry: sent.clone(),
            published: false
        }
    );
    store.mark_published(&key).await.unwrap();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Settled {
            entry: sent.clone(),
            published: true
        }
    );
    assert_eq!(
        store
            .communications(&dr_martin(), &key.appointment_id)
            .await
            .unwrap(),
        vec![sent]
    );
}

async fn a_claim_is_taken_over_when_its_lease_ran_out_and_a_held_message_at_once(
    table: TableUnderTest,
) {
    let store = table.store();
    let key = MessageKey::for_version(
        AppointmentId::new(),
        MessageKind::PractitionerCancellation,
        Channel::Sms,
        2,
    );
    let lease = Duration::minutes(2);
    let claimed = at("2026-11-25T22:00:00Z");
    // Given a claim taken at 22:00
    assert_eq!(
        store.claim_message(&key, claimed, lease).await.unwrap(),
        Claim::Granted
    );
    // Then it is another worker's until the lease runs out, and free from then on
    let almost = claimed + lease - Duration::milliseconds(1);
    assert_eq!(
        store.claim_message(&key, almost, lease).await.unwrap(),
        Claim::InFlight
    );
    let taken_over = claimed + lease;
    assert_eq!(
        store.claim_message(&key, taken_over, lease).await.unwrap(),
        Claim::Granted
    );
    // When the new holder holds it through quiet hours (logged `scheduled`)
    let scheduled = entry(
        MessageKind::PractitionerCancellation,
        Channel::Sms,
        DeliveryState::Scheduled,
        "2026-11-26T08:00:00Z",
    );
    store
        .hold_message(&key, &dr_martin(), &scheduled, at("2026-11-27T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        store
            .communications(&dr_martin(), &key.appointment_id)
            .await
            .unwrap(),
        vec![scheduled]
    );
    // Then whoever sends it when its time comes claims it at once, lease or not
    assert_eq!(
        store.claim_message(&key, taken_over, lease).await.unwrap(),
        Claim::Granted
    );
    assert_eq!(
        store.claim_message(&key, taken_over, lease).await.unwrap(),
        Claim::InFlight
    );
}

/// The embedded store used to take such an item over after the lease, as if
/// it were a claim; DynamoDB never did. A settled item always holds its
/// entry; one without it is no decision anybody can read, and nobody sends
/// the message again over it.
async fn a_settled_message_without_its_entry_is_never_taken_over(table: TableUnderTest) {
    let store = table.store();
    // Given a settled message item without an entry
    let key = confirmation_key();
    let claimed = at("2026-11-25T10:00:00Z");
    let mut item = MessageItem::claimed(&key, claimed);
    item.message_state = MessageState::Settled;
    table.put_raw(encode(&item).unwrap()).await;
    // When it is claimed long after any lease
    let later = claimed + Duration::days(1);
    let claim = store
        .claim_message(&key, later, Duration::minutes(2))
        .await
        .unwrap();
    // Then it stays another worker's, and the log shows nothing for it
    assert_eq!(claim, Claim::InFlight);
    assert!(
        store
            .communications(&dr_martin(), &key.appointment_id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn only_an_undecided_claim_is_given_back_and_only_a_logged_message_marked_published(
    table: TableUnderTest,
) {
    let store = table.store();
    let now = at("2026-11-25T10:00:00Z");
    let lease = Duration::minutes(2);
    // A claim given back can be claimed again at once
    let key = confirmation_key();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Granted
    );
    store.release_message(&key).await.unwrap();
    assert_eq!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Granted
    );
    // A decided one is not given back
    let sent = entry(
        MessageKind::Confirmation,
        Channel::Email,
        DeliveryState::Sent,
        "2026-11-25T10:00:00Z",
    );
    store
        .settle_message(&key, &dr_martin(), &sent, now)
        .await
        .unwrap();
    store.release_message(&key).await.unwrap();
    assert!(matches!(
        store.claim_message(&key, now, lease).await.unwrap(),
        Claim::Settled { .. }
    ));
    // Marking a message nobody logged published creates nothing
    let before = table.items().await;
    store.mark_published(&confirmation_key()).await.unwrap();
    store.release_message(&confirmation_key()).await.unwrap();
    assert_eq!(table.items().await, before);
}

/// Two reports read together (a delivery and a bounce) are decided on the
/// same stored state: only the first one's write goes through.
async fn a_report_moves_an_entry_only_from_the_state_it_expects(table: TableUnderTest) {
    let store = table.store();
    // Given an e-mail settled `sent`, known to the provider as `0100-abc`
    let key = confirmation_key();
    let now = at("2026-11-25T10:00:00Z");
    assert_eq!(
        store
            .claim_message(&key, now, Duration::minutes(2))
            .await
            .unwrap(),
        Claim::Granted
    );
    let mut sent = entry(
        MessageKind::Confirmation,
        Channel::Email,
        DeliveryState::Sent,
        "2026-11-25T10:00:00Z",
    );
    sent.message_id = Some(format!("0100-{}", key.appointment_id));
    store
        .settle_message(&key, &dr_martin(), &sent, at("2026-12-03T10:20:00Z"))
        .await
        .unwrap();
    store.mark_published(&key).await.unwrap();
    let found = store
        .message_sent_as(sent.message_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.key.clone(), found.entry.clone()),
        (key.clone(), sent.clone())
    );

    // When a delivery is recorded from `sent`, then a bounce also decided on `sent`
    let delivered = CommunicationEntry {
        state: DeliveryState::Delivered,
        ..sent.clone()
    };
    let bounced = CommunicationEntry {
        state: DeliveryState::Bounced,
        ..sent.clone()
    };
    let first = store
        .record_feedback(&key, DeliveryState::Sent, &delivered)
        .await
        .unwrap();
    let second = store
        .record_feedback(&key, DeliveryState::Sent, &bounced)
        .await
        .unwrap();

    // Then the delivery is recorded, to be published again, and the bounce not
    assert!(first);
    assert!(!second);
    assert_eq!(
        store
            .claim_message(&key, now, Duration::minutes(2))
            .await
            .unwrap(),
        Claim::Settled {
            entry: delivered.clone(),
            published: false
        }
    );
    // and the entry is still found by the provider's id, in its new state
    let found = store
        .message_sent_as(sent.message_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.entry, delivered);
    // A report about a message nobody logged changes nothing
    let before = table.items().await;
    assert!(
        !store
            .record_feedback(&confirmation_key(), DeliveryState::Sent, &delivered)
            .await
            .unwrap()
    );
    assert_eq!(table.items().await, before);
    assert_eq!(store.message_sent_as("0100-nobody").await.unwrap(), None);
}

async fn an_agenda_reads_the_logs_of_all_its_appointments_in_one_query(table: TableUnderTest) {
    let store = table.store();
    // Given 60 appointments of Dr Martin's over a week, each with two log
    // entries, and one of another practitioner's booked in between, with its own
    let martin = dr_martin();
    let other = PractitionerId::parse("dr-other").unwrap();
    let sent = |kind, channel, when| entry(kind, channel, DeliveryState::Sent, when);
    let mut expected = Vec::new();
    for i in 0..60 {
        if i == 30 {
            let mut theirs = appointment("2026-12-08T08:00:00Z", 20);
            theirs.practitioner_id = other.clone();
            store.insert_appointment(&theirs).await.unwrap();
            let key =
                MessageKey::for_version(theirs.id, MessageKind::Confirmation, Channel::Email, 1);
            let e = sent(
                MessageKind::Confirmation,
                Channel::Email,
                "2026-11-30T08:00:00Z",
            );
            store
                .settle_message(&key, &other, &e, theirs.end)
                .await
                .unwrap();
        }
        let a = appointment("2026-12-07T08:00:00Z", 20);
        let a = Appointment {
            start: a.start + Duration::minutes(20 * i),
            end: a.end + Duration::minutes(20 * i),
            ..a
        };
        store.insert_appointment(&a).await.unwrap();
        let confirmation = sent(
            MessageKind::Confirmation,
            Channel::Email,
            "2026-11-30T09:00:00Z",
        );
        let reminder = sent(MessageKind::Reminder, Channel::Sms, "2026-12-06T09:00:00Z");
        // settled latest first: the log is read oldest first all the same
        for (e, occasion) in [(&reminder, "d1"), (&confirmation, "v000001")] {
            let key = MessageKey {
                appointment_id: a.id,
                kind: e.kind,
                channel: e.channel,
                occasion: occasion.into(),
            };
            store.settle_message(&key, &martin, e, a.end).await.unwrap();
        }
        expected.push((a.id, vec![confirmation, reminder]));
    }

    // When the week's agenda and the logs of its appointments are read
    let queries_before = table.queries();
    let week = TimeRange::new(at("2026-12-07T00:00:00Z"), at("2026-12-14T00:00:00Z")).unwrap();
    let agenda = store.agenda(&martin, week).await.unwrap();
    let ids: Vec<AppointmentId> = agenda.iter().map(|a| a.id).collect();
    let logs = store.communications_of(&martin, &ids).await.unwrap();

    // Then two queries (one page each, at this size) read them all, each
    // appointment with its own entries, oldest first
    assert_eq!(table.queries() - queries_before, 2);
    assert_eq!(ids.iter().copied().zip(logs).collect::<Vec<_>>(), expected);
}

/// Appointment data expires a set time after its appointment (health data
/// kept no longer than needed): the appointment, its agenda day and its log
/// entries carry DynamoDB's TTL at the appointment's end plus the retention.
async fn appointment_data_carries_its_expiry(table: TableUnderTest) {
    // Given a store keeping data 30 days
    let store = aws_adapters::store::TableStore::new(table.table()).with_retention_days(30);

    // When an appointment is booked and its confirmation logged
    let appointment = appointment("2026-12-03T10:00:00Z", 20);
    store.insert_appointment(&appointment).await.unwrap();
    let key = MessageKey::for_version(appointment.id, MessageKind::Confirmation, Channel::Email, 1);
    let now = at("2026-11-25T10:00:00Z");
    assert_eq!(
        store
            .claim_message(&key, now, Duration::minutes(2))
            .await
            .unwrap(),
        Claim::Granted
    );
    let sent = entry(
        MessageKind::Confirmation,
        Channel::Email,
        DeliveryState::Sent,
        "2026-11-25T10:00:00Z",
    );
    store
        .settle_message(&key, &appointment.practitioner_id, &sent, appointment.end)
        .await
        .unwrap();

    // Then every item of it expires 30 days after the appointment ends
    let expected = (appointment.end + Duration::days(30)).timestamp();
    let end_of_day = at("2026-12-04T00:00:00Z") + Duration::days(30);
    let items = table.items().await;
    let mut seen = Vec::new();
    for item in &items {
        let sk = item["sk"].as_str().expect("a sort key").to_string();
        let ttl = item["ttl"]
            .as_i64()
            .unwrap_or_else(|| panic!("{sk} has no TTL: {item}"));
        let wanted = if sk.starts_with("DAY#") {
            end_of_day.timestamp()
        } else {
            expected
        };
        assert_eq!(ttl, wanted, "{sk}");
        seen.push(sk.split('#').next().unwrap().to_string());
    }
    seen.sort();
    assert_eq!(seen, ["APPT", "DAY", "HIST", "MSG"], "{items:?}");
}

// The due index of reminders

on_each_table!(
    the_due_query_returns_what_is_due_in_due_order_by_pages,
    due_entries_spread_over_days_and_shards_and_come_back_in_due_order,
    an_entry_written_after_its_due_time_is_found_after_sweeps_passed_its_day,
    the_migration_moves_entries_from_the_old_key_once_and_none_is_lost,
    a_decided_entry_leaves_the_index_unless_it_was_replaced_meanwhile,
    a_reminder_is_claimed_once_per_appointment_time,
);

async fn the_due_query_returns_what_is_due_in_due_order_by_pages(table: TableUnderTest) {
    // Given an appointment (not an index entry) and four pending reminders
    let store = table.store();
    store
        .insert_appointment(&booked(at("2026-12-03T13:30:00Z"), 20))
        .await
        .unwrap();
    let later = reminder(
        Channel::Email,
        "2026-12-05T09:00:00Z",
        "2026-12-03T09:00:00Z",
    );
    let first = reminder(Channel::Sms, "2026-12-02T09:00:00Z", "2026-12-01T09:00:00Z");
    let second = reminder(
        Channel::Email,
        "2026-12-03T09:00:00Z",
        "2026-12-01T09:00:00Z",
    );
    let third = reminder(Channel::Sms, "2026-12-02T10:00:00Z", "2026-12-01T10:00:00Z");
    for r in [&later, &first, &second, &third] {
        store
            .put_reminder(r, at("2026-11-30T00:00:00Z"))
            .await
            .unwrap();
    }
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort_by_key(|r| (r.due_at, r.appointment_id));
    expected.push(third.clone());

    // When the sweep reads what is due at 10:00, two by two
    let until = at("2026-12-01T10:00:00Z");
    let page = store.reminders_due(until, None, 2).await.unwrap();
    let rest = store.reminders_due(until, page.last(), 2).await.unwrap();

    // Then it gets the three due entries, oldest first, and nothing else
    assert_eq!([page, rest.clone()].concat(), expected);
    assert_eq!(rest.len(), 1);
    assert!(
        store
            .reminders_due(until, rest.last(), 2)
            .await
            .unwrap()
            .is_empty()
    );
}

/// No partition holds everyone's due entries: a day's entries spread over
/// the shards, and the pages still come in due order across them.
async fn due_entries_spread_over_days_and_shards_and_come_back_in_due_order(table: TableUnderTest) {
    // Given 60 reminders due over three days, at a few shared times (as
    // appointments on :00/:20/:40 make them)
    let store = table.store();
    let mut all = Vec::new();
    for i in 0..60 {
        let due = at("2026-12-01T08:00:00Z")
            + Duration::hours(24 * (i % 3))
            + Duration::minutes(20 * (i % 4));
        let mut r = reminder(Channel::Sms, "2026-12-05T09:00:00Z", "2026-12-01T08:00:00Z");
        r.due_at = due;
        store
            .put_reminder(&r, at("2026-11-30T00:00:00Z"))
            .await
            .unwrap();
        all.push(r);
    }
    all.sort_by_key(|r| aws_adapters::due_index::due_sort_key(r));

    // Then they sit under many partition keys, none under the old one
    let partitions: std::collections::BTreeSet<String> = table
        .items()
        .await
        .iter()
        .filter_map(|i| i["gsi2pk"].as_str().map(str::to_string))
        .collect();
    assert!(partitions.len() >= 3 * 8, "{partitions:?}");
    assert!(partitions.iter().all(|p| p.starts_with("DUE#2026-12-0")));

    // and the sweep's pages of 7 read them all, in due order, once each
    let until = at("2026-12-04T00:00:00Z");
    let mut read: Vec<ScheduledReminder> = Vec::new();
    loop {
        let page = store.reminders_due(until, read.last(), 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        read.extend(page);
    }
    assert_eq!(read, all);
    // and what is not due yet is not read
    let first_day = store
        .reminders_due(at("2026-12-01T08:20:00Z"), None, 100)
        .await
        .unwrap();
    assert_eq!(first_day.len(), 10);
}

/// A reminder indexed after its due time (a longer delay saved, a late
/// stream record) is filed as due when written, so a sweep that has left
/// its day behind still finds it; a day is left only once empty and no
/// write can land in it any more.
async fn an_entry_written_after_its_due_time_is_found_after_sweeps_passed_its_day(
    table: TableUnderTest,
) {
    let store = table.store();
    let early = reminder(Channel::Sms, "2026-12-10T09:00:00Z", "2026-12-01T09:00:00Z");
    store
        .put_reminder(&early, at("2026-11-30T10:00:00Z"))
        .await
        .unwrap();
    // A pending entry holds the sweeps at its day.
    store
        .sweep_begins(at("2026-12-04T00:00:00Z"))
        .await
        .unwrap();
    let due = store
        .reminders_due(at("2026-12-04T00:00:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![early.clone()]);
    store.reminder_done(&early).await.unwrap();
    // Decided: the sweeps leave the days behind.
    store
        .sweep_begins(at("2026-12-04T00:00:00Z"))
        .await
        .unwrap();
    let queries = table.queries();
    assert!(
        store
            .reminders_due(at("2026-12-04T00:10:00Z"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Only the day just ended (writes may still land in it) and today.
    assert_eq!(table.queries() - queries, 2 * 16);

    // When a reminder due on the 2nd is indexed on the 4th
    let late = reminder(
        Channel::Email,
        "2026-12-10T09:00:00Z",
        "2026-12-02T09:00:00Z",
    );
    store
        .put_reminder(&late, at("2026-12-04T00:20:00Z"))
        .await
        .unwrap();

    // Then the next sweep finds it, due when it was written
    store
        .sweep_begins(at("2026-12-04T00:25:00Z"))
        .await
        .unwrap();
    let due = store
        .reminders_due(at("2026-12-04T00:25:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(
        due,
        vec![ScheduledReminder {
            due_at: at("2026-12-04T00:20:00Z"),
            ..late
        }]
    );
}

/// A table deployed before the due index was spread holds its entries under
/// `gsi2pk = REMINDER`: the migration moves each to its day and shard, once;
/// run again it finds nothing, and the sweep then reads them all.
async fn the_migration_moves_entries_from_the_old_key_once_and_none_is_lost(table: TableUnderTest) {
    // Given three entries under the old key: one overdue, two to come
    let store = table.store();
    let overdue = reminder(Channel::Sms, "2026-12-03T09:00:00Z", "2026-12-01T09:00:00Z");
    let coming = reminder(
        Channel::Email,
        "2026-12-05T09:00:00Z",
        "2026-12-03T09:00:00Z",
    );
    let later = reminder(Channel::Sms, "2026-12-09T09:00:00Z", "2026-12-08T09:00:00Z");
    for r in [&overdue, &coming, &later] {
        let mut item = encode(&aws_adapters::due_index::ReminderItem::new(r)).unwrap();
        item.insert("gsi2pk".into(), AttributeValue::S("REMINDER".into()));
        table.put_raw(item).await;
    }

    // When the operator migrates on the 2nd at 10:00, twice (a rerun, or a
    // run resumed after an interruption)
    let now = at("2026-12-02T10:00:00Z");
    let first = store.migrate_legacy_due_entries(now).await.unwrap();
    let again = table.store().migrate_legacy_due_entries(now).await.unwrap();

    // Then each entry moved once, and nothing is left under the old key
    assert_eq!((first.read, first.moved, first.already_gone), (3, 3, 0));
    assert_eq!((again.read, again.moved), (0, 0));
    let items = table.items().await;
    assert!(
        items
            .iter()
            .all(|i| i["gsi2pk"].as_str().is_none_or(|p| p.starts_with("DUE#"))),
        "{items:?}"
    );
    // and the sweeps find them: the overdue one at once, the others when due
    store.sweep_begins(now).await.unwrap();
    let due_now = store.reminders_due(now, None, 10).await.unwrap();
    assert_eq!(
        due_now,
        vec![ScheduledReminder {
            due_at: now,
            ..overdue
        }]
    );
    let all = store
        .reminders_due(at("2026-12-08T09:00:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1..], [coming, later]);
}

on_each_table!(racing: the_account_rate_counts_each_second_up_to_its_limit_across_instances);

/// SPEC §7: one rate for the account, whatever the number of instances: 20
/// stores (instances) race for the sends of one second, 7 get through; the
/// next second starts again, and e-mail counts apart from SMS.
async fn the_account_rate_counts_each_second_up_to_its_limit_across_instances(
    table: TableUnderTest,
) {
    use domain::ports::SendingRate;
    let second = at("2026-12-01T09:00:00Z").timestamp();
    let stores: Vec<_> = (0..20).map(|_| table.store()).collect();
    let taken = futures::future::join_all(
        stores
            .iter()
            .map(|store| store.take_send(Channel::Sms, second, 7)),
    )
    .await;
    let granted = taken.iter().filter(|t| *t.as_ref().unwrap()).count();
    assert_eq!(granted, 7);
    assert!(
        stores[0]
            .take_send(Channel::Sms, second + 1, 7)
            .await
            .unwrap()
    );
    assert!(
        stores[0]
            .take_send(Channel::Email, second, 7)
            .await
            .unwrap()
    );
}

/// `reminder_done` keeps an entry replaced since it was read.
async fn a_decided_entry_leaves_the_index_unless_it_was_replaced_meanwhile(table: TableUnderTest) {
    let store = table.store();
    let read = reminder(Channel::Sms, "2026-12-02T09:00:00Z", "2026-12-01T09:00:00Z");
    store
        .put_reminder(&read, at("2026-11-30T00:00:00Z"))
        .await
        .unwrap();
    // The appointment moved after the sweep read the entry: the scheduler
    // replaced it with the new time's.
    let moved = ScheduledReminder {
        start: at("2026-12-04T09:00:00Z"),
        due_at: at("2026-12-03T09:00:00Z"),
        ..read.clone()
    };
    store
        .put_reminder(&moved, at("2026-11-30T00:00:00Z"))
        .await
        .unwrap();
    store.reminder_done(&read).await.unwrap();
    let all = store
        .reminders_due(at("2026-12-31T00:00:00Z"), None, 10)
        .await
        .unwrap();
    assert_eq!(all, vec![moved.clone()]);
    // Once decided, it leaves.
    store.reminder_done(&moved).await.unwrap();
    assert!(
        store
            .reminders_due(at("2026-12-31T00:00:00Z"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A cancelled appointment's entries are removed, present or not.
    store
        .put_reminder(&read, at("2026-11-30T00:00:00Z"))
        .await
        .unwrap();
    store
        .remove_reminder(&read.appointment_id, Channel::Sms)
        .await
        .unwrap();
    store
        .remove_reminder(&read.appointment_id, Channel::Email)
        .await
        .unwrap();
    assert!(
        store
            .reminders_due(at("2026-12-31T00:00:00Z"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_reminder_is_claimed_once_per_appointment_time(table: TableUnderTest) {
    let store = table.store();
    let r = reminder(Channel::Sms, "2026-12-02T09:00:00Z", "2026-12-01T09:00:00Z");
    let now = at("2026-12-01T09:00:00Z");
    let lease = Duration::minutes(2);
    assert_eq!(
        store.claim_message(&r.key(), now, lease).await.unwrap(),
        Claim::Granted
    );
    // An overlapping sweep, or a settings change that re-indexed it, gets nothing.
    let reindexed = ScheduledReminder {
        due_at: at("2026-11-30T09:00:00Z"),
        ..r.clone()
    };
    assert_eq!(
        store
            .claim_message(&reindexed.key(), now, lease)
            .await
            .unwrap(),
        Claim::InFlight
    );
    // The reminder of a new time (the appointment moved) is another message.
    let moved = ScheduledReminder {
        start: at("2026-12-04T09:00:00Z"),
        ..r.clone()
    };
    assert_eq!(
        store.claim_message(&moved.key(), now, lease).await.unwrap(),
        Claim::Granted
    );
}

// Conditions: what DynamoDB decides is what the memory table evaluates.

/// splitmix64: a deterministic stream of cases, no dependency.
struct Cases(u64);

impl Cases {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % below
    }

    fn text(&mut self) -> AttributeValue {
        AttributeValue::S(["", "a", "b", "ab", "é", "B"][self.next(6) as usize].into())
    }

    fn number(&mut self) -> AttributeValue {
        AttributeValue::N((self.next(7) as i64 - 3).to_string())
    }

    /// A value of any type, for equality.
    fn value(&mut self) -> AttributeValue {
        match self.next(3) {
            0 => self.text(),
            1 => self.number(),
            _ => AttributeValue::Bool(self.next(2) == 0),
        }
    }

    /// A path, and a value of the type its attribute always has here: `b`
    /// holds numbers, the others strings. Moto fails with a 500 when it
    /// orders values of different types, where DynamoDB answers that the
    /// condition does not hold; so ordering is only asked of values of the
    /// attribute's own type.
    fn path(&mut self) -> (Path, AttributeValue) {
        match self.next(4) {
            0 => (Path::attribute("a"), self.text()),
            1 => (Path::attribute("b"), self.number()),
            2 => (Path::nested(&["entry", "state"]), self.text()),
            _ => (Path::attribute("pk"), self.text()),
        }
    }

    fn condition(&mut self, depth: u32) -> Condition {
        let kind = if depth == 0 {
            self.next(3)
        } else {
            self.next(5)
        };
        match kind {
            0 => Condition::Exists(self.path().0),
            1 => Condition::NotExists(self.path().0),
            2 => {
                let (path, of_its_type) = self.path();
                match self.next(3) {
                    0 => Condition::Compare(path, Comparison::Equals, self.value()),
                    1 => Condition::Compare(path, Comparison::AtMost, of_its_type),
                    _ => Condition::Compare(path, Comparison::AtLeast, of_its_type),
                }
            }
            3 => self.condition(depth - 1).and(self.condition(depth - 1)),
            _ => self.condition(depth - 1).or(self.condition(depth - 1)),
        }
    }

    fn item(&mut self, sk: &str) -> Item {
        let mut attributes = HashMap::from([
            ("pk".to_string(), AttributeValue::S("CONDITIONS".into())),
            ("sk".to_string(), AttributeValue::S(sk.into())),
        ]);
        if self.next(3) > 0 {
            attributes.insert("a".into(), self.text());
        }
        if self.next(3) > 0 {
            attributes.insert("b".into(), self.number());
        }
        if self.next(2) == 0 {
            attributes.insert(
                "entry".into(),
                AttributeValue::M(HashMap::from([("state".to_string(), self.text())])),
            );
        }
        Item::from(attributes)
    }
}

/// Random conditions against random items (and no item): DynamoDB (moto)
/// lets a conditional put through exactly when `Condition::holds` says so.
/// Moto's evaluation of expressions is the emulator's: where it differs from
/// AWS (ordering values of different types, see `Cases::path`) the cases
/// stay clear of it.
#[tokio::test]
#[ignore = "needs moto: run through `make test`"]
async fn conditions_decide_on_dynamodb_as_they_evaluate_in_memory() {
    let table = TableUnderTest::new(TableKind::Moto).await;
    let dynamodb = table.table();
    let mut cases = Cases(2026);
    let mut disagreements = Vec::new();
    let mut through = 0;
    for case in 0..150 {
        let sk = format!("case-{case}");
        let stored = (cases.next(4) > 0).then(|| cases.item(&sk));
        if let Some(item) = &stored {
            table.put_raw(item.clone()).await;
        }
        let condition = cases.condition(2);
        let written = cases.item(&sk);
        let outcome = dynamodb
            .put(Put::new(written).when(condition.clone()))
            .await;
        let went_through = match outcome {
            Ok(()) => true,
            Err(TableError::ConditionFailed { .. }) => false,
            Err(other) => panic!("case {case}: {condition:?}: {other}"),
        };
        through += usize::from(went_through);
        if went_through != condition.holds(stored.as_ref()) {
            disagreements.push(format!(
                "{condition:?} on {stored:?}: DynamoDB {went_through}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // Both answers were asked for, many times.
    assert!(
        (30..120).contains(&through),
        "{through} of 150 went through"
    );
}

// ── Public writes (issue 24): verifications, a contact's list, quotas ────────

fn verification_of(email: &str) -> domain::verification::Verification {
    domain::verification::Verification::new(
        &domain::keyed::HashKey::local_mode(),
        &dr_martin(),
        &domain::contact::Email::parse(email).unwrap(),
        &domain::verification::Code::parse("123456").unwrap(),
        at("2026-12-01T10:00:00Z"),
    )
}

fn charge(limit: u32) -> domain::quota::Charge {
    domain::quota::Charge {
        quota: domain::quota::Quota::CodesPerEmail,
        subject: "a-keyed-subject".into(),
        window: at("2026-12-01T10:00:00Z"),
        limit,
    }
}

/// A contact's list as the store holds it, with `appointment` added.
async fn contact_with(
    store: &aws_adapters::store::TableStore,
    v: &domain::verification::Verification,
    appointment: &Appointment,
) -> domain::verification::ContactAppointments {
    let mut listed = store
        .contact_appointments(&dr_martin(), &v.contact)
        .await
        .unwrap();
    listed.appointments.push(appointment.id);
    listed
}

async fn a_counter_stops_at_its_limit_and_a_refused_count_changes_nothing(table: TableUnderTest) {
    let store = table.store();
    // Given a limit of 2, when a verification is stored with its charge three times
    let limit = [charge(2)];
    for n in 0..2 {
        store
            .put_verification(&verification_of("a@example.org"), &limit)
            .await
            .unwrap_or_else(|e| panic!("verification {n}: {e}"));
    }
    let before = table.items().await;
    let third = verification_of("a@example.org");
    // Then the third is refused over the limit, and neither it nor its count is stored
    assert!(matches!(
        store.put_verification(&third, &limit).await,
        Err(domain::ports::CountedWriteError::OverLimit(c)) if c == limit[0]
    ));
    assert_eq!(table.items().await, before);
    assert_eq!(store.verification(&third.id).await.unwrap(), None);
    assert_eq!(store.counted(&limit[0]).await.unwrap(), 2);
    // And a count past the limit (a post that went through) leaves it there
    store.count(&limit[0]).await.unwrap();
    assert_eq!(store.counted(&limit[0]).await.unwrap(), 2);
}

async fn a_verification_books_once_and_a_wrong_code_counts_once(table: TableUnderTest) {
    let store = table.store();
    let v = verification_of("jeanne@example.org");
    store.put_verification(&v, &[]).await.unwrap();
    // Two wrong codes decided on the same read count once
    store.wrong_code(&v).await.unwrap();
    store.wrong_code(&v).await.unwrap();
    let read = store.verification(&v.id).await.unwrap().unwrap();
    assert_eq!(read.wrong_codes, 1);
    // A use decided on a stale read is refused, and nothing is booked
    let first = appointment("2026-12-03T10:00:00Z", 20);
    let stale = v.used_for(&first);
    let guards = domain::ports::OnlineGuards {
        verification: Some(&stale),
        contact: None,
        charges: &[],
    };
    assert!(matches!(
        store.book_online(&first, &guards).await,
        Err(domain::ports::OnlineWriteError::VerificationChanged)
    ));
    assert_eq!(
        store.appointment(&dr_martin(), &first.id).await.unwrap(),
        None
    );
    // On the fresh read it books, once
    let used = read.used_for(&first);
    let guards = domain::ports::OnlineGuards {
        verification: Some(&used),
        contact: None,
        charges: &[],
    };
    store.book_online(&first, &guards).await.unwrap();
    let second = appointment("2026-12-03T11:00:00Z", 20);
    let again = read.used_for(&second);
    let guards = domain::ports::OnlineGuards {
        verification: Some(&again),
        contact: None,
        charges: &[],
    };
    assert!(matches!(
        store.book_online(&second, &guards).await,
        Err(domain::ports::OnlineWriteError::VerificationChanged)
    ));
    assert_eq!(
        store.appointment(&dr_martin(), &second.id).await.unwrap(),
        None
    );
}

/// Bookings of one address racing, each on the list it read: one list
/// write wins, so the per-patient limit counts every booking (SPEC §2).
async fn racing_bookings_of_one_address_take_its_last_place_once(table: TableUnderTest) {
    let store = table.store();
    let v = verification_of("paul@example.org");
    let racers: Vec<_> = (0..4)
        .map(|n| {
            let store = store.clone();
            let v = v.clone();
            tokio::spawn(async move {
                let mine = appointment(&format!("2026-12-0{}T10:00:00Z", n + 3), 20);
                let contact = contact_with(&store, &v, &mine).await;
                let guards = domain::ports::OnlineGuards {
                    verification: None,
                    contact: Some(&contact),
                    charges: &[],
                };
                store.book_online(&mine, &guards).await.is_ok()
            })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1);
    let listed = store
        .contact_appointments(&dr_martin(), &v.contact)
        .await
        .unwrap();
    assert_eq!(listed.appointments.len(), 1);
    assert_eq!(listed.revision, Some(1));
}

on_each_table!(
    a_counter_stops_at_its_limit_and_a_refused_count_changes_nothing,
    a_verification_books_once_and_a_wrong_code_counts_once,
);

on_each_table!(racing:
    racing_bookings_of_one_address_take_its_last_place_once,
);

// Whose data: every read of an appointment or its log names the practitioner

on_each_table!(
    another_practitioners_id_finds_neither_the_appointment_nor_its_log,
    a_link_issued_before_links_named_their_practitioner_still_leads_to_its_appointment,
);

fn dr_durand() -> PractitionerId {
    PractitionerId::parse("dr-durand").unwrap()
}

async fn another_practitioners_id_finds_neither_the_appointment_nor_its_log(table: TableUnderTest) {
    let store = table.store();
    // Given Jeanne's appointment with Dr Martin, and its confirmation logged
    let jeanne = appointment("2026-12-03T10:00:00Z", 20);
    store.insert_appointment(&jeanne).await.unwrap();
    let key = MessageKey::for_version(jeanne.id, MessageKind::Confirmation, Channel::Email, 1);
    let now = at("2026-11-25T10:00:00Z");
    store
        .claim_message(&key, now, Duration::minutes(2))
        .await
        .unwrap();
    let sent = entry(
        MessageKind::Confirmation,
        Channel::Email,
        DeliveryState::Sent,
        "2026-11-25T10:00:00Z",
    );
    store
        .settle_message(&key, &dr_martin(), &sent, jeanne.end)
        .await
        .unwrap();
    // Then Dr Martin reads both
    assert_eq!(
        store.appointment(&dr_martin(), &jeanne.id).await.unwrap(),
        Some(jeanne.clone())
    );
    assert_eq!(
        store
            .communications(&dr_martin(), &jeanne.id)
            .await
            .unwrap(),
        vec![sent]
    );
    // And Dr Durand, naming the same appointment, finds nothing
    assert_eq!(
        store.appointment(&dr_durand(), &jeanne.id).await.unwrap(),
        None
    );
    assert!(
        store
            .communications(&dr_durand(), &jeanne.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .communications_of(&dr_durand(), &[jeanne.id])
            .await
            .unwrap(),
        vec![Vec::<CommunicationEntry>::new()]
    );
}

async fn a_link_issued_before_links_named_their_practitioner_still_leads_to_its_appointment(
    table: TableUnderTest,
) {
    use domain::links::{LinkGrant, LinkPurpose, TokenHash};
    let store = table.store();
    let jeanne = appointment("2026-12-03T10:00:00Z", 20);
    store.insert_appointment(&jeanne).await.unwrap();
    let grant = LinkGrant {
        appointment_id: jeanne.id,
        practitioner_id: dr_martin(),
        purpose: LinkPurpose::ManageAppointment,
        version: 1,
        expires_at: jeanne.end,
    };
    // A link stored as this version writes it reads back as it was
    let hash = TokenHash("a-new-link".into());
    store.put_link(&hash, &grant).await.unwrap();
    assert_eq!(store.link(&hash).await.unwrap(), Some(grant.clone()));
    // One stored before links named their practitioner reads as its appointment's
    let old = TokenHash("an-old-link".into());
    let mut item =
        aws_adapters::item::encode(&aws_adapters::item::LinkItem::new(&old, &grant)).unwrap();
    item.remove(aws_adapters::item::LINK_PRACTITIONER);
    table.put_raw(item).await;
    assert_eq!(store.link(&old).await.unwrap(), Some(grant));
    // And one whose appointment is gone leads nowhere
    let gone = TokenHash("a-link-to-nothing".into());
    let orphan = LinkGrant {
        appointment_id: AppointmentId::new(),
        ..appointment_link(&jeanne)
    };
    let mut item =
        aws_adapters::item::encode(&aws_adapters::item::LinkItem::new(&gone, &orphan)).unwrap();
    item.remove(aws_adapters::item::LINK_PRACTITIONER);
    table.put_raw(item).await;
    assert_eq!(store.link(&gone).await.unwrap(), None);
}

fn appointment_link(appointment: &Appointment) -> domain::links::LinkGrant {
    domain::links::LinkGrant {
        appointment_id: appointment.id,
        practitioner_id: appointment.practitioner_id.clone(),
        purpose: domain::links::LinkPurpose::ManageAppointment,
        version: 1,
        expires_at: appointment.end,
    }
}

// The grants on a practitioner (SPEC §6.1)

on_each_table!(members_are_written_against_the_revision_read,);

async fn members_are_written_against_the_revision_read(table: TableUnderTest) {
    use domain::grants::{Member, MemberSub, Members, Role};
    let store = table.store();
    let member = |sub: &str, role| Member {
        sub: MemberSub::parse(sub).unwrap(),
        role,
        name: Some("Claire".into()),
    };
    // None stored: revision 0, for any practitioner
    assert_eq!(
        store.members(&dr_martin()).await.unwrap(),
        Members::default()
    );
    // The first write is against none, once
    let first = Members::default()
        .with(member("alice", Role::Owner))
        .unwrap();
    assert!(store.put_members(&dr_martin(), &first, None).await.unwrap());
    assert!(!store.put_members(&dr_martin(), &first, None).await.unwrap());
    let stored = store.members(&dr_martin()).await.unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.members, first.members);
    // Two changes decided on the same read, each with its line of the
    // practice's history: one is written, with its line only
    let by = domain::grants::Actor::Member(MemberSub::parse("alice").unwrap());
    let line = |sub: &str| domain::history::PracticeChange {
        at: at("2026-11-25T10:00:00Z"),
        by: by.clone(),
        change: domain::history::PracticeChangeKind::MemberSet,
        fields: vec!["role".into()],
        member: Some(MemberSub::parse(sub).unwrap()),
    };
    let with_bob = stored.with(member("bob", Role::Secretariat)).unwrap();
    let with_carol = stored.with(member("carol", Role::Owner)).unwrap();
    assert!(
        store
            .put_members(&dr_martin(), &with_bob, Some(&line("bob")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_members(&dr_martin(), &with_carol, Some(&line("carol")))
            .await
            .unwrap()
    );
    let stored = store.members(&dr_martin()).await.unwrap();
    assert_eq!(stored.revision, 2);
    assert_eq!(stored.members, with_bob.members);
    let lines: Vec<_> = table
        .items()
        .await
        .into_iter()
        .filter(|i| i["type"] == "practice_history")
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["member"], "bob");
    assert_eq!(lines[0]["by"], "alice");
    // Another practitioner's members are their own
    assert_eq!(
        store.members(&dr_durand()).await.unwrap(),
        Members::default()
    );
}

// The history (SPEC §3, §6.2): one line per version, written with it

on_each_table!(each_version_writes_its_line_of_history_with_it,);

async fn each_version_writes_its_line_of_history_with_it(table: TableUnderTest) {
    use domain::grants::{Actor, MemberSub};
    use domain::history::ChangeKind;
    let store = table.store();
    let claire = Actor::Member(MemberSub::parse("claire").unwrap());
    // Booked by Claire, moved by the patient, cancelled by Claire
    let jeanne = appointment("2026-12-03T10:00:00Z", 20).made_by(&claire);
    store.insert_appointment(&jeanne).await.unwrap();
    let at_eleven = moved(&jeanne, "2026-12-03T11:00:00Z").made_by(&Actor::Patient);
    store.update_appointment(1, &at_eleven).await.unwrap();
    let mut cancelled = next(&at_eleven, Change::Cancelled).made_by(&claire);
    cancelled.status = Status::Cancelled;
    store.update_appointment(2, &cancelled).await.unwrap();
    // A change refused (stale) writes no line
    let stale = moved(&jeanne, "2026-12-03T15:00:00Z");
    assert!(store.update_appointment(1, &stale).await.is_err());

    let history = store.history(&dr_martin(), &jeanne.id).await.unwrap();
    let lines: Vec<_> = history
        .iter()
        .map(|h| (h.version, h.by.clone(), h.change, h.fields.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, claire.clone(), ChangeKind::Created, vec![]),
            (
                2,
                Actor::Patient,
                ChangeKind::Moved,
                vec!["start".to_string(), "end".to_string()]
            ),
            (3, claire, ChangeKind::StatusSet, vec!["status".to_string()]),
        ]
    );
    // Another practitioner reads none of it
    assert!(
        store
            .history(&dr_durand(), &jeanne.id)
            .await
            .unwrap()
            .is_empty()
    );
}

// The patients' index (SPEC §6.2 data rights)

on_each_table!(a_contacts_appointments_are_found_by_its_keyed_hash_and_no_one_elses,);

async fn a_contacts_appointments_are_found_by_its_keyed_hash_and_no_one_elses(
    table: TableUnderTest,
) {
    use domain::contact::Email;
    use domain::keyed::{ContactHash, HashKey};
    let key = HashKey::local_mode();
    let store = aws_adapters::store::TableStore::new(table.table()).with_contact_key(key.clone());
    let jeanne = booked(at("2026-12-03T10:00:00Z"), 20);
    store.insert_appointment(&jeanne).await.unwrap();
    let mut paul = booked(at("2026-12-03T11:00:00Z"), 20);
    paul.patient.email = Some(Email::parse("paul@example.org").unwrap());
    store.insert_appointment(&paul).await.unwrap();
    let hers = ContactHash::of_email(&key, jeanne.patient.email.as_ref().unwrap());
    let found = store
        .appointments_of_contact(&dr_martin(), &hers)
        .await
        .unwrap();
    assert_eq!(found, vec![jeanne.clone()]);
    // Another practitioner's index holds none of Dr Martin's patients
    assert!(
        store
            .appointments_of_contact(&dr_durand(), &hers)
            .await
            .unwrap()
            .is_empty()
    );
    // Once her address changes, the old one finds nothing
    let mut moved_away = next(&jeanne, Change::ContactChangedByPractice);
    moved_away.patient.email = Some(Email::parse("jeanne.d@example.net").unwrap());
    store.update_appointment(1, &moved_away).await.unwrap();
    assert!(
        store
            .appointments_of_contact(&dr_martin(), &hers)
            .await
            .unwrap()
            .is_empty()
    );
    // The index holds keyed hashes, never an address
    let entries: Vec<_> = table
        .items()
        .await
        .into_iter()
        .filter(|i| i["type"] == "patient_index")
        .collect();
    // Her address, his, and her new one (the fixture has no mobile)
    assert_eq!(entries.len(), 3, "{entries:?}");
    for entry in entries {
        assert!(!entry.to_string().contains("example"), "{entry}");
    }
}
