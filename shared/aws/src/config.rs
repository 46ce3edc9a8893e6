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
    why: "how many SMS a second the whole account may send (SNS), every function and instance together",
    required: false,
};
pub const SES_RATE_PER_SECOND: Variable = Variable {
    name: "SES_RATE_PER_SECOND",
    why: "how many e-mails a second the whole account may send (SES), every function and instance together",
    required: false,
};

/// The key of the keyed hashes (`domain::keyed`): the stack generates it in
/// Secrets Manager and hands it to the functions that hash (docs/decisions.md,
/// "Keyed hashes"). Local mode uses its stated development key when unset.
pub const CONTACT_HASH_KEY: Variable = Variable {
    name: "CONTACT_HASH_KEY",
    why: "the secret key of the keyed hashes of verification codes, contacts and quota subjects",
    required: true,
};
/// SPEC §6, §8: the limits per hour; unset: SPEC §6's defaults.
pub const LIMIT_CODES_PER_SOURCE: Variable = Variable {
    name: "LIMIT_CODES_PER_SOURCE",
    why: "verification codes an hour per source address",
    required: false,
};
pub const LIMIT_CODES_PER_EMAIL: Variable = Variable {
    name: "LIMIT_CODES_PER_EMAIL",
    why: "verification codes an hour per e-mail address",
    required: false,
};
pub const LIMIT_POSTS_PER_SOURCE: Variable = Variable {
    name: "LIMIT_POSTS_PER_SOURCE",
    why: "public and patient-link posts an hour per source address",
    required: false,
};
/// Set when a CDN fronts the API: requests without it are refused.
pub const ORIGIN_VERIFY_SECRET: Variable = Variable {
    name: "ORIGIN_VERIFY_SECRET",
    why: "the secret header value the CDN in front of the API adds (empty: no CDN)",
    required: false,
};
/// SPEC §4.3: the most one SMS may cost, in USD (SNS's `AWS.SNS.SMS.MaxPrice`).
pub const SMS_MAX_PRICE: Variable = Variable {
    name: "SMS_MAX_PRICE",
    why: "the maximum price of one SMS in USD",
    required: true,
};

/// Every variable a function may read.
pub const ALL: [Variable; 15] = [
    TABLE_NAME,
    EVENT_BUS_NAME,
    SENDER_EMAIL,
    PUBLIC_BASE_URL,
    SES_CONFIGURATION_SET,
    SMS_SENDER_ID,
    DATA_RETENTION_DAYS,
    SMS_RATE_PER_SECOND,
    SES_RATE_PER_SECOND,
    CONTACT_HASH_KEY,
    LIMIT_CODES_PER_SOURCE,
    LIMIT_CODES_PER_EMAIL,
    LIMIT_POSTS_PER_SOURCE,
    ORIGIN_VERIFY_SECRET,
    SMS_MAX_PRICE,
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
    /// The account's e-mail rate (`None`: not limited, local mode).
    pub ses_per_second: Option<u32>,
    pub contact_hash_key: Option<String>,
    /// The limits of SPEC §6, per hour.
    pub limits: domain::quota::Limits,
    pub origin_verify_secret: Option<String>,
    /// The most one SMS may cost, in USD, as SNS reads it (`0.50`).
    pub sms_max_price: Option<String>,
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
            ses_per_second: None,
            contact_hash_key: None,
            limits: domain::quota::Limits::default(),
            origin_verify_secret: None,
            sms_max_price: None,
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
            n if n == SES_RATE_PER_SECOND.name => {
                self.ses_per_second =
                    Some(value.trim().parse().map_err(|_| ConfigError::Invalid {
                        name: SES_RATE_PER_SECOND.name,
                        why: "a whole number of messages a second".into(),
                    })?)
            }
            n if n == CONTACT_HASH_KEY.name => {
                if domain::keyed::HashKey::new(value.as_bytes()).is_none() {
                    return Err(ConfigError::Invalid {
                        name: CONTACT_HASH_KEY.name,
                        why: format!("at least {} bytes", domain::keyed::MIN_KEY_BYTES),
                    });
                }
                self.contact_hash_key = Some(value)
            }
            n if n == LIMIT_CODES_PER_SOURCE.name => {
                self.limits.codes_per_source = per_hour(LIMIT_CODES_PER_SOURCE, &value)?
            }
            n if n == LIMIT_CODES_PER_EMAIL.name => {
                self.limits.codes_per_email = per_hour(LIMIT_CODES_PER_EMAIL, &value)?
            }
            n if n == LIMIT_POSTS_PER_SOURCE.name => {
                self.limits.posts_per_source = per_hour(LIMIT_POSTS_PER_SOURCE, &value)?
            }
            n if n == ORIGIN_VERIFY_SECRET.name => self.origin_verify_secret = Some(value),
            n if n == SMS_MAX_PRICE.name => {
                let price = value.trim();
                let valid = price.parse::<f64>().is_ok_and(|p| p > 0.0 && p.is_finite())
                    && price.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                if !valid {
                    return Err(ConfigError::Invalid {
                        name: SMS_MAX_PRICE.name,
                        why: "a price in USD above 0, such as 0.50".into(),
                    });
                }
                self.sms_max_price = Some(price.to_string())
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
            n if n == SES_RATE_PER_SECOND.name => self.ses_per_second.map(|r| r.to_string()),
            n if n == CONTACT_HASH_KEY.name => self.contact_hash_key.clone(),
            n if n == LIMIT_CODES_PER_SOURCE.name => Some(self.limits.codes_per_source.to_string()),
            n if n == LIMIT_CODES_PER_EMAIL.name => Some(self.limits.codes_per_email.to_string()),
            n if n == LIMIT_POSTS_PER_SOURCE.name => Some(self.limits.posts_per_source.to_string()),
            n if n == ORIGIN_VERIFY_SECRET.name => self.origin_verify_secret.clone(),
            n if n == SMS_MAX_PRICE.name => self.sms_max_price.clone(),
            _ => None,
        }
    }

    /// The value of `variable`, or the error saying it is missing.
    pub fn required(&self, variable: Variable) -> Result<String, ConfigError> {
        self.value(variable).ok_or(ConfigError::Missing(variable))
    }
}

/// A limit per hour: a whole number, at least 1.
fn per_hour(variable: Variable, value: &str) -> Result<u32, ConfigError> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ConfigError::Invalid {
            name: variable.name,
            why: "a whole number of requests an hour, at least 1".into(),
        })
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
            (LIMIT_CODES_PER_SOURCE, "0"),
            (LIMIT_POSTS_PER_SOURCE, "many"),
            (SMS_MAX_PRICE, "-0.5"),
            (SMS_MAX_PRICE, "1e3"),
            (CONTACT_HASH_KEY, "short"),
        ] {
            assert!(matches!(
                config.set(variable, Some(text.into())),
                Err(ConfigError::Invalid { name, .. }) if name == variable.name
            ));
        }
    }
}
