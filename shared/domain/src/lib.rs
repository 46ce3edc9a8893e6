//! The domain of the patient communications: what a practitioner, a patient and
//! a secretariat would recognise, and nothing of AWS, Lambda or HTTP.
//!
//! Values that can only hold valid data ([`settings`], [`appointment`],
//! [`contact`], [`ids`], [`time`]), the rules of SPEC §4 as pure functions
//! ([`rules`]), messages and all their words ([`messages`]), patient links
//! ([`links`]), the ports the services talk through ([`ports`]) and the
//! services themselves ([`service`]). Adapters live in `aws-adapters` and in
//! local mode; HTTP lives in `edge`.

pub mod absence;
pub mod appointment;
pub mod clock;
pub mod communications;
pub mod contact;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod grants;
pub mod history;
pub mod ids;
pub mod keyed;
pub mod links;
pub mod messages;
pub mod ports;
pub mod quota;
pub mod reminder;
pub mod rules;
pub mod service;
pub mod settings;
pub mod slots;
pub mod text;
pub mod time;
pub mod validation;
pub mod verification;
