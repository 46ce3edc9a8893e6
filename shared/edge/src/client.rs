//! Who is calling, as far as the API can tell (SPEC §6): the origin check
//! of a CDN in front of the API, and the client's address the limits count.
//!
//! HTTP APIs take no WAF and their route throttles are shared by every
//! caller, so an operator who wants per-client limits fronts the API with
//! CloudFront and AWS WAF rate-based rules (README, docs/decisions.md). The
//! API's own endpoint must then refuse what did not come through the CDN:
//! CloudFront adds a secret header (`OriginVerifyHeaderSecret`), every API
//! function checks it, and only then trusts the viewer's address the CDN
//! put in `CloudFront-Viewer-Address`.

use crate::http::Problem;
use domain::quota::Source;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::net::IpAddr;

/// The header CloudFront adds to every request it forwards, with the secret.
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";
/// Where CloudFront gives the viewer's address and port (an origin request
/// policy must forward it).
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// The origin check of one function: off without a secret.
#[derive(Clone, Default)]
pub struct OriginCheck {
    secret: Option<String>,
}

impl std::fmt::Debug for OriginCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.secret {
            Some(_) => "OriginCheck(on)",
            None => "OriginCheck(off)",
        })
    }
}

/// Equal, in a time that does not tell how much of a guess was right.
fn same_secret(given: &[u8], secret: &[u8]) -> bool {
    given.len() == secret.len()
        && given
            .iter()
            .zip(secret)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

impl OriginCheck {
    /// `secret`: the `OriginVerifyHeaderSecret` parameter; empty = off.
    pub fn new(secret: Option<String>) -> Self {
        Self {
            secret: secret.filter(|s| !s.is_empty()),
        }
    }

    /// The client of `request`: refused (403) when a secret is set and the
    /// request does not carry it; the viewer's address from the CDN's header
    /// only when it does, else the peer API Gateway saw.
    pub fn admit(&self, request: &Request) -> Result<Source, Problem> {
        let Some(secret) = &self.secret else {
            return Ok(Source(source_ip(request)));
        };
        let given = request
            .headers()
            .get(ORIGIN_VERIFY_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same_secret(given, secret.as_bytes()) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "Requests reach this API through its public address only.",
            ));
        }
        Ok(Source(
            viewer_address(request).or_else(|| source_ip(request)),
        ))
    }
}

/// API Gateway's `requestContext.http.sourceIp` (local mode's gateway puts
/// the peer's address there).
fn source_ip(request: &Request) -> Option<IpAddr> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return None;
    };
    context.http.source_ip.as_deref()?.parse().ok()
}

/// `198.51.100.10:46532` or `2001:db8::1:46532`: the address before the last colon.
fn viewer_address(request: &Request) -> Option<IpAddr> {
    let value = request
        .headers()
        .get(VIEWER_ADDRESS_HEADER)?
        .to_str()
        .ok()?;
    let (address, _port) = value.trim().rsplit_once(':')?;
    address.trim_matches(['[', ']']).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(headers: serde_json::Value) -> Request {
        let event = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/openapi.json", "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "1", "apiId": "api", "domainName": "api.example.org",
                "http": {"method": "GET", "path": "/openapi.json", "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.1", "userAgent": "test"},
                "requestId": "id", "routeKey": "$default", "stage": "$default", "time": "", "timeEpoch": 0
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_a_secret_the_client_is_the_peer_whatever_the_headers_say() {
        let check = OriginCheck::new(Some(String::new()));
        let given = request(json!({VIEWER_ADDRESS_HEADER: "198.51.100.10:46532"}));
        assert_eq!(check.admit(&given).unwrap(), Source(ip("203.0.113.1")));
    }

    #[test]
    fn with_a_secret_only_requests_carrying_it_pass_and_then_the_viewer_counts() {
        let check = OriginCheck::new(Some("s3cret-value".into()));
        // Given a request that went around the CDN, then it is refused
        let direct = request(json!({VIEWER_ADDRESS_HEADER: "198.51.100.10:46532"}));
        assert_eq!(check.admit(&direct).unwrap_err().status, 403);
        let wrong = request(json!({ORIGIN_VERIFY_HEADER: "s3cret-valuf"}));
        assert_eq!(check.admit(&wrong).unwrap_err().status, 403);
        // Given requests through the CDN, then the viewer's address is the client's
        let through = request(json!({ORIGIN_VERIFY_HEADER: "s3cret-value",
                                     VIEWER_ADDRESS_HEADER: "198.51.100.10:46532"}));
        assert_eq!(check.admit(&through).unwrap(), Source(ip("198.51.100.10")));
        let v6 = request(json!({ORIGIN_VERIFY_HEADER: "s3cret-value",
                                VIEWER_ADDRESS_HEADER: "2001:db8::1:46532"}));
        assert_eq!(check.admit(&v6).unwrap(), Source(ip("2001:db8::1")));
        let without = request(json!({ORIGIN_VERIFY_HEADER: "s3cret-value"}));
        assert_eq!(check.admit(&without).unwrap(), Source(ip("203.0.113.1")));
    }
}
