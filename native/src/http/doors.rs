//! What every HTTP door checks before it acts (docs/DECISIONS.md, "Identity"):
//!
//! - the caller's token: `Authorization: Bearer <jwt>` (the scheme in any case), or `?token=`
//!   where a browser cannot set headers (EventSource, a WebSocket upgrade), verified with the
//!   hub's [`Auth`](crate::auth::Auth): `401` with `WWW-Authenticate: Bearer` when it is missing
//!   (and required), invalid or expired;
//! - the page's `Origin` on writes (REST `POST`) and WebSocket upgrades: a page of another
//!   origin may act with the user's cookies or a token it found, so only the server's own origin
//!   and the configured ones are trusted (`--allowed-origins` and `--cors` together).

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use enchufe_core::ErrorCode;

use super::ApiError;
use crate::{
    auth::{AuthError, Principal},
    clock,
    server::Context,
};

/// A refusal, answered as it is (boxed: a response is large, and the happy path carries none).
pub(crate) type Refused = Box<Response>;

/// The token of `Authorization: Bearer <token>`: `Ok(None)` without the header, `Err` (401) for
/// one of another scheme or not ASCII (a client that sent credentials the server cannot read
/// should hear so, not be treated as anonymous).
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Refused> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let refused =
        || Box::new(unauthorized(ErrorCode::Unauthorized, "Authorization must be Bearer <token>"));
    let value = value.to_str().map_err(|_| refused())?.trim();
    let (scheme, token) = value.split_once(' ').ok_or_else(refused)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(refused());
    }
    Ok(Some(token.trim()))
}

/// The principal for `token` now: `Ok(None)` for an anonymous request the policy lets in, else
/// `401` with the reason.
pub(crate) fn principal(ctx: &Context, token: Option<&str>) -> Result<Option<Principal>, Refused> {
    ctx.hub.auth().principal(token, clock::now().unix_ms).map_err(|error| {
        let code = match error {
            AuthError::Expired => ErrorCode::TokenExpired,
            _ => ErrorCode::Unauthorized,
        };
        Box::new(unauthorized(code, error.to_string()))
    })
}

/// The principal of a request that carries its token in `Authorization` or, for browsers that
/// cannot set headers, in `?token=` (the header wins when both are given).
pub(crate) fn principal_from(
    ctx: &Context,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<Option<Principal>, Refused> {
    let token = bearer(headers)?.or(query_token.filter(|t| !t.is_empty()));
    principal(ctx, token)
}

/// `401` with `WWW-Authenticate: Bearer` (RFC 6750) and the typed JSON body.
pub(crate) fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Response {
    let mut response = ApiError::code(code, message).into_response();
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"enchufe\""));
    response
}

/// `403` with code 4021 `forbidden`.
pub(crate) fn forbidden(message: impl Into<String>) -> Response {
    ApiError::code(ErrorCode::Forbidden, message).into_response()
}

/// What kind of request the origin is checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Door {
    /// A WebSocket upgrade: other origins are refused once the server has keys or a list of
    /// allowed origins (with neither, a local developer's pages on other ports may connect).
    Upgrade,
    /// A REST write: other origins are refused unless listed, in every configuration.
    Write,
}

/// Checks the request's `Origin` for `door`: `403` for a page of an origin that is not
/// trusted. No `Origin` (a program, not a browser) passes; `Origin: null` (a sandboxed or
/// `file:` page) is foreign.
pub(crate) fn check_origin(ctx: &Context, headers: &HeaderMap, door: Door) -> Result<(), Refused> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or("null").trim();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if host.is_some_and(|host| same_origin(origin, host)) {
        return Ok(());
    }
    let config = &ctx.config;
    let listed = |list: &[String]| list.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin));
    if origin != "null" && (listed(&config.allowed_origins) || listed(&config.cors_origins)) {
        return Ok(());
    }
    let restricted = match door {
        Door::Write => true,
        Door::Upgrade => ctx.hub.auth().has_keys() || !config.allowed_origins.is_empty(),
    };
    if !restricted {
        return Ok(());
    }
    let what = match door {
        Door::Upgrade => "WebSocket connections",
        Door::Write => "writes",
    };
    Err(Box::new(forbidden(format!(
        "{what} from pages of origin {origin} are not allowed (--allowed-origins lists the \
         origins this server trusts)"
    ))))
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as the request's
/// `Host`, with either scheme (a TLS-terminating proxy may stand in front).
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let split = |authority: &str| -> (String, Option<String>) {
        // `[::1]:8480`: the port follows the bracket.
        let (name, port) = match authority.rsplit_once(':') {
            Some((name, port)) if !port.contains(']') => (name, Some(port)),
            _ => (authority, None),
        };
        (name.to_ascii_lowercase(), port.map(str::to_owned))
    };
    let (origin_name, origin_port) = split(authority);
    let origin_port = origin_port.unwrap_or_else(|| default.to_owned());
    let (host_name, host_port) = split(host.trim());
    let same_port = match host_port {
        Some(port) => port == origin_port,
        // Without a port the request came to a scheme's default one.
        None => origin_port == "80" || origin_port == "443",
    };
    origin_name == host_name && same_port
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn the_same_origin_is_the_same_host_and_port_with_either_scheme() {
        assert!(same_origin("http://127.0.0.1:8480", "127.0.0.1:8480"));
        assert!(same_origin("https://Chat.Example", "chat.example"));
        assert!(same_origin("http://chat.example", "chat.example:80"));
        assert!(same_origin("https://chat.example:8443", "chat.example:8443"));
        assert!(same_origin("http://[::1]:8480", "[::1]:8480"));
        assert!(!same_origin("http://127.0.0.1:8481", "127.0.0.1:8480"));
        assert!(!same_origin("http://evil.example", "chat.example"));
        assert!(!same_origin("null", "chat.example"));
        assert!(!same_origin("ftp://chat.example", "chat.example"));
    }
}
