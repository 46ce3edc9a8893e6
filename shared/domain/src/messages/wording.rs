//! Every sentence a patient or the secretariat reads outside a whole message:
//! French and English side by side, one function per sentence, chosen from the
//! domain's values (why a message was skipped, why an action is refused, what
//! a page is about). Rules and services return those values and never words;
//! whole e-mails, SMS and pages are the templates under `templates/`, which
//! receive these sentences as values.

use super::dates;
use crate::appointment::Status;
use crate::communications::ReportedOutcome;
use crate::contact::Language::{self, En, Fr};
use crate::links::{Gone, LinkPurpose};
use crate::rules::SkipReason;
use crate::rules::online_change::{Refusal, WhyNot};
use crate::time::Zone;
use chrono::{DateTime, Utc};

// ---------------------------------------------------------------------------
// The communications log (SPEC §5): the secretariat reads these. Their texts
// and codes are read by the front end and the tests: change neither lightly.
// ---------------------------------------------------------------------------

/// Why a message was not sent (code: [`SkipReason::code`]).
pub fn skip_reason(reason: SkipReason, language: Language) -> &'static str {
    use SkipReason::*;
    match (reason, language) {
        (NoEmail, Fr) => "pas d'adresse e-mail sur la fiche contact",
        (NoEmail, En) => "no e-mail address on the contact",
        (NoMobile, Fr) => "pas de numéro de portable sur la fiche contact",
        (NoMobile, En) => "no mobile number on the contact",
        (EmailServiceDisabled, Fr) => "service e-mail désactivé",
        (EmailServiceDisabled, En) => "e-mail service disabled",
        (SmsServiceDisabled, Fr) => "service SMS désactivé",
        (SmsServiceDisabled, En) => "SMS service disabled",
        (ReasonNotTickedForConfirmation, Fr) => "motif non coché pour l'e-mail de confirmation",
        (ReasonNotTickedForConfirmation, En) => "reason not ticked for e-mail confirmation",
        (ReasonNotTickedForSmsReminder, Fr) => "motif non coché pour le rappel SMS",
        (ReasonNotTickedForSmsReminder, En) => "reason not ticked for SMS reminders",
        (CancellationSmsDisabled, Fr) => "SMS d'annulation désactivé",
        (CancellationSmsDisabled, En) => "cancellation SMS disabled",
        (CancellationSmsNotRequested, Fr) => "SMS d'annulation non demandé lors du report",
        (CancellationSmsNotRequested, En) => {
            "cancellation SMS not requested when the appointment was set to reschedule"
        }
        (NoReminderDelay, Fr) => "aucun délai de rappel choisi",
        (NoReminderDelay, En) => "no reminder delay chosen",
        (ReminderTimeAlreadyPassed, Fr) => {
            "l'heure du rappel était déjà passée à la prise du rendez-vous"
        }
        (ReminderTimeAlreadyPassed, En) => {
            "the reminder time had already passed when the appointment was booked"
        }
        (AppointmentNoLongerBooked, Fr) => "le rendez-vous n'est plus confirmé",
        (AppointmentNoLongerBooked, En) => "the appointment is no longer booked",
        (SupersededByLaterChange, Fr) => "le rendez-vous a de nouveau changé avant l'envoi",
        (SupersededByLaterChange, En) => {
            "the appointment changed again before the message went out"
        }
        (UnknownReason, Fr) => "motif de rendez-vous introuvable dans les paramètres",
        (UnknownReason, En) => "reason of appointment not found in the settings",
        (PractitionerUnknown, Fr) => "paramètres du praticien introuvables",
        (PractitionerUnknown, En) => "practitioner settings not found",
        (AppointmentAlreadyStarted, Fr) => {
            "le rendez-vous avait déjà commencé à l'heure d'envoi du rappel"
        }
        (AppointmentAlreadyStarted, En) => {
            "the appointment had already begun when the reminder could be sent"
        }
        (QuietHoursUntilAppointment, Fr) => {
            "heures de silence SMS jusqu'au rendez-vous, rappel non envoyé"
        }
        (QuietHoursUntilAppointment, En) => {
            "SMS quiet hours last until the appointment, no reminder sent"
        }
        (CancelledAfterStart, Fr) => "le rendez-vous avait déjà commencé",
        (CancelledAfterStart, En) => "the appointment had already started",
        (CountryNotTexted, Fr) => "numéro de portable d'un pays où le cabinet n'envoie pas de SMS",
        (CountryNotTexted, En) => "mobile number of a country the practice does not text",
    }
}

/// A message the sending service refused (code `refused_by_provider`).
pub fn refused_by_provider(language: Language) -> &'static str {
    match language {
        Fr => "refusé par le service d'envoi (adresse ou numéro invalide ?)",
        En => "refused by the sending service (invalid address or number?)",
    }
}

/// A message its sending service kept refusing for passing reasons until
/// delivery gave up (code `service_unavailable_too_long`).
pub fn unavailable_too_long(
    channel: crate::communications::Channel,
    language: Language,
) -> &'static str {
    use crate::communications::Channel::{Email, Sms};
    match (channel, language) {
        (Email, Fr) => "le service d'envoi des e-mails est resté indisponible trop longtemps",
        (Sms, Fr) => "le service d'envoi des SMS est resté indisponible trop longtemps",
        (Email, En) => "the e-mail service was unavailable for too long",
        (Sms, En) => "the SMS service was unavailable for too long",
    }
}

/// What the provider reported about a message that did not reach the
/// patient (code: [`ReportedOutcome::code`]); `None` for a delivery.
pub fn delivery_feedback(outcome: ReportedOutcome, language: Language) -> Option<&'static str> {
    use ReportedOutcome::*;
    Some(match (outcome, language) {
        (Delivered, _) => return None,
        (Bounced { permanent: true }, Fr) => {
            "l'adresse e-mail n'existe pas ou refuse le courrier (rejet définitif)"
        }
        (Bounced { permanent: true }, En) => {
            "the e-mail address does not exist or refuses mail (permanent bounce)"
        }
        (Bounced { permanent: false }, Fr) => {
            "la boîte du patient a refusé l'e-mail (pleine ou indisponible)"
        }
        (Bounced { permanent: false }, En) => {
            "the patient's mailbox refused the e-mail (full or unavailable)"
        }
        (Suppressed, Fr) => {
            "adresse sur la liste de suppression d'Amazon SES (rejets ou plaintes passés) : e-mail non envoyé"
        }
        (Suppressed, En) => {
            "address on Amazon SES's suppression list (earlier bounces or complaints): e-mail not sent"
        }
        (Rejected, Fr) => "refusé par le service d'envoi des e-mails (contenu)",
        (Rejected, En) => "refused by the e-mail service (content)",
        (Complained, Fr) => "le patient a signalé l'e-mail comme indésirable",
        (Complained, En) => "the patient marked the e-mail as spam",
        (Undelivered, Fr) => "l'opérateur n'a pas pu remettre le SMS au téléphone",
        (Undelivered, En) => "the carrier could not deliver the SMS to the phone",
    })
}

/// An SMS held until the end of the quiet hours (code `quiet_hours`).
pub fn held_through_quiet_hours(language: Language) -> &'static str {
    match language {
        Fr => "envoi différé à la fin des heures de silence",
        En => "held until the quiet hours end",
    }
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// The title of the calendar event attached to a confirmation.
pub fn calendar_title(practitioner: &str, language: Language) -> String {
    match language {
        Fr => format!("Rendez-vous avec {practitioner}"),
        En => format!("Appointment with {practitioner}"),
    }
}

// ---------------------------------------------------------------------------
// Patient pages (SPEC §6.4), and the `why_not` of their JSON views
// ---------------------------------------------------------------------------

/// Why the patient may not modify or cancel online, from the appointment's links.
pub fn why_not(why: &WhyNot, zone: Zone, language: Language) -> String {
    match (why, language) {
        (WhyNot::NotBooked(Status::CancelledByPatient), Fr) => {
            "Ce rendez-vous a été annulé.".into()
        }
        (WhyNot::NotBooked(Status::CancelledByPatient), En) => {
            "This appointment has been cancelled.".into()
        }
        (WhyNot::NotBooked(Status::Rebooked), Fr) => {
            "Ce rendez-vous a été annulé et remplacé par un nouveau rendez-vous.".into()
        }
        (WhyNot::NotBooked(Status::Rebooked), En) => {
            "This appointment was cancelled and replaced by a new one.".into()
        }
        (WhyNot::NotBooked(_), Fr) => "Ce rendez-vous a été annulé par le cabinet.".into(),
        (WhyNot::NotBooked(_), En) => "This appointment was cancelled by the practice.".into(),
        (WhyNot::OnlineBookingOff | WhyNot::ReasonNotOnline, Fr) => {
            "Ce rendez-vous ne peut pas être modifié ou annulé en ligne.".into()
        }
        (WhyNot::OnlineBookingOff | WhyNot::ReasonNotOnline, En) => {
            "This appointment cannot be changed or cancelled online.".into()
        }
        (WhyNot::DeadlinePassed { deadline }, language) => {
            let when = dates::long_date_time(*deadline, zone, language);
            match language {
                Fr => format!(
                    "Le délai pour modifier ou annuler en ligne est passé (il courait jusqu'au {when})."
                ),
                En => format!("The time to change or cancel online is over (it ran until {when})."),
            }
        }
    }
}

/// Why the patient may not book again online, from a rebooking link (SPEC §4.4).
pub fn why_not_rebooking(why: &WhyNot, zone: Zone, language: Language) -> String {
    match (why, language) {
        (WhyNot::OnlineBookingOff | WhyNot::ReasonNotOnline, Fr) => {
            "Ce rendez-vous ne peut pas être repris en ligne.".into()
        }
        (WhyNot::OnlineBookingOff | WhyNot::ReasonNotOnline, En) => {
            "This appointment cannot be booked again online.".into()
        }
        (WhyNot::NotBooked(Status::Rebooked), Fr) => {
            "Un nouveau rendez-vous a déjà été pris à la place de celui-ci.".into()
        }
        (WhyNot::NotBooked(Status::Rebooked), En) => {
            "A new appointment has already been booked in place of this one.".into()
        }
        (WhyNot::NotBooked(_), Fr) => "Ce rendez-vous ne peut plus être repris en ligne.".into(),
        (WhyNot::NotBooked(_), En) => {
            "This appointment can no longer be booked again online.".into()
        }
        _ => why_not(why, zone, language),
    }
}

/// Why the action the patient posted from a link of `purpose` was refused.
pub fn refusal(why: &Refusal, purpose: LinkPurpose, zone: Zone, language: Language) -> String {
    match (why, language) {
        (Refusal::NotAllowed(why), _) if purpose == LinkPurpose::Rebook => {
            why_not_rebooking(why, zone, language)
        }
        (Refusal::NotAllowed(why), _) => why_not(why, zone, language),
        (Refusal::SlotNotOffered, Fr) => {
            "Cet horaire n'est pas proposé en ligne. Choisissez un des créneaux de la liste.".into()
        }
        (Refusal::SlotNotOffered, En) => {
            "This time is not offered online. Choose one of the listed slots.".into()
        }
        (Refusal::SlotTaken, Fr) => "Ce créneau vient d'être pris. Choisissez-en un autre.".into(),
        (Refusal::SlotTaken, En) => {
            "This slot has just been taken. Please choose another one.".into()
        }
        (Refusal::InvalidStart, Fr) => "Choisissez un créneau dans la liste.".into(),
        (Refusal::InvalidStart, En) => "Choose a slot from the list.".into(),
    }
}

/// The heading of the appointment page.
pub fn appointment_heading(status: Status, language: Language) -> &'static str {
    match (status, language) {
        (Status::Booked, Fr) => "Votre rendez-vous",
        (Status::Booked, En) => "Your appointment",
        (_, Fr) => "Rendez-vous annulé",
        (_, En) => "Cancelled appointment",
    }
}

/// What a page of free slots says around them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotsPageWords {
    /// The page's heading and title.
    pub heading: &'static str,
    /// Before the appointment the patient has (or had).
    pub current_label: &'static str,
    pub submit_label: &'static str,
}

/// The page to move an appointment to another slot.
pub fn move_page_words(language: Language) -> SlotsPageWords {
    match language {
        Fr => SlotsPageWords {
            heading: "Choisir un autre horaire",
            current_label: "Rendez-vous actuel",
            submit_label: "Déplacer mon rendez-vous",
        },
        En => SlotsPageWords {
            heading: "Choose another time",
            current_label: "Current appointment",
            submit_label: "Move my appointment",
        },
    }
}

/// The page to book again after the practice cancelled (SPEC §4.4).
pub fn rebook_page_words(language: Language) -> SlotsPageWords {
    match language {
        Fr => SlotsPageWords {
            heading: "Reprendre un rendez-vous",
            current_label: "Rendez-vous annulé par le cabinet",
            submit_label: "Réserver ce créneau",
        },
        En => SlotsPageWords {
            heading: "Book a new appointment",
            current_label: "Appointment cancelled by the practice",
            submit_label: "Book this slot",
        },
    }
}

/// A page that explains why there is nothing to show: heading, then explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    pub heading: &'static str,
    pub explanation: &'static str,
}

/// A link that leads nowhere: `gone` when it is a real link that no longer
/// works, `None` when it is unknown.
pub fn link_error(gone: Option<Gone>, language: Language) -> Explanation {
    let (heading, explanation) = match (gone, language) {
        (Some(Gone::Superseded), Fr) => (
            "Ce lien n'est plus valable",
            "Votre rendez-vous a changé depuis l'envoi de ce lien. Utilisez les liens du dernier e-mail reçu.",
        ),
        (Some(Gone::Superseded), En) => (
            "This link is no longer valid",
            "Your appointment has changed since this link was sent. Use the links of the latest e-mail you received.",
        ),
        (Some(Gone::Cancelled), Fr) => (
            "Ce rendez-vous a été annulé",
            "Ce lien ne sert plus. Pour prendre un autre rendez-vous, utilisez le lien du dernier message reçu, s'il en propose un, ou appelez le secrétariat.",
        ),
        (Some(Gone::Cancelled), En) => (
            "This appointment was cancelled",
            "This link no longer works. To book another appointment, use the link of the latest message you received, if it offers one, or call the secretariat.",
        ),
        (Some(Gone::AlreadyRebooked), Fr) => (
            "Vous avez déjà repris rendez-vous",
            "Ce lien a déjà servi. Votre nouveau rendez-vous figure dans l'e-mail de confirmation ; ses liens permettent de le modifier ou de l'annuler.",
        ),
        (Some(Gone::AlreadyRebooked), En) => (
            "You have already booked a new appointment",
            "This link has been used. Your new appointment is in the confirmation e-mail, whose links let you change or cancel it.",
        ),
        (Some(Gone::Expired), Fr) => (
            "Ce lien a expiré",
            "Le rendez-vous auquel il se rapporte est passé.",
        ),
        (Some(Gone::Expired), En) => (
            "This link has expired",
            "The appointment it was for is over.",
        ),
        (None, Fr) => (
            "Lien introuvable",
            "Ce lien n'existe pas ou a été mal recopié. Vérifiez qu'il est complet.",
        ),
        (None, En) => (
            "Link not found",
            "This link does not exist or was copied incompletely. Check that it is complete.",
        ),
    };
    Explanation {
        heading,
        explanation,
    }
}

/// When the service cannot answer: try again.
pub fn unavailable(language: Language) -> Explanation {
    let (heading, explanation) = match language {
        Fr => (
            "Service momentanément indisponible",
            "Nous ne pouvons pas afficher votre rendez-vous pour l'instant. Réessayez dans quelques minutes.",
        ),
        En => (
            "Service temporarily unavailable",
            "We cannot show your appointment right now. Please try again in a few minutes.",
        ),
    };
    Explanation {
        heading,
        explanation,
    }
}

/// A form posted from another site: nothing was done; use the link itself.
pub fn cross_site(language: Language) -> Explanation {
    let (heading, explanation) = match language {
        Fr => (
            "Demande refusée",
            "Ce formulaire a été envoyé depuis un autre site : rien n'a été modifié. Pour annuler ou déplacer votre rendez-vous, ouvrez le lien de l'e-mail ou du SMS que vous avez reçu et utilisez les boutons de cette page.",
        ),
        En => (
            "Request refused",
            "This form was sent from another site: nothing was changed. To cancel or move your appointment, open the link in the e-mail or SMS you received and use the buttons on that page.",
        ),
    };
    Explanation {
        heading,
        explanation,
    }
}

// The patient pages' frame: the words around the values. One template per
// page (`templates/pages/`) receives them, so both languages say the same.

/// The appointment page's title (the browser's tab).
pub fn appointment_title(practitioner: &str, language: Language) -> String {
    match language {
        Fr => format!("Votre rendez-vous avec {practitioner}"),
        En => format!("Your appointment with {practitioner}"),
    }
}

/// Before the practitioner's name: « avec Dr Martin ».
pub fn with(language: Language) -> &'static str {
    match language {
        Fr => "avec",
        En => "with",
    }
}

/// Between a label and its value: French sets a no-break space before the colon.
pub fn colon(language: Language) -> &'static str {
    match language {
        Fr => "\u{a0}:",
        En => ":",
    }
}

/// Until when the patient may change or cancel online (`until`: a date and time).
pub fn may_change_until(until: &str, language: Language) -> String {
    match language {
        Fr => format!("Vous pouvez modifier ou annuler ce rendez-vous en ligne jusqu'au {until}."),
        En => format!("You can change or cancel this appointment online until {until}."),
    }
}

/// The appointment page's button to the free slots.
pub fn move_button(language: Language) -> &'static str {
    match language {
        Fr => "Choisir un autre horaire",
        En => "Choose another time",
    }
}

/// The appointment page's button that cancels.
pub fn cancel_button(language: Language) -> &'static str {
    match language {
        Fr => "Annuler ce rendez-vous",
        En => "Cancel this appointment",
    }
}

/// Before the secretariat's phone number, which ends the sentence.
pub fn call_the_secretariat(language: Language) -> &'static str {
    match language {
        Fr => "Pour toute demande, appelez le secrétariat au",
        En => "For any request, call the secretariat on",
    }
}

/// As [`call_the_secretariat`], about the appointment a link was for.
pub fn call_about_the_appointment(practitioner: &str, language: Language) -> String {
    match language {
        Fr => format!("Pour votre rendez-vous avec {practitioner}, appelez le secrétariat au"),
        En => format!("For your appointment with {practitioner}, call the secretariat on"),
    }
}

/// When the page knows no practitioner: where the secretariat's number is.
pub fn find_the_secretariats_number(language: Language) -> &'static str {
    match language {
        Fr => {
            "Pour toute demande, appelez le secrétariat de votre praticien\u{a0}: son numéro figure dans l'e-mail ou le SMS que vous avez reçu."
        }
        En => {
            "For any request, call your practitioner's secretariat: the number is in the e-mail or text message you received."
        }
    }
}

/// A week of the slots page without a free slot (`from`, `to`: dates).
pub fn no_free_slot(from: &str, to: &str, language: Language) -> String {
    match language {
        Fr => format!("Aucun créneau libre du {from} au {to}."),
        En => format!("No free slot from {from} to {to}."),
    }
}

/// The slots page's way to the week before.
pub fn previous_week(language: Language) -> &'static str {
    match language {
        Fr => "Semaine précédente",
        En => "Previous week",
    }
}

/// The slots page's way to the week after.
pub fn next_week(language: Language) -> &'static str {
    match language {
        Fr => "Semaine suivante",
        En => "Next week",
    }
}

/// From the slots page back to the appointment page.
pub fn back_to_the_appointment(language: Language) -> &'static str {
    match language {
        Fr => "Retour au rendez-vous",
        En => "Back to the appointment",
    }
}

/// At the top of the page once the patient cancelled.
pub fn cancelled_notice(language: Language) -> &'static str {
    match language {
        Fr => "Votre rendez-vous est annulé.",
        En => "Your appointment is cancelled.",
    }
}

/// At the top of the page once the patient moved the appointment to `start`.
pub fn moved_notice(start: DateTime<Utc>, zone: Zone, language: Language) -> String {
    let when = dates::long_date_time(start, zone, language);
    match language {
        Fr => format!("Votre rendez-vous est déplacé au {when}."),
        En => format!("Your appointment is moved to {when}."),
    }
}

/// At the top of the page once the patient booked a replacement at `start`.
pub fn rebooked_notice(start: DateTime<Utc>, zone: Zone, language: Language) -> String {
    let when = dates::long_date_time(start, zone, language);
    match language {
        Fr => format!("Votre nouveau rendez-vous est réservé : {when}."),
        En => format!("Your new appointment is booked: {when}."),
    }
}

/// Below the notice, when a confirmation e-mail with new links will follow.
pub fn confirmation_follow_up(language: Language) -> &'static str {
    match language {
        Fr => {
            "Un e-mail de confirmation vous est envoyé, avec de nouveaux liens ; ceux des messages précédents ne fonctionnent plus."
        }
        En => {
            "A confirmation e-mail is on its way, with new links; the links of earlier messages no longer work."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{sms, templates};
    use std::collections::HashSet;

    const LANGUAGES: [Language; 2] = [Fr, En];

    /// Every skip reason, each naming the next: the match does not compile
    /// when a reason is added and not chained here, so none goes untested.
    fn every_skip_reason() -> Vec<SkipReason> {
        use SkipReason::*;
        let after = |reason: Option<SkipReason>| match reason {
            None => Some(NoEmail),
            Some(NoEmail) => Some(NoMobile),
            Some(NoMobile) => Some(EmailServiceDisabled),
            Some(EmailServiceDisabled) => Some(SmsServiceDisabled),
            Some(SmsServiceDisabled) => Some(ReasonNotTickedForConfirmation),
            Some(ReasonNotTickedForConfirmation) => Some(ReasonNotTickedForSmsReminder),
            Some(ReasonNotTickedForSmsReminder) => Some(CancellationSmsDisabled),
            Some(CancellationSmsDisabled) => Some(CancellationSmsNotRequested),
            Some(CancellationSmsNotRequested) => Some(NoReminderDelay),
            Some(NoReminderDelay) => Some(ReminderTimeAlreadyPassed),
            Some(ReminderTimeAlreadyPassed) => Some(AppointmentNoLongerBooked),
            Some(AppointmentNoLongerBooked) => Some(SupersededByLaterChange),
            Some(SupersededByLaterChange) => Some(UnknownReason),
            Some(UnknownReason) => Some(PractitionerUnknown),
            Some(PractitionerUnknown) => Some(AppointmentAlreadyStarted),
            Some(AppointmentAlreadyStarted) => Some(QuietHoursUntilAppointment),
            Some(QuietHoursUntilAppointment) => Some(CancelledAfterStart),
            Some(CancelledAfterStart) => Some(CountryNotTexted),
            Some(CountryNotTexted) => None,
        };
        std::iter::successors(after(None), |r| after(Some(*r))).collect()
    }

    fn every_status() -> Vec<Status> {
        let all = [
            Status::Booked,
            Status::CancelledByPatient,
            Status::ToReschedule,
            Status::Cancelled,
            Status::Rebooked,
        ];
        for status in all {
            match status {
                Status::Booked
                | Status::CancelledByPatient
                | Status::ToReschedule
                | Status::Cancelled
                | Status::Rebooked => {}
            }
        }
        all.to_vec()
    }

    fn every_why_not() -> Vec<WhyNot> {
        let deadline = crate::fixtures::at("2026-12-02T13:30:00Z");
        let mut all: Vec<WhyNot> = every_status().into_iter().map(WhyNot::NotBooked).collect();
        all.extend([
            WhyNot::OnlineBookingOff,
            WhyNot::ReasonNotOnline,
            WhyNot::DeadlinePassed { deadline },
        ]);
        for why in &all {
            match why {
                WhyNot::NotBooked(_)
                | WhyNot::OnlineBookingOff
                | WhyNot::ReasonNotOnline
                | WhyNot::DeadlinePassed { .. } => {}
            }
        }
        all
    }

    fn every_refusal() -> Vec<Refusal> {
        let mut all: Vec<Refusal> = every_why_not()
            .into_iter()
            .map(Refusal::NotAllowed)
            .collect();
        all.extend([
            Refusal::SlotNotOffered,
            Refusal::SlotTaken,
            Refusal::InvalidStart,
        ]);
        for why in &all {
            match why {
                Refusal::NotAllowed(_)
                | Refusal::SlotNotOffered
                | Refusal::SlotTaken
                | Refusal::InvalidStart => {}
            }
        }
        all
    }

    /// Each sentence, in French and in English, is written and differs
    /// between the two (a forgotten translation copies the other language).
    fn assert_both_languages(what: &str, text: impl Fn(Language) -> String) {
        let fr = text(Fr);
        let en = text(En);
        assert!(!fr.trim().is_empty(), "{what}: no French text");
        assert!(!en.trim().is_empty(), "{what}: no English text");
        assert_ne!(fr, en, "{what}: French and English are the same");
    }

    #[test]
    fn every_value_the_domain_returns_has_french_and_english_words() {
        let zone = Zone::default();
        let start = crate::fixtures::at("2026-12-03T13:30:00Z");
        for reason in every_skip_reason() {
            assert_both_languages(reason.code(), |l| skip_reason(reason, l).into());
        }
        assert_both_languages("refused_by_provider", |l| refused_by_provider(l).into());
        for why in every_why_not() {
            assert_both_languages(&format!("{why:?}"), |l| why_not(&why, zone, l));
            assert_both_languages(&format!("rebooking {why:?}"), |l| {
                why_not_rebooking(&why, zone, l)
            });
        }
        for why in every_refusal() {
            for purpose in [LinkPurpose::ManageAppointment, LinkPurpose::Rebook] {
                assert_both_languages(&format!("{why:?} {purpose:?}"), |l| {
                    refusal(&why, purpose, zone, l)
                });
            }
        }
        for status in every_status() {
            assert_both_languages(&format!("heading {status:?}"), |l| {
                appointment_heading(status, l).into()
            });
        }
        for (name, words) in [
            (
                "move page",
                move_page_words as fn(Language) -> SlotsPageWords,
            ),
            ("rebook page", rebook_page_words),
        ] {
            assert_both_languages(name, |l| words(l).heading.into());
            assert_both_languages(name, |l| words(l).current_label.into());
            assert_both_languages(name, |l| words(l).submit_label.into());
        }
        for gone in [
            None,
            Some(Gone::Superseded),
            Some(Gone::Expired),
            Some(Gone::Cancelled),
            Some(Gone::AlreadyRebooked),
        ] {
            assert_both_languages(&format!("{gone:?}"), |l| link_error(gone, l).heading.into());
            assert_both_languages(&format!("{gone:?}"), |l| {
                link_error(gone, l).explanation.into()
            });
        }
        assert_both_languages("unavailable", |l| unavailable(l).heading.into());
        assert_both_languages("unavailable", |l| unavailable(l).explanation.into());
        assert_both_languages("cancelled", |l| cancelled_notice(l).into());
        assert_both_languages("moved", |l| moved_notice(start, zone, l));
        assert_both_languages("rebooked", |l| rebooked_notice(start, zone, l));
        assert_both_languages("follow-up", |l| confirmation_follow_up(l).into());
        assert_both_languages("cross-site", |l| cross_site(l).heading.into());
        assert_both_languages("cross-site", |l| cross_site(l).explanation.into());
        assert_both_languages("title", |l| appointment_title("Dr Marie Martin", l));
        assert_both_languages("with", |l| with(l).into());
        assert_both_languages("colon", |l| colon(l).into());
        assert_both_languages("until", |l| may_change_until("W", l));
        assert_both_languages("move button", |l| move_button(l).into());
        assert_both_languages("cancel button", |l| cancel_button(l).into());
        assert_both_languages("call", |l| call_the_secretariat(l).into());
        assert_both_languages("call about", |l| {
            call_about_the_appointment("Dr Marie Martin", l)
        });
        assert_both_languages("number", |l| find_the_secretariats_number(l).into());
        assert_both_languages("no slot", |l| no_free_slot("A", "B", l));
        assert_both_languages("previous", |l| previous_week(l).into());
        assert_both_languages("next", |l| next_week(l).into());
        assert_both_languages("back", |l| back_to_the_appointment(l).into());
        assert_both_languages("calendar", |l| calendar_title("Dr Marie Martin", l));
    }

    #[test]
    fn each_skip_reason_has_its_own_words_and_code() {
        let reasons = every_skip_reason();
        let codes: HashSet<_> = reasons.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), reasons.len());
        for language in LANGUAGES {
            let texts: HashSet<_> = reasons.iter().map(|r| skip_reason(*r, language)).collect();
            assert_eq!(texts.len(), reasons.len(), "{language:?}");
        }
    }

    #[test]
    fn the_communications_log_keeps_its_words() {
        // The front end and the acceptance tests read these exact texts.
        assert_eq!(
            skip_reason(SkipReason::NoEmail, Fr),
            "pas d'adresse e-mail sur la fiche contact"
        );
        assert_eq!(
            skip_reason(SkipReason::ReasonNotTickedForConfirmation, En),
            "reason not ticked for e-mail confirmation"
        );
        assert_eq!(
            refused_by_provider(Fr),
            "refusé par le service d'envoi (adresse ou numéro invalide ?)"
        );
    }

    #[test]
    fn a_passed_deadline_says_until_when_in_the_patients_language() {
        let zone = Zone::default();
        let why = WhyNot::DeadlinePassed {
            deadline: crate::fixtures::at("2026-12-02T13:30:00Z"),
        };
        assert!(why_not(&why, zone, Fr).contains("mercredi 2 décembre 2026 à 14h30"));
        assert!(why_not(&why, zone, En).contains("Wednesday 2 December 2026 at 2:30 pm"));
        // The deadline reads the same on a rebooking link.
        assert_eq!(why_not_rebooking(&why, zone, Fr), why_not(&why, zone, Fr));
    }

    /// The SMS templates' own words are GSM-7: what is transliterated is what
    /// people typed (names), never what we wrote.
    #[test]
    fn sms_templates_are_written_in_gsm7() {
        #[derive(serde::Serialize)]
        struct Plain {
            style: u8,
            with_greeting: bool,
            name: &'static str,
            when: &'static str,
            practitioner: &'static str,
            link: Option<&'static str>,
            phone: Option<&'static str>,
        }
        let names: Vec<&str> = templates::TEMPLATES
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| name.starts_with("sms/"))
            .collect();
        assert!(names.len() >= 4, "{names:?}");
        for name in names {
            let (message, language) = match name
                .trim_start_matches("sms/")
                .trim_end_matches(".txt")
                .rsplit_once('.')
            {
                Some((message, "fr")) => (message, Fr),
                Some((message, "en")) => (message, En),
                _ => panic!("{name}: not sms/<message>.<fr|en>.txt"),
            };
            for style in 0..3 {
                for with_greeting in [true, false] {
                    for (link, phone) in [(Some("https://x.example/r/T"), None), (None, Some("01"))]
                    {
                        let context = Plain {
                            style,
                            with_greeting,
                            name: "N",
                            when: "W",
                            practitioner: "P",
                            link,
                            phone,
                        };
                        let text = templates::render_sms(message, language, &context);
                        assert!(!text.is_empty(), "{name}");
                        assert!(sms::is_gsm7(&text), "{name}: {text}");
                    }
                }
            }
        }
    }
}
