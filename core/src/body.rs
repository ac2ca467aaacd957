//! Message bodies: any JSON value, or raw bytes.

use base64::Engine as _;
use serde_json::value::RawValue;

/// The payload of a `publish` or `message` frame.
///
/// A JSON body is kept as the exact JSON text the publisher sent ([`RawValue`]): the server
/// validates it once and forwards it without rebuilding a tree. A bytes body travels as raw bytes
/// in the binary encoding and as base64 in the JSON encoding (the `bytes` field instead of `body`).
#[derive(Clone, Debug)]
pub enum Body {
    /// Any JSON value, as validated JSON text.
    Json(Box<RawValue>),
    /// Opaque bytes.
    Bytes(Vec<u8>),
}

impl Body {
    /// A JSON body from a value.
    pub fn json(value: &impl serde::Serialize) -> Result<Self, serde_json::Error> {
        Ok(Body::Json(serde_json::value::to_raw_value(value)?))
    }

    /// A JSON body from JSON text, validated.
    pub fn from_json_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        Ok(Body::Json(RawValue::from_string(text.into())?))
    }

    /// The body's size on the wire in the binary encoding, in bytes (JSON text or raw bytes).
    pub fn len(&self) -> usize {
        match self {
            Body::Json(raw) => raw.get().len(),
            Body::Bytes(bytes) => bytes.len(),
        }
    }

    /// Whether the body is empty bytes (a JSON body is never empty).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The JSON text of a JSON body.
    pub fn as_json_text(&self) -> Option<&str> {
        match self {
            Body::Json(raw) => Some(raw.get()),
            Body::Bytes(_) => None,
        }
    }
}

/// Bodies are equal when their JSON text or bytes are equal.
impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Body::Json(a), Body::Json(b)) => a.get() == b.get(),
            (Body::Bytes(a), Body::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Body {}

/// The JSON-encoding shape of a body: exactly one of `body` (JSON) and `bytes` (base64).
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub(crate) struct BodyFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bytes: Option<String>,
}

/// Reads a `body` field that is there, `null` included: `"body":null` is a body holding the
/// JSON value null, while serde would read `null` in an `Option` field as an absent body.
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Box<RawValue>>, D::Error> {
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// Whether JSON text holds a raw line break (`\n` or `\r`). In valid JSON one can only be
/// whitespace between tokens (inside strings it is escaped), so it can become a space without
/// changing the value — which the encoders do, so that a body published with line breaks never
/// breaks newline-delimited framing where it is forwarded.
pub(crate) fn has_line_break(text: &[u8]) -> bool {
    text.iter().any(|&b| is_line_break(b))
}

/// `\n` or `\r`.
pub(crate) fn is_line_break(byte: u8) -> bool {
    byte == b'\n' || byte == b'\r'
}

/// A JSON body's text on one line, when it is not already (see [`has_line_break`]).
pub(crate) fn on_one_line(json: &RawValue) -> Option<Box<RawValue>> {
    let text = json.get();
    if !has_line_break(text.as_bytes()) {
        return None;
    }
    RawValue::from_string(text.replace(['\n', '\r'], " ")).ok()
}

/// Why the body fields of a JSON frame are not valid.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyFieldsError {
    #[error("a frame with a body needs exactly one of `body` and `bytes`")]
    NotExactlyOne,
    #[error("`bytes` is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
}

impl TryFrom<BodyFields> for Body {
    type Error = BodyFieldsError;

    fn try_from(fields: BodyFields) -> Result<Self, Self::Error> {
        match (fields.body, fields.bytes) {
            (Some(json), None) => Ok(Body::Json(json)),
            (None, Some(b64)) => {
                Ok(Body::Bytes(base64::engine::general_purpose::STANDARD.decode(b64)?))
            }
            _ => Err(BodyFieldsError::NotExactlyOne),
        }
    }
}

/// The JSON encoding of a bytes body: standard base64 with padding.
pub(crate) fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
