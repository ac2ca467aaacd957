//! The WebSocket upgrade, done by hand on hyper's upgrade so that the stream is async-tungstenite's.

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use axum::{
    body::Body,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use enchufe_core::ErrorCode;

use crate::{
    http::{ApiError, Door, Held, bearer, check_origin, principal},
    server::Context,
};

/// `?token=` of an upgrade: a browser's WebSocket cannot send `Authorization`.
#[derive(Debug, serde::Deserialize)]
struct UpgradeQuery {
    token: Option<String>,
}

/// `GET /ws`: checks the upgrade request — its `Origin` (403 for a page the server does not
/// trust) and its token (`?token=`, or `Authorization: Bearer` from non-browser clients; 401 when
/// bad) — answers `101 Switching Protocols`, and runs the connection in a tracked task once
/// hyper hands the stream over. A verified token's principal starts the session, as if its
/// `hello` had carried the token; without one, `hello.token` still can.
pub(crate) async fn upgrade(State(ctx): State<Context>, mut request: Request) -> Response {
    let headers = request.headers();
    if request.method() != Method::GET
        || !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        let mut response =
            ApiError::bad_request("this endpoint speaks WebSocket: send an upgrade request")
                .into_response();
        *response.status_mut() = StatusCode::UPGRADE_REQUIRED;
        response.headers_mut().insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return response;
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
        let mut response =
            ApiError::bad_request("only WebSocket version 13 is supported").into_response();
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return response;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return ApiError::bad_request("missing Sec-WebSocket-Key").into_response();
    };
    if let Err(refused) = check_origin(&ctx, headers, Door::Upgrade) {
        return *refused;
    }
    let Ok(Query(query)) = Query::<UpgradeQuery>::try_from_uri(request.uri()) else {
        return ApiError::code(ErrorCode::InvalidField, "the query string does not parse")
            .into_response();
    };
    // Only a token given here is checked here: without one the session waits for `hello`,
    // which may carry it (or be anonymous, where the policy allows).
    let token = match bearer(headers) {
        Ok(header) => header.or(query.token.as_deref().filter(|t| !t.is_empty())),
        Err(refused) => return *refused,
    };
    // Boxed: it rides in the connection's task for as long as the connection lives, and most
    // connections have none.
    let principal = match token {
        Some(token) => match principal(&ctx, Some(token)) {
            Ok(principal) => principal.map(Box::new),
            Err(refused) => return *refused,
        },
        None => None,
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut request);
    // The HTTP connection's place in the connection budget goes with the WebSocket.
    let held = request.extensions_mut().remove::<Held>();
    ctx.tracker.clone().spawn(super::connection::run(on_upgrade, held, ctx, principal));
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// Whether a comma-separated header holds `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}
