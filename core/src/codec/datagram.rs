//! Datagram transports (UDP): one frame per datagram, none larger than [`MAX_DATAGRAM`] from the
//! server, and every `hello` padded to that size (docs/DECISIONS.md, "UDP").
//!
//! Shared by the server (which never sends more), the native client and the load tool (which pad
//! their `hello` with [`padded_hello`]), so that the two sides of the anti-amplification rule —
//! never answer an unvalidated address with more bytes than it sent — agree on one number.

use super::json;
use crate::ClientFrame;
use crate::prelude::*;

/// The largest datagram the server sends, in bytes, and the size every client `hello` is padded
/// to: it fits the IPv6 minimum MTU (1280) with room for headers, so nothing is fragmented on
/// any path (QUIC's choice for its first packet too). A `hello` this large leaves room for any
/// `challenge`.
pub const MAX_DATAGRAM: usize = 1200;

/// Appends `hello` as JSON, padded with a `pad` string field (servers ignore unknown fields) to
/// [`MAX_DATAGRAM`] bytes. A frame already that large, or whose JSON is not an object, is left
/// unpadded.
pub fn padded_hello(hello: &ClientFrame, out: &mut Vec<u8>) {
    const FIELD: &[u8] = br#","pad":"""#;
    let start = out.len();
    json::encode(hello, out);
    let missing = MAX_DATAGRAM.saturating_sub(out.len() - start + FIELD.len());
    if missing == 0 || out.last() != Some(&b'}') {
        return;
    }
    out.pop();
    out.extend_from_slice(&FIELD[..FIELD.len() - 1]);
    out.resize(out.len() + missing, b' ');
    out.extend_from_slice(b"\"}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Hello, PROTOCOL_VERSION, codec::json::decode_client};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn hello_is_padded_to_the_datagram_size_and_still_decodes() {
        let hello = ClientFrame::Hello(Hello {
            v: PROTOCOL_VERSION,
            name: Some("ana".into()),
            ..Hello::default()
        });
        let mut out = vec![];
        padded_hello(&hello, &mut out);
        assert_eq!(out.len(), MAX_DATAGRAM);
        assert_eq!(decode_client(&out).unwrap(), hello);
        // Appended: what was in the buffer stays, and does not count.
        let mut out = b"xy".to_vec();
        padded_hello(&hello, &mut out);
        assert_eq!(out.len(), 2 + MAX_DATAGRAM);
        assert_eq!(decode_client(&out[2..]).unwrap(), hello);
    }
}
