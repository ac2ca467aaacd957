//! Message bodies: any JSON value, or raw bytes.

use crate::prelude::*;

#[cfg(feature = "json")]
use base64::Engine as _;
#[cfg(feature = "json")]
use serde_json::value::RawValue;

use crate::JsonText;

/// The payload of a `publish` or `message` frame.
///
/// A JSON body is kept as the exact JSON text the publisher sent ([`JsonText`]): the server
/// validates it once and forwards it without rebuilding a tree. A bytes body travels as raw bytes
/// in the binary encoding and as base64 in the JSON encoding (the `bytes` field instead of `body`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// Any JSON value, as validated JSON text.
    Json(JsonText),
    /// Opaque bytes.
    Bytes(Vec<u8>),
}

impl Body {
    /// A JSON body from a value.
    #[cfg(feature = "json")]
    pub fn json(value: &impl serde::Serialize) -> Result<Self, serde_json::Error> {
        Ok(Body::Json(serde_json::value::to_raw_value(value)?.into()))
    }

    /// A JSON body from JSON text, validated (serde_json's error says where it is not JSON;
    /// [`JsonText::new`] builds one in any build).
    #[cfg(feature = "json")]
    pub fn from_json_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let json = RawValue::from_string(text.into())?;
        if nests_deeper_than(json.get().as_bytes(), MAX_BODY_DEPTH) {
            return Err(serde::de::Error::custom(BodyFieldsError::TooDeep));
        }
        Ok(Body::Json(json.into()))
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

/// The JSON-encoding shape of a body: exactly one of `body` (JSON) and `bytes` (base64).
#[cfg(feature = "json")]
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub(crate) struct BodyFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bytes: Option<String>,
}

/// Reads a `body` field that is there, `null` included: `"body":null` is a body holding the
/// JSON value null, while serde would read `null` in an `Option` field as an absent body.
#[cfg(feature = "json")]
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
#[cfg(feature = "json")]
pub(crate) fn on_one_line(json: &RawValue) -> Option<Box<RawValue>> {
    let text = json.get();
    if !has_line_break(text.as_bytes()) {
        return None;
    }
    RawValue::from_string(text.replace(['\n', '\r'], " ")).ok()
}

/// Why the body fields of a JSON frame are not valid.
#[cfg(feature = "json")]
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyFieldsError {
    #[error("a frame with a body needs exactly one of `body` and `bytes`")]
    NotExactlyOne,
    #[error("`bytes` is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("the JSON body nests deeper than {MAX_BODY_DEPTH} arrays and objects")]
    TooDeep,
}

/// The deepest nesting of arrays and objects a JSON body may have. Bodies are relayed as their
/// text, to clients whose JSON parsers recurse (Python's stops near 1000 levels, some far
/// sooner): a bound every client can parse, far beyond what messages need.
pub const MAX_BODY_DEPTH: usize = 64;

/// Whether JSON `text` nests arrays and objects deeper than `max` (strings are skipped).
pub(crate) fn nests_deeper_than(text: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(feature = "json")]
impl TryFrom<BodyFields> for Body {
    type Error = BodyFieldsError;

    fn try_from(fields: BodyFields) -> Result<Self, Self::Error> {
        match (fields.body, fields.bytes) {
            (Some(json), None) if nests_deeper_than(json.get().as_bytes(), MAX_BODY_DEPTH) => {
                Err(BodyFieldsError::TooDeep)
            }
            (Some(json), None) => Ok(Body::Json(json.into())),
            (None, Some(b64)) => {
                Ok(Body::Bytes(base64::engine::general_purpose::STANDARD.decode(b64)?))
            }
            _ => Err(BodyFieldsError::NotExactlyOne),
        }
    }
}

/// The JSON encoding of a bytes body: standard base64 with padding.
#[cfg(feature = "json")]
pub(crate) fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(all(test, feature = "json"))]
mod depth_tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn bodies_nest_at_most_max_body_depth_and_strings_do_not_count() {
        let nested = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
        assert!(Body::from_json_text(nested(MAX_BODY_DEPTH)).is_ok());
        assert!(Body::from_json_text(nested(MAX_BODY_DEPTH + 1)).is_err());
        assert!(Body::from_json_text(format!("\"{}\"", "[".repeat(500))).is_ok());
        assert!(Body::from_json_text(r#"{"a":"\"[[[[","b":[{}]}"#).is_ok());
        assert!(
            nests_deeper_than(br#"["\\",[]]"#, 1),
            "an escaped backslash does not escape the closing quote"
        );
        let frame = format!(r#"{{"type":"publish","room":"r","body":{}}}"#, nested(200));
        assert!(crate::codec::json::decode_client(frame.as_bytes()).is_err());
    }
}
