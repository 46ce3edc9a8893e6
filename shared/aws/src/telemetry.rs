//! Logs through `tracing`: JSON lines on Lambda (CloudWatch), readable lines locally.
//! Log fields carry ids and states only: never an e-mail address or a phone number.

use crate::config::Variable;
use tracing_subscriber::EnvFilter;

/// Read by every function's `main` (through [`init`]), so `template.yaml` sets
/// it in its Globals rather than in each function's `NEEDS`.
pub const LOG_FILTER: Variable = Variable {
    name: "RUST_LOG",
    why: "which log lines are written (tracing's EnvFilter syntax)",
    required: false,
};

pub enum LogFormat {
    Json,
    Text,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env(LOG_FILTER.name)
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
/// provider's error message, a parser's complaint): words with an `@`, and
/// phone numbers written any way (`+33612345678`, `06 12 34 56 78`).
///
/// Adapters apply it where outside text enters the program (their error types
/// are born redacted), so log lines further on need not think about it.
pub fn redact(text: &str) -> String {
    let without_addresses: String = text
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains('@') {
                let tail: String = word
                    .chars()
                    .rev()
                    .take_while(|c| c.is_whitespace())
                    .collect();
                format!("<redacted>{tail}")
            } else {
                word.to_string()
            }
        })
        .collect();
    mask_phone_numbers(&without_addresses)
}

/// A run of digits and the separators people put in phone numbers is masked
/// when it holds 9 digits or more, or 8 and starts like a number is dialled
/// (`+` or `0`). Dates (`2026-12-03`) and counts stay readable.
fn mask_phone_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let in_number = |c: char| c.is_ascii_digit() || matches!(c, '+' | ' ' | '.' | '-' | '(' | ')');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !(chars[i].is_ascii_digit() || chars[i] == '+') {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i;
        while end < chars.len() && in_number(chars[end]) {
            end += 1;
        }
        while end > i && !chars[end - 1].is_ascii_digit() {
            end -= 1;
        }
        if end == i {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = &chars[i..end];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        if digits >= 9 || (digits >= 8 && matches!(run[0], '+' | '0')) {
            out.push_str("<redacted>");
        } else {
            out.extend(run);
        }
        i = end;
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
        assert_eq!(
            redact("no SMS to 06 12 34 56 78 today"),
            "no SMS to <redacted> today"
        );
        assert_eq!(redact("retry in 2026 ms"), "retry in 2026 ms");
        assert_eq!(redact("booked on 2026-12-03"), "booked on 2026-12-03");
    }
}
