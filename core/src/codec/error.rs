//! Codec errors: what was wrong with the bytes, and the wire code that reports it.

use crate::prelude::*;
use crate::{ErrorCode, RoomNameError};

/// Why bytes did not decode into a frame. The stream, if any, can go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not a JSON object of the expected shape.
    #[cfg(feature = "json")]
    #[error("malformed JSON frame: {0}")]
    Json(#[source] serde_json::Error),
    /// A JSON frame of a known type whose fields are wrong (missing, of the wrong type, or
    /// invalid), answered with its request id when that could be read.
    #[cfg(feature = "json")]
    #[error("malformed JSON frame: {error}")]
    Fields {
        /// What is wrong.
        #[source]
        error: serde_json::Error,
        /// The frame's request id, when it could be read.
        id: Option<u64>,
    },
    /// A JSON frame, to a build without the `json` feature (the browser client's).
    #[cfg(not(feature = "json"))]
    #[error("JSON frames are not read by this build (binary only)")]
    JsonUnsupported,
    /// A JSON object without a string `type` field.
    #[error("the frame has no \"type\" field")]
    MissingType,
    /// A `type` (JSON) or kind byte (binary) that this peer does not know.
    #[error("unknown frame type {kind:?}")]
    UnknownType {
        /// The type, as sent (at most 32 characters of it). A binary kind is its number, or the
        /// name of the frame it denotes in the other direction (a server frame sent to a server).
        kind: String,
        /// The frame's request id, when it could be read.
        id: Option<u64>,
    },
    /// The frame names an invalid room.
    #[error("{error}")]
    InvalidRoom {
        /// What is wrong with the name.
        error: RoomNameError,
        /// The frame's request id, when it could be read.
        id: Option<u64>,
    },
    /// The binary encoding is broken.
    #[error("malformed binary frame: {0}")]
    Binary(#[from] BinaryError),
}

/// What is wrong with a binary frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BinaryError {
    /// The frame is empty or ends inside a field.
    #[error("the frame ends inside a field")]
    Truncated,
    /// The version byte is not one this peer reads.
    #[error("binary format version {0} is not supported (this peer reads version 1)")]
    UnsupportedVersion(u8),
    /// A varint is longer than 10 bytes or overflows 64 bits.
    #[error("a varint overflows 64 bits")]
    VarintOverflow,
    /// A varint is longer than needed (ends in a zero byte): every value has one encoding.
    #[error("a varint is not in its shortest form")]
    NonMinimalVarint,
    /// An integer field holds a value larger than its type (u16 or u32) allows.
    #[error("field {field} has the out-of-range value {value}")]
    OutOfRange {
        /// The field's name.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A string field is not UTF-8.
    #[error("a string field is not UTF-8")]
    InvalidUtf8,
    /// A JSON body is not valid JSON, has whitespace around the value, holds a line break (so
    /// that each body has one encoding, and fits in a line of newline-delimited JSON), or nests
    /// deeper than [`MAX_BODY_DEPTH`](crate::MAX_BODY_DEPTH).
    #[error(
        "a JSON body is not valid JSON on one line without surrounding whitespace, nested at \
         most 64 deep"
    )]
    InvalidJsonBody,
    /// An enumerated field (option flag, body kind, encoding, presence action) has an unknown value.
    #[error("field {field} has the unknown value {value}")]
    InvalidTag {
        /// The field's name.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A length or count does not fit the bytes that are left.
    #[error("a length of {0} does not fit in the frame")]
    BadLength(u64),
    /// Bytes are left after the last field.
    #[error("{0} bytes after the end of the frame")]
    TrailingBytes(usize),
}

/// Why a stream cannot be split into frames any more: the connection must close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A line or length-prefixed frame is longer than the limit.
    #[error("frame of {len} bytes or more exceeds the limit of {max}")]
    TooLarge {
        /// The frame's length, or the bytes seen so far without its end.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("the stream ended inside a frame ({0} bytes unread)")]
    UnexpectedEof(usize),
}

impl DecodeError {
    /// The wire error code that reports this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::UnknownType { .. } => ErrorCode::UnknownType,
            DecodeError::InvalidRoom { .. } => ErrorCode::InvalidRoom,
            DecodeError::Binary(BinaryError::UnsupportedVersion(_)) => {
                ErrorCode::UnsupportedVersion
            }
            _ => ErrorCode::Malformed,
        }
    }

    /// The request id of the frame, when it could be read.
    pub fn id(&self) -> Option<u64> {
        match self {
            DecodeError::UnknownType { id, .. } | DecodeError::InvalidRoom { id, .. } => *id,
            #[cfg(feature = "json")]
            DecodeError::Fields { id, .. } => *id,
            _ => None,
        }
    }
}

impl FramingError {
    /// The wire error code that reports this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            FramingError::TooLarge { .. } => ErrorCode::TooLarge,
            FramingError::UnexpectedEof(_) => ErrorCode::Malformed,
        }
    }
}
