//! `GET /api/rooms/{room}/events`: Server-Sent Events, a read-only transport.
//!
//! The handler opens a hub [`Session`] like any other transport, joins the room (with `since`
//! from `Last-Event-ID` or `?since=`), and streams what the session's outbox yields:
//!
//! ```text
//! event: joined            data: the joined frame (seq, members, recovered)
//! id: 7 / event: message   data: the message frame JSON; the id is its seq, so a browser's
//!                          automatic reconnect resumes with Last-Event-ID
//! event: presence          data: the presence frame JSON
//! event: error             data: the error frame JSON; the stream then ends
//! : keep-alive             a comment every heartbeat, so proxies keep the stream open
//! ```
//!
//! `data:` is the frame's shared JSON encoding (the same bytes WebSocket clients get, `type`
//! included).

use std::{convert::Infallible, io::Write as _, sync::Arc};

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use enchufe_core::{ClientFrame, ErrorCode, Hello, Join, PROTOCOL_VERSION, ServerFrame};
use serde::Deserialize;

use super::{ApiError, rest::room_name};
use crate::{
    hub::{Outbox, Outgoing, Session, Transport},
    metrics::Metrics,
    server::Context,
};

/// `?since=` (overridden by a `Last-Event-ID` header) and `?name=`.
#[derive(Debug, Deserialize)]
pub(crate) struct EventsQuery {
    since: Option<u64>,
    name: Option<String>,
}

/// Opens the event stream.
pub(crate) async fn events(
    State(ctx): State<Context>,
    Path(room): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let room = room_name(&room)?;
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or_else(|| {
                ApiError::code(
                    ErrorCode::InvalidField,
                    "Last-Event-ID must be a seq (an unsigned integer)",
                )
            })?,
        ),
    };
    let since = last_event_id.or(query.since);
    let mut session = ctx.hub.open(Transport::Sse);
    session.handle(ClientFrame::Hello(Hello {
        v: PROTOCOL_VERSION,
        name: query.name,
        ..Hello::default()
    }));
    session.handle(ClientFrame::Join(Join { room, since, id: None, epoch: None }));
    let stream = EventStream {
        outbox: session.outbox().clone(),
        _session: session,
        batch: Vec::new(),
        keep_alive: tokio::time::interval_at(
            tokio::time::Instant::now() + ctx.config.hub.heartbeat(),
            ctx.config.hub.heartbeat(),
        ),
        metrics: ctx.hub.metrics().clone(),
        done: false,
    };
    let body = futures_util::stream::unfold(stream, EventStream::next);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The state of one event stream; dropping it (the client went away) drops the session.
struct EventStream {
    /// Held so that the session lives exactly as long as the stream.
    _session: Session,
    outbox: Outbox,
    batch: Vec<Arc<Outgoing>>,
    keep_alive: tokio::time::Interval,
    metrics: Arc<Metrics>,
    done: bool,
}

impl EventStream {
    /// The next chunk: every queued event at once, or a keep-alive comment.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if self.done {
                return None;
            }
            let end = tokio::select! {
                end = self.outbox.next_batch(&mut self.batch) => end,
                _ = self.keep_alive.tick() => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
                }
            };
            self.done = end.is_some();
            let mut chunk = Vec::new();
            Metrics::add(&self.metrics.frames_out, self.batch.len());
            for frame in self.batch.drain(..) {
                write_event(&frame, &mut chunk);
            }
            if !chunk.is_empty() {
                self.keep_alive.reset();
                return Some((Ok(Bytes::from(chunk)), self));
            }
        }
    }
}

/// Appends one frame as an SSE event; frames SSE clients do not need (`welcome`) are skipped.
fn write_event(frame: &Outgoing, out: &mut Vec<u8>) {
    let event = match frame.frame() {
        ServerFrame::Message(message) => {
            let _ = writeln!(out, "id: {}", message.seq);
            "message"
        }
        ServerFrame::Presence(_) => "presence",
        ServerFrame::Joined(_) => "joined",
        ServerFrame::Error(_) => "error",
        _ => return,
    };
    let _ = writeln!(out, "event: {event}");
    // A JSON body keeps the publisher's whitespace, which may hold line breaks: each line becomes
    // its own `data:` field, and the client joins them with "\n" (still the same JSON).
    for line in frame.json_text().as_str().split(['\n', '\r']) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}
