//! One WebSocket connection: tungstenite reads and feeds the session; the writer drains the
//! queue straight to the socket, in frames built once and shared by every subscriber, and sends
//! the pings, pongs and close frame. `connection::serve` runs them; the close handshake is
//! awaited for the same moment as a TCP connection lingers.

use std::{
    future::Future,
    pin::Pin,
    sync::Mutex,
    task::{Context as TaskContext, Poll, Waker},
};

use async_tungstenite::{
    WebSocketStream,
    tokio::TokioAdapter,
    tungstenite::{
        Error as WsError, Message,
        protocol::{
            CloseFrame, Role, WebSocketConfig,
            frame::{Frame as WsFrame, coding::CloseCode},
        },
    },
};
use bytes::Bytes;
use enchufe_core::{ClientFrame, Encoding, ErrorCode, codec::Frame};
use futures_util::StreamExt;
use futures_util::future::Either;
use hyper::upgrade::{OnUpgrade, Parts, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf},
    net::TcpStream,
};

use crate::{
    auth::Principal,
    clock,
    connection::{Batch, Ended, discard, linger, serve},
    egress::{Form, write_batch, write_ws_batches, ws_frame},
    flow,
    http::Held,
    hub::{CloseReason, HubConfig, SendQueue, Session, Transport},
    server::Context,
};

/// A ping with no payload: the server's heartbeat.
const PING: [u8; 2] = [0x89, 0x00];

/// The messages of one connection, as tungstenite reads them.
type Reader<R> = WebSocketStream<TokioAdapter<ReadSide<R>>>;

/// Serves one WebSocket, once hyper hands over the upgraded connection, until the client
/// leaves, the hub ends the session, or shutdown aborts. `held`: the connection's place in the
/// connection budget, given back when this ends. `principal`: who the upgrade's token said the
/// client is (the session starts as theirs).
///
/// What an idle connection costs is mostly this task (docs/PERFORMANCE.md, "Memory per idle
/// connection"), so it takes only what it must keep (an async fn's arguments stay in its
/// future for its whole life) and builds the rest — the stream, tungstenite's configuration —
/// inside. A plain connection is hyper's own TCP stream taken back out of its upgrade
/// (`downcast`), read and written through borrowed halves: no boxed stream, no shared split
/// state. A TLS one stays hyper's `Upgraded`, split by tokio.
pub(crate) async fn run(
    on_upgrade: OnUpgrade,
    held: Option<Held>,
    ctx: Context,
    principal: Option<Box<Principal>>,
) {
    let _held = held;
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(error) => {
            tracing::debug!(%error, "websocket upgrade failed");
            return;
        }
    };
    served(upgraded, &ctx, principal).await;
}

/// The connection served over the stream inside `upgraded`. Not an `async fn`: the downcast's
/// result and hyper's read buffer stay out of the task (an async fn would keep their space in
/// it for the connection's life).
fn served<'a>(
    upgraded: Upgraded,
    ctx: &'a Context,
    principal: Option<Box<Principal>>,
) -> Either<impl Future<Output = ()> + 'a, impl Future<Output = ()> + 'a> {
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(Parts { io, read_buf, .. }) => {
            // Copied: converted, hyper's whole read buffer (8 KiB) would become tungstenite's.
            let read = read_buf.to_vec();
            let mut tcp = io.into_inner();
            Either::Left(async move {
                let (rd, mut wr) = tcp.split();
                halves(rd, &mut wr, read, ctx, principal).await;
            })
        }
        Err(upgraded) => Either::Right(async move {
            let (rd, mut wr) = tokio::io::split(TokioIo::new(upgraded));
            halves(rd, &mut wr, Vec::new(), ctx, principal).await;
        }),
    }
}

/// Serves the connection's two halves; `read` is what hyper had read past the upgrade request.
async fn halves<R, W>(
    rd: R,
    wr: &mut W,
    read: Vec<u8>,
    ctx: &Context,
    principal: Option<Box<Principal>>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let config = ws_config(&ctx.config.hub);
    let mut rx = WebSocketStream::from_partially_read(
        TokioAdapter::new(ReadSide(rd)),
        read,
        Role::Server,
        Some(config),
    )
    .await;
    let mut session = ctx.hub.open(Transport::Ws, clock::now());
    if let Some(principal) = principal {
        session.preauthenticated(principal);
    }
    let queue = session.queue().clone();
    tracing::debug!(session = session.id(), "ws connected");
    let pongs = Pongs::default();
    let violation = Violation::default();
    let end = serve!(ctx, session, queue,
        reader: read_loop(&mut rx, &mut session, &pongs, &violation),
        writer: write_loop(wr, queue.clone(), ctx, &pongs, &violation),
    );
    let Ended::Flushed(end) = end else { return };
    tracing::debug!(?end, "ws closed");
    if end.is_none() {
        return;
    }
    // Complete the close handshake: read until the client's close frame. If reading had failed
    // (a message over the limit), keep draining the raw stream for a moment instead, so that
    // unread input does not turn the close into a reset that loses the close frame.
    linger(&ctx.abort, async {
        while let Some(Ok(_)) = rx.next().await {}
        discard(&mut rx.into_inner().into_inner().0).await;
    })
    .await;
}

/// tungstenite's read buffer, allocated up front per connection and kept for its life (its
/// 128 KiB default would cost that much per idle client), and the most one read takes. 512
/// bytes hold five 64-byte publishes; a larger frame is read in 512-byte pieces. At 1 KiB it
/// was a quarter of an idle connection's memory, and the difference kept idle WebSockets above
/// issue 15's 4 KiB; a client that publishes flat out costs the server twice the reads, each a
/// fraction of the `writev` its deliveries cost (docs/PERFORMANCE.md, "Memory per idle
/// connection").
const READ_BUFFER: usize = 512;

/// A small read buffer, and the hub's frame limit as tungstenite's message and frame limit.
/// (tungstenite only reads: the connection writes its frames itself.)
fn ws_config(hub: &HubConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(hub.max_frame))
        .max_frame_size(Some(hub.max_frame))
}

/// Decodes messages into the session until the client closes, an error, or the session closing
/// (the hub closes it when the client falls silent). A client's ping is handed to the writer,
/// which answers it.
async fn read_loop<R: AsyncRead + Unpin>(
    rx: &mut Reader<R>,
    session: &mut Session,
    pongs: &Pongs,
    violation: &Violation,
) {
    session.batch_publishes();
    loop {
        // A message already read comes at once; before waiting for one, the publishes gathered
        // go out (`hub/run.rs`).
        let message = std::future::poll_fn(|cx| {
            let polled = rx.poll_next_unpin(cx);
            if polled.is_pending() {
                session.flush();
            }
            polled
        })
        .await;
        let Some(message) = message else { return };
        // Silence is the hub's to judge (`Hub::handle_timeout`): no timer per connection.
        session.heard(clock::now());
        match message {
            Ok(Message::Text(text)) => {
                session.queue().set_encoding(Encoding::Json);
                match ClientFrame::decode_json(text.as_bytes()) {
                    Ok(frame) => session.handle(clock::now(), frame),
                    Err(error) => session.reject(clock::now(), &error),
                }
            }
            Ok(Message::Binary(bytes)) => {
                session.queue().set_encoding(Encoding::Binary);
                match ClientFrame::decode_binary(&bytes) {
                    Ok(frame) => session.handle(clock::now(), frame),
                    Err(error) => session.reject(clock::now(), &error),
                }
            }
            Ok(Message::Ping(payload)) => pongs.answer(payload),
            Ok(Message::Close(_)) => return,
            Ok(Message::Pong(_) | Message::Frame(_)) => {}
            Err(WsError::Capacity(error)) => {
                session.close(ErrorCode::TooLarge, &error.to_string());
                return;
            }
            // RFC 6455 §7.4.1: a protocol error (an unmasked frame, reserved bits or opcodes)
            // closes with 1002, text that is not UTF-8 with 1007.
            Err(WsError::Protocol(error)) => {
                tracing::debug!(%error, "ws protocol error");
                violation.found(CloseCode::Protocol);
                return;
            }
            Err(WsError::Utf8(error)) => {
                tracing::debug!(%error, "ws text that is not UTF-8");
                violation.found(CloseCode::Invalid);
                return;
            }
            Err(error) => {
                tracing::debug!(%error, "ws read failed");
                return;
            }
        }
        if session.is_closed() {
            return;
        }
        flow::pace(session).await;
    }
}

/// Drains the queue: every queued frame goes out in one vectored write of the frames' shared
/// WebSocket bytes. Pings the client every heartbeat and answers its pings. Ends with a close
/// frame carrying the reason's code. Returns `None` if the connection broke.
async fn write_loop(
    wr: &mut (impl AsyncWrite + Unpin),
    queue: SendQueue,
    ctx: &Context,
    pongs: &Pongs,
    violation: &Violation,
) -> Option<CloseReason> {
    let metrics = ctx.hub.metrics();
    let heartbeat = ctx.config.hub.heartbeat();
    let mut batch = Batch::default();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let end = tokio::select! {
            end = batch.take(&queue) => end,
            _ = ping.tick() => {
                wr.write_all(&PING).await.ok()?;
                continue;
            }
            payload = pongs.next() => {
                wr.write_all(&ws_frame(WsFrame::pong(payload))).await.ok()?;
                continue;
            }
        };
        let frames = batch.frames(metrics);
        if queue.batched() {
            write_ws_batches(wr, frames, queue.encoding()).await.ok()?;
        } else {
            write_batch(wr, frames, Form::ws(queue.encoding())).await.ok()?;
        }
        batch.written(&queue);
        if let Some(end) = end {
            let close = match end {
                CloseReason::Finished => match violation.code() {
                    Some(code) => CloseFrame { code, reason: "".into() },
                    None => CloseFrame { code: CloseCode::Normal, reason: "".into() },
                },
                CloseReason::Error(code) => {
                    CloseFrame { code: CloseCode::from(code.code()), reason: code.name().into() }
                }
            };
            let _ = wr.write_all(&ws_frame(WsFrame::close(Some(close)))).await;
            return Some(end);
        }
    }
}

/// A violation of the WebSocket protocol the reader found: the close code the writer ends with.
#[derive(Default)]
struct Violation(std::sync::atomic::AtomicU16);

impl Violation {
    fn found(&self, code: CloseCode) {
        self.0.store(code.into(), std::sync::atomic::Ordering::Relaxed);
    }

    fn code(&self) -> Option<CloseCode> {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            code => Some(CloseCode::from(code)),
        }
    }
}

/// The payload of the client's latest ping, waiting for the writer to answer it (RFC 6455 lets
/// an endpoint answer only the most recent of several pings, so one slot bounds a ping flood).
///
/// The writer waits with its waker in the slot rather than on a `Notify`: waiting then holds
/// no waiter node in the writer's future, which every idle connection's task carries.
#[derive(Default)]
struct Pongs(Mutex<PongSlot>);

#[derive(Default)]
struct PongSlot {
    latest: Option<Bytes>,
    writer: Option<Waker>,
}

impl Pongs {
    fn answer(&self, payload: Bytes) {
        let mut slot = crate::sync::lock(&self.0);
        slot.latest = Some(payload);
        if let Some(writer) = slot.writer.take() {
            writer.wake();
        }
    }

    /// The next ping to answer (cancel-safe: a payload is taken only when returned).
    fn next(&self) -> impl Future<Output = Bytes> + '_ {
        std::future::poll_fn(|cx| {
            let mut slot = crate::sync::lock(&self.0);
            match slot.latest.take() {
                Some(payload) => Poll::Ready(payload),
                None => {
                    if !slot.writer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        slot.writer = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
    }
}

/// The socket's read half, as tungstenite's stream. tungstenite wants to write too — its
/// automatic pong and close replies — but this connection's writer sends those itself, so what
/// tungstenite writes is dropped here.
struct ReadSide<R>(R);

impl<R: AsyncRead + Unpin> AsyncRead for ReadSide<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<R: Unpin> AsyncWrite for ReadSide<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every idle WebSocket is one of these tasks, waiting: with tungstenite's read buffer, its
    /// size is most of what an idle connection costs (docs/PERFORMANCE.md, "Memory per idle
    /// connection"). A change that grows it past the bound (an argument kept for the task's
    /// life, a value held across an await) fails here.
    #[test]
    fn an_idle_websocket_task_stays_small() {
        // 1496 in a debug build (rustc 1.95) since the wait for the queue's close keeps its
        // waker in the queue; 1536 since a session gathers publishes (its run and
        // flag, `hub/run.rs`; the release build's idle RSS did not move: 3,924 and 3,941 B a
        // connection in two runs); 1488 before that; 1616 before the ping slot lost its `Notify` and
        // the downcast's parts left the task, 1720 (release) before the stream was taken out of
        // hyper's upgrade.
        const BOUND: usize = 1500;
        let on_upgrade = hyper::upgrade::on(axum::http::Request::new(()));
        let task = run(on_upgrade, None, Context::for_tests(), None);
        let size = std::mem::size_of_val(&task);
        assert!(size <= BOUND, "the WebSocket connection task is {size} bytes (bound {BOUND})");
    }
}
