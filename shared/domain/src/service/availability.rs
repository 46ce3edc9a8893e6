//! Free slots as the store sees them now: the slot rules of [`crate::slots`]
//! applied to what occupies the agenda. Patient moves, rebooking and online
//! booking all ask here, so what is offered and what is accepted never differ.

use crate::ids::AppointmentId;
use crate::ports::{AgendaStore, StoreError};
use crate::settings::{MAX_DURATION_MINUTES, PractitionerSettings, Reason};
use crate::slots;
use crate::time::TimeRange;
use chrono::{DateTime, Duration, Utc};

/// What occupies the practitioner's agenda around `window`: absences and
/// booked appointments, except `moving` (the appointment a patient is moving, whose
/// own time is free for it).
pub async fn occupied(
    store: &(impl AgendaStore + ?Sized),
    settings: &PractitionerSettings,
    window: TimeRange,
    moving: Option<AppointmentId>,
) -> Result<Vec<TimeRange>, StoreError> {
    // A slot starting just before the window's end reaches past it.
    let reach = TimeRange {
        start: window.start,
        end: window.end + Duration::minutes(i64::from(MAX_DURATION_MINUTES)),
    };
    let mut occupied: Vec<TimeRange> = store
        .agenda(&settings.id, reach)
        .await?
        .into_iter()
        .filter(|a| a.status.is_booked() && Some(a.id) != moving)
        .map(|a| a.range())
        .collect();
    occupied.extend(
        store
            .absences(&settings.id, reach)
            .await?
            .iter()
            .map(|a| a.range()),
    );
    Ok(occupied)
}

pub async fn free_slots(
    store: &(impl AgendaStore + ?Sized),
    settings: &PractitionerSettings,
    reason: &Reason,
    window: TimeRange,
    now: DateTime<Utc>,
    moving: Option<AppointmentId>,
) -> Result<Vec<TimeRange>, StoreError> {
    let busy = occupied(store, settings, window, moving).await?;
    Ok(slots::free_slots(settings, reason, &busy, window, now))
}

/// The slot starting at `start`, when it is offered now.
pub async fn offered_slot(
    store: &(impl AgendaStore + ?Sized),
    settings: &PractitionerSettings,
    reason: &Reason,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    moving: Option<AppointmentId>,
) -> Result<Option<TimeRange>, StoreError> {
    let window = TimeRange {
        start,
        end: start + Duration::minutes(1),
    };
    let busy = occupied(store, settings, window, moving).await?;
    Ok(slots::offered_slot(settings, reason, &busy, start, now))
}
