//! Every frame of the protocol, as Rust types.
//!
//! On text transports a frame is a JSON object tagged by `type`
//! (`{"type":"join","room":"lobby"}`); the same types have a binary encoding
//! ([`crate::codec::binary`]). docs/PROTOCOL.md shows each frame with an example.

use crate::prelude::*;

#[cfg(feature = "json")]
use serde::{Deserialize, Serialize};

use crate::{Body, ErrorCode, RoomName};

/// The protocol version this crate speaks, sent in `hello` and `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A frame a client sends to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize))]
#[cfg_attr(feature = "json", serde(tag = "type", rename_all = "snake_case"))]
pub enum ClientFrame {
    /// Opens a session; must be the first frame on a connection.
    Hello(Hello),
    /// Subscribes to a room, optionally recovering what was missed since a seq.
    Join(Join),
    /// Unsubscribes from a room.
    Leave(Leave),
    /// Publishes a message into a room.
    Publish(Publish),
    /// Asks for a room's stored messages.
    History(HistoryRequest),
    /// Keeps the connection alive and measures round trips.
    Ping(Ping),
    /// Replaces the connection's token in place (the rights follow the new one).
    Refresh(Refresh),
}

/// A frame the server sends to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize))]
#[cfg_attr(feature = "json", serde(tag = "type", rename_all = "snake_case"))]
pub enum ServerFrame {
    /// Accepts a `hello`.
    Welcome(Welcome),
    /// UDP only: asks the client to repeat `hello` with this cookie (address validation).
    Challenge(Challenge),
    /// Confirms a `join`; missed messages, then live ones, follow.
    Joined(Joined),
    /// Confirms a `leave`.
    Left(Left),
    /// A message published in a joined room.
    Message(Message),
    /// Someone joined or left a joined room.
    Presence(Presence),
    /// Acknowledges a `publish` that carried an id.
    Ack(Ack),
    /// Answers a `history` request.
    History(History),
    /// Answers a `ping`.
    Pong(Pong),
    /// Accepts a `refresh`.
    Refreshed(Refreshed),
    /// Reports a problem with a frame or the connection.
    Error(ErrorFrame),
}

/// The encoding a stream transport uses after `hello` (TCP only; WebSocket tells by message type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json", serde(rename_all = "snake_case"))]
pub enum Encoding {
    /// Newline-delimited JSON frames.
    #[default]
    Json,
    /// Length-prefixed binary frames ([`crate::codec::binary`]).
    Binary,
}

/// `hello`: opens a session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Hello {
    /// The protocol version the client speaks ([`PROTOCOL_VERSION`]).
    pub v: u32,
    /// A display name shown to others as the sender and in presence.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub name: Option<String>,
    /// An auth token, checked by servers that require one.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub token: Option<String>,
    /// A stable id of this client instance, the same across its reconnects; publishes are
    /// de-duplicated per (client, publish id). Without it they are de-duplicated per session.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub client: Option<String>,
    /// UDP only: the cookie from the server's `challenge`, proving the client receives at its
    /// address. A `hello` without a valid cookie is answered by `challenge`, not `welcome`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub cookie: Option<String>,
    /// The encoding for the rest of a TCP connection; JSON when absent.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "is_default"))]
    pub encoding: Encoding,
    /// WebSocket only: the client reads batches, so the server may send several frames in one
    /// message (docs/PROTOCOL.md, "Batches"); [`codec::batch`](crate::codec::batch) splits them.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "is_default"))]
    pub batch: bool,
}

/// `join`: subscribes to a room.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Join {
    /// The room; it is created on first use.
    pub room: RoomName,
    /// The last seq the client has seen; the server replays every later message it still holds.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub since: Option<u64>,
    /// A request id echoed in `joined` or `error`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
    /// The room's epoch (from an earlier `joined`) that `since` counts in. When it is not the
    /// room's current epoch, the server numbered the room anew since then (it restarted, or
    /// forgot the idle room): `since` means nothing in the new numbering, so the server answers
    /// `recovered: false` and replays every stored message.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub epoch: Option<String>,
}

/// `leave`: unsubscribes from a room.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Leave {
    /// The room.
    pub room: RoomName,
    /// A request id echoed in `left` or `error`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `publish`: sends a message into a room (joining it is not needed).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Deserialize))]
#[cfg_attr(feature = "json", serde(try_from = "json::PublishWire"))]
pub struct Publish {
    /// The room.
    pub room: RoomName,
    /// The payload.
    pub body: Body,
    /// The client's id for this publish: the server answers with `ack`, and a retry with the
    /// same id from the same client is acknowledged again but not delivered twice.
    pub id: Option<u64>,
}

/// `history`: asks for stored messages of a room.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct HistoryRequest {
    /// The room.
    pub room: RoomName,
    /// Only messages with a seq greater than this; the oldest stored when absent.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub since: Option<u64>,
    /// At most this many messages (the server caps it); the oldest first.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub limit: Option<u32>,
    /// A request id echoed in the `history` answer or `error`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `ping` from the client, answered by `pong`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Ping {
    /// A request id echoed in `pong`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `refresh` from the client: a new token for this connection, answered by `refreshed` (or
/// `error` 4009 if the server refuses it, which closes the connection).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Refresh {
    /// The new token.
    pub token: String,
    /// A request id echoed in `refreshed` or `error`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `welcome`: the server accepted `hello`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Welcome {
    /// The protocol version the server speaks on this connection.
    pub v: u32,
    /// This connection's session id, unique on the server.
    pub session: String,
    /// How often the client should send something (a `ping` when idle), in milliseconds; the
    /// server drops a connection silent for a few of these.
    pub heartbeat_ms: u64,
    /// The server's limits.
    pub limits: Limits,
    /// When the connection's token expires, in seconds since the Unix epoch (its `exp`): send
    /// `refresh` before then. Absent without a token, or for a token that never expires.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub expires: Option<u64>,
}

/// `challenge`: the UDP address-validation step (see docs/PROTOCOL.md, "UDP").
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Challenge {
    /// An opaque token bound to the client's address; echo it in `hello.cookie`.
    pub cookie: String,
}

/// Limits a server announces in `welcome`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Limits {
    /// The largest frame the server accepts, in bytes of its encoding.
    pub max_frame: u32,
    /// How many rooms one connection may join.
    pub max_rooms: u32,
    /// The most messages one `history` answer holds.
    pub max_history: u32,
}

/// A member of a room, as shown in `joined` and `presence`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Member {
    /// The member's session id.
    pub session: String,
    /// The member's display name, if it gave one.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub name: Option<String>,
}

/// `joined`: the client is subscribed; missed messages (seq > `since`), then live ones, follow.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Joined {
    /// The room.
    pub room: RoomName,
    /// The room's current (last assigned) seq; 0 when nothing was ever published.
    pub seq: u64,
    /// Who is in the room now, this session included.
    pub members: Vec<Member>,
    /// False when `since` was given and history no longer reaches back to it: messages
    /// between `since` and the first replayed one are lost to this client.
    pub recovered: bool,
    /// The `join`'s request id.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
    /// An opaque id of the room's numbering, chosen by the server when it created the room and
    /// different for every creation (a restarted server, or a forgotten idle room, numbers the
    /// room from 1 again under a new epoch). Seqs are comparable only within one epoch; a
    /// client re-joins with `since` and this `epoch`.
    pub epoch: String,
}

/// `left`: the client is no longer subscribed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Left {
    /// The room.
    pub room: RoomName,
    /// The `leave`'s request id.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `message`: one message of a room.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Deserialize))]
#[cfg_attr(feature = "json", serde(try_from = "json::MessageWire"))]
pub struct Message {
    /// The room.
    pub room: RoomName,
    /// The room's sequence number for this message, from 1, without gaps.
    pub seq: u64,
    /// The sender's display name, or its session id when it gave none.
    pub from: String,
    /// The server's time of publication, in milliseconds since the Unix epoch.
    pub ts: u64,
    /// The payload.
    pub body: Body,
}

/// Whether a member came or went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "json", serde(rename_all = "snake_case"))]
pub enum PresenceAction {
    /// The member joined the room.
    Join,
    /// The member left the room or disconnected.
    Leave,
}

/// `presence`: someone joined or left a room the client is in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Presence {
    /// The room.
    pub room: RoomName,
    /// Joined or left.
    pub action: PresenceAction,
    /// Who.
    pub member: Member,
}

/// `ack`: a publish with an id was stored under `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Ack {
    /// The publish's id.
    pub id: u64,
    /// The room.
    pub room: RoomName,
    /// The seq the message got (the original one, for a retried id).
    pub seq: u64,
}

/// `history`: stored messages, the oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct History {
    /// The room.
    pub room: RoomName,
    /// The messages.
    pub messages: Vec<Message>,
    /// The request's id.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `refreshed`: the server took the token of a `refresh`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Refreshed {
    /// The `refresh`'s request id.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
    /// When the new token expires (seconds since the Unix epoch), as in `welcome.expires`.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub expires: Option<u64>,
}

/// `pong`: answers a `ping`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct Pong {
    /// The `ping`'s request id.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

/// `error`: a frame was refused, or the connection is about to close.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(Serialize, Deserialize))]
pub struct ErrorFrame {
    /// The numeric code from the table in [`ErrorCode`]; kept as a number so that a client
    /// still decodes codes newer than itself.
    pub code: u16,
    /// A human-readable explanation.
    pub message: String,
    /// The id of the frame this answers, when it had one.
    #[cfg_attr(feature = "json", serde(default, skip_serializing_if = "Option::is_none"))]
    pub id: Option<u64>,
}

impl ClientFrame {
    /// The frame's `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFrame::Hello(_) => "hello",
            ClientFrame::Join(_) => "join",
            ClientFrame::Leave(_) => "leave",
            ClientFrame::Publish(_) => "publish",
            ClientFrame::History(_) => "history",
            ClientFrame::Ping(_) => "ping",
            ClientFrame::Refresh(_) => "refresh",
        }
    }

    /// The request id the frame carries, for correlating an `error`.
    pub fn id(&self) -> Option<u64> {
        match self {
            ClientFrame::Hello(_) => None,
            ClientFrame::Join(f) => f.id,
            ClientFrame::Leave(f) => f.id,
            ClientFrame::Publish(f) => f.id,
            ClientFrame::History(f) => f.id,
            ClientFrame::Ping(f) => f.id,
            ClientFrame::Refresh(f) => f.id,
        }
    }
}

impl ServerFrame {
    /// The frame's `type` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerFrame::Welcome(_) => "welcome",
            ServerFrame::Challenge(_) => "challenge",
            ServerFrame::Joined(_) => "joined",
            ServerFrame::Left(_) => "left",
            ServerFrame::Message(_) => "message",
            ServerFrame::Presence(_) => "presence",
            ServerFrame::Ack(_) => "ack",
            ServerFrame::History(_) => "history",
            ServerFrame::Pong(_) => "pong",
            ServerFrame::Refreshed(_) => "refreshed",
            ServerFrame::Error(_) => "error",
        }
    }
}

impl ErrorFrame {
    /// An error frame for `code`, answering the frame with request id `id`.
    pub fn new(code: ErrorCode, message: impl Into<String>, id: Option<u64>) -> Self {
        ErrorFrame { code: code.code(), message: message.into(), id }
    }

    /// The code as a known [`ErrorCode`], if this client knows it.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.code)
    }
}

/// The JSON shapes of `publish` and `message`, whose bodies serde cannot derive.
#[cfg(feature = "json")]
mod json;

#[cfg(feature = "json")]
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
