//! One WebSocket connection: tungstenite reads and feeds the session; the writer drains the
//! queue straight to the socket, in frames built once and shared by every subscriber, and sends
//! the pings, pongs and close frame. `connection::serve` runs them; the close handshake is
//! awaited for the same moment as a TCP connection lingers.

use std::{
    pin::Pin,
    sync::Mutex,
    task::{Context as TaskContext, Poll},
    time::Duration,
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
use hyper::upgrade::{OnUpgrade, Parts};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf},
    net::TcpStream,
    sync::Notify,
};

use crate::{
    auth::Principal,
    clock,
    connection::{Batch, Ended, discard, linger, serve},
    egress::{Form, write_batch, write_ws_batches, ws_frame},
    flow,
    http::Held,
    hub::{CloseReason, HubConfig, SendQueue, Session, Transport},
    metrics::Metrics,
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
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => {
            // Copied out, and hyper's read buffer (8 KiB) dropped before the connection is
            // served: converted, or merely kept alive in this arm, it would stay for the life
            // of the connection.
            let Parts { io, read_buf, .. } = parts;
            let read = read_buf.to_vec();
            drop(read_buf);
            let mut tcp = io.into_inner();
            let (rd, mut wr) = tcp.split();
            halves(rd, &mut wr, read, &ctx, principal).await;
        }
        Err(upgraded) => {
            let (rd, mut wr) = tokio::io::split(TokioIo::new(upgraded));
            halves(rd, &mut wr, Vec::new(), &ctx, principal).await;
        }
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
        writer: write_loop(
            wr,
            queue.clone(),
            ctx.hub.metrics(),
            ctx.config.hub.heartbeat(),
            &pongs,
            &violation,
        ),
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

/// tungstenite's read buffer, allocated up front per connection (its 128 KiB default would cost
/// that much per idle client). Client messages are small; a larger one takes a few reads.
const READ_BUFFER: usize = 1024;

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
    loop {
        let Some(message) = rx.next().await else { return };
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
    metrics: &Metrics,
    heartbeat: Duration,
    pongs: &Pongs,
    violation: &Violation,
) -> Option<CloseReason> {
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
#[derive(Default)]
struct Pongs {
    latest: Mutex<Option<Bytes>>,
    ready: Notify,
}

impl Pongs {
    fn answer(&self, payload: Bytes) {
        *crate::sync::lock(&self.latest) = Some(payload);
        self.ready.notify_one();
    }

    async fn next(&self) -> Bytes {
        loop {
            if let Some(payload) = crate::sync::lock(&self.latest).take() {
                return payload;
            }
            // notify_one leaves a permit when nobody waits: an answer() in between is not lost.
            self.ready.notified().await;
        }
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
