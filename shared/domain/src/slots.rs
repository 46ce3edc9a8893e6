//! Free slots: where a patient may book or move an appointment online
//! (SPEC §4.2 modify, §4.4 rebook, §6.3 online booking).
//!
//! A slot lies inside the practitioner's opening hours (local time, in the
//! practitioner's zone), lasts the reason's duration, overlaps no booked
//! appointment and no absence, starts no sooner than the minimum notice from
//! now and before the booking horizon.
//! Slots follow each other from the start of each opening period, one duration
//! apart, so a patient sees the same grid the secretariat would offer.

use crate::settings::{PractitionerSettings, Reason};
use crate::time::{TimeRange, Zone};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

/// What stands in the way of a slot: booked appointments and absences.
pub type Busy = [TimeRange];

/// The span in which slots may be offered (SPEC §2, §6.3): from the minimum
/// notice after now to the booking horizon. Online booking, patient moves and
/// rebooking all go through here.
pub fn bookable_span(settings: &PractitionerSettings, now: DateTime<Utc>) -> TimeRange {
    TimeRange {
        start: now + Duration::hours(i64::from(settings.online_booking.min_notice_hours)),
        end: now + Duration::days(i64::from(settings.online_booking.booking_horizon_days)),
    }
}

/// The free slots for `reason` that start inside `window` (and inside the
/// bookable span), in time order.
pub fn free_slots(
    settings: &PractitionerSettings,
    reason: &Reason,
    busy: &Busy,
    window: TimeRange,
    now: DateTime<Utc>,
) -> Vec<TimeRange> {
    let span = bookable_span(settings, now);
    let from = window.start.max(span.start);
    let until = window.end.min(span.end);
    if from >= until {
        return Vec::new();
    }
    let zone = settings.timezone;
    let length = Duration::minutes(i64::from(reason.duration_minutes));
    // A period of the day before `from` (local) cannot hold a slot that starts
    // at or after `from`, but time zones make "the day of `from`" fuzzy: start
    // one day early and let the bounds below decide.
    let first_day = from.with_timezone(&zone.0).date_naive() - Duration::days(1);
    let last_day = until.with_timezone(&zone.0).date_naive();
    let mut slots = Vec::new();
    for day in first_day.iter_days().take_while(|d| *d <= last_day) {
        for period in settings.opening_hours.on(day.weekday()) {
            let opens = wall_clock(zone, day, period.start.0);
            let closes = wall_clock(zone, day, period.end.0);
            let mut start = opens;
            while start + length <= closes {
                let slot = TimeRange {
                    start,
                    end: start + length,
                };
                if start >= from && start < until && !busy.iter().any(|b| b.overlaps(&slot)) {
                    slots.push(slot);
                }
                start += length;
            }
        }
    }
    slots.sort_by_key(|s| s.start);
    slots.dedup();
    slots
}

/// Whether `start` is one of the slots offered for `reason`: online bookings,
/// moves and rebookings accept nothing else.
pub fn offered_slot(
    settings: &PractitionerSettings,
    reason: &Reason,
    busy: &Busy,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<TimeRange> {
    let window = TimeRange {
        start,
        end: start + Duration::minutes(1),
    };
    free_slots(settings, reason, busy, window, now)
        .into_iter()
        .find(|s| s.start == start)
}

/// The instant a local wall-clock time means on `day` ([`Zone::instant`]).
fn wall_clock(zone: Zone, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    zone.instant(day.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, dr_martin};
    use crate::settings::Period;
    use crate::time::LocalTime;
    use chrono::Timelike;
    use proptest::prelude::*;

    fn range(a: &str, b: &str) -> TimeRange {
        TimeRange::new(at(a), at(b)).unwrap()
    }

    fn every_day(periods: Vec<Period>) -> crate::settings::OpeningHours {
        crate::settings::OpeningHours {
            monday: periods.clone(),
            tuesday: periods.clone(),
            wednesday: periods.clone(),
            thursday: periods.clone(),
            friday: periods.clone(),
            saturday: periods.clone(),
            sunday: periods,
        }
    }

    #[test]
    fn slots_follow_the_opening_hours_one_duration_apart() {
        // Given Dr Martin, open Monday 9:00-12:00 and 14:00-18:00 (Paris), 20-minute consultations
        let settings = dr_martin();
        let reason = &settings.reasons[0];
        // When the patient asks for Monday 7 December 2026
        let slots = free_slots(
            &settings,
            reason,
            &[],
            range("2026-12-06T23:00:00Z", "2026-12-07T23:00:00Z"),
            at("2026-11-25T10:00:00Z"),
        );
        // Then the first is at 9:00 local and the last ends at 18:00 local
        assert_eq!(slots.first().unwrap().start, at("2026-12-07T08:00:00Z"));
        assert_eq!(slots.last().unwrap().end, at("2026-12-07T17:00:00Z"));
        assert_eq!(slots.len(), 9 + 12);
    }

    #[test]
    fn no_slot_starts_sooner_than_the_minimum_notice() {
        // Given Dr Martin with 2 hours' notice, and now Monday 8:50 in Paris
        let mut settings = dr_martin();
        let reason = settings.reasons[0].clone();
        let now = at("2026-12-07T07:50:00Z");
        let monday = range("2026-12-07T08:00:00Z", "2026-12-07T17:00:00Z");
        // When a patient looks at the day's slots
        let slots = free_slots(&settings, &reason, &[], monday, now);
        // Then the first starts at 11:00 local, the first on the grid two hours from now
        assert_eq!(slots.first().unwrap().start, at("2026-12-07T10:00:00Z"));
        assert!(offered_slot(&settings, &reason, &[], at("2026-12-07T09:40:00Z"), now).is_none());
        // And with no notice the 9:00 slot is offered
        settings.online_booking.min_notice_hours = 0;
        let slots = free_slots(&settings, &reason, &[], monday, now);
        assert_eq!(slots.first().unwrap().start, at("2026-12-07T08:00:00Z"));
    }

    #[test]
    fn a_booked_appointment_hides_the_slots_it_overlaps_and_only_those() {
        let settings = dr_martin();
        let reason = &settings.reasons[0];
        let booked = [range("2026-12-07T08:10:00Z", "2026-12-07T08:30:00Z")];
        let slots = free_slots(
            &settings,
            reason,
            &booked,
            range("2026-12-07T08:00:00Z", "2026-12-07T09:00:00Z"),
            at("2026-11-25T10:00:00Z"),
        );
        let starts: Vec<_> = slots.iter().map(|s| s.start).collect();
        assert_eq!(starts, vec![at("2026-12-07T08:40:00Z")]);
    }

    #[test]
    fn only_offered_starts_are_accepted() {
        let settings = dr_martin();
        let reason = &settings.reasons[0];
        let now = at("2026-11-25T10:00:00Z");
        assert!(offered_slot(&settings, reason, &[], at("2026-12-07T08:20:00Z"), now).is_some());
        // Off the grid, outside opening hours, in the past, beyond the horizon.
        for start in [
            "2026-12-07T08:25:00Z",
            "2026-12-07T06:00:00Z",
            "2026-11-23T08:20:00Z",
            "2027-06-07T07:20:00Z",
        ] {
            assert!(
                offered_slot(&settings, reason, &[], at(start), now).is_none(),
                "{start}"
            );
        }
    }

    #[test]
    fn a_period_across_the_skipped_spring_hour_keeps_its_real_length() {
        let mut settings = dr_martin();
        settings.opening_hours = every_day(vec![Period {
            start: LocalTime::hm(1, 0).unwrap(),
            end: LocalTime::hm(4, 0).unwrap(),
        }]);
        let reason = &settings.reasons[0];
        // 29 March 2026, Paris: 02:00 local jumps to 03:00; 01:00-04:00 lasts two hours.
        let slots = free_slots(
            &settings,
            reason,
            &[],
            range("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
            at("2026-03-20T10:00:00Z"),
        );
        assert_eq!(slots.len(), 6);
        assert_eq!(slots[0].start, at("2026-03-29T00:00:00Z"));
        assert_eq!(slots[5].end, at("2026-03-29T02:00:00Z"));
    }

    #[test]
    fn a_period_across_the_doubled_autumn_hour_keeps_its_real_length() {
        let mut settings = dr_martin();
        settings.opening_hours = every_day(vec![Period {
            start: LocalTime::hm(1, 0).unwrap(),
            end: LocalTime::hm(4, 0).unwrap(),
        }]);
        let reason = &settings.reasons[0];
        // 25 October 2026, Paris: 03:00 local goes back to 02:00; 01:00-04:00 lasts four hours.
        let slots = free_slots(
            &settings,
            reason,
            &[],
            range("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
            at("2026-10-20T10:00:00Z"),
        );
        assert_eq!(slots.len(), 12);
        assert_eq!(slots[0].start, at("2026-10-24T23:00:00Z"));
        assert_eq!(slots[11].end, at("2026-10-25T03:00:00Z"));
    }

    /// Opening periods anywhere in the day but in the hour the clocks change
    /// (02:00-03:00 in Paris): a practice open then has no wall-clock reading
    /// to check against, and the unit tests above pin that hour down.
    fn period_strategy() -> impl Strategy<Value = Vec<Period>> {
        prop::collection::vec((0u32..22, 0u32..4, 1u32..10), 0..3).prop_map(|spans| {
            spans
                .into_iter()
                .map(|(hour, quarter, length)| {
                    let start = hour * 60 + quarter * 15;
                    let end = (start + length * 30).min(23 * 60 + 59);
                    (start, end)
                })
                .filter(|(start, end)| *end <= 2 * 60 || *start >= 3 * 60)
                .map(|(start, end)| Period {
                    start: LocalTime::hm(start / 60, start % 60).unwrap(),
                    end: LocalTime::hm(end / 60, end % 60).unwrap(),
                })
                .collect()
        })
    }

    /// Whether `slot` lies inside one opening period, read on the wall clock.
    fn inside_opening_hours(settings: &PractitionerSettings, slot: &TimeRange) -> bool {
        let zone = settings.timezone.0;
        // The last minute of the slot: a period that ends in the skipped spring
        // hour closes when the clocks jump, which the wall clock reads as 03:00.
        let start = slot.start.with_timezone(&zone);
        let end = (slot.end - Duration::minutes(1)).with_timezone(&zone);
        let minutes = |t: &chrono::DateTime<chrono_tz::Tz>| t.hour() * 60 + t.minute();
        settings.opening_hours.on(start.weekday()).iter().any(|p| {
            let (open, close) = (
                p.start.0.hour() * 60 + p.start.0.minute(),
                p.end.0.hour() * 60 + p.end.0.minute(),
            );
            start.date_naive() == end.date_naive()
                && minutes(&start) >= open
                && minutes(&end) < close
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// On ordinary days and on both DST change days of Europe/Paris: no slot
        /// overlaps a booked appointment or an absence, none lies outside the
        /// opening hours, none starts in the past or beyond the horizon.
        #[test]
        fn slots_are_free_open_and_ahead(
            periods in period_strategy(),
            duration in prop::sample::select(vec![10u32, 15, 20, 30, 45, 60]),
            day in prop::sample::select(vec!["2026-03-29", "2026-10-25", "2026-12-03", "2026-03-28", "2026-10-26"]),
            busy in prop::collection::vec((0i64..48 * 60, 5i64..180), 0..8),
            now_offset in -24 * 60i64..36 * 60,
        ) {
            let mut settings = dr_martin();
            settings.opening_hours = every_day(periods);
            settings.online_booking.booking_horizon_days = 1;
            settings.reasons[0].duration_minutes = duration;
            let reason = settings.reasons[0].clone();
            let midnight_utc = at(&format!("{day}T00:00:00Z")) - Duration::hours(2);
            let busy: Vec<TimeRange> = busy
                .into_iter()
                .map(|(offset, length)| TimeRange {
                    start: midnight_utc + Duration::minutes(offset),
                    end: midnight_utc + Duration::minutes(offset + length),
                })
                .collect();
            let now = midnight_utc + Duration::minutes(now_offset);
            let window = TimeRange { start: midnight_utc, end: midnight_utc + Duration::hours(48) };
            let slots = free_slots(&settings, &reason, &busy, window, now);
            let horizon = now + Duration::days(1);
            for (i, slot) in slots.iter().enumerate() {
                prop_assert_eq!(slot.end - slot.start, Duration::minutes(i64::from(duration)));
                prop_assert!(!busy.iter().any(|b| b.overlaps(slot)), "{} overlaps a busy range", slot);
                prop_assert!(inside_opening_hours(&settings, slot), "{} is outside opening hours", slot);
                prop_assert!(slot.start >= now, "{} is in the past", slot);
                prop_assert!(slot.start < horizon, "{} is beyond the horizon", slot);
                prop_assert!(slot.start >= window.start && slot.start < window.end);
                if i > 0 {
                    prop_assert!(slots[i - 1].start < slot.start, "slots are not in order");
                }
                prop_assert_eq!(offered_slot(&settings, &reason, &busy, slot.start, now), Some(*slot));
            }
        }
    }
}
