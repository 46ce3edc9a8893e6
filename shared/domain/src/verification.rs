//! Verified online booking (SPEC §6.3): an online booker proves their
//! e-mail address with a 6-digit code sent to it before booking, so nobody
//! fills a practice's agenda, or sends its mail, with addresses that are not
//! theirs.
//!
//! A code comes from the operating system's random source, is stored only as
//! a keyed hash ([`crate::keyed`]), is compared in constant time and never
//! logged. It works 10 minutes, for 5 tries and one booking; an e-mail
//! other than the verified one counts as a wrong code.

use crate::appointment::Appointment;
use crate::contact::Email;
use crate::ids::{AppointmentId, PractitionerId};
use crate::keyed::{ContactHash, Digest, HashKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a code works (SPEC §6.3).
pub const CODE_VALIDITY: Duration = Duration::minutes(10);
/// Wrong codes after which a verification is dead (SPEC §6.3).
pub const MAX_WRONG_CODES: u32 = 5;

/// A verification's id: 128 random bits, so one booker cannot reach
/// another's verification to try codes on it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VerificationId(String);

impl VerificationId {
    #[allow(
        clippy::expect_used,
        reason = "without the system's random source no safe id can be made (as for link tokens)"
    )]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Only what [`Self::generate`] could have made.
    pub fn parse(s: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(s).ok()?;
        (s.len() == 22 && decoded.len() == 16).then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VerificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationId(<redacted>)")
    }
}
impl fmt::Display for VerificationId {
    /// Safe to log: without the code it proves nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for VerificationId {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or("not a verification id")
    }
}
impl From<VerificationId> for String {
    fn from(id: VerificationId) -> String {
        id.0
    }
}

/// Six digits, uniform over 000000–999999. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    #[allow(
        clippy::expect_used,
        reason = "without the system's random source no safe code can be made (as for link tokens)"
    )]
    pub fn generate() -> Self {
        // Rejection sampling: 2^32 is not a multiple of a million, so values
        // of the last, partial run of a million are drawn again.
        let bound = u32::MAX - u32::MAX % 1_000_000;
        loop {
            let mut bytes = [0u8; 4];
            getrandom::fill(&mut bytes).expect("the operating system's random source is available");
            let n = u32::from_le_bytes(bytes);
            if n < bound {
                return Self(format!("{:06}", n % 1_000_000));
            }
        }
    }

    /// Six digits as typed (surrounding spaces trimmed); anything else is no code.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())).then(|| Self(s.to_string()))
    }

    /// The digits, for the e-mail that carries them, and nothing else.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(<redacted>)")
    }
}

/// The keyed hash a verification keeps of its code: bound to the
/// verification's id, so one code's hash tells nothing of another's.
fn code_digest(key: &HashKey, id: &VerificationId, code: &Code) -> Digest {
    key.digest("verification-code", format!("{id}#{}", code.0).as_bytes())
}

/// The keyed hash of the exact address a code was sent to (its domain in
/// lower case, as mail servers read it).
fn address_digest(key: &HashKey, email: &Email) -> Digest {
    let address = match email.as_str().rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.as_str().to_string(),
    };
    key.digest("verified-address", address.as_bytes())
}

/// A verification as stored: never the code or the address, their keyed
/// hashes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub id: VerificationId,
    pub practitioner_id: PractitionerId,
    pub code: Digest,
    pub address: Digest,
    /// The mailbox's contact hash: what quotas and the per-patient limit count.
    pub contact: ContactHash,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub wrong_codes: u32,
    /// The booking it was used for: a verification books once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<AppointmentId>,
}

/// Why a verification does not let a booking through (all 422 naming
/// `verification`, SPEC §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// No verification given, or none with that id for this practitioner.
    Missing,
    Expired,
    /// It already booked.
    Used,
    /// 5 wrong codes: it is dead.
    Dead,
    /// The code, or the e-mail, is not the verified one: counted.
    WrongCode,
}

impl Verification {
    /// A new verification of `email` with `code`, for `practitioner`, at `now`.
    pub fn new(
        key: &HashKey,
        practitioner: &PractitionerId,
        email: &Email,
        code: &Code,
        now: DateTime<Utc>,
    ) -> Self {
        let id = VerificationId::generate();
        Self {
            code: code_digest(key, &id, code),
            id,
            practitioner_id: practitioner.clone(),
            address: address_digest(key, email),
            contact: ContactHash::of_email(key, email),
            created_at: now,
            expires_at: now + CODE_VALIDITY,
            wrong_codes: 0,
            used_by: None,
        }
    }

    /// SPEC §6.3, the one rule: does this code, with the booking's e-mail,
    /// prove the address now? A dead, used or expired verification says so
    /// before any code is compared; then the code and the address are both
    /// compared (in constant time), and either wrong is a wrong code.
    pub fn check(
        &self,
        key: &HashKey,
        code: Option<&Code>,
        email: Option<&Email>,
        now: DateTime<Utc>,
    ) -> Result<(), Unverified> {
        if self.wrong_codes >= MAX_WRONG_CODES {
            return Err(Unverified::Dead);
        }
        if self.used_by.is_some() {
            return Err(Unverified::Used);
        }
        if now >= self.expires_at {
            return Err(Unverified::Expired);
        }
        let code_right = code.is_some_and(|c| self.code.matches(&code_digest(key, &self.id, c)));
        let address_right = email.is_some_and(|e| self.address.matches(&address_digest(key, e)));
        if code_right && address_right {
            Ok(())
        } else {
            Err(Unverified::WrongCode)
        }
    }

    /// The verification once it booked `appointment`.
    pub fn used_for(&self, appointment: &Appointment) -> Self {
        Self {
            used_by: Some(appointment.id),
            ..self.clone()
        }
    }
}

/// The future online appointments one verified contact holds with one
/// practitioner (SPEC §2, `max_future_per_patient`), as stored: the ids
/// only, re-checked against the appointments when read; `revision` is what
/// the next booking's write is conditioned on (`None`: never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactAppointments {
    pub practitioner_id: PractitionerId,
    pub contact: ContactHash,
    pub appointments: Vec<AppointmentId>,
    pub revision: Option<u64>,
}

/// SPEC §2: may this contact book one more online appointment, given those
/// of its listed appointments that are still booked and to come (`held`)?
pub fn may_hold_another(held: usize, max_future_per_patient: u32) -> bool {
    u32::try_from(held).is_ok_and(|held| held < max_future_per_patient)
}

/// The body of `POST /public/practitioners/{pid}/verifications`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationRequest {
    pub email: String,
}

/// `verification: {id, code}` in an online booking.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationProof {
    pub id: String,
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::at;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn given() -> (HashKey, Verification, Code) {
        let key = HashKey::local_mode();
        let code = Code::parse("042917").unwrap();
        let pid = PractitionerId::parse("dr-martin").unwrap();
        let v = Verification::new(
            &key,
            &pid,
            &email("Jeanne@Example.org"),
            &code,
            at("2026-12-01T10:00:00Z"),
        );
        (key, v, code)
    }

    #[test]
    fn the_code_and_the_verified_address_prove_it_for_ten_minutes() {
        let (key, v, code) = given();
        let before_end = at("2026-12-01T10:09:59Z");
        assert_eq!(
            v.check(
                &key,
                Some(&code),
                Some(&email("Jeanne@example.ORG")),
                before_end
            ),
            Ok(())
        );
        assert_eq!(
            v.check(
                &key,
                Some(&code),
                Some(&email("Jeanne@example.org")),
                at("2026-12-01T10:10:00Z")
            ),
            Err(Unverified::Expired)
        );
    }

    #[test]
    fn another_address_or_another_code_is_a_wrong_code() {
        let (key, v, code) = given();
        let now = at("2026-12-01T10:01:00Z");
        let wrong = Code::parse("042918").unwrap();
        for (code, address) in [
            (&wrong, "Jeanne@example.org"),
            (&code, "jeanne+x@example.org"),
        ] {
            assert_eq!(
                v.check(&key, Some(code), Some(&email(address)), now),
                Err(Unverified::WrongCode)
            );
        }
        assert_eq!(
            v.check(&key, Some(&code), None, now),
            Err(Unverified::WrongCode)
        );
    }

    #[test]
    fn five_wrong_codes_kill_it_and_a_use_ends_it() {
        let (key, mut v, code) = given();
        let now = at("2026-12-01T10:01:00Z");
        let right = email("Jeanne@example.org");
        v.wrong_codes = MAX_WRONG_CODES;
        assert_eq!(
            v.check(&key, Some(&code), Some(&right), now),
            Err(Unverified::Dead)
        );
        v.wrong_codes = 0;
        v.used_by = Some(AppointmentId::new());
        assert_eq!(
            v.check(&key, Some(&code), Some(&right), now),
            Err(Unverified::Used)
        );
    }

    #[test]
    fn codes_are_six_digits_and_never_printed() {
        for _ in 0..200 {
            let code = Code::generate();
            assert_eq!(code.digits().len(), 6);
            assert!(Code::parse(code.digits()).is_some());
        }
        assert!(Code::parse("12345").is_none() && Code::parse("12345a").is_none());
        assert_eq!(
            format!("{:?}", Code::parse("123456").unwrap()),
            "Code(<redacted>)"
        );
        let id = VerificationId::generate();
        assert_eq!(VerificationId::parse(id.as_str()), Some(id));
        assert!(VerificationId::parse("not-an-id").is_none());
    }
}
