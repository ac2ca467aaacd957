//! WebSocket (`ws://host:port/ws`): one frame per message, text for JSON and binary for the
//! binary encoding (docs/DECISIONS.md, "WebSocket").

use async_tungstenite::{
    WebSocketReceiver, WebSocketSender,
    tokio::{TokioAdapter, client_async},
    tungstenite::{self, Message},
};
use enchufe_core::{ClientFrame, Encoding, ServerFrame, codec::Frame};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;

use super::TransportError;

/// Frames from the server.
pub(super) struct Reader(WebSocketReceiver<TokioAdapter<TcpStream>>);

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
    Ok((Reader(stream), Writer { sink, binary: encoding == Encoding::Binary }))
}

impl Reader {
    /// The next frame; `Ok(None)` when the server closed the connection. A message that does not
    /// decode is logged and skipped.
    pub(super) async fn next(&mut self) -> Result<Option<ServerFrame>, TransportError> {
        loop {
            let decoded = match self.0.next().await {
                None => return Ok(None),
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => return Ok(None),
                Some(Err(error)) => return Err(error.into()),
                Some(Ok(Message::Text(text))) => ServerFrame::decode_json(text.as_bytes()),
                Some(Ok(Message::Binary(bytes))) => ServerFrame::decode_binary(&bytes),
                Some(Ok(Message::Close(close))) => {
                    tracing::debug!(?close, "ws: the server closed the connection");
                    return Ok(None);
                }
                Some(Ok(_)) => continue, // ping, pong: tungstenite answers pings itself
            };
            match decoded {
                Ok(frame) => return Ok(Some(frame)),
                Err(error) => tracing::warn!(%error, "ws: skipping a message that does not decode"),
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
