//! The kind byte: which frame follows the version byte.
//!
//! Client frames use 0x01–0x7F and server frames 0x81–0xFF (the high bit says "from the
//! server"), so a frame sent in the wrong direction is recognised and named in the error rather
//! than misread as another frame.

/// `hello`.
pub(super) const HELLO: u8 = 0x01;
/// `join`.
pub(super) const JOIN: u8 = 0x02;
/// `leave`.
pub(super) const LEAVE: u8 = 0x03;
/// `publish`.
pub(super) const PUBLISH: u8 = 0x04;
/// `history` (the request).
pub(super) const HISTORY_REQUEST: u8 = 0x05;
/// `ping`.
pub(super) const PING: u8 = 0x06;

/// `welcome`.
pub(super) const WELCOME: u8 = 0x81;
/// `challenge`.
pub(super) const CHALLENGE: u8 = 0x82;
/// `joined`.
pub(super) const JOINED: u8 = 0x83;
/// `left`.
pub(super) const LEFT: u8 = 0x84;
/// `message`.
pub(super) const MESSAGE: u8 = 0x85;
/// `presence`.
pub(super) const PRESENCE: u8 = 0x86;
/// `ack`.
pub(super) const ACK: u8 = 0x87;
/// `history` (the answer).
pub(super) const HISTORY: u8 = 0x88;
/// `refresh`.
pub(super) const REFRESH: u8 = 0x07;
/// `pong`.
pub(super) const PONG: u8 = 0x89;
/// `error`.
pub(super) const ERROR: u8 = 0x8A;
/// `refreshed`.
pub(super) const REFRESHED: u8 = 0x8B;

/// The `type` name of the frame a kind byte denotes, in either direction.
pub(super) fn name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        HELLO => "hello",
        JOIN => "join",
        LEAVE => "leave",
        PUBLISH => "publish",
        PING => "ping",
        REFRESH => "refresh",
        HISTORY_REQUEST | HISTORY => "history",
        WELCOME => "welcome",
        CHALLENGE => "challenge",
        JOINED => "joined",
        LEFT => "left",
        MESSAGE => "message",
        PRESENCE => "presence",
        ACK => "ack",
        PONG => "pong",
        ERROR => "error",
        REFRESHED => "refreshed",
        _ => return None,
    })
}
