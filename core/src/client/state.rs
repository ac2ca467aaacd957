//! The connection state a UI shows: offline, connecting, online, waiting to retry, closed.

use crate::prelude::*;

/// Where the [`Client`](super::Client) is in its connection life cycle.
///
/// Every change is reported as [`Event::State`](super::Event::State).
///
/// ```text
///   Idle ──connect()──▶ Connecting{0} ──welcome──▶ Online ──transport lost / dead heartbeat──┐
///                          │    ▲                                                          │
///     failed / timed out ──┘    └──until── Waiting{until, n} ◀──────────────────────────────┘
///   any state ──close(), or unauthorized / unsupported_version──▶ Closed ──connect()──▶ Connecting{0}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// Created, [`connect`](super::Client::connect) not called yet.
    Idle,
    /// A transport is being opened, or `hello` was sent and `welcome` is awaited.
    Connecting {
        /// How many connections in a row failed or were lost before this attempt since the
        /// last `welcome`: 0 for the first attempt after [`connect`](super::Client::connect),
        /// 1 after an online connection dropped, 2 after that retry failed too, ….
        attempt: u32,
    },
    /// The server sent `welcome`: frames flow.
    Online {
        /// The session id from `welcome`.
        session: String,
    },
    /// Waiting before the next connection attempt (exponential backoff with full jitter).
    Waiting {
        /// When the next attempt starts, on the driver's millisecond clock; `until − now` is
        /// the countdown a UI can show.
        until: u64,
        /// The number of the attempt that starts at `until`, as in
        /// [`Connecting`](ConnState::Connecting): the delay was drawn uniformly from
        /// `[0, min(cap, base·2^(attempt−1))]`.
        attempt: u32,
    },
    /// Closed by [`close`](super::Client::close) or refused by the server (unauthorized,
    /// unsupported version): no reconnect until [`connect`](super::Client::connect).
    Closed,
}

impl ConnState {
    /// Whether the client is online (`welcome` received on the current connection).
    pub fn is_online(&self) -> bool {
        matches!(self, ConnState::Online { .. })
    }

    /// The state's name in lower case (`"idle"`, `"connecting"`, `"online"`, `"waiting"`,
    /// `"closed"`), for logs and for drivers that hand it to JavaScript.
    pub fn name(&self) -> &'static str {
        match self {
            ConnState::Idle => "idle",
            ConnState::Connecting { .. } => "connecting",
            ConnState::Online { .. } => "online",
            ConnState::Waiting { .. } => "waiting",
            ConnState::Closed => "closed",
        }
    }
}
