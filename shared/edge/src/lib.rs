//! The HTTP edge of the API functions: request text turned into domain types
//! once ([`http`]), problem+json answers, the patients' pages ([`pages`]) and
//! the JSON shapes of SPEC §6.5 ([`views`]), and each function's routes
//! declared once ([`routes`]).

pub mod client;
pub mod http;
pub mod pages;
pub mod problems;
pub mod requests;
pub mod routes;
pub mod views;
