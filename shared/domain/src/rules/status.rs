//! Status changes from the practitioner side (SPEC §3, §6.2): which are allowed.

use crate::appointment::{Change, Status};
use serde::Deserialize;

/// The statuses the practitioner side may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PractitionerStatus {
    /// « A reporter, à prévenir »: cancelled, the patient to be told.
    ToReschedule,
    /// Cancelled, nobody told.
    Cancelled,
}

impl PractitionerStatus {
    pub fn status(self) -> Status {
        match self {
            Self::ToReschedule => Status::ToReschedule,
            Self::Cancelled => Status::Cancelled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Already there: setting it again changes nothing (a retried request).
    Unchanged,
    To(Status, Change),
}

/// `booked` → `to_reschedule` or `cancelled`; `to_reschedule` → `cancelled`.
/// Anything else is refused: a patient's cancellation or a rebooking is final.
pub fn transition(
    current: Status,
    to: PractitionerStatus,
    send_cancellation_sms: bool,
) -> Option<Transition> {
    if current == to.status() {
        return Some(Transition::Unchanged);
    }
    match (current, to) {
        (Status::Booked, PractitionerStatus::ToReschedule) => Some(Transition::To(
            Status::ToReschedule,
            if send_cancellation_sms {
                Change::SetToReschedule
            } else {
                Change::SetToRescheduleWithoutSms
            },
        )),
        (Status::Booked | Status::ToReschedule, PractitionerStatus::Cancelled) => {
            Some(Transition::To(Status::Cancelled, Change::Cancelled))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_practice_sides_transitions_are_allowed() {
        use PractitionerStatus::*;
        assert_eq!(
            transition(Status::Booked, ToReschedule, true),
            Some(Transition::To(
                Status::ToReschedule,
                Change::SetToReschedule
            ))
        );
        assert_eq!(
            transition(Status::Booked, ToReschedule, false),
            Some(Transition::To(
                Status::ToReschedule,
                Change::SetToRescheduleWithoutSms
            ))
        );
        assert_eq!(
            transition(Status::ToReschedule, Cancelled, false),
            Some(Transition::To(Status::Cancelled, Change::Cancelled))
        );
        assert_eq!(
            transition(Status::Cancelled, Cancelled, false),
            Some(Transition::Unchanged)
        );
        for (from, to) in [
            (Status::CancelledByPatient, ToReschedule),
            (Status::CancelledByPatient, Cancelled),
            (Status::Rebooked, Cancelled),
            (Status::Cancelled, ToReschedule),
        ] {
            assert_eq!(transition(from, to, true), None, "{from:?} → {to:?}");
        }
    }
}
