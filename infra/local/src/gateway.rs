//! Local stand-in for API Gateway (HTTP API, payload 2.0): matches the template's
//! routes, plays the JWT authorizer for `local-<practitionerId>` tokens, and hands
//! each function the same request event Lambda would.

use crate::template::HttpRoute;
use axum::body::Body as AxumBody;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use edge::http::{Problem, SUB_CLAIM};
use futures::future::BoxFuture;
use lambda_http::Body as LambdaBody;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A Lambda HTTP handler, as local mode calls it.
pub type HttpFunction = Arc<
    dyn Fn(lambda_http::Request) -> BoxFuture<'static, lambda_http::Response<LambdaBody>>
        + Send
        + Sync,
>;

/// API Gateway refuses larger payloads; so does local mode.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

pub struct Gateway {
    routes: Vec<(HttpRoute, HttpFunction)>,
    /// Whether `local-<practitionerId>` tokens stand for a JWT (SPEC §6.1):
    /// never against real AWS resources without the explicit switch.
    local_tokens: bool,
}

/// Literal segments win over `{param}` ones, as in API Gateway.
fn specificity(path: &str) -> usize {
    path.split('/').filter(|s| !s.starts_with('{')).count()
}

fn route_matches(template: &str, path: &str) -> bool {
    let mut wanted = template.trim_matches('/').split('/');
    let mut given = path.trim_matches('/').split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), _) if w.ends_with("+}") => return true,
            (Some(w), Some(g)) if w.starts_with('{') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

impl Gateway {
    /// Every route of the template must have a function in `functions`.
    pub fn new(
        routes: Vec<HttpRoute>,
        functions: &HashMap<String, HttpFunction>,
        local_tokens: bool,
    ) -> Result<Self, String> {
        let mut wired = Vec::new();
        for route in routes {
            let function = functions.get(&route.function).ok_or_else(|| {
                format!(
                    "template.yaml routes {} {} to {}, which local mode does not run",
                    route.method, route.path, route.function
                )
            })?;
            wired.push((route, function.clone()));
        }
        wired.sort_by_key(|(r, _)| std::cmp::Reverse(specificity(&r.path)));
        Ok(Self {
            routes: wired,
            local_tokens,
        })
    }

    /// Whether `local-<sub>` tokens stand for a JWT here.
    pub fn local_tokens(&self) -> bool {
        self.local_tokens
    }

    pub async fn serve(&self, request: axum::extract::Request) -> Response {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        let matching: Vec<_> = self
            .routes
            .iter()
            .filter(|(r, _)| route_matches(&r.path, &path))
            .collect();
        let Some((route, function)) = matching
            .iter()
            .find(|(r, _)| r.method == parts.method.as_str() || r.method == "ANY")
        else {
            let problem = if matching.is_empty() {
                Problem::not_found("No such resource.")
            } else {
                Problem::method_not_allowed()
            };
            return lambda_to_axum(problem.into_response());
        };
        let body = match axum::body::to_bytes(body, MAX_PAYLOAD_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return lambda_to_axum(
                    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.")
                        .into_response(),
                );
            }
        };
        let claims = if self.local_tokens {
            local_claims(&parts.headers)
        } else {
            None
        };
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let event = api_gateway_event(
            &parts.method,
            &parts.uri,
            &parts.headers,
            &body,
            route,
            claims,
            peer,
        );
        let request = match lambda_http::request::from_str(&event.to_string()) {
            Ok(r) => r,
            Err(e) => {
                return (StatusCode::BAD_REQUEST, format!("unreadable request: {e}"))
                    .into_response();
            }
        };
        lambda_to_axum(function(request).await)
    }
}

/// The claims API Gateway's JWT authorizer would pass for a valid token:
/// locally, `Bearer local-<sub>` stands for a JWT with that `sub` (SPEC
/// §6.1); what it may do comes from the grants, as on AWS.
fn local_claims(headers: &HeaderMap) -> Option<Value> {
    local_sub(headers).map(|sub| {
        json!({
            SUB_CLAIM: sub.as_str(),
            "iss": "local",
        })
    })
}

/// The `sub` a local token stands for: one subject a grant can name
/// (`local-a b` stands for nobody).
pub fn local_sub(headers: &HeaderMap) -> Option<domain::grants::MemberSub> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    domain::grants::MemberSub::parse(token.strip_prefix("local-")?).ok()
}

fn api_gateway_event(
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    route: &HttpRoute,
    claims: Option<Value>,
    peer: Option<std::net::IpAddr>,
) -> Value {
    let mut header_map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).to_string();
        header_map
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                *v = Value::String(format!("{},{value}", v.as_str().unwrap_or_default()))
            })
            .or_insert(Value::String(value));
    }
    let raw_query = uri.query().unwrap_or_default();
    let mut query = Map::new();
    for (k, v) in form_pairs(raw_query) {
        query
            .entry(k)
            .and_modify(|e| *e = Value::String(format!("{},{v}", e.as_str().unwrap_or_default())))
            .or_insert(Value::String(v));
    }
    let text = std::str::from_utf8(body).ok();
    let now = chrono::Utc::now();
    let mut context = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": method.as_str(),
            "path": uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": peer.map_or_else(|| "127.0.0.1".to_string(), |ip| ip.to_string()),
            "userAgent": headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or(""),
        },
        "requestId": ulid_like(),
        "routeKey": format!("{} {}", route.method, route.path),
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{} {}", route.method, route.path),
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": context,
        "isBase64Encoded": text.is_none(),
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !body.is_empty() {
        event["body"] = match text {
            Some(t) => Value::String(t.to_string()),
            None => Value::String(STANDARD.encode(body)),
        };
    }
    event
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

fn ulid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("local-{:016x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn lambda_to_axum(response: lambda_http::Response<LambdaBody>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        LambdaBody::Empty => Vec::new(),
        LambdaBody::Text(t) => t.into_bytes(),
        LambdaBody::Binary(b) => b,
        _ => Vec::new(),
    };
    Response::from_parts(parts, AxumBody::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_like_api_gateway() {
        assert!(route_matches(
            "/practitioners/{pid}",
            "/practitioners/dr-martin"
        ));
        assert!(!route_matches(
            "/practitioners/{pid}",
            "/practitioners/dr-martin/appointments"
        ));
        assert!(route_matches("/a/{proxy+}", "/a/token/slots"));
        assert!(!route_matches("/practitioners/{pid}", "/practitioners/"));
        assert!(specificity("/a/{t}/slots") > specificity("/a/{t}/{x}"));
    }

    #[test]
    fn only_local_tokens_become_claims() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer local-dr-martin".parse().unwrap());
        assert_eq!(local_claims(&headers).unwrap()[SUB_CLAIM], "dr-martin");
        headers.insert(
            "authorization",
            "Bearer local-dr-martin.secretariat".parse().unwrap(),
        );
        assert_eq!(
            local_claims(&headers).unwrap()[SUB_CLAIM],
            "dr-martin.secretariat"
        );
        headers.insert("authorization", "Bearer eyJhbGciOi".parse().unwrap());
        assert!(local_claims(&headers).is_none());
        // Issue 10: one token, one subject.
        for two in ["Bearer local-a b", "Bearer local-a\tb", "Bearer local-"] {
            headers.insert("authorization", two.parse().unwrap());
            assert!(local_claims(&headers).is_none(), "{two}");
        }
    }
}
