//! Helpers for the tests across crates: a local server per test (`spawn_app`),
//! and AWS clients pointed at moto.

pub mod aws;

use local::{LocalApp, LocalConfig};
use serde_json::Value;
use std::net::SocketAddr;

/// The local server of SPEC §8 on a free port, with the demo practitioner.
pub struct TestApp {
    pub app: LocalApp,
    pub client: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let app = LocalApp::start(LocalConfig::on(addr))
        .await
        .expect("local mode starts");
    TestApp {
        app,
        client: reqwest::Client::new(),
    }
}

pub const DEMO: &str = "dr-martin";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url)
    }

    /// A request as the practitioner's front end sends it (local token).
    pub fn as_practitioner(
        &self,
        method: reqwest::Method,
        practitioner: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(format!("local-{practitioner}"))
    }

    pub async fn book(&self, practitioner: &str, body: &Value) -> (u16, Value) {
        let response = self
            .as_practitioner(
                reqwest::Method::POST,
                practitioner,
                &format!("/practitioners/{practitioner}/appointments"),
            )
            .json(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn appointment(&self, practitioner: &str, id: &str) -> Value {
        self.as_practitioner(
            reqwest::Method::GET,
            practitioner,
            &format!("/practitioners/{practitioner}/appointments/{id}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }

    /// The outbox once every stream record so far has been handled.
    pub async fn outbox(&self) -> Vec<Value> {
        self.app.stream_idle().await;
        let body: Value = self
            .client
            .get(self.url("/dev/outbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["messages"].as_array().cloned().unwrap_or_default()
    }
}
