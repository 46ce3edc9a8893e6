//! The small HTML pages patients reach from their links (SPEC §6.4): rendered on
//! the server, usable without JavaScript, readable on a phone, in the patient's
//! language. The reason of the appointment never appears on them. One template
//! per page (`shared/domain/templates/pages/`); every word it shows comes from
//! `domain::messages::wording`, in the page's context.

use chrono::Duration;
use domain::contact::Language;
use domain::links::{LinkToken, PublicUrls};
use domain::messages::wording::{self, SlotsPageWords};
use domain::messages::{PractitionerCard, dates, templates};
use domain::rules::online_change::{self, WhyNot};
use domain::service::patient_links::{Gone, Linked, MoveOffer};
use domain::settings::PractitionerSettings;
use serde::Serialize;

/// A message at the top of a page: the outcome of what the patient just did.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    kind: &'static str,
    text: String,
}

impl Notice {
    pub fn done(text: impl Into<String>) -> Self {
        Self {
            kind: "ok",
            text: text.into(),
        }
    }
    pub fn refused(text: impl Into<String>) -> Self {
        Self {
            kind: "refused",
            text: text.into(),
        }
    }
}

/// The appointment page of a link: its parts, rendered by [`AppointmentPage::render`].
pub struct AppointmentPage<'a> {
    pub linked: &'a Linked,
    /// `Some` while the link still works: the page offers the actions the
    /// patient may take with it (unless `why_not` says they may not).
    pub token: Option<&'a LinkToken>,
    /// Why the patient may no longer change the appointment online.
    pub why_not: Option<&'a WhyNot>,
    /// The outcome of what the patient just did.
    pub notice: Option<Notice>,
    /// A confirmation e-mail with new links follows: the page says so.
    pub confirmation_follows: bool,
}

#[derive(Serialize)]
struct AppointmentWords {
    title: String,
    with: &'static str,
    move_button: &'static str,
    cancel_button: &'static str,
    call_the_secretariat: &'static str,
}

#[derive(Serialize)]
struct Actions {
    may_change_until: String,
    slots_url: String,
    cancel_url: String,
}

#[derive(Serialize)]
struct AppointmentContext {
    lang: &'static str,
    words: AppointmentWords,
    heading: &'static str,
    when: String,
    practitioner: PractitionerCard,
    phone_e164: String,
    notice: Option<Notice>,
    actions: Option<Actions>,
    why_not: Option<String>,
    follow_up: Option<&'static str>,
}

impl<'a> AppointmentPage<'a> {
    /// The appointment alone: no action, nothing done, nothing to follow.
    pub fn of(linked: &'a Linked) -> Self {
        Self {
            linked,
            token: None,
            why_not: None,
            notice: None,
            confirmation_follows: false,
        }
    }

    pub fn render(&self, urls: &PublicUrls) -> String {
        let settings = &self.linked.settings;
        let appointment = &self.linked.appointment;
        let language = self.linked.language();
        let zone = settings.timezone;
        let actions = match (self.token, self.why_not) {
            (Some(token), None) => Some(Actions {
                may_change_until: wording::may_change_until(
                    &dates::long_date_time(
                        online_change::deadline(settings, appointment),
                        zone,
                        language,
                    ),
                    language,
                ),
                slots_url: urls.modify_page(token),
                cancel_url: urls.cancel_action(token),
            }),
            _ => None,
        };
        let page = AppointmentContext {
            lang: language.code(),
            words: AppointmentWords {
                title: wording::appointment_title(&settings.name, language),
                with: wording::with(language),
                move_button: wording::move_button(language),
                cancel_button: wording::cancel_button(language),
                call_the_secretariat: wording::call_the_secretariat(language),
            },
            heading: wording::appointment_heading(appointment.status, language),
            when: dates::long_date_time(appointment.start, zone, language),
            practitioner: PractitionerCard::of(settings),
            phone_e164: settings.secretariat_phone.e164().to_string(),
            notice: self.notice.clone(),
            actions,
            why_not: self.why_not.map(|w| wording::why_not(w, zone, language)),
            follow_up: self
                .confirmation_follows
                .then(|| wording::confirmation_follow_up(language)),
        };
        templates::render_page("appointment", &page)
    }
}

/// Which page of free slots: moving a booked appointment (SPEC §4.2), or
/// booking a replacement for one the practice cancelled (SPEC §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotsPurpose {
    Move,
    Rebook,
}

/// A page of free slots: its parts, rendered by [`SlotsPage::render`].
pub struct SlotsPage<'a> {
    pub purpose: SlotsPurpose,
    pub linked: &'a Linked,
    pub token: &'a LinkToken,
    pub offer: &'a MoveOffer,
    /// Why the patient's last choice was refused, when it was.
    pub notice: Option<Notice>,
}

#[derive(Serialize)]
struct SlotWords {
    with: &'static str,
    colon: &'static str,
    call_the_secretariat: &'static str,
    no_free_slot: String,
    previous_week: &'static str,
    next_week: &'static str,
    back_to_the_appointment: &'static str,
}

#[derive(Serialize)]
struct SlotChoice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct Day {
    label: String,
    slots: Vec<SlotChoice>,
}

#[derive(Serialize)]
struct Window {
    earlier_url: Option<String>,
    later_url: Option<String>,
}

#[derive(Serialize)]
struct SlotsContext {
    lang: &'static str,
    words: SlotWords,
    /// The page's title too.
    heading: &'static str,
    current_label: &'static str,
    when: String,
    practitioner: PractitionerCard,
    phone_e164: String,
    notice: Option<Notice>,
    why_not: Option<String>,
    days: Vec<Day>,
    window: Window,
    submit_url: String,
    submit_label: &'static str,
    back_url: Option<String>,
}

/// Where a slots page posts and navigates, and what it says.
struct SlotsPageKind {
    words: SlotsPageWords,
    /// The page itself, without query: earlier / later weeks add `from` and `to`.
    page_url: String,
    submit_url: String,
    back_url: Option<String>,
    why_not: Option<String>,
}

impl SlotsPage<'_> {
    /// The free slots, a week at a time, as one form of radio buttons; or
    /// why none may be taken, and the secretariat's phone.
    pub fn render(&self, urls: &PublicUrls) -> String {
        let language = self.linked.language();
        let zone = self.linked.settings.timezone;
        let token = self.token;
        let not_allowed = self.offer.not_allowed.as_ref();
        let kind = match self.purpose {
            SlotsPurpose::Move => SlotsPageKind {
                words: wording::move_page_words(language),
                page_url: urls.modify_page(token),
                submit_url: urls.move_action(token),
                back_url: Some(urls.appointment_page(token)),
                why_not: not_allowed.map(|w| wording::why_not(w, zone, language)),
            },
            SlotsPurpose::Rebook => SlotsPageKind {
                words: wording::rebook_page_words(language),
                page_url: urls.rebook_page(token),
                submit_url: urls.rebook_page(token),
                back_url: None,
                why_not: not_allowed.map(|w| wording::why_not_rebooking(w, zone, language)),
            },
        };
        self.render_kind(kind)
    }

    fn render_kind(&self, kind: SlotsPageKind) -> String {
        let (linked, offer) = (self.linked, self.offer);
        let settings = &linked.settings;
        let language = linked.language();
        let zone = settings.timezone;
        let mut days: Vec<Day> = Vec::new();
        for slot in &offer.slots {
            let label = dates::long_date(slot.start, zone, language);
            let choice = SlotChoice {
                value: zone.rfc3339(slot.start),
                label: dates::time_of_day(slot.start, zone, language),
            };
            match days.last_mut() {
                Some(day) if day.label == label => day.slots.push(choice),
                _ => days.push(Day {
                    label,
                    slots: vec![choice],
                }),
            }
        }
        let span = offer.window.end - offer.window.start;
        let page_url = |from: chrono::DateTime<chrono::Utc>| {
            format!(
                "{}?from={}&to={}",
                kind.page_url,
                encode_query(&zone.rfc3339(from)),
                encode_query(&zone.rfc3339(from + span))
            )
        };
        let first_day = dates::long_date(offer.window.start.max(offer.now), zone, language);
        let last_day = dates::long_date(offer.window.end - Duration::seconds(1), zone, language);
        let page = SlotsContext {
            lang: language.code(),
            words: SlotWords {
                with: wording::with(language),
                colon: wording::colon(language),
                call_the_secretariat: wording::call_the_secretariat(language),
                no_free_slot: wording::no_free_slot(&first_day, &last_day, language),
                previous_week: wording::previous_week(language),
                next_week: wording::next_week(language),
                back_to_the_appointment: wording::back_to_the_appointment(language),
            },
            heading: kind.words.heading,
            current_label: kind.words.current_label,
            when: dates::long_date_time(linked.appointment.start, zone, language),
            practitioner: PractitionerCard::of(settings),
            phone_e164: settings.secretariat_phone.e164().to_string(),
            notice: self.notice.clone(),
            why_not: kind.why_not,
            days,
            window: Window {
                earlier_url: (offer.window.start > offer.now)
                    .then(|| page_url((offer.window.start - span).max(offer.now))),
                later_url: Some(page_url(offer.window.end)),
            },
            submit_url: kind.submit_url,
            submit_label: kind.words.submit_label,
            back_url: kind.back_url,
        };
        templates::render_page("slots", &page)
    }
}

#[derive(Serialize)]
struct LinkErrorContext {
    lang: &'static str,
    heading: &'static str,
    explanation: &'static str,
    /// Before the phone number when the practitioner is known; the whole
    /// sentence (where to find the number) when not.
    call_the_secretariat: String,
    practitioner: Option<PractitionerCard>,
    phone_e164: Option<String>,
}

/// A page that explains why there is nothing to show, and whom to call: the
/// practitioner's secretariat when `settings` knows it.
fn explanation_page(
    words: wording::Explanation,
    settings: Option<&PractitionerSettings>,
    language: Language,
) -> String {
    let page = LinkErrorContext {
        lang: language.code(),
        heading: words.heading,
        explanation: words.explanation,
        call_the_secretariat: match settings {
            Some(s) => wording::call_about_the_appointment(&s.name, language),
            None => wording::find_the_secretariats_number(language).to_string(),
        },
        practitioner: settings.map(PractitionerCard::of),
        phone_e164: settings.map(|s| s.secretariat_phone.e164().to_string()),
    };
    templates::render_page("link_error", &page)
}

/// Why a link leads nowhere, and whom to call. `known` is what the link was
/// for, when it is a real link that no longer works.
pub fn link_error_page(known: Option<(&Linked, Gone)>, fallback_language: Language) -> String {
    let language = known.map_or(fallback_language, |(l, _)| l.language());
    let words = wording::link_error(known.map(|(_, g)| g), language);
    explanation_page(words, known.map(|(l, _)| &l.settings), language)
}

/// When the service cannot answer: try again, or call.
pub fn unavailable_page(language: Language) -> String {
    explanation_page(wording::unavailable(language), None, language)
}

/// A form posted from another site: nothing was done; use the link itself.
pub fn cross_site_page(language: Language) -> String {
    explanation_page(wording::cross_site(language), None, language)
}

/// Percent-encodes a query value (RFC 3339 times carry `+` and `:`).
fn encode_query(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::appointment::Status;
    use domain::fixtures::{at, booked, dr_martin};
    use domain::links::{LinkGrant, LinkPurpose};
    use domain::time::TimeRange;

    fn linked(language: Language, purpose: LinkPurpose) -> Linked {
        let mut appointment = booked(at("2026-12-03T13:30:00Z"), 20);
        appointment.patient.language = Some(language);
        Linked {
            grant: LinkGrant {
                appointment_id: appointment.id,
                practitioner_id: appointment.practitioner_id.clone(),
                purpose,
                version: 1,
                expires_at: appointment.end,
            },
            appointment,
            settings: dr_martin(),
        }
    }

    fn offer(slots: usize) -> MoveOffer {
        let start = at("2026-12-07T08:00:00Z");
        let slot = |i: i64| {
            TimeRange::new(
                start + Duration::minutes(20 * i),
                start + Duration::minutes(20 * (i + 1)),
            )
            .unwrap()
        };
        MoveOffer {
            window: TimeRange::new(start, start + Duration::days(7)).unwrap(),
            slots: (0..slots as i64).map(slot).collect(),
            not_allowed: None,
            now: at("2026-12-01T10:00:00Z"),
        }
    }

    fn title(page: &str) -> &str {
        let start = page.find("<title>").unwrap() + "<title>".len();
        &page[start..start + page[start..].find("</title>").unwrap()]
    }

    /// Every page, in each language: one template, the words of that language.
    fn every_page(language: Language) -> Vec<(&'static str, String)> {
        let urls = PublicUrls::new("http://127.0.0.1:3000");
        let token = LinkToken::generate();
        let manage = linked(language, LinkPurpose::ManageAppointment);
        let rebook = {
            let mut l = linked(language, LinkPurpose::Rebook);
            l.appointment.status = Status::ToReschedule;
            l
        };
        let deadline = WhyNot::DeadlinePassed {
            deadline: at("2026-12-02T13:30:00Z"),
        };
        let slots = |purpose, linked, offer| {
            SlotsPage {
                purpose,
                linked,
                token: &token,
                offer,
                notice: None,
            }
            .render(&urls)
        };
        vec![
            (
                "appointment",
                AppointmentPage {
                    token: Some(&token),
                    ..AppointmentPage::of(&manage)
                }
                .render(&urls),
            ),
            (
                "appointment after the deadline",
                AppointmentPage {
                    token: Some(&token),
                    why_not: Some(&deadline),
                    confirmation_follows: true,
                    ..AppointmentPage::of(&manage)
                }
                .render(&urls),
            ),
            ("move", slots(SlotsPurpose::Move, &manage, &offer(3))),
            (
                "move, no slot",
                slots(SlotsPurpose::Move, &manage, &offer(0)),
            ),
            ("rebook", slots(SlotsPurpose::Rebook, &rebook, &offer(3))),
            (
                "link gone",
                link_error_page(Some((&manage, Gone::Superseded)), language),
            ),
            ("link unknown", link_error_page(None, language)),
            ("unavailable", unavailable_page(language)),
            ("cross-site", cross_site_page(language)),
        ]
    }

    #[test]
    fn each_page_is_in_its_language_with_a_title_of_its_own() {
        for language in [Language::Fr, Language::En] {
            for (name, page) in every_page(language) {
                assert!(
                    page.contains(&format!("<html lang=\"{}\">", language.code())),
                    "{name}"
                );
                assert!(!title(&page).trim().is_empty(), "{name}: no title");
                // The other language's frame words never show.
                let other = match language {
                    Language::Fr => Language::En,
                    Language::En => Language::Fr,
                };
                for word in [
                    wording::with(other),
                    wording::call_the_secretariat(other),
                    wording::next_week(other),
                    wording::move_button(other),
                ] {
                    assert!(!page.contains(word), "{name} in {language:?} says {word:?}");
                }
            }
        }
    }

    #[test]
    fn the_rebooking_page_is_titled_as_a_new_booking() {
        for language in [Language::Fr, Language::En] {
            let pages = every_page(language);
            let page = |name: &str| &pages.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(
                title(page("rebook")),
                wording::rebook_page_words(language).heading
            );
            assert_eq!(
                title(page("move")),
                wording::move_page_words(language).heading
            );
            assert_ne!(title(page("rebook")), title(page("move")));
        }
        let rebook = &every_page(Language::En)[4].1;
        assert_eq!(title(rebook), "Book a new appointment");
    }

    #[test]
    fn the_pages_frame_comes_from_the_wording() {
        let pages = every_page(Language::Fr);
        let page = |name: &str| &pages.iter().find(|(n, _)| *n == name).unwrap().1;
        assert!(page("appointment").contains("Choisir un autre horaire"));
        assert!(
            page("appointment")
                .contains("Vous pouvez modifier ou annuler ce rendez-vous en ligne jusqu&#x27;au")
        );
        assert!(page("appointment after the deadline").contains("appelez le secrétariat au"));
        assert!(page("move").contains("Rendez-vous actuel\u{a0}:"));
        assert!(page("move, no slot").contains("Aucun créneau libre du lundi 7 décembre 2026 au"));
        assert!(page("link gone").contains("Pour votre rendez-vous avec Dr Marie Martin"));
        assert!(page("link unknown").contains("son numéro figure"));
    }
}
