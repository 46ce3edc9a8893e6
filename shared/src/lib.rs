//! The domain library of the patient communications.
//!
//! Pure rules ([`rules`]), the product's values ([`settings`], [`appointment`],
//! [`contact`]), message rendering ([`messages`]), patient links ([`links`]),
//! the ports the functions talk through ([`ports`]) and their adapters
//! ([`store`], [`mail`], [`events`], [`clock`]). The Lambda crates under
//! `functions/` only wire these together; no business rule lives there.

pub mod absence;
pub mod appointment;
pub mod clock;
pub mod communications;
pub mod config;
pub mod contact;
pub mod events;
pub mod fixtures;
pub mod http;
pub mod ids;
pub mod links;
pub mod mail;
pub mod messages;
pub mod pages;
pub mod ports;
pub mod reminder;
pub mod rules;
pub mod service;
pub mod settings;
pub mod slots;
pub mod store;
pub mod stream;
pub mod telemetry;
pub mod time;
pub mod validation;
pub mod views;
pub mod wiring;
