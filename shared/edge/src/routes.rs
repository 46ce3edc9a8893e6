//! The routes of an HTTP function, declared once: each function's `ROUTES`
//! names every route it answers (method, path template as `template.yaml`
//! writes it, operation name, who may call it) and what it does for it. The
//! function's router dispatches through that declaration ([`route`]), the
//! OpenAPI document (`shared/api-description`) describes each declared
//! operation, and `tests/consistency.rs` holds the declarations to the
//! template's `HttpApi` events.

use crate::http::{Problem, caller_sub};
use domain::grants::Act;
use domain::ids::PractitionerId;
use domain::ports::GrantStore;
use domain::service::grants::{AccessError, Caller, Grants};
use lambda_http::Request;
use lambda_http::http::Method as HttpMethod;

/// The methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// As HTTP and `template.yaml` write it: `GET`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    fn is(self, method: &HttpMethod) -> bool {
        method.as_str() == self.as_str()
    }
}

/// Who may call a route (SPEC §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// A practitioner's token (API Gateway's JWT authorizer) whose `sub`
    /// holds a grant on the path's `{pid}` with a role that may do this.
    Practitioner(Act),
    /// Anyone, without a token (`Auth: Authorizer: NONE` in the template).
    Anyone,
}

/// One route of a function, and the function's own name `A` for what it does.
#[derive(Debug, Clone, Copy)]
pub struct Route<A> {
    pub method: Method,
    /// As `template.yaml` writes it: `/a/{token}/cancel`.
    pub path: &'static str,
    /// The OpenAPI document's `operationId`.
    pub operation: &'static str,
    pub access: Access,
    pub action: A,
}

impl<A> Route<A> {
    pub const fn new(
        method: Method,
        path: &'static str,
        operation: &'static str,
        access: Access,
        action: A,
    ) -> Self {
        Self {
            method,
            path,
            operation,
            access,
            action,
        }
    }

    /// The names of the path's `{parameters}`, in order.
    pub fn parameters(&self) -> impl Iterator<Item = &'static str> {
        segments(self.path).filter_map(parameter)
    }

    /// How many of the path's segments are literal: the more specific route
    /// wins when two paths match, as in API Gateway.
    fn literal_segments(&self) -> usize {
        segments(self.path)
            .filter(|s| parameter(s).is_none())
            .count()
    }

    /// The values of the path's parameters in `path`, when `path` is this route's.
    fn matches<'p>(&self, path: &'p str) -> Option<Params<'p>> {
        let mut wanted = segments(self.path);
        let mut given = segments(path);
        let mut values = Vec::new();
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return Some(Params { values }),
                (Some(w), Some(g)) => match parameter(w) {
                    Some(name) => values.push((name, g)),
                    None if w == g => {}
                    None => return None,
                },
                _ => return None,
            }
        }
    }
}

/// `/a/{token}/` → `a`, `{token}`: as the routers always split paths.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

fn parameter(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// The values of a request path's `{parameters}`, as text: each handler
/// parses the ones it reads into their types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params<'p> {
    values: Vec<(&'static str, &'p str)>,
}

impl<'p> Params<'p> {
    /// The value of `{name}`. A name the route does not declare reads as
    /// empty, which no id or token parses.
    pub fn get(&self, name: &str) -> &'p str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v)
    }
}

/// What a method and path ask of a function's routes.
#[derive(Debug)]
pub enum Found<'r, 'p, A> {
    Route(&'r Route<A>, Params<'p>),
    /// The path is a route's, the method none of its.
    MethodNotAllowed,
    NotFound,
}

/// The route of `routes` that `method` and `path` ask for.
pub fn find<'r, 'p, A>(
    routes: &'r [Route<A>],
    method: &HttpMethod,
    path: &'p str,
) -> Found<'r, 'p, A> {
    let mut path_known = false;
    let mut best: Option<(&'r Route<A>, Params<'p>)> = None;
    for route in routes {
        let Some(params) = route.matches(path) else {
            continue;
        };
        path_known = true;
        let better = best
            .as_ref()
            .is_none_or(|(b, _)| route.literal_segments() > b.literal_segments());
        if route.method.is(method) && better {
            best = Some((route, params));
        }
    }
    match best {
        Some((route, params)) => Found::Route(route, params),
        None if path_known => Found::MethodNotAllowed,
        None => Found::NotFound,
    }
}

/// The action a request asks for, with its path's parameters, after what
/// every route needs: an unknown path is 404 and a known one asked with
/// another method 405 (problems); a practitioner's route needs a token
/// (401) whose `sub` has a grant on the path's `{pid}` with a role that may
/// do the route's act (403, SPEC §6.1): then the caller is returned.
pub async fn route<'q, A: Copy, S: GrantStore + ?Sized>(
    routes: &[Route<A>],
    request: &'q Request,
    grants: &Grants<S>,
) -> Result<(A, Params<'q>, Option<Caller>), Problem> {
    match find(routes, request.method(), request.uri().path()) {
        Found::Route(route, params) => {
            let caller = match route.access {
                Access::Practitioner(act) => Some(admit(request, &params, grants, act).await?),
                Access::Anyone => None,
            };
            Ok((route.action, params, caller))
        }
        Found::MethodNotAllowed => Err(Problem::method_not_allowed()),
        Found::NotFound => Err(Problem::not_found("No such resource.")),
    }
}

/// [`route`] for a function whose routes are all open to anyone (patient
/// links): a practitioner's route declared there is refused, never answered.
pub fn route_public<'q, A: Copy>(
    routes: &[Route<A>],
    request: &'q Request,
) -> Result<(A, Params<'q>), Problem> {
    match find(routes, request.method(), request.uri().path()) {
        Found::Route(route, params) => match route.access {
            Access::Anyone => Ok((route.action, params)),
            Access::Practitioner(_) => Err(Problem::not_your_practitioner()),
        },
        Found::MethodNotAllowed => Err(Problem::method_not_allowed()),
        Found::NotFound => Err(Problem::not_found("No such resource.")),
    }
}

async fn admit<S: GrantStore + ?Sized>(
    request: &Request,
    params: &Params<'_>,
    grants: &Grants<S>,
    act: Act,
) -> Result<Caller, Problem> {
    let sub = match caller_sub(request) {
        None => return Err(Problem::unauthenticated()),
        Some(Err(_)) => return Err(Problem::not_your_practitioner()),
        Some(Ok(sub)) => sub,
    };
    // An id that cannot be a practitioner's has no grant: 403, as any other.
    let practitioner =
        PractitionerId::parse(params.get("pid")).map_err(|_| Problem::not_your_practitioner())?;
    match grants.admit(&practitioner, &sub, act).await {
        Ok(caller) => Ok(caller),
        Err(AccessError::Forbidden) => Err(Problem::not_your_practitioner()),
        Err(AccessError::Store(e)) => Err(e.into()),
    }
}

/// What is wrong with a function's declaration: two routes for one method
/// and path, a route that another one hides, a path that is not a template.
/// Empty when every declared route is answered as itself.
pub fn declaration_problems<A>(routes: &[Route<A>]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let name = format!("{} {}", route.method.as_str(), route.path);
        if !route.path.starts_with('/') {
            problems.push(format!("{name}: a path starts with /"));
        }
        if route.operation.is_empty() {
            problems.push(format!("{name}: no operation name"));
        }
        if routes[..i]
            .iter()
            .any(|r| r.method == route.method && r.path == route.path)
        {
            problems.push(format!("{name} is declared twice"));
        }
        if routes[..i].iter().any(|r| r.operation == route.operation) {
            problems.push(format!(
                "{name}: operation {} is declared twice",
                route.operation
            ));
        }
        // A request for the route itself (parameters filled in) finds it.
        let sample: String = segments(route.path)
            .map(|s| if parameter(s).is_some() { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method =
            HttpMethod::from_bytes(route.method.as_str().as_bytes()).unwrap_or(HttpMethod::GET);
        match find(routes, &method, &format!("/{sample}")) {
            Found::Route(found, _) if std::ptr::eq(found, route) => {}
            Found::Route(found, _) => problems.push(format!(
                "{name} is answered as {} {}",
                found.method.as_str(),
                found.path
            )),
            _ => problems.push(format!("{name} is not answered")),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Action {
        Show,
        Slots,
        Move,
        Help,
    }

    const ROUTES: &[Route<Action>] = &[
        Route::new(
            Method::Get,
            "/a/{token}",
            "show",
            Access::Anyone,
            Action::Show,
        ),
        Route::new(
            Method::Get,
            "/a/{token}/slots",
            "slots",
            Access::Anyone,
            Action::Slots,
        ),
        Route::new(
            Method::Post,
            "/a/{token}/move",
            "move",
            Access::Anyone,
            Action::Move,
        ),
        Route::new(Method::Get, "/a/help", "help", Access::Anyone, Action::Help),
    ];

    fn found(method: HttpMethod, path: &str) -> Option<(Action, String)> {
        match find(ROUTES, &method, path) {
            Found::Route(route, params) => Some((route.action, params.get("token").to_string())),
            Found::MethodNotAllowed => None,
            Found::NotFound => Some((Action::Help, "404".into())),
        }
    }

    #[test]
    fn a_declared_route_is_found_with_its_parameters() {
        assert_eq!(
            found(HttpMethod::GET, "/a/T0KEN"),
            Some((Action::Show, "T0KEN".into()))
        );
        assert_eq!(
            found(HttpMethod::POST, "/a/T0KEN/move/"),
            Some((Action::Move, "T0KEN".into()))
        );
        // A literal segment wins over a parameter, as in API Gateway.
        assert_eq!(
            found(HttpMethod::GET, "/a/help"),
            Some((Action::Help, String::new()))
        );
    }

    #[test]
    fn another_method_is_405_and_another_path_404() {
        assert_eq!(found(HttpMethod::GET, "/a/T0KEN/move"), None);
        assert_eq!(found(HttpMethod::DELETE, "/a/T0KEN"), None);
        for path in ["/a/T0KEN/cancel", "/a", "/b/T0KEN", "/a/T0KEN/slots/more"] {
            assert_eq!(
                found(HttpMethod::GET, path),
                Some((Action::Help, "404".into())),
                "{path}"
            );
        }
    }

    #[test]
    fn a_route_hidden_or_declared_twice_is_a_problem_of_the_declaration() {
        assert!(declaration_problems(ROUTES).is_empty());
        let twice = [ROUTES[0], ROUTES[0]];
        assert_eq!(
            declaration_problems(&twice).len(),
            3,
            "{:?}",
            declaration_problems(&twice)
        );
        let unnamed = [Route::new(
            Method::Get,
            "a/{token}",
            "",
            Access::Anyone,
            Action::Show,
        )];
        assert_eq!(declaration_problems(&unnamed).len(), 2);
    }

    #[test]
    fn a_route_knows_its_parameters() {
        let route = Route::new(
            Method::Get,
            "/practitioners/{pid}/appointments/{id}",
            "getAppointment",
            Access::Practitioner(Act::WorkTheAgenda),
            (),
        );
        assert_eq!(route.parameters().collect::<Vec<_>>(), ["pid", "id"]);
    }
}
