//! The crates' dependencies are the architecture (docs/architecture.md): the
//! domain knows nothing of AWS, Lambda or HTTP, and no Lambda links local mode
//! or test-only code. Read from `cargo metadata`, so a new dependency that
//! breaks a layer fails here, whoever adds it and however deep it sits.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::Command;

/// Crates the domain must not reach, directly or through another crate.
fn forbidden_in_domain(name: &str) -> bool {
    name.starts_with("aws-")
        || name.starts_with("aws_")
        || name.starts_with("lambda_")
        || matches!(name, "http" | "axum" | "hyper" | "reqwest")
}

struct Graph {
    /// package id -> name
    names: HashMap<String, String>,
    /// package id -> ids of its normal (non-dev, non-build) dependencies
    normal: HashMap<String, Vec<String>>,
}

fn metadata() -> Graph {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    let names = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let normal = doc["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            (node["id"].as_str().unwrap().to_string(), deps)
        })
        .collect();
    Graph { names, normal }
}

impl Graph {
    fn id(&self, name: &str) -> String {
        self.names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no package {name} in the workspace"))
    }

    /// Every crate `name` links, with the chain that brings each one in.
    fn reached_from(&self, name: &str) -> HashMap<String, Vec<String>> {
        let start = self.id(name);
        let mut paths: HashMap<String, Vec<String>> = HashMap::new();
        let mut queue = vec![(start.clone(), vec![name.to_string()])];
        while let Some((id, path)) = queue.pop() {
            for dep in self.normal.get(&id).into_iter().flatten() {
                let dep_name = self.names[dep].clone();
                if paths.contains_key(&dep_name) {
                    continue;
                }
                let mut next = path.clone();
                next.push(dep_name.clone());
                paths.insert(dep_name, next.clone());
                queue.push((dep.clone(), next));
            }
        }
        paths
    }
}

#[test]
fn the_domain_depends_on_no_aws_lambda_or_http_crate() {
    let graph = metadata();
    let reached = graph.reached_from("domain");
    let offending: BTreeSet<String> = reached
        .iter()
        .filter(|(name, _)| forbidden_in_domain(name))
        .map(|(_, path)| path.join(" -> "))
        .collect();
    assert!(
        offending.is_empty(),
        "the domain crate reaches crates of another layer:\n{}",
        offending.into_iter().collect::<Vec<_>>().join("\n")
    );
    // The check sees something: the domain does link its own dependencies.
    assert!(reached.contains_key("chrono") && reached.contains_key("minijinja"));
}

#[test]
fn the_forbidden_list_catches_what_the_adapters_link() {
    // Guards the test above against a list that silently matches nothing.
    let reached = metadata().reached_from("aws-adapters");
    for name in ["aws-sdk-dynamodb", "aws_lambda_events", "http", "hyper"] {
        assert!(
            reached.contains_key(name),
            "aws-adapters no longer links {name}"
        );
        assert!(forbidden_in_domain(name));
    }
}

/// The function crates: one Lambda each.
const LAMBDAS: [&str; 7] = [
    "booking",
    "patient-links",
    "status-change",
    "confirmation-sender",
    "cancellation-sender",
    "reminder-scheduler",
    "reminder-sweeper",
];

#[test]
fn no_lambda_links_local_mode_or_the_test_fixtures() {
    let graph = metadata();
    for function in LAMBDAS {
        let reached = graph.reached_from(function);
        for other_layer in ["local", "acceptance", "axum", "proptest", "reqwest"] {
            assert!(
                !reached.contains_key(other_layer),
                "{function} links {other_layer}: {}",
                reached[other_layer].join(" -> ")
            );
        }
    }
}

/// The crates a Lambda links when built alone, as `cargo lambda build` builds
/// it: `cargo tree` resolves features for the selected package only, unlike
/// `cargo metadata`, which unifies them across the workspace.
fn linked_alone(package: &str) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn no_lambda_links_the_openapi_generator() {
    // The booking function serves docs/openapi.json as text: the schemas'
    // derives (feature `openapi` of domain and edge) stay out of every Lambda.
    for function in LAMBDAS {
        let linked = linked_alone(function);
        assert!(
            linked.contains("domain"),
            "{function}: cargo tree read nothing"
        );
        for generator in ["utoipa", "api-description"] {
            assert!(!linked.contains(generator), "{function} links {generator}");
        }
    }
    // The check sees the generator where it is.
    assert!(linked_alone("api-description").contains("utoipa"));
}
