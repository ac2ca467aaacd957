//! The one table of wire error codes.
//!
//! Every code is stable once released: it appears in `error` frames and, on WebSocket, as the
//! close code (our own reasons live in the 4000–4999 range reserved for applications by
//! RFC 6455 §7.4.2). New codes may be added; a client treats an unknown code as fatal only if
//! the connection closes.

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $name:literal, $fatal:literal; )*) => {
        /// A wire error code: what went wrong, as a number in 4000–4999 and a short name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable numeric code, 4000–4999.
            pub const fn code(self) -> u16 {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The stable short name, e.g. `"invalid_room"`.
            pub const fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// Whether the server closes the connection after sending this error.
            pub const fn is_fatal(self) -> bool {
                match self { $(ErrorCode::$variant => $fatal,)* }
            }

            /// A one-line description, the same as the variant's documentation.
            pub const fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),*).trim_ascii(),)* }
            }

            /// The code with this number, if there is one.
            pub fn from_code(code: u16) -> Option<Self> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// The frame could not be decoded: not JSON, not the binary format, or a field of the wrong type.
    Malformed = 4000, "malformed", false;
    /// The frame's `type` is not one this peer knows.
    UnknownType = 4001, "unknown_type", false;
    /// The room name is empty, too long, or holds a character outside A-Z a-z 0-9 _ - . :.
    InvalidRoom = 4002, "invalid_room", false;
    /// The frame or message is larger than the limit announced in `welcome`; on a stream the connection closes.
    TooLarge = 4003, "too_large", true;
    /// The protocol version in `hello` is not supported by this server.
    UnsupportedVersion = 4004, "unsupported_version", true;
    /// The first frame must be `hello`; this connection sent something else first.
    HelloRequired = 4005, "hello_required", true;
    /// The connection is already joined to as many rooms as the server allows.
    TooManyRooms = 4006, "too_many_rooms", false;
    /// The operation needs the connection to be joined to the room (publishing does not).
    NotJoined = 4007, "not_joined", false;
    /// A field has a value out of range, e.g. a history `limit` of zero.
    InvalidField = 4008, "invalid_field", false;
    /// The auth token in `hello` was refused.
    Unauthorized = 4009, "unauthorized", true;
    /// The connection sent frames faster than the server accepts them; frames over the limit are dropped, and one 4010 a second says so.
    RateLimited = 4010, "rate_limited", false;
    /// The connection stopped reading: its queue stayed over the high-water mark with nothing written for the server's deadline, reached its hard bound, or fell behind history during a replay; it is disconnected.
    SlowConsumer = 4011, "slow_consumer", true;
    /// The message does not fit in one UDP datagram and was not sent over UDP.
    TooLargeForDatagram = 4012, "too_large_for_datagram", false;
    /// The connection was idle for longer than the server's idle timeout.
    IdleTimeout = 4013, "idle_timeout", true;
    /// An administrator disconnected this session.
    Kicked = 4014, "kicked", true;
    /// The server is shutting down; reconnect later, ideally to another node.
    ShuttingDown = 4015, "shutting_down", true;
    /// The client's outbox is full: the publish was not queued (raised by clients, never sent by the server).
    OutboxFull = 4016, "outbox_full", false;
    /// The server failed in a way that is not the client's fault.
    Internal = 4017, "internal", true;
    /// The client abandoned a publish or request before its answer (it was closed, or left the room being joined; raised by clients, never sent by the server).
    Closed = 4018, "closed", false;
    /// The server refused the connection: it holds as many connections as it allows, in all or from this address, or this address opens them too fast; retry no sooner than 5 s.
    ServerBusy = 4019, "server_busy", true;
    /// The room does not exist and cannot be created now: the server holds as many rooms as it allows, or this connection creates rooms too fast.
    RoomLimit = 4020, "room_limit", false;
    /// The connection's token does not allow this in this room (subscribe, publish, history or presence); the connection goes on.
    Forbidden = 4021, "forbidden", false;
    /// The connection's token expired: send `refresh` with a new one within the grace period the message states, or the connection is closed with 4009.
    TokenExpired = 4022, "token_expired", false;
    /// The server cannot reach the shared store that orders and keeps messages for every node (Redis): the publish, join or history request was not done; retry it.
    Unavailable = 4023, "unavailable", false;
}

/// How long a client waits at least before it reconnects after [`ErrorCode::ServerBusy`]
/// (HTTP's `Retry-After` on a refused request says the same).
pub const SERVER_BUSY_RETRY_MS: u64 = 5_000;

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

#[cfg(feature = "json")]
impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.code())
    }
}

#[cfg(feature = "json")]
impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <u16 as serde::Deserialize>::deserialize(deserializer)?;
        ErrorCode::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown error code {code}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_unique_ordered_and_in_the_application_range() {
        let codes: Vec<u16> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "{codes:?}");
        assert!(codes.iter().all(|c| (4000..5000).contains(c)));
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), Some(*code));
            assert!(!code.description().is_empty());
            assert!(code.name().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[cfg(feature = "json")]
    #[test]
    fn serializes_as_the_number() {
        assert_eq!(serde_json::to_string(&ErrorCode::SlowConsumer).unwrap(), "4011");
        assert_eq!(serde_json::from_str::<ErrorCode>("4002").unwrap(), ErrorCode::InvalidRoom);
        assert!(serde_json::from_str::<ErrorCode>("4999").is_err());
    }
}
