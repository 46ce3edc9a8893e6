//! Keyed hashes (HMAC-SHA256, RFC 2104) of what the store must find again
//! but never hold in clear: an online booker's verification code, the
//! e-mail address a code was sent to, a contact (SPEC §6.2: "an index of
//! keyed hashes"), a source address counted by a quota.
//!
//! A plain hash of a 6-digit code or of a phone number is reversed by
//! hashing every candidate; with the key, which lives outside the table (a
//! secret the stack generates, docs/decisions.md), a copy of the table
//! alone reverses nothing. One key, one purpose string per use, so a hash of
//! one kind never matches another.

use crate::contact::{Email, Mobile};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// SHA-256 works on 64-byte blocks (RFC 2104's `B`).
const BLOCK: usize = 64;

/// The secret key of the keyed hashes. Never printed.
#[derive(Clone)]
pub struct HashKey(Vec<u8>);

/// Shorter keys would weaken the hashes: the stack's secret is 64 characters.
pub const MIN_KEY_BYTES: usize = 32;

impl HashKey {
    /// `None` for a key shorter than [`MIN_KEY_BYTES`].
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= MIN_KEY_BYTES).then(|| Self(bytes.to_vec()))
    }

    /// Local mode's key, stated here and in docs/decisions.md: it protects
    /// nothing (local mode's data is a developer's), and it stays the same
    /// across restarts of local mode on a kept table.
    pub fn local_mode() -> Self {
        Self(Self::local_mode_bytes().to_vec())
    }

    pub fn local_mode_bytes() -> &'static [u8] {
        b"local mode's contact key: not a secret, never on AWS"
    }

    /// HMAC-SHA256 of `purpose`, a separator and `data`.
    fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, &[purpose.as_bytes(), &[0], data])
    }

    /// The keyed hash of `data` for `purpose`, in hex.
    pub fn digest(&self, purpose: &str, data: &[u8]) -> Digest {
        Digest(hex(&self.mac(purpose, data)))
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashKey(<redacted>)")
    }
}

/// RFC 2104 over SHA-256: the message is the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let mut inner = Sha256::new().chain_update(pad(0x36));
    for part in parts {
        inner.update(part);
    }
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner.finalize())
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A keyed hash, in hex.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub String);

impl Digest {
    /// Compared in constant time: how many leading characters of a guess
    /// are right must not show in how long the answer takes.
    pub fn matches(&self, other: &Digest) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest(<redacted>)")
    }
}

/// An e-mail address as one mailbox: `name+tag@Example.ORG` is
/// `name@example.org`. Quotas and the per-patient limit count mailboxes, so
/// tags and capitals do not make new ones (docs/decisions.md).
pub fn mailbox(email: &Email) -> String {
    let address = email.as_str().to_lowercase();
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(name, _tag)| name);
            format!("{local}@{domain}")
        }
        None => address,
    }
}

/// A patient's contact as the store finds it without holding it: the keyed
/// hash of the mailbox of an e-mail address, or of a mobile in E.164. The
/// per-patient limit of online bookings (SPEC §2) counts by it, and the
/// data-rights index (SPEC §6.2) can use the same values.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactHash(pub String);

impl ContactHash {
    pub fn of_email(key: &HashKey, email: &Email) -> Self {
        Self(key.digest("contact-email", mailbox(email).as_bytes()).0)
    }

    pub fn of_mobile(key: &HashKey, mobile: &Mobile) -> Self {
        Self(key.digest("contact-mobile", mobile.e164().as_bytes()).0)
    }
}

impl fmt::Debug for ContactHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test cases 2 (a key shorter than a block) and 6 (longer).
    #[test]
    fn the_mac_is_hmac_sha256() {
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_tag_or_capitals_make_no_new_mailbox() {
        let email = |s: &str| Email::parse(s).unwrap();
        assert_eq!(
            mailbox(&email("Jeanne+rdv@Example.ORG")),
            "jeanne@example.org"
        );
        let key = HashKey::local_mode();
        assert_eq!(
            ContactHash::of_email(&key, &email("jeanne+1@example.org")),
            ContactHash::of_email(&key, &email("JEANNE@example.org"))
        );
        assert_ne!(
            ContactHash::of_email(&key, &email("jeanne@example.org")),
            ContactHash::of_email(&key, &email("jean@example.org"))
        );
    }

    #[test]
    fn digests_compare_whole_and_by_purpose() {
        let key = HashKey::local_mode();
        let a = key.digest("code", b"123456");
        assert!(a.matches(&key.digest("code", b"123456")));
        assert!(!a.matches(&key.digest("code", b"123457")));
        assert!(!a.matches(&key.digest("other", b"123456")));
        assert!(!a.matches(&Digest(a.0[..10].to_string())));
        assert!(HashKey::new(b"short").is_none());
    }
}
