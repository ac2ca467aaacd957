//! The hub's limits, with the defaults of docs/DECISIONS.md.

use std::time::Duration;

use serde::Deserialize;

use super::SendLimits;

/// Limits and timings the hub enforces. Every field has the default of docs/DECISIONS.md.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HubConfig {
    /// The largest frame accepted, in bytes of its encoding (JSON line, WS message, binary frame).
    pub max_frame: usize,
    /// How many rooms one connection may be joined to.
    pub max_rooms: usize,
    /// Messages kept per room for recovery and `history`.
    pub history_len: usize,
    /// How long a message stays in history, in seconds.
    pub history_age_secs: u64,
    /// Bytes (of the messages' JSON encoding) all rooms' histories hold together; past it the
    /// oldest messages of any room are evicted first.
    pub history_bytes: usize,
    /// The most messages one `history` answer (or REST page) holds.
    pub max_history: usize,
    /// The high-water mark of a connection's outbound queue, in bytes: over it the server stops
    /// reading the connection, and a connection that stays over it without draining for
    /// `slow_after_ms` is cut as a slow consumer (4011).
    pub queue_bytes: usize,
    /// The hard bound of a connection's outbound queue, in bytes: a connection whose queue
    /// would pass it is cut at once (4011). What bounds server memory. Never below
    /// `queue_bytes`.
    pub queue_max_bytes: usize,
    /// How long a queue may stay over `queue_bytes` with nothing written before the connection
    /// is cut (4011), in milliseconds.
    pub slow_after_ms: u64,
    /// Presence is sent in rooms of up to this many members: `presence` frames on joins and
    /// leaves, and every member in `joined.members`. Larger rooms send no presence frames and
    /// list this many members.
    pub presence_limit: usize,
    /// Removed: queues are bounded in bytes. Accepted only to refuse it with a clear error.
    #[doc(hidden)]
    pub queue_frames: Option<usize>,
    /// The heartbeat announced in `welcome`, in milliseconds. Connections silent for three of
    /// these are closed (4013 `idle_timeout`); WebSocket connections are pinged every one.
    pub heartbeat_ms: u64,
    /// How long a frame may take to arrive once its first byte has (TCP: a partial line or
    /// length-prefixed frame), and the first frame once the connection opened (every
    /// transport), in milliseconds; then the connection is closed (4013).
    pub frame_timeout_ms: u64,
    /// Frames a connection may send per second, on average; `0` turns the limit off.
    pub rate_per_sec: u32,
    /// How many frames a connection may send in a burst above `rate_per_sec`.
    pub rate_burst: u32,
    /// Rooms the hub holds at most; a publish or join that would create another is refused
    /// (4020 `room_limit`).
    pub room_limit: usize,
    /// Rooms one connection may create per second, on average (publishing to or joining a room
    /// that does not exist yet creates it); `0` turns the limit off.
    pub room_rate_per_sec: u32,
    /// How many rooms one connection may create in a burst above `room_rate_per_sec`.
    pub room_burst: u32,
    /// The longest `hello.name`, in bytes.
    pub max_name: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            max_frame: 64 * 1024,
            max_rooms: 64,
            history_len: 1000,
            history_age_secs: 3600,
            history_bytes: 256 * 1024 * 1024,
            max_history: 1000,
            queue_bytes: 1024 * 1024,
            queue_max_bytes: 64 * 1024 * 1024,
            slow_after_ms: 10_000,
            presence_limit: 100,
            queue_frames: None,
            heartbeat_ms: 15_000,
            frame_timeout_ms: 10_000,
            rate_per_sec: 1000,
            rate_burst: 2000,
            max_name: 64,
            room_limit: 100_000,
            room_rate_per_sec: 10,
            room_burst: 100,
        }
    }
}

impl HubConfig {
    /// How long a message stays in history.
    pub fn history_age(&self) -> Duration {
        Duration::from_secs(self.history_age_secs)
    }

    /// The heartbeat interval.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(1))
    }

    /// How long an unfinished frame (or the first one) may take.
    pub fn frame_timeout(&self) -> Duration {
        Duration::from_millis(self.frame_timeout_ms.max(1))
    }

    /// How long a connection may stay silent before the server closes it: three heartbeats.
    pub fn idle_timeout(&self) -> Duration {
        self.heartbeat() * 3
    }

    /// The bounds of every connection's outbound queue.
    pub fn send_limits(&self) -> SendLimits {
        SendLimits {
            high_water: self.queue_bytes,
            max_bytes: self.queue_max_bytes.max(self.queue_bytes),
            stall: Duration::from_millis(self.slow_after_ms),
        }
    }

    /// The most bytes of bodies one `history` answer or REST page holds: half the high-water
    /// mark, so that an answer never pauses the connection on its own.
    pub fn page_bytes(&self) -> usize {
        self.queue_bytes / 2
    }

    /// The limits announced in `welcome`.
    pub fn wire_limits(&self) -> enchufe_core::Limits {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        enchufe_core::Limits {
            max_frame: clamp(self.max_frame),
            max_rooms: clamp(self.max_rooms),
            max_history: clamp(self.max_history),
        }
    }
}
