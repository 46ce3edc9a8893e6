//! Clean text (SPEC §5): what a person typed that will reach a message, a page
//! or a calendar. One function per rule; every value type that holds such text
//! (patient names, the practitioner's name, profession and address, reason and
//! absence labels) goes through [`clean`].

/// Patient first and last names (SPEC §5).
pub const PERSON_NAME_CHARS: usize = 100;
/// The practitioner's name and profession, reason and absence labels (SPEC §5).
pub const LABEL_CHARS: usize = 200;
/// The practitioner's address (SPEC §5).
pub const ADDRESS_CHARS: usize = 300;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UncleanText {
    #[error("is required")]
    Empty,
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("contains control characters (line breaks, tabs, ...)")]
    ControlCharacters,
    #[error("is made only of invisible characters")]
    InvisibleOnly,
}

/// CR, LF, tab, NUL, ESC and every other C0/C1 control, and the Unicode
/// line and paragraph separators: they would break a mail header, an SMS or a
/// calendar line.
pub fn has_control_characters(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// Characters that take no room on a screen: spaces of every width, zero-width
/// spaces and joiners, direction marks, the byte-order mark, soft hyphens,
/// invisible operators, variation selectors and tags.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// Text a reader would see as blank.
pub fn is_invisible_only(s: &str) -> bool {
    s.chars().all(is_invisible)
}

/// Longer than `limit` characters (not bytes: « Hélène » is 6).
pub fn is_longer_than(s: &str, limit: usize) -> bool {
    s.chars().nth(limit).is_some()
}

/// The text trimmed, when it passes every rule; else the first rule it breaks.
pub fn clean(s: &str, limit: usize) -> Result<String, UncleanText> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        Err(UncleanText::Empty)
    } else if has_control_characters(trimmed) {
        Err(UncleanText::ControlCharacters)
    } else if is_invisible_only(trimmed) {
        Err(UncleanText::InvisibleOnly)
    } else if is_longer_than(trimmed, limit) {
        Err(UncleanText::TooLong(limit))
    } else {
        Ok(trimmed.to_string())
    }
}

/// An optional text: blank means "not given" (`None`), anything else must be clean.
pub fn clean_optional(s: Option<&str>, limit: usize) -> Result<Option<String>, UncleanText> {
    match s.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => clean(t, limit).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_invisible_text_and_long_text_are_refused() {
        assert_eq!(clean("  Jeanne  ", 100), Ok("Jeanne".into()));
        for bad in [
            "Je\r\nanne",
            "a\tb",
            "a\0",
            "a\u{1b}[31m",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            assert_eq!(
                clean(bad, 100),
                Err(UncleanText::ControlCharacters),
                "{bad:?}"
            );
        }
        for blank in [
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            "\u{200D}\u{2060}\u{3000}",
            "\u{E0041}",
        ] {
            assert_eq!(
                clean(blank, 100),
                Err(UncleanText::InvisibleOnly),
                "{blank:?}"
            );
        }
        assert_eq!(clean(&"é".repeat(100), 100), Ok("é".repeat(100)));
        assert_eq!(clean(&"é".repeat(101), 100), Err(UncleanText::TooLong(100)));
        assert_eq!(clean("  ", 100), Err(UncleanText::Empty));
        assert_eq!(clean_optional(Some("  "), 300), Ok(None));
        // Visible text with a zero-width joiner inside (an emoji sequence) is fine.
        assert!(clean("Zoë \u{1F469}\u{200D}\u{2695}", 100).is_ok());
    }
}
