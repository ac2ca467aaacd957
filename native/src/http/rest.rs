//! The REST API of docs/DECISIONS.md: publish into a room, read its history, list rooms.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, Path, Query, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use enchufe_core::{Body, ErrorCode, Message, RoomName};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, Door, Peer, check_origin,
    doors::{self},
    principal_from,
};
use crate::{
    auth::Action,
    clock,
    hub::{RoomInfo, Unavailable},
    server::Context,
};

/// The sender name of a REST publish without `?from=`.
const ANONYMOUS: &str = "http";

/// `?from=` of a publish.
#[derive(Debug, Deserialize)]
pub(crate) struct PublishQuery {
    from: Option<String>,
}

/// `?since=&epoch=&limit=` of a history read.
#[derive(Debug, Deserialize)]
pub(crate) struct HistoryQuery {
    since: Option<u64>,
    epoch: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct Published<'a> {
    room: &'a RoomName,
    seq: u64,
    epoch: &'a str,
}

/// A history page. `epoch` is the numbering its seqs count in (`null`: no such room yet);
/// `reset` says that `since` counted in another numbering, so the page starts at the room's start.
#[derive(Serialize)]
struct Messages<'a> {
    room: RoomName,
    epoch: Option<&'a str>,
    reset: bool,
    messages: Vec<Message>,
}

/// A page of the room list; `next` is the `after` of the next page (`null`: the last page).
#[derive(Serialize)]
struct Rooms {
    rooms: Vec<RoomInfo>,
    next: Option<RoomName>,
}

/// `?limit=&after=` of the room list.
#[derive(Debug, Deserialize)]
pub(crate) struct RoomsQuery {
    limit: Option<usize>,
    after: Option<String>,
}

/// Rooms on one page of `GET /api/rooms` unless `?limit=` says fewer or more.
const ROOMS_PAGE: usize = 100;
/// The most rooms one page holds.
const MAX_ROOMS_PAGE: usize = 1000;

/// `POST /api/rooms/{room}/messages`: the request body is the message body (JSON with
/// `Content-Type: application/json`, or bytes with `application/octet-stream`; any other type is
/// `415`, so no cross-site form can publish). A foreign `Origin` is `403` unless allowed. With
/// `Authorization: Bearer <jwt>` the sender is the token's `sub` (`?from=` only where the
/// policy's `names` is on) and `Idempotency-Key` is scoped to it; without a token the key must
/// be long enough not to collide by accident ([`idempotency_key`]). `201 {"room","seq","epoch"}`,
/// `200` with the original seq for a repeated key, `422` for a key reused with another body.
pub(crate) async fn publish(
    State(ctx): State<Context>,
    peer: Option<Extension<Peer>>,
    Path(room): Path<String>,
    query: Result<Query<PublishQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if let Some(Extension(Peer(peer))) = peer {
        if !ctx.admission.rest_publish(peer.ip()) {
            let per_sec = ctx.admission.limits().rest_rate_per_address;
            let message = format!("more than {per_sec} publishes a second from this address");
            crate::metrics::Metrics::add(&ctx.hub.metrics().rate_limited, 1);
            let mut response = ApiError::code(ErrorCode::RateLimited, message).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(1));
            return Ok(response);
        }
    }
    if let Err(refused) = check_origin(&ctx, &headers, Door::Write) {
        return Ok(*refused);
    }
    let bytes = match write_type(&headers) {
        Ok(bytes) => bytes,
        Err(error) => return Ok(error.into_response()),
    };
    let principal = match principal_from(&ctx, &headers, None) {
        Ok(principal) => principal,
        Err(refused) => return Ok(*refused),
    };
    let room = room_name(&room)?;
    if let Err(why) = ctx.hub.auth().allow(principal.as_ref(), Action::Publish, &room) {
        return Ok(doors::forbidden(why));
    }
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let max = ctx.config.hub.max_frame;
            ApiError::code(ErrorCode::TooLarge, format!("the body is larger than {max} bytes"))
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    let from = match (&principal, query.from) {
        (Some(_), Some(from)) if ctx.hub.auth().policy().names => from,
        (Some(p), _) => p.sub.to_string(),
        (None, from) => from.unwrap_or_else(|| ANONYMOUS.to_owned()),
    };
    let max_name = ctx.config.hub.max_name;
    if from.is_empty() || from.len() > max_name {
        return Err(ApiError::code(
            ErrorCode::InvalidField,
            format!("from must be 1 to {max_name} bytes"),
        ));
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value.to_str().unwrap_or_default().trim();
            Some(idempotency_key(key, principal.as_ref().map(|p| &*p.sub), &from)?)
        }
    };
    let body = if bytes {
        Body::Bytes(body.to_vec())
    } else {
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::bad_request("the body is not UTF-8 JSON"))?;
        Body::from_json_text(text)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?
    };
    let published = if ctx.hub.engine().is_some() {
        let now = clock::now();
        let message = Message { room: room.clone(), seq: 0, from, ts: now.unix_ms, body };
        let answer = ctx.hub.engine_publish(message, key).map_err(unavailable)?;
        answer.await.map_err(|_| unavailable(Unavailable(GONE.into())))?.map_err(unavailable)?
    } else {
        ctx.hub
            .publish(&room, &from, body, key, clock::now())
            .map_err(|full| ApiError::code(ErrorCode::RoomLimit, full.message()))?
    };
    if published.reused {
        return Err(ApiError::with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidField,
            format!(
                "this Idempotency-Key was used for another body (message {}): a retry sends the \
                 same body, a new message needs a new key",
                published.seq
            ),
        ));
    }
    let status = if published.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let published = Published { room: &room, seq: published.seq, epoch: &published.epoch };
    Ok((status, Json(published)).into_response())
}

/// Whether a write's body is bytes (`application/octet-stream`) or JSON (`application/json`);
/// `415` for any other type or none: the types an HTML form or a CORS-simple request can send
/// (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`) never publish.
fn write_type(headers: &HeaderMap) -> Result<bool, ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(false),
        Some("application/octet-stream") => Ok(true),
        other => Err(ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Malformed,
            format!(
                "Content-Type {} is not taken: send application/json or application/octet-stream",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// The longest `Idempotency-Key`.
const MAX_KEY: usize = 128;
/// The shortest `Idempotency-Key` without a token, in base64url characters (132 bits)…
const MIN_ANONYMOUS_KEY: usize = 22;
/// …or in hex digits and dashes, as a UUID is written (128 bits, or 122 for a v4 UUID).
const MIN_ANONYMOUS_HEX_KEY: usize = 32;

/// The de-duplication key of an `Idempotency-Key` (1 to 128 characters of `A-Z a-z 0-9 - _`):
/// with a token, scoped to the token's `sub`, so no one else's keys can collide with it; without
/// one, scoped to the sender name and refused (400) unless it is long enough not to collide by
/// accident — 22 base64url characters (132 bits) with one that is not a hex digit, or 32
/// characters of hex digits and dashes (a UUID). A short anonymous key could silently
/// de-duplicate another client's message away; a long one only collides on purpose, and then
/// with another body it is refused (422), not acknowledged.
fn idempotency_key(key: &str, sub: Option<&str>, from: &str) -> Result<(Arc<str>, u64), ApiError> {
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if key.is_empty() || key.len() > MAX_KEY || !key.chars().all(alphabet) {
        return Err(ApiError::code(
            ErrorCode::InvalidField,
            format!("Idempotency-Key must be 1 to {MAX_KEY} characters of A-Z a-z 0-9 - _"),
        ));
    }
    let client = match sub {
        Some(sub) => format!("{sub}\u{1f}http\u{1f}{key}"),
        None => {
            let hex = key.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            let long = if hex {
                key.len() >= MIN_ANONYMOUS_HEX_KEY
            } else {
                key.len() >= MIN_ANONYMOUS_KEY
            };
            if !long {
                return Err(ApiError::code(
                    ErrorCode::InvalidField,
                    format!(
                        "without a token an Idempotency-Key must not collide by accident: at \
                         least {MIN_ANONYMOUS_KEY} random base64url characters or \
                         {MIN_ANONYMOUS_HEX_KEY} hex digits (a UUID)"
                    ),
                ));
            }
            format!("\u{1f}http:{from}\u{1f}{key}")
        }
    };
    Ok((client.into(), 0))
}

/// `GET /api/rooms/{room}/messages?since=&epoch=&limit=`: stored messages, the oldest first
/// (message frames without `type`), with the room's epoch. `epoch` is the one `since` counts in;
/// when it is not the room's (or, without it, `since` is above the room's seq) the page starts at
/// the room's start and says `"reset": true`, like a `join` with a stale epoch.
pub(crate) async fn history(
    State(ctx): State<Context>,
    Path(room): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = match principal_from(&ctx, &headers, None) {
        Ok(principal) => principal,
        Err(refused) => return Ok(*refused),
    };
    let room = room_name(&room)?;
    if let Err(why) = ctx.hub.auth().allow(principal.as_ref(), Action::History, &room) {
        return Ok(doors::forbidden(why));
    }
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    if query.limit == Some(0) {
        return Err(ApiError::code(ErrorCode::InvalidField, "limit must be at least 1"));
    }
    let epoch = since_epoch(query.since, query.epoch.as_deref())?;
    let page = if ctx.hub.engine().is_some() {
        let answer = ctx
            .hub
            .engine_page(&room, query.since, epoch, query.limit, clock::now())
            .map_err(unavailable)?;
        answer.await.map_err(|_| unavailable(Unavailable(GONE.into())))?.map_err(unavailable)?
    } else {
        ctx.hub.page(&room, query.since, epoch, query.limit, clock::now())
    };
    let messages =
        Messages { room, epoch: page.epoch.as_deref(), reset: page.reset, messages: page.messages };
    Ok(Json(messages).into_response())
}

/// A shared engine's refusal: `503` with 4023 `unavailable`.
fn unavailable(why: Unavailable) -> ApiError {
    ApiError::code(ErrorCode::Unavailable, why.0)
}

/// Why a request whose engine answer never came is refused (the server is stopping).
const GONE: &str = "the server stopped before the shared store answered";

/// Checks an `?epoch=` given with `since`: the epoch a `since` counts in means nothing alone.
pub(crate) fn since_epoch(
    since: Option<u64>,
    epoch: Option<&str>,
) -> Result<Option<&str>, ApiError> {
    match epoch {
        Some("") => Err(ApiError::code(ErrorCode::InvalidField, "epoch must not be empty")),
        Some(_) if since.is_none() => Err(ApiError::code(
            ErrorCode::InvalidField,
            "epoch is the numbering since counts in: give since too",
        )),
        epoch => Ok(epoch),
    }
}

/// `GET /api/rooms`: every room with its seq, epoch and member count — of the rooms the caller
/// may read (subscribe to): a token's rights and the policy filter the page, so a page may hold
/// fewer rooms than `limit` while `next` still leads on. Without a token on a server that
/// requires one: `401`.
pub(crate) async fn rooms(
    State(ctx): State<Context>,
    query: Result<Query<RoomsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = match principal_from(&ctx, &headers, None) {
        Ok(principal) => principal,
        Err(refused) => return Ok(*refused),
    };
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    let limit = query.limit.unwrap_or(ROOMS_PAGE);
    if !(1..=MAX_ROOMS_PAGE).contains(&limit) {
        let message = format!("limit must be 1 to {MAX_ROOMS_PAGE}");
        return Err(ApiError::code(ErrorCode::InvalidField, message));
    }
    let after = query.after.as_deref().map(room_name).transpose()?;
    let (mut rooms, more) = if ctx.hub.engine().is_some() {
        let answer = ctx.hub.engine_rooms(after.clone(), limit).map_err(unavailable)?;
        answer.await.map_err(|_| unavailable(Unavailable(GONE.into())))?.map_err(unavailable)?
    } else {
        ctx.hub.rooms_page(after.as_ref(), limit)
    };
    let next = more.then(|| rooms.last().map(|r| r.room.clone())).flatten();
    let auth = ctx.hub.auth();
    rooms.retain(|r| auth.allow(principal.as_ref(), Action::Subscribe, &r.room).is_ok());
    Ok(Json(Rooms { rooms, next }).into_response())
}

/// Validates a room name from a path.
pub(crate) fn room_name(room: &str) -> Result<RoomName, ApiError> {
    RoomName::new(room).map_err(|e| ApiError::code(ErrorCode::InvalidRoom, e.to_string()))
}

/// Any other `/api/…` path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such API endpoint")
}
