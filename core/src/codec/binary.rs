//! The binary encoding (version 1). PLACEHOLDER: being written.

use super::DecodeError;
use crate::{ClientFrame, ServerFrame};

/// Appends the binary encoding of a client frame.
pub fn encode_client(_frame: &ClientFrame, _out: &mut Vec<u8>) {}
/// Appends the binary encoding of a server frame.
pub fn encode_server(_frame: &ServerFrame, _out: &mut Vec<u8>) {}
/// Decodes a client frame.
pub fn decode_client(_bytes: &[u8]) -> Result<ClientFrame, DecodeError> {
    Err(super::BinaryError::Truncated.into())
}
/// Decodes a server frame.
pub fn decode_server(_bytes: &[u8]) -> Result<ServerFrame, DecodeError> {
    Err(super::BinaryError::Truncated.into())
}
