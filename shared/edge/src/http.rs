//! HTTP plumbing shared by the API functions: problem+json errors (RFC 9457),
//! JSON and HTML answers, the caller's rights from the JWT authorizer, bodies.

use domain::grants::{InvalidSub, MemberSub};
use domain::time::{WindowBound, WindowRequest};
use domain::validation::FieldError;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub type HttpResponse = Response<Body>;

/// The JWT claim naming the caller: what grants are given to (SPEC §6.1).
/// What the caller may do is never read from a claim the user could write.
pub const SUB_CLAIM: &str = "sub";

/// Bodies larger than this are refused before parsing (settings with many
/// reasons stay far below it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An RFC 9457 problem: what went wrong, for a person and for the front end.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    /// The status's reason phrase (RFC 9457 §3.1.4: the same for every
    /// problem of a type).
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For patients refused an action: whom to call instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secretariat_phone: Option<String>,
    /// RFC 9457 extension members at the top level, e.g. the `appointments`
    /// of a refused absence (SPEC §6.2). Boxed: most problems have none.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// Seconds for the `Retry-After` header of a 429 (SPEC §6).
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
            secretariat_phone: None,
            extensions: None,
            retry_after: None,
        }
    }
    /// 429 over a limit of SPEC §6: nothing changed; `Retry-After` says when
    /// the limit's hour ends.
    pub fn too_many_requests(over: &domain::quota::OverLimit) -> Self {
        Self {
            retry_after: Some(over.retry_after_seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many requests from this address or for this e-mail address; try again in {} seconds.",
                    over.retry_after_seconds
                ),
            )
        }
    }
    /// 422 with every invalid field.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        Self {
            errors: Some(errors),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Some fields are invalid; see errors.",
            )
        }
    }
    /// Adds the extension member `name` (RFC 9457 §3.2).
    pub fn with_member(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions
            .get_or_insert_with(Default::default)
            .insert(name.to_string(), value);
        self
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    /// A failure of ours or of a dependency: the detail is generic, the cause is logged.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable; please try again.",
        )
    }
    /// No token reached the function (SPEC §6.1).
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required: send Authorization: Bearer <token>.",
        )
    }
    /// No grant on this practitioner, or a role that may not do this
    /// (SPEC §6.1): nothing said about the practitioner asked for.
    pub fn not_your_practitioner() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Your grants do not allow this for this practitioner.",
        )
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "This method is not allowed here.",
        )
    }
    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).expect("problems serialize");
        let mut response = respond(status, "application/problem+json", body);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> HttpResponse {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Every answer is read as the type it says, never sniffed into a page.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The patients' pages use no script and one inline stylesheet (allowed by
/// its hash); forms post only to this site; no site may frame them.
pub fn page_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'",
        domain::messages::templates::page_style_sha256()
    )
}

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    respond(
        status,
        "application/json",
        serde_json::to_string(body).expect("answers serialize"),
    )
}

/// 204: done, nothing to say (`DELETE`).
pub fn no_content() -> HttpResponse {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An answer already written as JSON text (the OpenAPI document).
pub fn json_text(status: StatusCode, body: &str) -> HttpResponse {
    respond(status, "application/json", body.to_string())
}

/// A patient page, with the headers of [`page_security_policy`]; links carry
/// secrets, so no referrer leaves with them.
pub fn html(status: StatusCode, page: String) -> HttpResponse {
    let mut response = respond(status, "text/html; charset=utf-8", page);
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&page_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Whether a form post comes from another site (SPEC §6.4, issue 10): the
/// browser says so (`Sec-Fetch-Site` other than `same-origin` or `none`), or,
/// from a browser that sends no `Sec-Fetch-Site`, its `Origin` is not
/// `own_origin`. Programs that send neither header are not browsers carrying
/// a patient's visit, and are let through.
pub fn is_cross_site(request: &Request, own_origin: &str) -> bool {
    let header_text = |name| {
        request.headers().get(name).map(|v| {
            v.to_str()
                .unwrap_or("<unreadable>")
                .trim()
                .to_ascii_lowercase()
        })
    };
    match header_text("sec-fetch-site") {
        // A browser that says where the post comes from is believed: under
        // `Referrer-Policy: no-referrer` the same browser sends `Origin: null`
        // even for our own forms (Chromium does; the browser tests caught it).
        Some(site) => site != "same-origin" && site != "none",
        // Older browsers: the `Origin` must be ours (`null` is not).
        None => {
            header_text("origin").is_some_and(|origin| origin != own_origin.to_ascii_lowercase())
        }
    }
}

/// `scheme://host[:port]` of a base URL, as browsers write `Origin`.
pub fn origin_of(base_url: &str) -> String {
    let after_scheme = base_url.find("://").map_or(0, |i| i + 3);
    let end = base_url[after_scheme..]
        .find('/')
        .map_or(base_url.len(), |i| after_scheme + i);
    base_url[..end].to_ascii_lowercase()
}

/// SPEC §6: a body over 64 KiB is refused (413) on every route, whether the
/// route reads its body or not, before anything else is done.
pub fn refuse_oversized(request: &Request) -> Result<(), Problem> {
    body_bytes(request).map(|_| ())
}

/// Who is calling, as the API Gateway JWT authorizer verified it: the
/// token's `sub` (SPEC §6.1). `None` when the request carries no verified
/// token; `Some(Err)` for a subject no grant can name.
pub fn caller_sub(request: &Request) -> Option<Result<MemberSub, InvalidSub>> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return None;
    };
    let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
    Some(MemberSub::parse(claims.get(SUB_CLAIM)?.as_str()))
}

/// Every outcome of a route, refusals included, as an HTTP answer: what an
/// API function's handler returns to `lambda_http`.
pub async fn answer(
    route: impl Future<Output = Result<HttpResponse, Problem>>,
) -> Result<HttpResponse, std::convert::Infallible> {
    Ok(route.await.unwrap_or_else(Problem::into_response))
}

/// One query parameter, when given and not blank.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The `from` / `to` query parameters of a window (SPEC §6), read once:
/// 422 naming each one that is not a date or a time of the years 2000–2100.
pub fn window(request: &Request) -> Result<WindowRequest, Problem> {
    let mut errors = Vec::new();
    let mut bound = |name: &str| {
        let text = query_param(request, name)?;
        WindowBound::parse(&text)
            .map_err(|e| {
                errors.push(FieldError {
                    field: name.into(),
                    message: e.to_string(),
                })
            })
            .ok()
    };
    let window = WindowRequest {
        from: bound("from"),
        to: bound("to"),
    };
    if errors.is_empty() {
        Ok(window)
    } else {
        Err(Problem::invalid_fields(errors))
    }
}

fn body_bytes(request: &Request) -> Result<&[u8], Problem> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The body is larger than {MAX_BODY_BYTES} bytes."),
        ));
    }
    Ok(bytes)
}

/// Reads a JSON body: malformed JSON → 400; a field of the wrong type or
/// value → 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    let bytes = body_bytes(request)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "A JSON body is required.",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                format!("The body is not valid JSON: {inner}"),
            );
        }
        Problem::invalid_fields(vec![field_error(&path, &inner.to_string())])
    })?;
    // Exactly one JSON value (SPEC §6): trailing bytes are refused, not ignored.
    deserializer.end().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "The body holds more than one JSON value.",
        )
    })?;
    Ok(value)
}

/// Reads a form post (`application/x-www-form-urlencoded`, what HTML forms
/// send) or, for any other content type, a JSON body.
pub fn parse_form_or_json<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return parse_json(request);
    }
    let bytes = body_bytes(request)?;
    serde_urlencoded::from_bytes(bytes).map_err(|e| {
        Problem::invalid_fields(vec![FieldError {
            field: "body".into(),
            message: e.to_string(),
        }])
    })
}

/// Whether the caller asked for JSON (`Accept: application/json`) rather than a page.
pub fn wants_json(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}

/// The reader's preferred language among ours, from `Accept-Language`, for
/// pages that know nothing else about the reader.
pub fn preferred_language(request: &Request) -> domain::contact::Language {
    let first = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|tag| tag.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if first.starts_with("en") {
        domain::contact::Language::En
    } else {
        domain::contact::Language::Fr
    }
}

/// serde reports a missing field at its parent: name the field itself.
fn field_error(path: &str, message: &str) -> FieldError {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_string();
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        let field = if path == "." {
            missing.to_string()
        } else {
            format!("{path}.{missing}")
        };
        return FieldError {
            field,
            message: "is required".into(),
        };
    }
    FieldError {
        field: if path == "." {
            "body".into()
        } else {
            path.to_string()
        },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&'static str, &'static str)]) -> Request {
        let mut request = Request::new(Body::Empty);
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_static(value));
        }
        request
    }

    #[test]
    fn our_own_form_under_no_referrer_is_not_cross_site() {
        let own = "http://127.0.0.1:3000";
        // What Chromium sends for our form under Referrer-Policy: no-referrer.
        let ours = post(&[("sec-fetch-site", "same-origin"), ("origin", "null")]);
        assert!(!is_cross_site(&ours, own));
        let theirs = post(&[("sec-fetch-site", "cross-site"), ("origin", "null")]);
        assert!(is_cross_site(&theirs, own));
        // Without Fetch Metadata, the Origin decides, and `null` is not ours.
        assert!(is_cross_site(&post(&[("origin", "null")]), own));
        assert!(!is_cross_site(
            &post(&[("origin", "http://127.0.0.1:3000")]),
            own
        ));
        assert!(!is_cross_site(&post(&[]), own));
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(origin_of("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(
            origin_of("https://RDV.example.org/prod/"),
            "https://rdv.example.org"
        );
    }

    #[test]
    fn missing_fields_are_named_by_their_own_path() {
        assert_eq!(field_error(".", "missing field `name`").field, "name");
        assert_eq!(
            field_error("patient", "missing field `last_name` at line 1 column 40").field,
            "patient.last_name"
        );
        let wrong = field_error(
            "secretariat_phone",
            "is not a valid phone number at line 1 column 9",
        );
        assert_eq!(wrong.message, "is not a valid phone number");
    }
}
