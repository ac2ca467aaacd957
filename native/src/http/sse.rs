//! `GET /api/rooms/{room}/events`: Server-Sent Events, a read-only transport.
//!
//! The handler opens a hub [`Session`] like any other transport, joins the room (with `since`
//! and `epoch` from `Last-Event-ID`, or `?since=&epoch=`), and streams what the session's queue
//! yields:
//!
//! ```text
//! event: joined            data: the joined frame (seq, members, recovered, epoch)
//! id: 9c0f…:7              data: the message frame JSON; the id is `<epoch>:<seq>`, so a
//! event: message           browser's automatic reconnect resumes with Last-Event-ID, and
//!                          after a restart (a new epoch) gets the room replayed from its start
//!                          (`recovered: false`) instead of missing what the new numbering has
//!                          below the old seq
//! event: presence          data: the presence frame JSON
//! event: error             data: the error frame JSON; the stream then ends
//! : keep-alive             a comment every heartbeat, so proxies keep the stream open
//! ```
//!
//! `data:` is the frame's shared JSON encoding (the same bytes WebSocket clients get, `type`
//! included).

use std::{
    convert::Infallible,
    io::Write as _,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    body::Body,
    extract::{Extension, Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use enchufe_core::{ClientFrame, ErrorCode, Hello, Join, PROTOCOL_VERSION, ServerFrame};
use serde::Deserialize;

use super::{
    ApiError, Cut,
    doors::{self, bearer},
    rest::{room_name, since_epoch},
};
use crate::{
    auth::Action,
    clock,
    egress::Outgoing,
    hub::{SendQueue, Session, Transport},
    metrics::Metrics,
    server::Context,
};

/// `?since=&epoch=` (both overridden by a `Last-Event-ID` header), `?name=`, and `?token=` for
/// EventSource, which cannot send `Authorization` (a fetch-based client sends the header).
#[derive(Debug, Deserialize)]
pub(crate) struct EventsQuery {
    since: Option<u64>,
    epoch: Option<String>,
    name: Option<String>,
    token: Option<String>,
}

/// Opens the event stream. The token (`Authorization: Bearer`, else `?token=`) is checked, and
/// the room against it, before the stream starts (`401`/`403`); then it goes to the session as
/// `hello.token`, which enforces the rest (expiry: 4022, then the stream ends with 4009).
pub(crate) async fn events(
    State(ctx): State<Context>,
    cut: Option<Extension<Cut>>,
    Path(room): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let room = room_name(&room)?;
    let Query(query) = query.map_err(|e| ApiError::code(ErrorCode::InvalidField, e.body_text()))?;
    let token = match bearer(&headers) {
        Ok(header) => {
            header.or(query.token.as_deref().filter(|t| !t.is_empty())).map(str::to_owned)
        }
        Err(refused) => return Ok(*refused),
    };
    let principal = match doors::principal(&ctx, token.as_deref()) {
        Ok(principal) => principal,
        Err(refused) => return Ok(*refused),
    };
    if let Err(why) = ctx.hub.auth().allow(principal.as_ref(), Action::Subscribe, &room) {
        return Ok(doors::forbidden(why));
    }
    let (since, epoch) = match headers.get("last-event-id") {
        Some(value) => {
            let (epoch, seq) = value.to_str().ok().and_then(parse_event_id).ok_or_else(|| {
                ApiError::code(
                    ErrorCode::InvalidField,
                    "Last-Event-ID must be <epoch>:<seq> or a seq (an unsigned integer)",
                )
            })?;
            (Some(seq), epoch.map(str::to_owned))
        }
        None => {
            since_epoch(query.since, query.epoch.as_deref())?;
            (query.since, query.epoch)
        }
    };
    let now = clock::now();
    let mut session = ctx.hub.open(Transport::Sse, now);
    session.handle(
        now,
        ClientFrame::Hello(Hello {
            v: PROTOCOL_VERSION,
            name: query.name,
            token,
            ..Hello::default()
        }),
    );
    session.handle(now, ClientFrame::Join(Join { room, since, id: None, epoch }));
    let finished = Arc::new(AtomicBool::new(false));
    if let Some(Extension(Cut(cut))) = cut {
        // A session that ends (cut as slow, kicked, shutting down) has its last event queued;
        // a client that does not take it within the shutdown deadline loses the connection
        // instead of holding it (hyper writes only what the socket takes). Not tracked: it
        // must not hold up shutdown, which has its own deadline.
        let (queue, finished, deadline) =
            (session.queue().clone(), finished.clone(), ctx.config.shutdown_timeout);
        tokio::spawn(async move {
            queue.closed().await;
            tokio::time::sleep(deadline).await;
            if !finished.load(Ordering::Acquire) {
                cut.cancel();
            }
        });
    }
    let stream = EventStream {
        finished,
        queue: session.queue().clone(),
        _session: session,
        batch: Vec::new(),
        keep_alive: tokio::time::interval_at(
            tokio::time::Instant::now() + ctx.config.hub.heartbeat(),
            ctx.config.hub.heartbeat(),
        ),
        metrics: ctx.hub.metrics().clone(),
        epoch: None,
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
    /// Set when the stream is dropped: its connection need not be cut.
    finished: Arc<AtomicBool>,
    /// Held so that the session lives exactly as long as the stream.
    _session: Session,
    queue: SendQueue,
    batch: Vec<Arc<Outgoing>>,
    keep_alive: tokio::time::Interval,
    metrics: Arc<Metrics>,
    /// The room's epoch, from the stream's `joined` (which comes first): the prefix of message
    /// ids. The session is a member, so the room, and its numbering, outlives the stream.
    epoch: Option<String>,
    done: bool,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.finished.store(true, Ordering::Release);
    }
}

impl EventStream {
    /// The next chunk: every queued event at once, or a keep-alive comment.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if self.done {
                return None;
            }
            let end = tokio::select! {
                end = self.queue.next_batch(&mut self.batch) => end,
                _ = self.keep_alive.tick() => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
                }
            };
            self.done = end.is_some();
            let mut chunk = Vec::new();
            Metrics::add(&self.metrics.frames_out, self.batch.len());
            for frame in self.batch.drain(..) {
                write_event(&frame, &mut self.epoch, &mut chunk);
            }
            if !chunk.is_empty() {
                self.keep_alive.reset();
                return Some((Ok(Bytes::from(chunk)), self));
            }
        }
    }
}

/// `Last-Event-ID`: `<epoch>:<seq>` as this server writes it, or a bare seq (no epoch known, as
/// servers before epochs wrote it). `None` when it is neither.
fn parse_event_id(value: &str) -> Option<(Option<&str>, u64)> {
    let value = value.trim();
    match value.rsplit_once(':') {
        Some((epoch, seq)) if !epoch.is_empty() => Some((Some(epoch), seq.parse().ok()?)),
        Some(_) => None,
        None => Some((None, value.parse().ok()?)),
    }
}

/// Appends one frame as an SSE event; frames SSE clients do not need (`welcome`) are skipped.
/// `epoch` is set from `joined` and prefixes the ids of the messages after it.
fn write_event(frame: &Outgoing, epoch: &mut Option<String>, out: &mut Vec<u8>) {
    let event = match frame.frame() {
        ServerFrame::Message(message) => {
            let _ = match epoch {
                Some(epoch) => writeln!(out, "id: {epoch}:{}", message.seq),
                None => writeln!(out, "id: {}", message.seq),
            };
            "message"
        }
        ServerFrame::Presence(_) => "presence",
        ServerFrame::Joined(joined) => {
            *epoch = Some(joined.epoch.clone());
            "joined"
        }
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

#[cfg(test)]
mod tests {
    use super::parse_event_id;

    #[test]
    fn event_ids_are_epoch_and_seq_or_a_bare_seq() {
        assert_eq!(parse_event_id("9c0f5e2a7b13d846:7"), Some((Some("9c0f5e2a7b13d846"), 7)));
        assert_eq!(parse_event_id(" 12 "), Some((None, 12)));
        for bad in ["", "x", ":7", "e:", "e:x", "e:-1", "-1"] {
            assert_eq!(parse_event_id(bad), None, "{bad:?}");
        }
    }
}
