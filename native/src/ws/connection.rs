//! One WebSocket connection: a reader feeding the session, a writer draining its outbox.

use std::{sync::Arc, time::Duration};

use async_tungstenite::{
    WebSocketReceiver, WebSocketSender, WebSocketStream,
    tungstenite::{
        Error as WsError, Message,
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};
use bytes::Bytes;
use enchufe_core::{ClientFrame, Encoding, ErrorCode, codec::Frame};
use futures_util::{SinkExt, StreamExt};

use crate::{
    hub::{End, HubConfig, Outbox, Session, Transport},
    metrics::Metrics,
    server::Context,
};

/// The upgraded HTTP connection, as async-tungstenite reads it.
pub(crate) type Stream =
    async_tungstenite::tokio::TokioAdapter<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

/// How long the server waits for the client's answer to its close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Serves one WebSocket until the client leaves, the hub ends the session, or shutdown aborts.
pub(crate) async fn run(ws: WebSocketStream<Stream>, ctx: Context) {
    let (mut tx, mut rx) = ws.split();
    let mut session = ctx.hub.open(Transport::Ws);
    let outbox = session.outbox().clone();
    tracing::debug!(session = session.id(), "ws connected");
    let hub_config = &ctx.config.hub;
    let end = {
        let writer =
            write_loop(&mut tx, outbox.clone(), ctx.hub.metrics().clone(), hub_config.heartbeat());
        tokio::pin!(writer);
        let mut ended = None;
        tokio::select! {
            biased;
            () = ctx.abort.cancelled() => return,
            end = &mut writer => ended = Some(end),
            () = outbox.closed() => {}
            () = read_loop(&mut rx, &mut session, hub_config) => {}
        }
        drop(session);
        match ended {
            Some(end) => end,
            None => tokio::select! {
                () = ctx.abort.cancelled() => return,
                end = tokio::time::timeout(ctx.config.shutdown_timeout, &mut writer) => {
                    end.ok().flatten()
                }
            },
        }
    };
    tracing::debug!(?end, "ws closed");
    if end.is_none() {
        return;
    }
    // Complete the close handshake: read until the client's close frame. If reading had failed
    // (a message over the limit), keep draining the raw stream for a moment instead, so that
    // unread input does not turn the close into a reset that loses the close frame.
    let linger = async {
        while let Some(Ok(_)) = rx.next().await {}
        if let Ok(ws) = WebSocketStream::reunite(tx, rx) {
            let mut io = ws.into_inner().into_inner();
            let mut sink = [0u8; 2048];
            while let Ok(1..) = tokio::io::AsyncReadExt::read(&mut io, &mut sink).await {}
        }
    };
    tokio::select! {
        () = ctx.abort.cancelled() => {}
        _ = tokio::time::timeout(CLOSE_WAIT, linger) => {}
    }
}

/// Decodes messages into the session until the client closes, an error, an idle timeout, or the
/// session closing.
async fn read_loop(rx: &mut WebSocketReceiver<Stream>, session: &mut Session, config: &HubConfig) {
    loop {
        let message = match tokio::time::timeout(config.idle_timeout(), rx.next()).await {
            Err(_) => {
                let message = format!("nothing received for {:?}", config.idle_timeout());
                session.close(ErrorCode::IdleTimeout, &message);
                return;
            }
            Ok(None) => return,
            Ok(Some(message)) => message,
        };
        match message {
            Ok(Message::Text(text)) => {
                session.outbox().set_encoding(Encoding::Json);
                match ClientFrame::decode_json(text.as_bytes()) {
                    Ok(frame) => session.handle(frame),
                    Err(error) => session.reject(&error),
                }
            }
            Ok(Message::Binary(bytes)) => {
                session.outbox().set_encoding(Encoding::Binary);
                match ClientFrame::decode_binary(&bytes) {
                    Ok(frame) => session.handle(frame),
                    Err(error) => session.reject(&error),
                }
            }
            Ok(Message::Close(_)) => return,
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Err(WsError::Capacity(error)) => {
                session.close(ErrorCode::TooLarge, &error.to_string());
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
    }
}

/// Drains the outbox: every queued frame is fed as one message, then one flush. Pings the client
/// every heartbeat. Ends with a close frame carrying the reason's code.
async fn write_loop(
    tx: &mut WebSocketSender<Stream>,
    outbox: Outbox,
    metrics: Arc<Metrics>,
    heartbeat: Duration,
) -> Option<End> {
    let mut batch = Vec::new();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let end = tokio::select! {
            end = outbox.next_batch(&mut batch) => end,
            _ = ping.tick() => {
                if tx.send(Message::Ping(Bytes::new())).await.is_err() {
                    return None;
                }
                continue;
            }
        };
        let encoding = outbox.encoding();
        Metrics::add(&metrics.frames_out, batch.len());
        for frame in batch.drain(..) {
            let message = match encoding {
                Encoding::Json => Message::Text(frame.json_text().clone()),
                Encoding::Binary => Message::Binary(frame.encoded(Encoding::Binary).clone()),
            };
            if tx.feed(message).await.is_err() {
                return None;
            }
        }
        if tx.flush().await.is_err() {
            return None;
        }
        if let Some(end) = end {
            let close = match end {
                End::Finished => CloseFrame { code: CloseCode::Normal, reason: "".into() },
                End::Error(code) => {
                    CloseFrame { code: CloseCode::from(code.code()), reason: code.name().into() }
                }
            };
            let _ = tx.send(Message::Close(Some(close))).await;
            return Some(end);
        }
    }
}
