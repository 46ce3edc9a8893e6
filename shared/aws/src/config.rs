//! Configuration read from the environment once, at Lambda init. Every
//! variable is named here once, with why it is needed; `template.yaml` sets
//! each one a function declares (tests/consistency.rs checks it).

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {} is not set: {}", .0.name, .0.why)]
    Missing(Variable),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
    /// A bug: the code asked for something its function's `NEEDS` leaves out.
    #[error("{function} uses {what} without declaring it in its NEEDS")]
    Undeclared {
        function: &'static str,
        what: String,
    },
}

/// An environment variable a function reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// What it holds, for the error when it is missing.
    pub why: &'static str,
    /// Whether the function cannot start without it.
    pub required: bool,
}

impl Variable {
    /// The value, `None` when unset or blank.
    pub fn read(self) -> Result<Option<String>, ConfigError> {
        let value = std::env::var(self.name)
            .ok()
            .filter(|v| !v.trim().is_empty());
        match value {
            None if self.required => Err(ConfigError::Missing(self)),
            value => Ok(value),
        }
    }
}

pub const TABLE_NAME: Variable = Variable {
    name: "TABLE_NAME",
    why: "the DynamoDB table of the agenda",
    required: true,
};
pub const EVENT_BUS_NAME: Variable = Variable {
    name: "EVENT_BUS_NAME",
    why: "the EventBridge bus for communication events",
    required: true,
};
pub const SENDER_EMAIL: Variable = Variable {
    name: "SENDER_EMAIL",
    why: "the SES-verified address e-mails are sent from",
    required: true,
};
/// Required for links in messages; pages fall back to links relative to the API.
pub const PUBLIC_BASE_URL: Variable = Variable {
    name: "PUBLIC_BASE_URL",
    why: "the public URL of the API, for patient links",
    required: false,
};
pub const SES_CONFIGURATION_SET: Variable = Variable {
    name: "SES_CONFIGURATION_SET",
    why: "the SES configuration set messages are sent through",
    required: false,
};
pub const SMS_SENDER_ID: Variable = Variable {
    name: "SMS_SENDER_ID",
    why: "the alphanumeric sender id of SMS",
    required: false,
};
/// Unset: [`crate::dynamo::DEFAULT_RETENTION_DAYS`].
pub const DATA_RETENTION_DAYS: Variable = Variable {
    name: "DATA_RETENTION_DAYS",
    why: "how many days appointments, their logs and absences are kept after they end",
    required: false,
};
pub const SMS_RATE_PER_SECOND: Variable = Variable {
    name: "SMS_RATE_PER_SECOND",
    why: "how many SMS a second the sweeper, and the cancellation sender, may send",
    required: false,
};
