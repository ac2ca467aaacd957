//! A server frame on its way out, encoded at most once per encoding.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use enchufe_core::{Encoding, ErrorCode, ErrorFrame, ServerFrame, codec::Frame};

/// A server frame queued for one or many connections.
///
/// Fan-out puts one `Arc<Outgoing>` into every subscriber's [`Outbox`](super::Outbox): the
/// frame is encoded the first time a connection of a given encoding asks for it, and every other
/// connection of that encoding writes the same [`Bytes`]. No subscriber pays for its own
/// encoding, and a delivery costs one queue slot (a pointer).
#[derive(Debug)]
pub struct Outgoing {
    frame: ServerFrame,
    json: OnceLock<Bytes>,
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
            Encoding::Json => self.json.get_or_init(|| {
                let mut out = Vec::with_capacity(128);
                self.frame.encode_json(&mut out);
                Bytes::from(out)
            }),
            Encoding::Binary => self.binary.get_or_init(|| {
                let mut out = Vec::with_capacity(64);
                self.frame.encode_binary(&mut out);
                Bytes::from(out)
            }),
        }
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
