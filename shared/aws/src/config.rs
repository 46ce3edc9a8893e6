//! Configuration read from the environment once, at Lambda init (and at
//! local mode's start) into [`Config`]. Every variable is named here once,
//! with why it is needed; `template.yaml` sets each one a function declares
//! (tests/consistency.rs checks it).

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
    /// The adapters handed to a function lack one it declares.
    #[error("{function} declares the {adapter} adapter, which it was not given")]
    NotGiven {
        function: &'static str,
        adapter: String,
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
/// Unset: [`crate::store::DEFAULT_RETENTION_DAYS`].
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

/// Every variable a function may read.
pub const ALL: [Variable; 8] = [
    TABLE_NAME,
    EVENT_BUS_NAME,
    SENDER_EMAIL,
    PUBLIC_BASE_URL,
    SES_CONFIGURATION_SET,
    SMS_SENDER_ID,
    DATA_RETENTION_DAYS,
    SMS_RATE_PER_SECOND,
];

/// The configuration of the functions, read from the environment once: on
/// AWS the variables one function declares ([`Config::read`]), in local mode
/// all of them, each optional ([`Config::from_env`]). Unset: `None` (or the
/// default, for the retention).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: Option<String>,
    pub event_bus_name: Option<String>,
    pub sender_email: Option<String>,
    pub public_base_url: Option<String>,
    pub ses_configuration_set: Option<String>,
    pub sms_sender_id: Option<String>,
    /// How many days appointment data is kept after it ends.
    pub retention_days: u32,
    /// The SMS rate senders pace themselves to (`None`: the default).
    pub sms_per_second: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            table_name: None,
            event_bus_name: None,
            sender_email: None,
            public_base_url: None,
            ses_configuration_set: None,
            sms_sender_id: None,
            retention_days: crate::store::DEFAULT_RETENTION_DAYS,
            sms_per_second: None,
        }
    }
}

impl Config {
    /// Reads `variables` (a function's declared ones): a required one must
    /// be set, numbers must read as numbers; the others stay unset.
    pub fn read(variables: &[Variable]) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        for variable in variables {
            config.set(*variable, variable.read()?)?;
        }
        Ok(config)
    }

    /// Every variable, none required (local mode provides what is unset:
    /// the outbox, the bound address...); numbers must still read as numbers.
    pub fn from_env() -> Result<Self, ConfigError> {
        let optional: Vec<Variable> = ALL
            .iter()
            .map(|v| Variable {
                required: false,
                ..*v
            })
            .collect();
        Self::read(&optional)
    }

    fn set(&mut self, variable: Variable, value: Option<String>) -> Result<(), ConfigError> {
        let Some(value) = value else {
            return Ok(());
        };
        match variable.name {
            n if n == TABLE_NAME.name => self.table_name = Some(value),
            n if n == EVENT_BUS_NAME.name => self.event_bus_name = Some(value),
            n if n == SENDER_EMAIL.name => self.sender_email = Some(value),
            n if n == PUBLIC_BASE_URL.name => self.public_base_url = Some(value),
            n if n == SES_CONFIGURATION_SET.name => self.ses_configuration_set = Some(value),
            n if n == SMS_SENDER_ID.name => self.sms_sender_id = Some(value),
            n if n == DATA_RETENTION_DAYS.name => {
                self.retention_days =
                    value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|d| *d > 0)
                        .ok_or_else(|| ConfigError::Invalid {
                            name: DATA_RETENTION_DAYS.name,
                            why: "a whole number of days, at least 1".into(),
                        })?
            }
            n if n == SMS_RATE_PER_SECOND.name => {
                self.sms_per_second =
                    Some(value.trim().parse().map_err(|_| ConfigError::Invalid {
                        name: SMS_RATE_PER_SECOND.name,
                        why: "a whole number of messages a second".into(),
                    })?)
            }
            other => {
                return Err(ConfigError::Invalid {
                    name: variable.name,
                    why: format!("{other} is not a variable of the functions"),
                });
            }
        }
        Ok(())
    }

    /// The value of `variable` as read, `None` when unset.
    pub fn value(&self, variable: Variable) -> Option<String> {
        match variable.name {
            n if n == TABLE_NAME.name => self.table_name.clone(),
            n if n == EVENT_BUS_NAME.name => self.event_bus_name.clone(),
            n if n == SENDER_EMAIL.name => self.sender_email.clone(),
            n if n == PUBLIC_BASE_URL.name => self.public_base_url.clone(),
            n if n == SES_CONFIGURATION_SET.name => self.ses_configuration_set.clone(),
            n if n == SMS_SENDER_ID.name => self.sms_sender_id.clone(),
            n if n == DATA_RETENTION_DAYS.name => Some(self.retention_days.to_string()),
            n if n == SMS_RATE_PER_SECOND.name => self.sms_per_second.map(|r| r.to_string()),
            _ => None,
        }
    }

    /// The value of `variable`, or the error saying it is missing.
    pub fn required(&self, variable: Variable) -> Result<String, ConfigError> {
        self.value(variable).ok_or(ConfigError::Missing(variable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_holds_what_was_read_and_the_defaults_of_the_rest() {
        let mut config = Config::default();
        config.set(DATA_RETENTION_DAYS, Some("30".into())).unwrap();
        config.set(TABLE_NAME, Some("agenda".into())).unwrap();
        assert_eq!(config.retention_days, 30);
        assert_eq!(config.required(TABLE_NAME).unwrap(), "agenda");
        assert!(matches!(
            config.required(EVENT_BUS_NAME),
            Err(ConfigError::Missing(v)) if v == EVENT_BUS_NAME
        ));
        assert_eq!(Config::default().retention_days, 365);
    }

    #[test]
    fn numbers_that_do_not_read_as_numbers_are_refused() {
        let mut config = Config::default();
        for (variable, text) in [
            (DATA_RETENTION_DAYS, "0"),
            (DATA_RETENTION_DAYS, "a year"),
            (SMS_RATE_PER_SECOND, "-1"),
        ] {
            assert!(matches!(
                config.set(variable, Some(text.into())),
                Err(ConfigError::Invalid { name, .. }) if name == variable.name
            ));
        }
    }
}
