//! `DELETE /api/sessions/{session}`: an administrator disconnects a session (4014 `kicked`).

use axum::{
    extract::{Extension, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use enchufe_core::ErrorCode;

use super::{ApiError, Peer};
use crate::{mac, server::Context};

/// Kicks a session. `404` when no admin token is configured (the endpoint does not exist) or
/// the session is unknown; `401` for a missing or wrong bearer token; `429` with `Retry-After`
/// for an address that sent too many wrong ones (10, then one a second: guessing is slow);
/// `204` when done. The admin token is its own secret, not a JWT: the admin API does not
/// depend on the identity provider.
pub(crate) async fn kick(
    State(ctx): State<Context>,
    peer: Option<Extension<Peer>>,
    Path(session): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = ctx.config.admin_token.as_deref() else {
        return Err(ApiError::not_found("no admin token is configured"));
    };
    let address = peer.map(|Extension(Peer(peer))| peer.ip());
    if address.is_some_and(|a| !ctx.admission.admin_allowed(a)) {
        let mut response = ApiError::code(
            ErrorCode::RateLimited,
            "too many wrong admin tokens from this address; retry in a second",
        )
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
        return Ok(response);
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token);
    if !given.is_some_and(|given| mac::same_secret(given.trim().as_bytes(), token.as_bytes())) {
        if let Some(address) = address {
            ctx.admission.admin_failed(address);
        }
        let mut response =
            ApiError::code(ErrorCode::Unauthorized, "a valid admin bearer token is required")
                .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"admin\""));
        return Ok(response);
    }
    if ctx.hub.kick(&session) {
        tracing::info!(%session, "session kicked by an administrator");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no session {session}")))
    }
}
