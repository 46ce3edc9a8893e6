//! Message templates (minijinja), compiled into the binary. HTML templates are
//! auto-escaped; text ones are not.

use crate::contact::Language;
use minijinja::Environment;
use serde::Serialize;
use std::sync::LazyLock;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

pub(crate) const TEMPLATES: &[(&str, &str)] = templates![
    "email/layout.html",
    "email/confirmation.fr.subject.txt",
    "email/confirmation.fr.txt",
    "email/confirmation.fr.html",
    "email/confirmation.en.subject.txt",
    "email/confirmation.en.txt",
    "email/confirmation.en.html",
    "email/cancellation_ack.fr.subject.txt",
    "email/cancellation_ack.fr.txt",
    "email/cancellation_ack.fr.html",
    "email/cancellation_ack.en.subject.txt",
    "email/cancellation_ack.en.txt",
    "email/cancellation_ack.en.html",
    "email/practitioner_cancellation.fr.subject.txt",
    "email/practitioner_cancellation.fr.txt",
    "email/practitioner_cancellation.fr.html",
    "email/practitioner_cancellation.en.subject.txt",
    "email/practitioner_cancellation.en.txt",
    "email/practitioner_cancellation.en.html",
    // One template per page, its words from `wording` (in the context).
    "pages/layout.html",
    "pages/appointment.html",
    "pages/slots.html",
    "pages/link_error.html",
    // Reminders (SPEC §4.3)
    "email/reminder.fr.subject.txt",
    "email/reminder.fr.txt",
    "email/reminder.fr.html",
    "email/reminder.en.subject.txt",
    "email/reminder.en.txt",
    "email/reminder.en.html",
    // Verification codes (SPEC §6.3)
    "email/verification_code.fr.subject.txt",
    "email/verification_code.fr.txt",
    "email/verification_code.fr.html",
    "email/verification_code.en.subject.txt",
    "email/verification_code.en.txt",
    "email/verification_code.en.html",
    "sms/reminder.fr.txt",
    "sms/reminder.en.txt",
    "sms/practitioner_cancellation.fr.txt",
    "sms/practitioner_cancellation.en.txt",
];

#[allow(
    clippy::panic,
    reason = "the templates are compiled into the binary and each is compiled by the tests"
)]
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
    }
    env
});

pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[allow(
    clippy::panic,
    reason = "the templates are compiled into the binary and the tests render each with \
              the context its callers give: a failure is a template shipped broken, not input"
)]
fn render(name: &str, context: &impl Serialize) -> String {
    ENVIRONMENT
        .get_template(name)
        .and_then(|t| t.render(context))
        .unwrap_or_else(|e| panic!("template {name} does not render: {e}"))
}

/// Renders `email/{message}.{language}.*`.
pub fn render_email(message: &str, language: Language, context: &impl Serialize) -> RenderedEmail {
    let base = format!("email/{message}.{}", language.code());
    RenderedEmail {
        subject: render(&format!("{base}.subject.txt"), context)
            .trim()
            .to_string(),
        text: render(&format!("{base}.txt"), context),
        html: render(&format!("{base}.html"), context),
    }
}

/// Renders the patient page `pages/{page}.html`: one template for both
/// languages, whose words the context carries (`wording`).
pub fn render_page(page: &str, context: &impl Serialize) -> String {
    render(&format!("pages/{page}.html"), context)
}

/// Renders `sms/{message}.{language}.txt` as one line (no surrounding whitespace).
/// Use [`super::sms::compose`] to make the result fit one GSM-7 segment.
pub fn render_sms(message: &str, language: Language, context: &impl Serialize) -> String {
    render(&format!("sms/{message}.{}.txt", language.code()), context)
        .trim()
        .to_string()
}

/// The SHA-256 of the patient pages' one `<style>` block, base64, as a
/// Content-Security-Policy `style-src 'sha256-…'` source names it: the pages
/// keep their inline stylesheet without allowing any other inline style.
#[allow(
    clippy::expect_used,
    reason = "the pages' layout is compiled in, and the pages' tests check its policy"
)]
pub fn page_style_sha256() -> &'static str {
    static HASH: LazyLock<String> = LazyLock::new(|| {
        use base64::Engine;
        use sha2::Digest;
        let layout = TEMPLATES
            .iter()
            .find(|(name, _)| *name == "pages/layout.html")
            .map(|(_, source)| *source)
            .expect("the pages' layout is compiled in");
        let style = inline_style(layout).expect("the pages' layout has one <style> block");
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style.as_bytes()))
    });
    &HASH
}

/// The text between `<style>` and `</style>`, exactly as a browser hashes it.
pub fn inline_style(html: &str) -> Option<&str> {
    let start = html.find("<style>")? + "<style>".len();
    let end = start + html[start..].find("</style>")?;
    Some(&html[start..end])
}
