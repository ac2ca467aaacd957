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

use super::{ApiError, Peer};
use crate::{clock, hub::RoomInfo, server::Context};

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

/// `POST /api/rooms/{room}/messages`: the request body is the message body (JSON, or bytes with
/// `Content-Type: application/octet-stream`). `Idempotency-Key: <u64>` de-duplicates like a
/// publish id, with the client key `http:<from>`. `201 {"room","seq","epoch"}`, or `200` with
/// the original seq for a repeated key.
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
    let room = room_name(&room)?;
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let max = ctx.config.hub.max_frame;
            ApiError::code(ErrorCode::TooLarge, format!("the body is larger than {max} bytes"))
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    let from = query.from.unwrap_or_else(|| ANONYMOUS.to_owned());
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
            let id = value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or_else(
                || {
                    ApiError::code(
                        ErrorCode::InvalidField,
                        "Idempotency-Key must be an unsigned 64-bit integer",
                    )
                },
            )?;
            let client: Arc<str> = format!("http:{from}").into();
            Some((client, id))
        }
    };
    let bytes = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/octet-stream"));
    let body = if bytes {
        Body::Bytes(body.to_vec())
    } else {
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::bad_request("the body is not UTF-8 JSON"))?;
        Body::from_json_text(text)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?
    };
    let published = ctx
        .hub
        .publish(&room, &from, body, key, clock::now())
        .map_err(|full| ApiError::code(ErrorCode::RoomLimit, full.message()))?;
    let status = if published.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let published = Published { room: &room, seq: published.seq, epoch: &published.epoch };
    Ok((status, Json(published)).into_response())
}

/// `GET /api/rooms/{room}/messages?since=&epoch=&limit=`: stored messages, the oldest first
/// (message frames without `type`), with the room's epoch. `epoch` is the one `since` counts in;
/// when it is not the room's (or, without it, `since` is above the room's seq) the page starts at
/// the room's start and says `"reset": true`, like a `join` with a stale epoch.
pub(crate) async fn history(
    State(ctx): State<Context>,
    Path(room): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let room = room_name(&room)?;
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    if query.limit == Some(0) {
        return Err(ApiError::code(ErrorCode::InvalidField, "limit must be at least 1"));
    }
    let epoch = since_epoch(query.since, query.epoch.as_deref())?;
    let page = ctx.hub.page(&room, query.since, epoch, query.limit, clock::now());
    let messages =
        Messages { room, epoch: page.epoch.as_deref(), reset: page.reset, messages: page.messages };
    Ok(Json(messages).into_response())
}

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

/// `GET /api/rooms`: every room with its seq, epoch and member count.
pub(crate) async fn rooms(
    State(ctx): State<Context>,
    query: Result<Query<RoomsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<impl Serialize>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    let limit = query.limit.unwrap_or(ROOMS_PAGE);
    if !(1..=MAX_ROOMS_PAGE).contains(&limit) {
        let message = format!("limit must be 1 to {MAX_ROOMS_PAGE}");
        return Err(ApiError::code(ErrorCode::InvalidField, message));
    }
    let after = query.after.as_deref().map(room_name).transpose()?;
    let (rooms, more) = ctx.hub.rooms_page(after.as_ref(), limit);
    let next = more.then(|| rooms.last().map(|r| r.room.clone())).flatten();
    Ok(Json(Rooms { rooms, next }))
}

/// Validates a room name from a path.
pub(crate) fn room_name(room: &str) -> Result<RoomName, ApiError> {
    RoomName::new(room).map_err(|e| ApiError::code(ErrorCode::InvalidRoom, e.to_string()))
}

/// Any other `/api/…` path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such API endpoint")
}
