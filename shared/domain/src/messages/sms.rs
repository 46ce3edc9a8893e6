//! SMS texts (SPEC §5): GSM-7 characters only, one 160-character segment.
//!
//! Every kind of SMS goes through [`compose`], so no SMS can leave in UCS-2
//! (70 characters a segment) or split into several paid segments.

use crate::communications::MessageKind;
use crate::contact::Mobile;
use crate::ids::AppointmentId;

/// One SMS segment holds 160 GSM-7 septets.
pub const SEGMENT_SEPTETS: usize = 160;

#[derive(Debug, Clone)]
pub struct OutgoingSms {
    pub to: Mobile,
    pub text: String,
    /// What and for which appointment: the outbox shows it, logs carry the ids.
    pub kind: MessageKind,
    pub appointment_id: AppointmentId,
    /// Every URL the message carries.
    pub links: Vec<String>,
}

/// The GSM 03.38 default alphabet (one septet each).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: an escape septet plus one, so two septets each.
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, `None` when it has no GSM-7 encoding.
fn septets_of(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Septets `text` takes, `None` when a character is not GSM-7.
pub fn septets(text: &str) -> Option<usize> {
    text.chars().map(septets_of).sum()
}

pub fn is_gsm7(text: &str) -> bool {
    septets(text).is_some()
}

/// GSM-7 and one segment.
pub fn fits_one_segment(text: &str) -> bool {
    septets(text).is_some_and(|n| n <= SEGMENT_SEPTETS)
}

/// What people type that GSM-7 lacks, written the way French SMS write it
/// ("François" → "Francois", "août" → "aout"); letters of other scripts in
/// Latin letters (« Жанна » → « Zhanna », « 王 » → « Wang ») by `any_ascii`;
/// anything else (emoji, symbols) left out. Never `?` in place of a letter.
fn transliterate(c: char) -> &'static str {
    match c {
        'á' | 'â' | 'ã' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => "A",
        'ç' | 'ć' | 'č' => "c",
        'Ć' | 'Č' => "C",
        'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'í' | 'î' | 'ï' | 'ī' | 'į' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' => "I",
        'ó' | 'ô' | 'õ' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ő' => "O",
        'ú' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ń' | 'ň' => "n",
        'Ń' | 'Ň' => "N",
        'ś' | 'š' | 'ş' => "s",
        'Ś' | 'Š' | 'Ş' => "S",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ł' => "l",
        'Ł' => "L",
        'ř' => "r",
        'Ř' => "R",
        'ď' => "d",
        'Ď' => "D",
        'ť' => "t",
        'Ť' => "T",
        'œ' => "oe",
        'Œ' => "OE",
        '\u{2018}' | '\u{2019}' | '\u{2032}' | '`' | '´' => "'",
        '\u{201c}' | '\u{201d}' | '«' | '»' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2026}' => "...",
        '\t' | '\u{a0}' | '\u{202f}' | '\u{2009}' => " ",
        c if c.is_alphanumeric() => any_ascii::any_ascii_char(c),
        _ => "",
    }
}

/// `text` with every character GSM-7 lacks replaced by its nearest GSM-7 spelling.
pub fn to_gsm7(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if septets_of(c).is_some() {
            out.push(c);
        } else {
            // ASCII is GSM-7 but for the backquote and control characters.
            let spelled = transliterate(c).chars().filter_map(|t| match t {
                '`' => Some('\''),
                t if septets_of(t).is_some() => Some(t),
                _ => None,
            });
            out.extend(spelled);
        }
    }
    out
}

/// A name as an SMS can write it (transliterated, trimmed); `None` when
/// nothing of it can be written (emoji only), so the SMS leaves it out.
pub fn writable_name(name: &str) -> Option<String> {
    let written = to_gsm7(name);
    let written = written.trim();
    (!written.is_empty()).then(|| written.to_string())
}

/// The first candidate text that fits one GSM-7 segment once transliterated.
/// Candidates go from the richest wording to the shortest; when even the last
/// one is too long (absurdly long names), it is cut to one segment.
pub fn compose(candidates: impl IntoIterator<Item = String>) -> String {
    let mut last = String::new();
    for candidate in candidates {
        let text = to_gsm7(&candidate);
        if fits_one_segment(&text) {
            return text;
        }
        last = text;
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in last.chars() {
        let n = septets_of(c).unwrap_or(1);
        if used + n > SEGMENT_SEPTETS {
            break;
        }
        used += n;
        cut.push(c);
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_accents_of_the_gsm_alphabet_are_kept_and_the_others_spelled_plainly() {
        assert!(is_gsm7("jeudi 3 décembre 2026 à 14h30, où ? Ça"));
        assert!(!is_gsm7("ça"));
        assert!(!is_gsm7("août"));
        assert_eq!(
            to_gsm7("août, François, Hélène Lœw, Benoît"),
            "aout, Francois, Hélène Loew, Benoit"
        );
        assert_eq!(to_gsm7("l’été — 10 €"), "l'été - 10 €");
        assert!(is_gsm7(&to_gsm7("Zoë Nguyễn 李")));
    }

    #[test]
    fn names_of_other_scripts_are_transliterated_never_shown_as_question_marks() {
        // Issue 10: « Жанна Дюпон » was `????? ?????`, « 王秀英 李 » `??? ?`.
        assert_eq!(to_gsm7("Жанна Дюпон"), "Zhanna Dyupon");
        let chinese = to_gsm7("王秀英 李");
        assert!(
            chinese.starts_with("Wang") && chinese.ends_with(" Li"),
            "{chinese}"
        );
        // GSM-7 letters stay as they are; emoji are left out.
        assert_eq!(to_gsm7("Hélène Müller `x`"), "Hélène Müller 'x'");
        assert_eq!(to_gsm7("Zoé \u{1F600}"), "Zoé ");
        assert_eq!(writable_name("\u{1F600}\u{1F600}"), None);
        for name in [
            "Жанна Дюпон",
            "王秀英 李",
            "Ngọc Ánh",
            "Αλέξανδρος",
            "محمد",
            "Þórr Ægir",
        ] {
            let written = to_gsm7(name);
            assert!(
                is_gsm7(&written) && !written.contains('?'),
                "{name} -> {written}"
            );
        }
    }

    #[test]
    fn extension_characters_count_twice() {
        assert_eq!(septets("abc"), Some(3));
        assert_eq!(septets("10 €"), Some(5));
        assert_eq!(septets("[x]"), Some(5));
        assert_eq!(septets("ê"), None);
        assert!(fits_one_segment(&"a".repeat(160)));
        assert!(!fits_one_segment(&"a".repeat(161)));
        assert!(!fits_one_segment(&"€".repeat(81)));
    }

    #[test]
    fn compose_takes_the_richest_wording_that_fits_and_never_exceeds_a_segment() {
        assert_eq!(
            compose(["x".repeat(170), "short".to_string()]),
            "short".to_string()
        );
        let cut = compose(["€".repeat(200)]);
        assert!(fits_one_segment(&cut), "{}", cut.len());
        assert_eq!(septets(&cut), Some(160));
    }
}
