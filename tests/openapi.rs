//! The OpenAPI document (SPEC §6, issue 11): `docs/openapi.json` is what the
//! code generates today, it documents every route of `template.yaml` with its
//! methods, status codes and problem+json errors, and local mode serves it.
//! Its examples are validated against its schemas by tests/docs/test_openapi.py,
//! and schemathesis runs it against local mode (tests/api).

use acceptance::spawn_app;
use local::template::{TEMPLATE, Template};
use serde_json::Value;
use std::collections::BTreeSet;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    std::fs::read_to_string(path).expect("docs/openapi.json exists")
}

fn document() -> Value {
    serde_json::from_str(&api_description::json()).expect("the document is JSON")
}

/// `(method, path)` of every operation, methods upper case as in the template.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    operations
}

fn operation<'a>(document: &'a Value, method: &str, path: &str) -> &'a Value {
    &document["paths"][path][method.to_ascii_lowercase()]
}

fn media_types(answer: &Value) -> BTreeSet<String> {
    answer["content"]
        .as_object()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_committed_document_is_what_the_code_generates() {
    // Given the request and answer types as they are now
    // When the document is generated
    // Then docs/openapi.json (what the booking function serves) is that document
    assert!(
        committed() == api_description::json(),
        "docs/openapi.json is stale: run `make openapi` and commit it"
    );
}

#[test]
fn every_route_of_the_template_is_documented_and_nothing_else() {
    // Given the routes API Gateway serves
    let template = Template::parse(TEMPLATE).expect("template.yaml parses");
    let routed: BTreeSet<(String, String)> = template
        .routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert!(
        routed.len() >= 17,
        "the template's routes were read: {routed:?}"
    );
    // When the document is read
    let documented = documented(&document());
    // Then each route is an operation of the document, and each operation a route
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes without documentation: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[test]
fn every_operation_documents_its_success_its_refusals_as_problems_and_the_gateways_errors() {
    let document = document();
    let template = Template::parse(TEMPLATE).expect("template.yaml parses");
    let raw: serde_norway::Value = serde_norway::from_str(TEMPLATE).unwrap();
    for route in &template.routes {
        let op = operation(&document, &route.method, &route.path);
        let name = format!("{} {}", route.method, route.path);
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no responses"));
        // A success, with a JSON body (204: none)
        let successes: Vec<_> = responses.keys().filter(|s| s.starts_with('2')).collect();
        assert!(!successes.is_empty(), "{name}: no success answer");
        for status in successes.iter().filter(|s| s.as_str() != "204") {
            assert!(
                media_types(&responses[*status]).contains("application/json"),
                "{name} {status}"
            );
        }
        // Every refusal of ours is problem+json; every 4xx/5xx is described
        let ours: BTreeSet<&str> = responses
            .iter()
            .filter(|(_, r)| media_types(r).contains("application/problem+json"))
            .map(|(s, _)| s.as_str())
            .collect();
        for (status, answer) in responses {
            assert!(
                !answer["description"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{name} {status}"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let types = media_types(answer);
                assert!(
                    types.contains("application/problem+json")
                        || types.contains("application/json"),
                    "{name} {status}: {types:?}"
                );
            }
        }
        // API Gateway's own answers, on every route
        for status in ["429", "500", "502", "503"] {
            assert!(
                media_types(&responses[status]).contains("application/json"),
                "{name}: gateway {status}"
            );
        }
        let body = op.get("requestBody").is_some();
        if body {
            for status in ["400", "413", "422"] {
                assert!(
                    ours.contains(status),
                    "{name}: a body route refuses {status} as a problem"
                );
            }
        }
        // Token or not, as API Gateway's authorizer is configured for the route
        let public = route_is_public(&raw, &route.method, &route.path);
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, !public, "{name}: security as in the template");
        if secured {
            for status in ["401", "403"] {
                assert!(
                    ours.contains(status),
                    "{name}: refuses {status} as a problem"
                );
            }
            assert!(
                media_types(&responses["401"]).contains("application/json"),
                "{name}: the authorizer's 401"
            );
        }
        // Routes with an id or token in their path say when it leads nowhere
        // (the members of a practitioner one holds a grant on always exist)
        if route.path.contains('{') && route.path != "/practitioners/{pid}/members" {
            assert!(ours.contains("404"), "{name}: 404 as a problem");
        }
        if route.path.starts_with("/a/") || route.path.starts_with("/r/") {
            assert!(ours.contains("410"), "{name}: a link that no longer works");
            assert!(
                media_types(&responses["410"]).contains("text/html"),
                "{name}: the 410 page"
            );
        }
        // Path parameters are declared
        for segment in route.path.split('/').filter(|s| s.starts_with('{')) {
            let param = segment.trim_matches(|c| c == '{' || c == '}');
            let declared = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == param && p["in"] == "path" && p["required"] == true);
            assert!(declared, "{name}: path parameter {param}");
        }
    }
}

/// Whether the template turns the JWT authorizer off for a route.
fn route_is_public(template: &serde_norway::Value, method: &str, path: &str) -> bool {
    let resources = template["Resources"].as_mapping().unwrap();
    resources.values().any(|resource| {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            return false;
        };
        events.values().any(|event| {
            let props = &event["Properties"];
            event["Type"].as_str() == Some("HttpApi")
                && props["Method"].as_str() == Some(method)
                && props["Path"].as_str() == Some(path)
                && props["Auth"]["Authorizer"].as_str() == Some("NONE")
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_serves_the_document_without_a_token() {
    // Given local mode
    let app = spawn_app().await;
    // When anyone asks for the description
    let answer = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    // Then it is the committed document, as JSON
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/json");
    let served: Value = answer.json().await.unwrap();
    assert_eq!(served, serde_json::from_str::<Value>(&committed()).unwrap());
    assert_eq!(served["openapi"], "3.1.0");
}
