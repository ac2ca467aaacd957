//! `DELETE /api/sessions/{session}`: an administrator disconnects a session (4014 `kicked`).

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
};
use enchufe_core::ErrorCode;

use super::ApiError;
use crate::{mac, server::Context};

/// Kicks a session. `404` when no admin token is configured (the endpoint does not exist) or
/// the session is unknown; `401` for a missing or wrong bearer token; `204` when done.
pub(crate) async fn kick(
    State(ctx): State<Context>,
    Path(session): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let Some(token) = ctx.config.admin_token.as_deref() else {
        return Err(ApiError::not_found("no admin token is configured"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|given| mac::same_secret(given.trim().as_bytes(), token.as_bytes())) {
        return Err(ApiError::code(
            ErrorCode::Unauthorized,
            "a valid admin bearer token is required",
        ));
    }
    if ctx.hub.kick(&session) {
        tracing::info!(%session, "session kicked by an administrator");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no session {session}")))
    }
}
