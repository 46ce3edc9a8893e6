//! Configuration read from the environment once, at Lambda init. Every name
//! read here is set by `template.yaml`.

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is not set: {why}")]
pub struct ConfigError {
    pub name: &'static str,
    pub why: &'static str,
}

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
pub const SENDER_EMAIL: &str = "SENDER_EMAIL";
pub const PUBLIC_BASE_URL: &str = "PUBLIC_BASE_URL";
pub const SES_CONFIGURATION_SET: &str = "SES_CONFIGURATION_SET";

pub fn required(name: &'static str, why: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError { name, why })
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
