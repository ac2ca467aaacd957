//! A server frame on its way out, encoded at most once per encoding.

use std::sync::{Arc, OnceLock};

use async_tungstenite::tungstenite::Utf8Bytes;
use bytes::Bytes;
use enchufe_core::{Encoding, ErrorCode, ErrorFrame, ServerFrame, codec::Frame};

/// A server frame queued for one or many connections.
///
/// Fan-out puts one `Arc<Outgoing>` into every subscriber's [`Outbox`](super::Outbox): the
/// frame is encoded the first time a connection of a given encoding asks for it, and every other
/// connection of that encoding writes the same [`Bytes`]. No subscriber pays for its own
/// encoding, and a delivery costs one queue slot (a pointer).
///
/// The JSON encoding is kept as tungstenite's [`Utf8Bytes`] (a [`Bytes`] known to be UTF-8) so
/// that WebSocket text messages share it too, without a UTF-8 check per subscriber.
#[derive(Debug)]
pub struct Outgoing {
    frame: ServerFrame,
    json: OnceLock<Utf8Bytes>,
    binary: OnceLock<Bytes>,
}

impl Outgoing {
    /// Wraps `frame`; nothing is encoded yet.
    pub fn new(frame: ServerFrame) -> Arc<Self> {
        Arc::new(Outgoing { frame, json: OnceLock::new(), binary: OnceLock::new() })
    }

    /// An `error` frame for `code`, answering the frame with request id `id`.
    pub fn error(code: ErrorCode, message: impl Into<String>, id: Option<u64>) -> Arc<Self> {
        Self::new(ServerFrame::Error(ErrorFrame::new(code, message, id)))
    }

    /// The frame.
    pub fn frame(&self) -> &ServerFrame {
        &self.frame
    }

    /// The frame's bytes in `encoding`, without any stream framing (no newline, no length
    /// prefix): a JSON object, or a binary frame starting with its version byte.
    pub fn encoded(&self, encoding: Encoding) -> &Bytes {
        match encoding {
            Encoding::Json => self.json_text().as_ref(),
            Encoding::Binary => self.binary.get_or_init(|| {
                let mut out = Vec::with_capacity(64);
                self.frame.encode_binary(&mut out);
                Bytes::from(out)
            }),
        }
    }

    /// The JSON encoding as text (a WebSocket text message, an SSE `data:` line).
    pub fn json_text(&self) -> &Utf8Bytes {
        self.json.get_or_init(|| {
            let mut out = Vec::with_capacity(128);
            self.frame.encode_json(&mut out);
            // serde_json writes UTF-8; the lossy branch is never taken, and never panics.
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::Pong;

    #[test]
    fn encodes_once_and_shares_the_bytes() {
        let out = Outgoing::new(ServerFrame::Pong(Pong { id: Some(3) }));
        let a = out.encoded(Encoding::Json).clone();
        let b = out.encoded(Encoding::Json).clone();
        assert_eq!(&a[..], br#"{"type":"pong","id":3}"#);
        assert_eq!(a.as_ptr(), b.as_ptr(), "the second call reuses the first encoding");
    }
}
