//! The small HTML pages patients reach from their links (SPEC §6.4): rendered on
//! the server, usable without JavaScript, readable on a phone, in the patient's
//! language. The reason of the appointment never appears on them.

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

#[derive(Serialize)]
struct Actions {
    until: String,
    slots_url: String,
    cancel_url: String,
}

#[derive(Serialize)]
struct AppointmentPageContext {
    lang: &'static str,
    heading: &'static str,
    when: String,
    practitioner: PractitionerCard,
    phone_e164: String,
    notice: Option<Notice>,
    actions: Option<Actions>,
    why_not: Option<String>,
    follow_up: Option<String>,
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
        let actions = match (self.token, self.why_not) {
            (Some(token), None) => Some(Actions {
                until: dates::long_date_time(
                    online_change::deadline(settings, appointment),
                    settings.timezone,
                    language,
                ),
                slots_url: urls.modify_page(token),
                cancel_url: urls.cancel_action(token),
            }),
            _ => None,
        };
        let page = AppointmentPageContext {
            lang: language.code(),
            heading: wording::appointment_heading(appointment.status, language),
            when: dates::long_date_time(appointment.start, settings.timezone, language),
            practitioner: PractitionerCard::of(settings),
            phone_e164: settings.secretariat_phone.e164().to_string(),
            notice: self.notice.clone(),
            actions,
            why_not: self
                .why_not
                .map(|w| wording::why_not(w, settings.timezone, language)),
            follow_up: self
                .confirmation_follows
                .then(|| wording::confirmation_follow_up(language).to_string()),
        };
        templates::render_page("appointment", language, &page)
    }
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
    from: String,
    to: String,
    earlier_url: Option<String>,
    later_url: Option<String>,
}

#[derive(Serialize)]
struct SlotsPageContext {
    lang: &'static str,
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
        render_slots_page(self.linked, self.offer, kind, self.notice.clone())
    }
}

fn render_slots_page(
    linked: &Linked,
    offer: &MoveOffer,
    kind: SlotsPageKind,
    notice: Option<Notice>,
) -> String {
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
    let window = Window {
        from: dates::long_date(offer.window.start.max(offer.now), zone, language),
        to: dates::long_date(offer.window.end - Duration::seconds(1), zone, language),
        earlier_url: (offer.window.start > offer.now)
            .then(|| page_url((offer.window.start - span).max(offer.now))),
        later_url: Some(page_url(offer.window.end)),
    };
    let page = SlotsPageContext {
        lang: language.code(),
        heading: kind.words.heading,
        current_label: kind.words.current_label,
        when: dates::long_date_time(linked.appointment.start, zone, language),
        practitioner: PractitionerCard::of(settings),
        phone_e164: settings.secretariat_phone.e164().to_string(),
        notice,
        why_not: kind.why_not,
        days,
        window,
        submit_url: kind.submit_url,
        submit_label: kind.words.submit_label,
        back_url: kind.back_url,
    };
    templates::render_page("slots", language, &page)
}

#[derive(Serialize)]
struct LinkErrorPage {
    lang: &'static str,
    heading: &'static str,
    explanation: &'static str,
    practitioner: Option<PractitionerCard>,
    phone_e164: Option<String>,
}

/// Why a link leads nowhere, and whom to call. `known` is what the link was
/// for, when it is a real link that no longer works.
pub fn link_error_page(known: Option<(&Linked, Gone)>, fallback_language: Language) -> String {
    let language = known.map_or(fallback_language, |(l, _)| l.language());
    let words = wording::link_error(known.map(|(_, g)| g), language);
    let settings: Option<&PractitionerSettings> = known.map(|(l, _)| &l.settings);
    let page = LinkErrorPage {
        lang: language.code(),
        heading: words.heading,
        explanation: words.explanation,
        practitioner: settings.map(PractitionerCard::of),
        phone_e164: settings.map(|s| s.secretariat_phone.e164().to_string()),
    };
    templates::render_page("link_error", language, &page)
}

/// When the service cannot answer: try again, or call.
pub fn unavailable_page(language: Language) -> String {
    let words = wording::unavailable(language);
    let page = LinkErrorPage {
        lang: language.code(),
        heading: words.heading,
        explanation: words.explanation,
        practitioner: None,
        phone_e164: None,
    };
    templates::render_page("link_error", language, &page)
}

/// A form posted from another site: nothing was done; use the link itself.
pub fn cross_site_page(language: Language) -> String {
    let (heading, explanation) = match language {
        Language::Fr => (
            "Demande refusée",
            "Ce formulaire a été envoyé depuis un autre site : rien n'a été modifié. Pour annuler ou déplacer votre rendez-vous, ouvrez le lien de l'e-mail ou du SMS que vous avez reçu et utilisez les boutons de cette page.",
        ),
        Language::En => (
            "Request refused",
            "This form was sent from another site: nothing was changed. To cancel or move your appointment, open the link in the e-mail or SMS you received and use the buttons on that page.",
        ),
    };
    let page = LinkErrorPage {
        lang: language.code(),
        heading,
        explanation,
        practitioner: None,
        phone_e164: None,
    };
    templates::render_page("link_error", language, &page)
}

/// Percent-encodes a query value (RFC 3339 times carry `+` and `:`).
fn encode_query(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_string())
        .unwrap_or_default()
}
