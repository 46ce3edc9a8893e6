//! How the booking service's refusals read over HTTP (SPEC §6). Every API
//! function that books or reads the agenda answers them the same way; each
//! function maps its own service's errors in its own crate and defers to this
//! for the booking ones.

use crate::http::Problem;
use domain::ports::StoreError;
use domain::service::booking::BookingError;
use domain::validation::FieldError;
use lambda_http::http::StatusCode;

impl From<BookingError> for Problem {
    fn from(error: BookingError) -> Self {
        match error {
            BookingError::PractitionerNotFound(_) => {
                Problem::not_found("This practitioner has no settings yet.")
            }
            BookingError::AppointmentNotFound => Problem::not_found("No such appointment."),
            BookingError::Invalid(errors) => Problem::invalid_fields(errors),
            BookingError::Overlap(ids) => {
                let mut p = Problem::conflict(
                    "This time overlaps a booked appointment; choose another time.",
                );
                p.errors = Some(
                    ids.iter()
                        .map(|id| FieldError {
                            field: "start".into(),
                            message: format!("overlaps appointment {id}"),
                        })
                        .collect(),
                );
                p
            }
            BookingError::Absent => {
                Problem::conflict("The practitioner is absent at this time; choose another time.")
            }
            BookingError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Contention => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The agenda is busy with other changes; please try again.",
            ),
            other => Problem::unavailable(&other),
        }
    }
}
