//! Bytes → frames, in one pass over a borrowed buffer.
//!
//! Room names are read as borrowed text and validated after the frame's last field, so that an
//! invalid room is reported as [`DecodeError::InvalidRoom`] with the frame's request id (which
//! comes after the room); a frame that is also broken elsewhere is reported as
//! [`DecodeError::Binary`].

use super::{kind, reader::Reader};
use crate::codec::{BinaryError, DecodeError};
use crate::prelude::*;
use crate::{
    Ack, Challenge, ClientFrame, Encoding, ErrorFrame, Hello, History, HistoryRequest, Join,
    Joined, Leave, Left, Limits, Member, Message, Ping, Pong, Presence, PresenceAction, Publish,
    Refresh, Refreshed, RoomName, RoomNameError, ServerFrame, Welcome,
};

/// The fewest bytes a `Member` takes: an empty session string and an absent name.
const MIN_MEMBER_LEN: usize = 2;
/// The fewest bytes a `Message` takes: empty room and sender, one-byte seq and ts, empty body.
const MIN_MESSAGE_LEN: usize = 6;

/// Decodes a binary client frame (without its length prefix).
pub fn decode_client(bytes: &[u8]) -> Result<ClientFrame, DecodeError> {
    let (kind, r) = Reader::open(bytes)?;
    Ok(match kind {
        kind::HELLO => ClientFrame::Hello(hello(r)?),
        kind::JOIN => ClientFrame::Join(join(r)?),
        kind::LEAVE => ClientFrame::Leave(leave(r)?),
        kind::PUBLISH => ClientFrame::Publish(publish(r)?),
        kind::HISTORY_REQUEST => ClientFrame::History(history_request(r)?),
        kind::PING => ClientFrame::Ping(ping(r)?),
        kind::REFRESH => ClientFrame::Refresh(refresh(r)?),
        other => return Err(unknown(other)),
    })
}

/// Decodes a binary server frame (without its length prefix).
pub fn decode_server(bytes: &[u8]) -> Result<ServerFrame, DecodeError> {
    let (kind, r) = Reader::open(bytes)?;
    Ok(match kind {
        kind::WELCOME => ServerFrame::Welcome(welcome(r)?),
        kind::CHALLENGE => ServerFrame::Challenge(challenge(r)?),
        kind::JOINED => ServerFrame::Joined(joined(r)?),
        kind::LEFT => ServerFrame::Left(left(r)?),
        kind::MESSAGE => ServerFrame::Message(message_frame(r)?),
        kind::PRESENCE => ServerFrame::Presence(presence(r)?),
        kind::ACK => ServerFrame::Ack(ack(r)?),
        kind::HISTORY => ServerFrame::History(history(r)?),
        kind::PONG => ServerFrame::Pong(pong(r)?),
        kind::ERROR => ServerFrame::Error(error(r)?),
        kind::REFRESHED => ServerFrame::Refreshed(refreshed(r)?),
        other => return Err(unknown(other)),
    })
}

/// An unknown kind byte; a kind of the other direction is named like its JSON `type`, so the
/// error reads the same as for a misdirected JSON frame.
fn unknown(kind: u8) -> DecodeError {
    let kind = kind::name(kind).map_or_else(|| crate::text::decimal(kind.into()), str::to_owned);
    DecodeError::UnknownType { kind, id: None }
}

fn room(name: &str, id: Option<u64>) -> Result<RoomName, DecodeError> {
    RoomName::new(name).map_err(|error| DecodeError::InvalidRoom { error, id })
}

fn hello(mut r: Reader<'_>) -> Result<Hello, DecodeError> {
    let v = r.u32("v")?;
    let name = r.opt_string("name")?;
    let token = r.opt_string("token")?;
    let client = r.opt_string("client")?;
    let cookie = r.opt_string("cookie")?;
    // Bit 0: the encoding (binary when set); bit 1: batches; no other bit is defined.
    let flags = r.byte()?;
    if flags > 0b11 {
        return Err(BinaryError::InvalidTag { field: "encoding", value: flags.into() }.into());
    }
    let encoding = if flags & 1 == 1 { Encoding::Binary } else { Encoding::Json };
    let batch = flags & 0b10 != 0;
    r.end()?;
    Ok(Hello { v, name, token, client, cookie, encoding, batch })
}

fn join(mut r: Reader<'_>) -> Result<Join, DecodeError> {
    let name = r.str()?;
    let since = r.opt_varint("since")?;
    let id = r.opt_varint("id")?;
    let epoch = r.opt_string("epoch")?;
    r.end()?;
    Ok(Join { room: room(name, id)?, since, id, epoch })
}

fn leave(mut r: Reader<'_>) -> Result<Leave, DecodeError> {
    let name = r.str()?;
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(Leave { room: room(name, id)?, id })
}

fn publish(mut r: Reader<'_>) -> Result<Publish, DecodeError> {
    let name = r.str()?;
    let body = r.body()?;
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(Publish { room: room(name, id)?, body, id })
}

fn history_request(mut r: Reader<'_>) -> Result<HistoryRequest, DecodeError> {
    let name = r.str()?;
    let since = r.opt_varint("since")?;
    let limit = r.opt("limit", |r| r.u32("limit"))?;
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(HistoryRequest { room: room(name, id)?, since, limit, id })
}

fn ping(mut r: Reader<'_>) -> Result<Ping, DecodeError> {
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(Ping { id })
}

fn refresh(mut r: Reader<'_>) -> Result<Refresh, DecodeError> {
    let token = r.string()?;
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(Refresh { token, id })
}

fn refreshed(mut r: Reader<'_>) -> Result<Refreshed, DecodeError> {
    let id = r.opt_varint("id")?;
    let expires = r.opt_varint("expires")?;
    r.end()?;
    Ok(Refreshed { id, expires })
}

fn welcome(mut r: Reader<'_>) -> Result<Welcome, DecodeError> {
    let v = r.u32("v")?;
    let session = r.string()?;
    let heartbeat_ms = r.varint()?;
    let limits = Limits {
        max_frame: r.u32("max_frame")?,
        max_rooms: r.u32("max_rooms")?,
        max_history: r.u32("max_history")?,
    };
    let expires = r.opt_varint("expires")?;
    r.end()?;
    Ok(Welcome { v, session, heartbeat_ms, limits, expires })
}

fn challenge(mut r: Reader<'_>) -> Result<Challenge, DecodeError> {
    let cookie = r.string()?;
    r.end()?;
    Ok(Challenge { cookie })
}

fn joined(mut r: Reader<'_>) -> Result<Joined, DecodeError> {
    let name = r.str()?;
    let seq = r.varint()?;
    let count = r.count(MIN_MEMBER_LEN)?;
    let mut members = Vec::with_capacity(count);
    for _ in 0..count {
        members.push(member(&mut r)?);
    }
    let recovered = r.flag("recovered")?;
    let id = r.opt_varint("id")?;
    let epoch = r.string()?;
    r.end()?;
    Ok(Joined { room: room(name, id)?, seq, members, recovered, id, epoch })
}

fn left(mut r: Reader<'_>) -> Result<Left, DecodeError> {
    let name = r.str()?;
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(Left { room: room(name, id)?, id })
}

fn message_frame(mut r: Reader<'_>) -> Result<Message, DecodeError> {
    let message = message(&mut r)?;
    r.end()?;
    message.map_err(|error| DecodeError::InvalidRoom { error, id: None })
}

fn presence(mut r: Reader<'_>) -> Result<Presence, DecodeError> {
    let name = r.str()?;
    let action = match r.byte()? {
        0 => PresenceAction::Join,
        1 => PresenceAction::Leave,
        value => {
            return Err(BinaryError::InvalidTag { field: "action", value: value.into() }.into());
        }
    };
    let member = member(&mut r)?;
    r.end()?;
    Ok(Presence { room: room(name, None)?, action, member })
}

fn ack(mut r: Reader<'_>) -> Result<Ack, DecodeError> {
    let id = r.varint()?;
    let name = r.str()?;
    let seq = r.varint()?;
    r.end()?;
    Ok(Ack { id, room: room(name, Some(id))?, seq })
}

fn history(mut r: Reader<'_>) -> Result<History, DecodeError> {
    let name = r.str()?;
    let count = r.count(MIN_MESSAGE_LEN)?;
    let mut messages = Vec::with_capacity(count);
    let mut bad_room = None;
    for _ in 0..count {
        match message(&mut r)? {
            Ok(message) => messages.push(message),
            Err(error) => _ = bad_room.get_or_insert(error),
        }
    }
    let id = r.opt_varint("id")?;
    r.end()?;
    let room = room(name, id)?;
    match bad_room {
        Some(error) => Err(DecodeError::InvalidRoom { error, id }),
        None => Ok(History { room, messages, id }),
    }
}

fn pong(mut r: Reader<'_>) -> Result<Pong, DecodeError> {
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(Pong { id })
}

fn error(mut r: Reader<'_>) -> Result<ErrorFrame, DecodeError> {
    let code = r.u16("code")?;
    let message = r.string()?;
    let id = r.opt_varint("id")?;
    r.end()?;
    Ok(ErrorFrame { code, message, id })
}

fn member(r: &mut Reader<'_>) -> Result<Member, BinaryError> {
    Ok(Member { session: r.string()?, name: r.opt_string("name")? })
}

/// A message's fields (the `message` frame, and each item of `history`); the inner result is
/// an invalid room name, reported once the whole frame is read.
fn message(r: &mut Reader<'_>) -> Result<Result<Message, RoomNameError>, BinaryError> {
    let name = r.str()?;
    let seq = r.varint()?;
    let from = r.string()?;
    let ts = r.varint()?;
    let body = r.body()?;
    Ok(RoomName::new(name).map(|room| Message { room, seq, from, ts, body }))
}
