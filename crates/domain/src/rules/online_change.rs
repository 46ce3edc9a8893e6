//! Whether the patient may still modify or cancel online (SPEC §4.1 links, §4.2).
//! One rule, used both to decide if a confirmation carries links and to allow
//! the action when the patient follows them.

use crate::appointment::{Appointment, Status};
use crate::settings::PractitionerSettings;
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhyNot {
    NotBooked(Status),
    OnlineBookingOff,
    ReasonNotOnline,
    DeadlinePassed { deadline: DateTime<Utc> },
}

/// The last moment the patient may act: `start - modify_cancel_deadline_hours`.
pub fn deadline(settings: &PractitionerSettings, appointment: &Appointment) -> DateTime<Utc> {
    appointment.start
        - Duration::hours(i64::from(
            settings.online_booking.modify_cancel_deadline_hours,
        ))
}

pub fn patient_may_change_online(
    settings: &PractitionerSettings,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<(), WhyNot> {
    if appointment.status != Status::Booked {
        return Err(WhyNot::NotBooked(appointment.status));
    }
    online_for(settings, appointment)?;
    let deadline = deadline(settings, appointment);
    if now >= deadline {
        return Err(WhyNot::DeadlinePassed { deadline });
    }
    Ok(())
}

/// Whether the patient may book a replacement from a rebooking link (SPEC §4.4).
pub fn patient_may_rebook_online(
    settings: &PractitionerSettings,
    appointment: &Appointment,
) -> Result<(), WhyNot> {
    if appointment.status != Status::ToReschedule {
        return Err(WhyNot::NotBooked(appointment.status));
    }
    online_for(settings, appointment)
}

/// Online booking is on, and the appointment's reason is ticked for it.
fn online_for(settings: &PractitionerSettings, appointment: &Appointment) -> Result<(), WhyNot> {
    if !settings.online_booking.enabled {
        return Err(WhyNot::OnlineBookingOff);
    }
    let online_reason = settings
        .reason(&appointment.reason_id)
        .is_some_and(|r| r.online_booking);
    if !online_reason {
        return Err(WhyNot::ReasonNotOnline);
    }
    Ok(())
}

impl WhyNot {
    /// What the patient's page says, in the patient's language.
    pub fn describe(&self, zone: crate::time::Zone, language: crate::contact::Language) -> String {
        use crate::contact::Language::{En, Fr};
        match (self, language) {
            (Self::NotBooked(Status::CancelledByPatient), Fr) => {
                "Ce rendez-vous a été annulé.".into()
            }
            (Self::NotBooked(Status::CancelledByPatient), En) => {
                "This appointment has been cancelled.".into()
            }
            (Self::NotBooked(Status::Rebooked), Fr) => {
                "Ce rendez-vous a été annulé et remplacé par un nouveau rendez-vous.".into()
            }
            (Self::NotBooked(Status::Rebooked), En) => {
                "This appointment was cancelled and replaced by a new one.".into()
            }
            (Self::NotBooked(_), Fr) => "Ce rendez-vous a été annulé par le cabinet.".into(),
            (Self::NotBooked(_), En) => "This appointment was cancelled by the practice.".into(),
            (Self::OnlineBookingOff | Self::ReasonNotOnline, Fr) => {
                "Ce rendez-vous ne peut pas être modifié ou annulé en ligne.".into()
            }
            (Self::OnlineBookingOff | Self::ReasonNotOnline, En) => {
                "This appointment cannot be changed or cancelled online.".into()
            }
            (Self::DeadlinePassed { deadline }, language) => {
                let when = crate::messages::dates::long_date_time(*deadline, zone, language);
                match language {
                    Fr => format!(
                        "Le délai pour modifier ou annuler en ligne est passé (il courait jusqu'au {when})."
                    ),
                    En => format!(
                        "The time to change or cancel online is over (it ran until {when})."
                    ),
                }
            }
        }
    }
}

impl WhyNot {
    /// The same, said on a rebooking page (SPEC §4.4).
    pub fn describe_rebooking(
        &self,
        zone: crate::time::Zone,
        language: crate::contact::Language,
    ) -> String {
        use crate::contact::Language::{En, Fr};
        match (self, language) {
            (Self::OnlineBookingOff | Self::ReasonNotOnline, Fr) => {
                "Ce rendez-vous ne peut pas être repris en ligne.".into()
            }
            (Self::OnlineBookingOff | Self::ReasonNotOnline, En) => {
                "This appointment cannot be booked again online.".into()
            }
            (Self::NotBooked(Status::Rebooked), Fr) => {
                "Un nouveau rendez-vous a déjà été pris à la place de celui-ci.".into()
            }
            (Self::NotBooked(Status::Rebooked), En) => {
                "A new appointment has already been booked in place of this one.".into()
            }
            (Self::NotBooked(_), Fr) => "Ce rendez-vous ne peut plus être repris en ligne.".into(),
            (Self::NotBooked(_), En) => {
                "This appointment can no longer be booked again online.".into()
            }
            _ => self.describe(zone, language),
        }
    }
}
