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

use aws_adapters::config::{
    CONTACT_HASH_KEY, ConfigError, LIMIT_CODES_PER_EMAIL, LIMIT_CODES_PER_SOURCE,
    LIMIT_POSTS_PER_SOURCE, ORIGIN_VERIFY_SECRET, PUBLIC_BASE_URL,
};
use aws_adapters::dynamo::{GET_ITEM, PUT_ITEM, QUERY, UPDATE_ITEM};
use aws_adapters::wiring::{Adapter, Adapters, Needs, Trigger};
use domain::links::PublicUrls;
use domain::ports::{Clock, Store};
use domain::quota::Quotas;
use domain::service::patient_links::PatientLinks;
use domain::service::public_posts::{PostRefused, PublicPosts};
use edge::client::OriginCheck;
use edge::http::Problem;
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
    /// The limit on posts per source address (SPEC §6).
    posts: PublicPosts,
    origin: OriginCheck,
}

impl PatientLinksApi {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        urls: PublicUrls,
        quotas: Quotas,
        origin: OriginCheck,
    ) -> Self {
        Self {
            service: PatientLinks::new(store.clone(), clock.clone()),
            posts: PublicPosts::new(store, clock, quotas),
            own_origin: edge::http::origin_of(urls.base()),
            urls,
            origin,
        }
    }

    /// The Lambda handler: every outcome, errors included, is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        let source = match self.origin.admit(&request) {
            Ok(source) => source,
            Err(refused) => return Ok(refused.into_response()),
        };
        // Read once, here; everything past this line is typed.
        let asked = match request::read(&request, &self.own_origin) {
            Ok(asked) => asked,
            Err(refused) => return Ok(refused),
        };
        if request.method() != lambda_http::http::Method::POST {
            return Ok(self.answer(asked).await);
        }
        // A post is counted once it succeeded: a refused one changes nothing.
        let charge = match self.posts.admit(source).await {
            Ok(charge) => charge,
            Err(PostRefused::OverLimit(over)) => {
                return Ok(Problem::too_many_requests(&over).into_response());
            }
            Err(PostRefused::Store(e)) => return Ok(Problem::from(e).into_response()),
        };
        let answer = self.answer(asked).await;
        if answer.status().is_success() {
            if let Err(e) = self.posts.succeeded(&charge).await {
                // The post went through; only its count is lost.
                tracing::warn!(error = %e, "a patient-link post was not counted");
            }
        }
        Ok(answer)
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
    variables: &[
        PUBLIC_BASE_URL,
        CONTACT_HASH_KEY,
        LIMIT_CODES_PER_SOURCE,
        LIMIT_CODES_PER_EMAIL,
        LIMIT_POSTS_PER_SOURCE,
        ORIGIN_VERIFY_SECRET,
    ],
};

/// The function, from the adapters AWS or local mode give it: its one
/// composition root, taking only what [`NEEDS`] declares.
pub fn compose(adapters: &Adapters) -> Result<PatientLinksApi, ConfigError> {
    let given = adapters.given_to(&NEEDS);
    Ok(PatientLinksApi::new(
        given.store()?,
        given.clock(),
        given.page_urls()?,
        given.quotas()?,
        OriginCheck::new(given.origin_secret()?),
    ))
}

/// The function on AWS: its adapters from the environment, then [`compose`].
pub async fn from_env() -> Result<PatientLinksApi, ConfigError> {
    compose(&Adapters::from_env(&NEEDS).await?)
}
