//! For each function crate's test that its `from_env` asks for nothing beyond
//! its `NEEDS` (dev-dependencies only, so no Lambda binary carries it).

use crate::config::ConfigError;
use crate::wiring::Needs;
use std::future::Future;

/// A valid value for each variable a function may declare.
fn example(variable: &str) -> &'static str {
    match variable {
        "PUBLIC_BASE_URL" => "https://rdv.example.org",
        "SENDER_EMAIL" => "rdv@example.org",
        "SMS_RATE_PER_SECOND" | "SES_RATE_PER_SECOND" => "10",
        "DATA_RETENTION_DAYS" => "365",
        "SMS_SENDER_ID" => "DrMartin",
        "SMS_MAX_PRICE" => "0.25",
        "CONTACT_HASH_KEY" => "an-example-key-of-the-keyed-hashes-long-enough",
        "LIMIT_CODES_PER_SOURCE" | "LIMIT_CODES_PER_EMAIL" | "LIMIT_POSTS_PER_SOURCE" => "10",
        "ORIGIN_VERIFY_SECRET" => "",
        _ => "declared-in-needs",
    }
}

/// Sets every variable `needs` declares, a region, dummy credentials and an
/// endpoint on a loopback port nothing listens on (so nothing reaches AWS),
/// then builds the function with `from_env` and fails with its error, which
/// is `ConfigError::Undeclared` when the code asks for something `needs`
/// leaves out.
///
/// # Safety
///
/// It sets process environment variables: no other thread may read or write
/// the environment while it runs (call it alone in its own test binary).
pub unsafe fn assert_builds_from_its_needs<T, F>(needs: &Needs, from_env: impl FnOnce() -> F)
where
    F: Future<Output = Result<T, ConfigError>>,
{
    let variables = needs
        .all_variables()
        .into_iter()
        .map(|v| (v.name, example(v.name)));
    let aws = [
        ("AWS_REGION", "eu-west-3"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    for (name, value) in variables.chain(aws) {
        // SAFETY: the caller guarantees no other thread touches the
        // environment; the runtime below is started after this loop.
        unsafe { std::env::set_var(name, value) };
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if let Err(e) = runtime.block_on(from_env()) {
        panic!(
            "{} does not build from its NEEDS alone: {e}",
            needs.function
        );
    }
}
