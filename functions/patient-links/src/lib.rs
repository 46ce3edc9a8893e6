//! The patient links (SPEC §6.4): the pages behind the MODIFY / CANCEL links of
//! a confirmation e-mail and the rebooking link of a practice's cancellation.
//! HTML by default, JSON on `Accept: application/json`. HTTP only; the rules
//! live in `shared/domain`.
//!
//! A request is read once into what it asks ([`request`], where the routes
//! are declared), then answered ([`actions`]); refusals read as [`answers`]
//! writes them.

mod actions;
pub mod answers;
pub mod request;

use aws_adapters::config::ConfigError;
use aws_adapters::config::PUBLIC_BASE_URL;
use aws_adapters::dynamo::{GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::ports::{Clock, Store};
use domain::service::patient_links::PatientLinks;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::sync::Arc;

pub use request::{Action, ROUTES};

#[derive(Clone)]
pub struct PatientLinksApi {
    service: PatientLinks,
    urls: PublicUrls,
    /// `Origin` of the pages' own forms (the public base URL's).
    own_origin: String,
}

impl PatientLinksApi {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, urls: PublicUrls) -> Self {
        Self {
            service: PatientLinks::new(store, clock),
            own_origin: edge::http::origin_of(urls.base()),
            urls,
        }
    }

    /// The Lambda handler: every outcome, errors included, is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        // Read once, here; everything past this line is typed.
        Ok(match request::read(&request, &self.own_origin) {
            Ok(asked) => self.answer(asked).await,
            Err(refused) => refused,
        })
    }
}

/// What the function is built from on AWS (checked against `template.yaml`).
pub const NEEDS: Needs = Needs {
    function: "PatientLinksFunction",
    trigger: Trigger::Http,
    adapters: &[Adapter::Table],
    table_actions: &[GET_ITEM, PUT_ITEM, UPDATE_ITEM, QUERY],
    // The agenda, for free slots.
    indexes: &[aws_adapters::item::GSI1],
    variables: &[PUBLIC_BASE_URL],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<PatientLinksApi, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(PatientLinksApi::new(
        given.store()?,
        given.clock(),
        given.page_urls()?,
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<PatientLinksApi, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
