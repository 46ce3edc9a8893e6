//! Identifiers. Each can only hold a value that is safe to use in a URL path
//! and in a DynamoDB key.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Characters allowed in ids chosen by people (practitioner and reason ids):
/// lowercase letters, digits, `-` and `_`, 1 to 64 of them.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("must be 1 to 64 lowercase letters, digits, '-' or '_'")]
pub struct InvalidId;

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[a-z0-9_-]{1,64}$"))]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                if is_slug(&s) { Ok(Self(s)) } else { Err(InvalidId) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// The tenant: one practitioner's agenda and settings.
    PractitionerId
);
impl PractitionerId {
    /// The id a settings document has before the path's id replaces it
    /// (`PractitionerSettings::validated`).
    pub(crate) fn unset() -> Self {
        Self("unset".into())
    }
}

slug_id!(
    /// A reason (motif) of appointment, unique within one practitioner's settings.
    ReasonId
);

/// An appointment id: a ULID, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppointmentId(ulid::Ulid);

impl AppointmentId {
    pub fn new() -> Self {
        Self(ulid::Ulid::new())
    }
    pub fn parse(s: &str) -> Result<Self, InvalidAppointmentId> {
        ulid::Ulid::from_string(s)
            .map(Self)
            .map_err(|_| InvalidAppointmentId)
    }
}

impl Default for AppointmentId {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an appointment id")]
pub struct InvalidAppointmentId;

impl TryFrom<String> for AppointmentId {
    type Error = InvalidAppointmentId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<AppointmentId> for String {
    fn from(id: AppointmentId) -> String {
        id.0.to_string()
    }
}
impl fmt::Display for AppointmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_ids_accept_only_url_and_key_safe_values() {
        assert!(PractitionerId::parse("dr-martin").is_ok());
        assert!(ReasonId::parse("consultation_2").is_ok());
        for bad in ["", "Dr Martin", "a/b", "é", "PRAC#x", &"a".repeat(65)] {
            assert_eq!(PractitionerId::parse(bad), Err(InvalidId), "{bad:?}");
        }
    }

    #[test]
    fn the_placeholder_id_is_a_valid_one() {
        // Made without parsing: it must be what parsing would accept.
        assert_eq!(PractitionerId::parse("unset"), Ok(PractitionerId::unset()));
    }

    #[test]
    fn appointment_ids_round_trip_through_strings() {
        let id = AppointmentId::new();
        assert_eq!(AppointmentId::parse(&id.to_string()), Ok(id));
        assert!(AppointmentId::parse("not-a-ulid").is_err());
    }
}
