//! Patient links (SPEC §5): a random token in the URL, only its hash in the store,
//! bound to one appointment, one purpose and one version, and expiring.

use crate::ids::{AppointmentId, PractitionerId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// 128 bits of randomness: 22 characters in base64url, short enough for an SMS.
const TOKEN_BYTES: usize = 16;

/// The secret part of a link, as the patient receives it. Never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    #[allow(
        clippy::expect_used,
        reason = "without the system's random source no link can be made safe; \
                  Lambda and every supported system have one"
    )]
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }
    /// Reads a token from a URL; anything that could not have been generated is refused
    /// before it reaches the store.
    pub fn parse(s: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(s).ok()?;
        (decoded.len() == TOKEN_BYTES).then(|| Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex(&Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(<secret>)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the store keeps of a token: enough to find its grant, useless to forge a link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenHash(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// MODIFY / CANCEL links of a confirmation e-mail (`/a/{token}`).
    ManageAppointment,
    /// The rebooking link of a cancellation SMS (`/r/{token}`).
    Rebook,
}

/// Why a real link no longer leads anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The appointment is over.
    Expired,
    /// The appointment changed since the link was sent.
    Superseded,
    /// The appointment was cancelled since (by the patient or the practice).
    Cancelled,
    /// The rebooking link was used: the replacement is booked.
    AlreadyRebooked,
}

impl Gone {
    /// Why a link of `purpose` to an appointment now at `status` no longer
    /// leads to it, said the way the patient needs it: "it changed, use the
    /// latest e-mail" sends a patient who cancelled looking for links that
    /// the cancellation notice does not carry.
    pub fn after_change(purpose: LinkPurpose, status: crate::appointment::Status) -> Self {
        use crate::appointment::Status;
        match (purpose, status) {
            (LinkPurpose::Rebook, Status::Rebooked) => Self::AlreadyRebooked,
            (_, Status::Booked) => Self::Superseded,
            (LinkPurpose::Rebook, Status::ToReschedule) => Self::Superseded,
            _ => Self::Cancelled,
        }
    }
}

/// What a token allows, stored under its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkGrant {
    pub appointment_id: AppointmentId,
    /// Whose appointment: the link reads it as that practitioner's only.
    pub practitioner_id: PractitionerId,
    pub purpose: LinkPurpose,
    /// The appointment version the link was issued for: any later change kills it.
    pub version: u32,
    pub expires_at: DateTime<Utc>,
}

/// Builds the absolute URLs patients follow, on the public base URL of the API.
#[derive(Debug, Clone)]
pub struct PublicUrls {
    base: String,
}

impl PublicUrls {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
        }
    }
    pub fn base(&self) -> &str {
        &self.base
    }
    /// The CANCEL link: the appointment page, with its cancel form.
    pub fn appointment_page(&self, token: &LinkToken) -> String {
        format!("{}/a/{}", self.base, token.as_str())
    }
    /// The MODIFY link: the free slots to move to.
    pub fn modify_page(&self, token: &LinkToken) -> String {
        format!("{}/a/{}/slots", self.base, token.as_str())
    }
    /// Where the appointment page's cancel form posts.
    pub fn cancel_action(&self, token: &LinkToken) -> String {
        format!("{}/a/{}/cancel", self.base, token.as_str())
    }
    /// Where the slots page's form posts.
    pub fn move_action(&self, token: &LinkToken) -> String {
        format!("{}/a/{}/move", self.base, token.as_str())
    }
    pub fn rebook_page(&self, token: &LinkToken) -> String {
        format!("{}/r/{}", self.base, token.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_link_says_what_became_of_the_appointment() {
        use crate::appointment::Status;
        use LinkPurpose::{ManageAppointment, Rebook};
        assert_eq!(
            Gone::after_change(ManageAppointment, Status::Booked),
            Gone::Superseded
        );
        for status in [
            Status::CancelledByPatient,
            Status::Cancelled,
            Status::ToReschedule,
            Status::Rebooked,
        ] {
            assert_eq!(
                Gone::after_change(ManageAppointment, status),
                Gone::Cancelled,
                "{status:?}"
            );
        }
        assert_eq!(
            Gone::after_change(Rebook, Status::Rebooked),
            Gone::AlreadyRebooked
        );
        assert_eq!(
            Gone::after_change(Rebook, Status::Cancelled),
            Gone::Cancelled
        );
    }

    #[test]
    fn tokens_are_random_short_and_only_their_hash_is_kept() {
        let a = LinkToken::generate();
        let b = LinkToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 22);
        assert_eq!(a.hash(), LinkToken::parse(a.as_str()).unwrap().hash());
        assert_ne!(a.hash(), b.hash());
        assert!(!a.hash().0.contains(a.as_str()));
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        let token = LinkToken::generate();
        assert!(LinkToken::parse(&token.as_str()[1..]).is_none());
        assert!(LinkToken::parse("made-up").is_none());
        assert!(LinkToken::parse(&format!("{}x", token.as_str())).is_none());
    }

    #[test]
    fn urls_are_absolute_on_the_public_base() {
        let urls = PublicUrls::new("http://127.0.0.1:3000/");
        let token = LinkToken::generate();
        assert_eq!(
            urls.modify_page(&token),
            format!("http://127.0.0.1:3000/a/{}/slots", token.as_str())
        );
    }
}
