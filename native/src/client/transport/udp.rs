//! UDP: one frame per datagram, after the cookie handshake (docs/DECISIONS.md, "UDP").
//!
//! The core machine does the handshake itself (it answers `challenge` with `hello` + cookie);
//! this transport adds what only a datagram transport needs:
//! - every `hello` goes out as JSON padded to [`HELLO_SIZE`] bytes with a `pad` field (which
//!   servers ignore), so that the server's anti-amplification rule — never answer an unvalidated
//!   address with more bytes than it sent — leaves room for the `challenge`;
//! - a fatal `error` (the server dropped the session: kicked, idle, shutting down, hello
//!   required) ends the "connection", since no stream end will ever say so.

use std::{io, sync::Arc};

use enchufe_core::{
    ClientFrame, Encoding, ServerFrame,
    codec::{Frame, binary, datagram},
};
use tokio::net::{UdpSocket, lookup_host};

use super::{MAX_INBOUND, TransportError};

/// The size every `hello` is padded to, like QUIC's first packet: the largest datagram the
/// server sends, so the answer is never limited by it (one number for both, in core).
pub const HELLO_SIZE: usize = datagram::MAX_DATAGRAM;

/// Frames from the server.
pub(super) struct Reader {
    socket: Arc<UdpSocket>,
    buf: Vec<u8>,
    /// A fatal error was delivered: the server has forgotten this session.
    ended: bool,
}

/// Frames to the server.
pub(super) struct Writer {
    socket: Arc<UdpSocket>,
    binary: bool,
    out: Vec<u8>,
}

/// Binds an ephemeral local port and connects it to `addr` (the first address it resolves to).
pub(super) async fn open(
    addr: &str,
    encoding: Encoding,
) -> Result<(Reader, Writer), TransportError> {
    let target =
        lookup_host(addr).await?.next().ok_or_else(|| TransportError::NoAddress(addr.into()))?;
    let local = if target.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target).await?;
    let socket = Arc::new(socket);
    Ok((
        Reader { socket: socket.clone(), buf: vec![0; MAX_INBOUND.min(65_536)], ended: false },
        Writer { socket, binary: encoding == Encoding::Binary, out: Vec::with_capacity(1500) },
    ))
}

impl Reader {
    /// The next frame. A datagram that does not decode is logged and skipped; an ICMP "port
    /// unreachable" surfaces as a connection-refused error, which ends the connection.
    pub(super) async fn next(&mut self) -> Result<Option<ServerFrame>, TransportError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let n = self.socket.recv(&mut self.buf).await?;
            let bytes = &self.buf[..n];
            let decoded = match bytes.first() {
                Some(&binary::VERSION) => ServerFrame::decode_binary(bytes),
                _ => ServerFrame::decode_json(bytes),
            };
            match decoded {
                Ok(frame) => {
                    if let ServerFrame::Error(error) = &frame {
                        self.ended = error.error_code().is_some_and(|code| code.is_fatal());
                    }
                    return Ok(Some(frame));
                }
                Err(error) => {
                    tracing::warn!(%error, "udp: skipping a datagram that does not decode")
                }
            }
        }
    }
}

impl Writer {
    /// Sends each frame as its own datagram. A frame too large for a datagram is logged and
    /// dropped (the server would drop it too); other send errors end the connection.
    pub(super) async fn send(&mut self, frames: &[ClientFrame]) -> Result<(), TransportError> {
        for frame in frames {
            self.out.clear();
            match frame {
                ClientFrame::Hello(_) => datagram::padded_hello(frame, &mut self.out),
                _ if self.binary => frame.encode_binary(&mut self.out),
                _ => frame.encode_json(&mut self.out),
            }
            match self.socket.send(&self.out).await {
                Ok(_) => {}
                Err(error) if is_too_large(&error) => {
                    let len = self.out.len();
                    tracing::warn!(kind = frame.kind(), len, "udp: frame too large for a datagram");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}

fn is_too_large(error: &io::Error) -> bool {
    // EMSGSIZE: 90 on Linux, 40 on the BSDs and macOS; WSAEMSGSIZE on Windows.
    matches!(error.raw_os_error(), Some(90 | 40 | 10040))
}
