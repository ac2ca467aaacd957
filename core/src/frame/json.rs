//! The JSON shapes of the frames that carry a body: a body is either `body` (JSON, forwarded as
//! the exact text) or `bytes` (base64), which serde's derives cannot say.

use crate::prelude::*;
use serde::{Deserialize, Serialize, ser::SerializeStruct};
use serde_json::value::RawValue;

use super::{Message, Publish};
use crate::{Body, RoomName, body::BodyFields};

impl Serialize for Publish {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Publish", 3)?;
        s.serialize_field("room", &self.room)?;
        serialize_body(&mut s, &self.body)?;
        if let Some(id) = self.id {
            s.serialize_field("id", &id)?;
        }
        s.end()
    }
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Message", 5)?;
        s.serialize_field("room", &self.room)?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("from", &self.from)?;
        s.serialize_field("ts", &self.ts)?;
        serialize_body(&mut s, &self.body)?;
        s.end()
    }
}

fn serialize_body<S: SerializeStruct>(s: &mut S, body: &Body) -> Result<(), S::Error> {
    // Straight from the body, without an intermediate copy: a message is encoded once per
    // encoding, but that once is on every publish's path.
    match body {
        Body::Json(json) => match crate::body::on_one_line(json.raw()) {
            Some(one_line) => s.serialize_field("body", &one_line),
            None => s.serialize_field("body", json.raw()),
        },
        Body::Bytes(bytes) => s.serialize_field("bytes", &crate::body::to_base64(bytes)),
    }
}

/// `publish` as it appears in JSON, before the body fields are checked. (Not `#[serde(flatten)]`:
/// flattening buffers the input, and a buffered [`RawValue`] cannot be read.)
#[derive(Deserialize)]
pub(super) struct PublishWire {
    room: RoomName,
    #[serde(default, deserialize_with = "crate::body::present")]
    body: Option<Box<RawValue>>,
    #[serde(default)]
    bytes: Option<String>,
    #[serde(default)]
    id: Option<u64>,
}

impl TryFrom<PublishWire> for Publish {
    type Error = crate::body::BodyFieldsError;

    fn try_from(wire: PublishWire) -> Result<Self, Self::Error> {
        Ok(Publish {
            room: wire.room,
            body: BodyFields { body: wire.body, bytes: wire.bytes }.try_into()?,
            id: wire.id,
        })
    }
}

/// `message` as it appears in JSON, before the body fields are checked.
#[derive(Deserialize)]
pub(super) struct MessageWire {
    room: RoomName,
    seq: u64,
    from: String,
    ts: u64,
    #[serde(default, deserialize_with = "crate::body::present")]
    body: Option<Box<RawValue>>,
    #[serde(default)]
    bytes: Option<String>,
}

impl TryFrom<MessageWire> for Message {
    type Error = crate::body::BodyFieldsError;

    fn try_from(wire: MessageWire) -> Result<Self, Self::Error> {
        Ok(Message {
            room: wire.room,
            seq: wire.seq,
            from: wire.from,
            ts: wire.ts,
            body: BodyFields { body: wire.body, bytes: wire.bytes }.try_into()?,
        })
    }
}
