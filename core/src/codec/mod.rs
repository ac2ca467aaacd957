//! Bytes ↔ frames: two encodings and the framing of stream transports.
//!
//! - [`json`]: one frame per JSON object (WebSocket text messages, SSE, HTTP, UDP, TCP lines);
//!   the `json` feature.
//! - [`binary`]: the compact binary encoding (WebSocket binary messages, binary TCP, UDP).
//! - [`line`]: newline-delimited framing for TCP JSON; [`binary::split`] frames binary TCP.
//! - [`stream`]: the one decoder of a TCP stream over both, with the switch from lines to
//!   length-prefixed frames after a `hello` that asks for binary.
//! - [`batch`]: several frames in one WebSocket message, for clients that ask.
//! - [`datagram`]: the datagram size UDP's two sides agree on, and the padded `hello`.
//!
//! Framing and decoding are separate steps, as in mini-redis's `Frame::check` then `parse`:
//! a splitter says *incomplete* (`Ok(None)`: read more), *a frame of n bytes*, or *invalid*
//! (the stream cannot continue); decoding a split frame may then fail without breaking the
//! stream, so a bad line is answered with an `error` and the next line is read.

use crate::prelude::*;

pub mod batch;
pub mod binary;
#[cfg(feature = "json")]
pub mod datagram;
mod error;
#[cfg(feature = "json")]
pub mod json;
pub mod line;
pub mod stream;

pub use error::{BinaryError, DecodeError, FramingError};
pub use stream::{Framing, Split, StreamDecoder};

use crate::{ClientFrame, ServerFrame};

/// A frame type both encodings can carry: [`ClientFrame`] or [`ServerFrame`].
pub trait Frame: Sized {
    /// Appends the frame's JSON encoding (one object, no newline) to `out`.
    #[cfg(feature = "json")]
    fn encode_json(&self, out: &mut Vec<u8>);
    /// Decodes one JSON object.
    #[cfg(feature = "json")]
    fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError>;
    /// Appends the frame's binary encoding (version byte first, no length prefix) to `out`.
    fn encode_binary(&self, out: &mut Vec<u8>);
    /// Decodes one binary-encoded frame (without its length prefix).
    fn decode_binary(bytes: &[u8]) -> Result<Self, DecodeError>;

    /// Decodes one frame in `encoding` (JSON needs the `json` feature: without it a JSON
    /// frame is [`DecodeError::JsonUnsupported`]).
    fn decode(bytes: &[u8], encoding: crate::Encoding) -> Result<Self, DecodeError> {
        match encoding {
            #[cfg(feature = "json")]
            crate::Encoding::Json => Self::decode_json(bytes),
            #[cfg(not(feature = "json"))]
            crate::Encoding::Json => Err(DecodeError::JsonUnsupported),
            crate::Encoding::Binary => Self::decode_binary(bytes),
        }
    }
}

impl Frame for ClientFrame {
    #[cfg(feature = "json")]
    fn encode_json(&self, out: &mut Vec<u8>) {
        json::encode(self, out);
    }

    #[cfg(feature = "json")]
    fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        json::decode_client(bytes)
    }

    fn encode_binary(&self, out: &mut Vec<u8>) {
        binary::encode_client(self, out);
    }

    fn decode_binary(bytes: &[u8]) -> Result<Self, DecodeError> {
        binary::decode_client(bytes)
    }
}

impl Frame for ServerFrame {
    #[cfg(feature = "json")]
    fn encode_json(&self, out: &mut Vec<u8>) {
        json::encode(self, out);
    }

    #[cfg(feature = "json")]
    fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        json::decode_server(bytes)
    }

    fn encode_binary(&self, out: &mut Vec<u8>) {
        binary::encode_server(self, out);
    }

    fn decode_binary(bytes: &[u8]) -> Result<Self, DecodeError> {
        binary::decode_server(bytes)
    }
}
