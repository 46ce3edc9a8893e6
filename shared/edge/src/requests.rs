//! Request bodies that only the edge reads (the others are the domain's:
//! `AppointmentRequest`, `AbsenceRequest`, ...).

use serde::Deserialize;

/// The body of `POST /a/{token}/move` and `POST /r/{token}` (SPEC §6.4): the
/// chosen slot's start, as a form field or a JSON member.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotChoice {
    /// One of the offered slots' `start`, RFC 3339 (with offset, or local to
    /// the practitioner's zone).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-03T14:30:00+01:00"))]
    pub start: String,
}
