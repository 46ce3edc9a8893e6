//! Logs through `tracing`: JSON lines on Lambda (CloudWatch), readable lines locally.
//! Log fields carry ids and states only: never an e-mail address or a phone number.

use tracing_subscriber::EnvFilter;

pub enum LogFormat {
    Json,
    Text,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_ansi(false)
            .without_time()
            .try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}

/// Masks what could be personal data in text that comes from elsewhere (a
/// provider's error message, a parser's complaint): words with an `@`, and runs
/// of six digits or more (phone numbers, with or without `+` and separators).
/// Every error text that reaches a log line goes through it.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(|c: char| {
        c.is_whitespace() || c == ',' || c == ';' || c == '"' || c == '\''
    }) {
        let (body, tail) = match word.char_indices().last() {
            Some((i, c)) if c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'') => {
                word.split_at(i)
            }
            _ => (word, ""),
        };
        let digits = body.chars().filter(char::is_ascii_digit).count();
        let phone_like = digits >= 6
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '.' | '-' | '(' | ')'));
        if body.contains('@') || phone_like {
            out.push_str("<redacted>");
        } else {
            out.push_str(body);
        }
        out.push_str(tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn addresses_and_phone_numbers_never_reach_a_log_line() {
        let provider = "Email address is not verified. The following identities failed the check in region EU-WEST-3: jeanne.dupont@example.org, +33612345678";
        let logged = redact(provider);
        assert!(
            !logged.contains("jeanne") && !logged.contains("612345678"),
            "{logged}"
        );
        assert!(logged.starts_with("Email address is not verified."));
        assert_eq!(
            redact("invalid value: string \"06.12.34.56.78\""),
            "invalid value: string \"<redacted>\""
        );
        assert_eq!(redact("retry in 2026 ms"), "retry in 2026 ms");
    }
}
