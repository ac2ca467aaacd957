//! TCP: newline-delimited JSON, or — after a `hello` that asks for it — length-prefixed binary
//! frames in both directions (docs/DECISIONS.md, "TCP"). The same over TLS for `tls://`.

use enchufe_core::{
    ClientFrame, Encoding, ServerFrame,
    codec::{Frame, Framing, StreamDecoder, binary, json, line},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};

use super::{MAX_INBOUND, TransportError};

/// Frames from the server.
pub(super) struct Reader {
    half: Box<dyn AsyncRead + Unpin + Send>,
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start.
    start: usize,
    /// The server's side is prefixed from its first byte when the client asked for binary: its
    /// `welcome` already comes after the client's `hello` line.
    decoder: StreamDecoder,
}

/// Frames to the server.
pub(super) struct Writer {
    half: Box<dyn AsyncWrite + Unpin + Send>,
    out: Vec<u8>,
    binary: bool,
    /// Whether `hello` went out: in binary mode, everything after it is length-prefixed.
    switched: bool,
}

/// Connects to `addr`, without Nagle's delay.
pub(super) async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The frames over a connected stream (plain TCP, or TLS over it).
pub(super) fn open(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    encoding: Encoding,
) -> (Reader, Writer) {
    let (read, write) = tokio::io::split(stream);
    let (read, write) = (Box::new(read), Box::new(write));
    let binary = encoding == Encoding::Binary;
    (
        Reader {
            half: read,
            buf: Vec::with_capacity(8 * 1024),
            start: 0,
            decoder: StreamDecoder::new(
                if binary { Framing::Prefixed } else { Framing::Lines },
                MAX_INBOUND,
            ),
        },
        Writer { half: write, out: Vec::with_capacity(8 * 1024), binary, switched: false },
    )
}

impl Reader {
    /// The next frame; `Ok(None)` at a clean end of the stream. A frame that does not decode is
    /// logged and skipped (the stream goes on); broken framing ends the connection.
    pub(super) async fn next(&mut self) -> Result<Option<ServerFrame>, TransportError> {
        loop {
            let split = self.decoder.split(&self.buf[self.start..])?;
            self.start += split.used;
            if let Some(bytes) = split.frame {
                match ServerFrame::decode(bytes, self.decoder.encoding()) {
                    Ok(frame) => return Ok(Some(frame)),
                    Err(error) => {
                        tracing::warn!(%error, "tcp: skipping a frame that does not decode");
                        continue;
                    }
                }
            }
            self.buf.drain(..self.start);
            self.start = 0;
            self.buf.reserve(8 * 1024);
            if self.half.read_buf(&mut self.buf).await? == 0 {
                self.decoder.finish(&self.buf)?;
                return Ok(None);
            }
        }
    }
}

impl Writer {
    /// Writes `frames` with one system call.
    pub(super) async fn send(&mut self, frames: &[ClientFrame]) -> Result<(), TransportError> {
        self.out.clear();
        for frame in frames {
            match frame {
                ClientFrame::Hello(hello) if self.binary => {
                    let mut hello = hello.clone();
                    hello.encoding = Encoding::Binary;
                    json::encode(&ClientFrame::Hello(hello), &mut self.out);
                    line::terminate(&mut self.out);
                    self.switched = true;
                }
                _ if self.switched => {
                    if let Err(error) = binary::encode_prefixed(frame, &mut self.out) {
                        tracing::warn!(%error, kind = frame.kind(), "tcp: frame not sent");
                    }
                }
                _ => {
                    json::encode(frame, &mut self.out);
                    line::terminate(&mut self.out);
                }
            }
        }
        self.half.write_all(&self.out).await?;
        // TLS holds what is written until flushed (a plain socket's flush does nothing).
        self.half.flush().await?;
        Ok(())
    }

    /// Half-closes the stream: the server sees the end of input.
    pub(super) async fn close(&mut self) {
        let _ = self.half.shutdown().await;
    }
}
