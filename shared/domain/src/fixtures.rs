//! Sample values for the tests of every crate: Dr Martin's settings and a booked
//! appointment of Jeanne Dupont's. Not used by the functions themselves.
#![allow(
    clippy::expect_used,
    reason = "test samples: a sample that does not parse fails the test that uses it"
)]

use crate::appointment::{Appointment, Change, Source, Status};
use crate::contact::{Email, Patient, PersonName};
use crate::ids::{AppointmentId, PractitionerId, ReasonId};
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Duration, Utc};

/// `"2026-12-03T13:30:00Z"` as a time.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("an RFC 3339 time")
}

/// The settings document of SPEC §6.5.
pub fn settings_json() -> serde_json::Value {
    serde_json::json!({
        "name": "Dr Marie Martin", "profession": "Médecin généraliste",
        "address": "12 rue de la Paix, 75002 Paris", "secretariat_phone": "+33140000000",
        "timezone": "Europe/Paris", "language": "fr",
        "reasons": [
            {"id": "consultation", "label": "Consultation", "duration_minutes": 20,
             "confirmation_email": true, "online_booking": true, "sms_reminder": true}
        ],
        "email_service": {"enabled": true, "reminder_hours_before": 48},
        "sms_service": {"enabled": true, "reminder_hours_before": 24, "cancellation_sms": true},
        "online_booking": {"enabled": true, "modify_cancel_deadline_hours": 24, "booking_horizon_days": 60, "min_notice_hours": 2},
        "opening_hours": {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}],
                          "tuesday": []},
        "quiet_hours": {"start": "21:00", "end": "08:00"}
    })
}

pub fn dr_martin() -> PractitionerSettings {
    serde_json::from_value::<PractitionerSettings>(settings_json())
        .expect("the sample reads as settings")
        .validated(PractitionerId::parse("dr-martin").expect("valid id"))
        .expect("the sample is valid")
}

/// Jeanne Dupont, with an e-mail address and no mobile number.
pub fn jeanne() -> Patient {
    Patient {
        first_name: PersonName::parse("Jeanne").expect("valid name"),
        last_name: PersonName::parse("Dupont").expect("valid name"),
        email: Some(Email::parse("jeanne@example.org").expect("valid address")),
        mobile: None,
        language: None,
    }
}

/// A booked `consultation` of Dr Martin's for Jeanne, entered by the practitioner side.
pub fn booked(start: DateTime<Utc>, minutes: i64) -> Appointment {
    Appointment {
        id: AppointmentId::new(),
        practitioner_id: PractitionerId::parse("dr-martin").expect("valid id"),
        reason_id: ReasonId::parse("consultation").expect("valid id"),
        start,
        end: start + Duration::minutes(minutes),
        patient: jeanne(),
        status: Status::Booked,
        source: Source::Practitioner,
        version: 1,
        replaces: None,
        last_change: Change::Created,
        created_at: start,
        updated_at: start,
        links_version: None,
        by: crate::history::Actor::System,
    }
}

/// Gives `sub` the role `role` on `practitioner`, as an owner (or the
/// operator) would: what a test's caller needs before any practitioner route.
pub async fn grant(
    store: &(impl crate::ports::GrantStore + ?Sized),
    practitioner: &str,
    sub: &str,
    role: crate::grants::Role,
) {
    let practitioner = PractitionerId::parse(practitioner).expect("a practitioner id");
    let member = crate::grants::Member {
        sub: crate::grants::MemberSub::parse(sub).expect("a sub"),
        role,
        name: None,
    };
    let stored = store.members(&practitioner).await.expect("members read");
    let next = stored.with(member).expect("a grant that leaves an owner");
    assert!(
        store
            .put_members(&practitioner, &next, None)
            .await
            .expect("members written"),
        "nobody else changes the members of a test's practitioner"
    );
}

/// A practice as local mode creates it: `<id>` owner, `<id>.secretariat`.
pub async fn practice(store: &(impl crate::ports::GrantStore + ?Sized), practitioner: &str) {
    grant(
        store,
        practitioner,
        practitioner,
        crate::grants::Role::Owner,
    )
    .await;
    grant(
        store,
        practitioner,
        &format!("{practitioner}.secretariat"),
        crate::grants::Role::Secretariat,
    )
    .await;
}
