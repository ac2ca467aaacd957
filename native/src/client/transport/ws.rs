//! WebSocket (`ws://host:port/ws`): text for JSON and binary for the binary encoding
//! (docs/DECISIONS.md, "WebSocket"). The client asks for batches, so each message from the server
//! holds one frame or several (docs/PROTOCOL.md, "Batches"); each message to it holds one.

use async_tungstenite::{
    WebSocketReceiver, WebSocketSender,
    tokio::{TokioAdapter, client_async},
    tungstenite::{self, Message},
};
use std::collections::VecDeque;

use enchufe_core::{
    ClientFrame, Encoding, ServerFrame,
    codec::{Frame, batch},
};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;

use super::TransportError;

/// Frames from the server.
pub(super) struct Reader {
    stream: WebSocketReceiver<TokioAdapter<TcpStream>>,
    /// The rest of the last message's batch.
    pending: VecDeque<ServerFrame>,
}

/// The largest frame this reader splits out of a batch (the server's frames are smaller).
const MAX_FRAME: usize = 16 << 20;

/// Frames to the server.
pub(super) struct Writer {
    sink: WebSocketSender<TokioAdapter<TcpStream>>,
    binary: bool,
}

/// Connects to `addr` and performs the handshake for `url`.
pub(super) async fn open(
    url: &str,
    addr: &str,
    encoding: Encoding,
) -> Result<(Reader, Writer), TransportError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (stream, _response) = client_async(url, tcp).await?;
    let (sink, stream) = stream.split();
    let reader = Reader { stream, pending: VecDeque::new() };
    Ok((reader, Writer { sink, binary: encoding == Encoding::Binary }))
}

impl Reader {
    /// The next frame; `Ok(None)` when the server closed the connection. A frame that does not
    /// decode is logged and skipped.
    pub(super) async fn next(&mut self) -> Result<Option<ServerFrame>, TransportError> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Ok(Some(frame));
            }
            let (bytes, encoding) = match self.stream.next().await {
                None => return Ok(None),
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => return Ok(None),
                Some(Err(error)) => return Err(error.into()),
                Some(Ok(Message::Text(text))) => (text.into(), Encoding::Json),
                Some(Ok(Message::Binary(bytes))) => (bytes, Encoding::Binary),
                Some(Ok(Message::Close(close))) => {
                    tracing::debug!(?close, "ws: the server closed the connection");
                    return Ok(None);
                }
                Some(Ok(_)) => continue, // ping, pong: tungstenite answers pings itself
            };
            for decoded in batch::decode::<ServerFrame>(&bytes, encoding, MAX_FRAME) {
                match decoded {
                    Ok(frame) => self.pending.push_back(frame),
                    Err(error) => {
                        tracing::warn!(%error, "ws: skipping a frame that does not decode")
                    }
                }
            }
        }
    }
}

impl Writer {
    /// Sends `frames`, one message each, and flushes once.
    pub(super) async fn send(&mut self, frames: &[ClientFrame]) -> Result<(), TransportError> {
        for frame in frames {
            let mut out = Vec::with_capacity(128);
            let message = if self.binary {
                frame.encode_binary(&mut out);
                Message::Binary(out.into())
            } else {
                frame.encode_json(&mut out);
                // JSON encoding produces UTF-8; the fallback never runs.
                match String::from_utf8(out) {
                    Ok(text) => Message::text(text),
                    Err(error) => Message::Binary(error.into_bytes().into()),
                }
            };
            self.sink.feed(message).await?;
        }
        self.sink.flush().await?;
        Ok(())
    }

    /// Sends a close frame.
    pub(super) async fn close(&mut self) {
        let _ = self.sink.close(None).await;
    }
}
