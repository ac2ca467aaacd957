//! WebSocket (`ws://host:port/ws`, or over TLS `wss://`): text for JSON and binary for the binary encoding
//! (docs/DECISIONS.md, "WebSocket"). The client asks for batches, so each message from the server
//! holds one frame or several (docs/PROTOCOL.md, "Batches"); each message to it holds one.

use async_tungstenite::{
    WebSocketReceiver, WebSocketSender,
    tokio::{TokioAdapter, client_async},
    tungstenite::{self, Message},
};
use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use enchufe_core::{
    ClientFrame, Encoding, ServerFrame,
    codec::{Frame, batch},
};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::client::TlsStream;

use super::TransportError;

/// Frames from the server.
pub(super) struct Reader {
    stream: WebSocketReceiver<TokioAdapter<Stream>>,
    /// The rest of the last message's batch.
    pending: VecDeque<ServerFrame>,
}

/// The largest frame this reader splits out of a batch (the server's frames are smaller).
const MAX_FRAME: usize = 16 << 20;

/// Frames to the server.
pub(super) struct Writer {
    sink: WebSocketSender<TokioAdapter<Stream>>,
    binary: bool,
}

/// The connection under the WebSocket: plain TCP (`ws://`) or TLS (`wss://`).
pub(super) enum Stream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://` (boxed: a TLS session is large).
    Tls(Box<TlsStream<TcpStream>>),
}

/// Performs the WebSocket handshake for `url` on a connected stream.
pub(super) async fn open(
    url: &str,
    stream: Stream,
    encoding: Encoding,
) -> Result<(Reader, Writer), TransportError> {
    let (stream, _response) = client_async(url, stream).await?;
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

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
