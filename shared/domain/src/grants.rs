//! Who may act for a practitioner (SPEC §6.1): grants kept by this system,
//! never a claim or attribute the user could write. A grant gives one
//! caller (the token's `sub`) a role on one practitioner; what each role may
//! do is decided in one place, [`Role::may`].

use crate::ids::PractitionerId;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a Lambda instance trusts the grants it read (SPEC §6.1: a
/// removed grant stops working within this time; at most a minute).
pub const GRANT_CACHE_SECONDS: i64 = 30;

/// A display name is for history and the members list: a person's name.
const MAX_NAME_CHARS: usize = 120;

/// A caller as the identity provider names it: the JWT's `sub` (a Cognito
/// user's UUID), or locally what follows `local-`. Safe in a URL path
/// segment and a DynamoDB key: 1 to 128 of letters, digits and `-._~@+|:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[A-Za-z0-9._~@+|:-]{1,128}$"))]
pub struct MemberSub(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("must be 1 to 128 letters, digits or -._~@+|:")]
pub struct InvalidSub;

impl MemberSub {
    pub fn parse(s: impl Into<String>) -> Result<Self, InvalidSub> {
        let s = s.into();
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~@+|:".contains(&b);
        // `patient` and `system` are the history's other actors.
        let reserved = s == "patient" || s == "system";
        if !s.is_empty() && s.len() <= 128 && s.bytes().all(allowed) && !reserved {
            Ok(Self(s))
        } else {
            Err(InvalidSub)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MemberSub {
    type Error = InvalidSub;
    fn try_from(s: String) -> Result<Self, InvalidSub> {
        Self::parse(s)
    }
}
impl From<MemberSub> for String {
    fn from(sub: MemberSub) -> String {
        sub.0
    }
}
impl fmt::Display for MemberSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who made a change: a member of the practice (their token's `sub`), the
/// patient (a link, online booking), or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Actor {
    Member(MemberSub),
    Patient,
    /// Versions stored before actors were recorded read as the system's.
    #[default]
    System,
}

const PATIENT: &str = "patient";
const SYSTEM: &str = "system";

impl Actor {
    pub fn as_str(&self) -> &str {
        match self {
            Actor::Member(sub) => sub.as_str(),
            Actor::Patient => PATIENT,
            Actor::System => SYSTEM,
        }
    }

    /// As written: `patient`, `system`, or a member's `sub` (no member's
    /// `sub` is either word: [`MemberSub::parse`] refuses them).
    pub fn parse(text: &str) -> Option<Actor> {
        match text {
            PATIENT => Some(Actor::Patient),
            SYSTEM => Some(Actor::System),
            sub => MemberSub::parse(sub).ok().map(Actor::Member),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Actor::parse(&text).ok_or_else(|| serde::de::Error::custom("not an actor"))
    }
}

/// A member's role on one practitioner (SPEC §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Everything, settings, members and data rights included.
    Owner,
    /// The agenda's daily work; reads the settings, never changes them.
    Secretariat,
}

/// What a practitioner route asks to do, as a role is judged on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// Agenda, appointments, statuses, absences, waitlist, stats, history.
    WorkTheAgenda,
    ReadSettings,
    ChangeSettings,
    ManageMembers,
    /// A patient's export and erasure (GDPR).
    ExerciseDataRights,
}

impl Role {
    /// What a role may do (SPEC §6.1): the one place that decides it.
    pub fn may(self, act: Act) -> bool {
        match (self, act) {
            (Role::Owner, _) => true,
            (Role::Secretariat, Act::WorkTheAgenda | Act::ReadSettings) => true,
            (Role::Secretariat, Act::ChangeSettings | Act::ManageMembers) => false,
            (Role::Secretariat, Act::ExerciseDataRights) => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Secretariat => "secretariat",
        }
    }
}

/// One grant: `sub` has `role` on the practitioner; `name` is how history
/// and the members list show that person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub sub: MemberSub,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `PUT …/members/{sub}`: the role, and optionally a display name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberRequest {
    pub role: Role,
    #[serde(default)]
    pub name: Option<String>,
}

impl MemberRequest {
    /// The member it describes, or every invalid field.
    pub fn validate(&self, sub: MemberSub) -> Result<Member, Vec<FieldError>> {
        let name =
            crate::text::clean_optional(self.name.as_deref(), MAX_NAME_CHARS).map_err(|e| {
                vec![FieldError {
                    field: "name".into(),
                    message: e.to_string(),
                }]
            })?;
        Ok(Member {
            sub,
            role: self.role,
            name,
        })
    }
}

/// Every grant on one practitioner, as stored, with the revision the store
/// writes against (0: none stored yet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    pub members: Vec<Member>,
    pub revision: u64,
}

/// Why a change to the members is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembersError {
    /// SPEC §6.1: a practitioner always keeps an owner (409).
    #[error("the last owner cannot be removed or become secretariat")]
    LastOwner,
    #[error("no such member")]
    NotAMember,
}

impl Members {
    pub fn role_of(&self, sub: &MemberSub) -> Option<Role> {
        self.members.iter().find(|m| &m.sub == sub).map(|m| m.role)
    }

    fn owners_but(&self, sub: &MemberSub) -> usize {
        self.members
            .iter()
            .filter(|m| m.role == Role::Owner && &m.sub != sub)
            .count()
    }

    /// The members with `member` added or changed; refused when it would
    /// leave no owner (an owner who steps down needs another owner).
    pub fn with(&self, member: Member) -> Result<Members, MembersError> {
        let was_owner = self.role_of(&member.sub) == Some(Role::Owner);
        if was_owner && member.role != Role::Owner && self.owners_but(&member.sub) == 0 {
            return Err(MembersError::LastOwner);
        }
        let mut members: Vec<Member> = self
            .members
            .iter()
            .filter(|m| m.sub != member.sub)
            .cloned()
            .collect();
        members.push(member);
        members.sort_by(|a, b| a.sub.cmp(&b.sub));
        Ok(Members {
            members,
            revision: self.revision,
        })
    }

    /// The members without `sub`; the last owner stays (SPEC §6.1).
    pub fn without(&self, sub: &MemberSub) -> Result<Members, MembersError> {
        match self.role_of(sub) {
            None => Err(MembersError::NotAMember),
            Some(Role::Owner) if self.owners_but(sub) == 0 => Err(MembersError::LastOwner),
            Some(_) => Ok(Members {
                members: self
                    .members
                    .iter()
                    .filter(|m| &m.sub != sub)
                    .cloned()
                    .collect(),
                revision: self.revision,
            }),
        }
    }
}

/// The two grants of a practitioner created in local mode (SPEC §6.1, §8):
/// `<id>` as owner and `<id>.secretariat` as secretariat (practitioner ids
/// never hold a dot, so neither is another practitioner's).
pub fn local_practice(practitioner: &PractitionerId) -> Members {
    let sub = |s: String| MemberSub::parse(s).map_err(|_| ());
    let mut members = Vec::new();
    if let Ok(owner) = sub(practitioner.to_string()) {
        members.push(Member {
            sub: owner,
            role: Role::Owner,
            name: None,
        });
    }
    if let Ok(secretariat) = sub(format!("{practitioner}.secretariat")) {
        members.push(Member {
            sub: secretariat,
            role: Role::Secretariat,
            name: None,
        });
    }
    Members {
        members,
        revision: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(s: &str) -> MemberSub {
        MemberSub::parse(s).unwrap()
    }

    fn member(s: &str, role: Role) -> Member {
        Member {
            sub: sub(s),
            role,
            name: None,
        }
    }

    #[test]
    fn the_secretariat_works_the_agenda_and_reads_settings_only() {
        for act in [Act::WorkTheAgenda, Act::ReadSettings] {
            assert!(Role::Secretariat.may(act));
            assert!(Role::Owner.may(act));
        }
        for act in [
            Act::ChangeSettings,
            Act::ManageMembers,
            Act::ExerciseDataRights,
        ] {
            assert!(!Role::Secretariat.may(act), "{act:?}");
            assert!(Role::Owner.may(act), "{act:?}");
        }
    }

    #[test]
    fn a_practice_always_keeps_an_owner() {
        let one = Members::default()
            .with(member("alice", Role::Owner))
            .unwrap()
            .with(member("bob", Role::Secretariat))
            .unwrap();
        assert_eq!(one.without(&sub("alice")), Err(MembersError::LastOwner));
        assert_eq!(
            one.with(member("alice", Role::Secretariat)),
            Err(MembersError::LastOwner)
        );
        assert_eq!(one.without(&sub("carol")), Err(MembersError::NotAMember));
        let two = one.with(member("bob", Role::Owner)).unwrap();
        let left = two.without(&sub("alice")).unwrap();
        assert_eq!(left.role_of(&sub("bob")), Some(Role::Owner));
        assert_eq!(left.role_of(&sub("alice")), None);
    }

    #[test]
    fn subs_are_safe_in_a_path_and_a_key() {
        for good in [
            "0b6c1d2e-5f4a-4c3b-9d8e-7f6a5b4c3d2e",
            "dr-martin.secretariat",
            "auth0|123",
        ] {
            assert!(MemberSub::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "a#b",
            "é",
            "patient",
            "system",
            &"x".repeat(129),
        ] {
            assert!(MemberSub::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_local_practice_has_its_owner_and_its_secretariat() {
        let members = local_practice(&PractitionerId::parse("dr-roux").unwrap());
        assert_eq!(members.role_of(&sub("dr-roux")), Some(Role::Owner));
        assert_eq!(
            members.role_of(&sub("dr-roux.secretariat")),
            Some(Role::Secretariat)
        );
    }
}
