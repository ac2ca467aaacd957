//! The hub's timers: the rules that act because time passed rather than because a frame came —
//! silence, unfinished frames, stalled queues, expired tokens, history age. The driver calls them
//! with `now`.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use enchufe_core::ErrorCode;

use super::{
    Hub, Now, Outgoing, Push,
    hub::{NEVER_SILENT, SessionEntry},
    room::{Overflowed, Room},
};
use crate::{
    metrics::Metrics,
    sync::{lock, read, write},
};

impl Hub {
    /// How often the driver must call [`Hub::handle_timeout`]: a quarter of the shortest of the
    /// idle, frame and stall timeouts (10 ms to 5 s), so that each rule acts at most that much
    /// after its deadline. One timer for the hub instead of one in every connection.
    pub fn timeout_period(&self) -> Duration {
        let config = &self.0.config;
        let stall = Duration::from_millis(config.slow_after_ms.max(1));
        (config.idle_timeout().min(config.frame_timeout()).min(stall) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(5))
    }

    /// The hub's timer, at `now` (every [`Hub::timeout_period`]): applies every rule that
    /// depends on time passing rather than on input.
    /// - A session whose client has sent nothing for the idle timeout, or left a frame
    ///   unfinished (or sent none since it connected) past the frame timeout, is closed with
    ///   `error` 4013 `idle_timeout` — as the transports report input ([`Session::heard`],
    ///   [`Session::unfinished`]).
    /// - A queue that stays over its high-water mark with its writer taking nothing for the
    ///   stall deadline is cut with 4011 `slow_consumer` ([`SendQueue`]).
    /// - A session whose token expired is told so once (`error` 4022 `token_expired`), and
    ///   closed with 4009 `unauthorized` if no `refresh` came within the grace period.
    ///
    /// Returns how many sessions it closed.
    pub fn handle_timeout(&self, now: Now) -> usize {
        let idle = self.0.config.idle_timeout();
        let limit = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let grace = self.0.auth.grace_ms();
        let now = now.ms;
        let mut stalled = Overflowed::new();
        let mut expiring = Vec::new();
        let late: Vec<(Arc<SessionEntry>, Late)> = lock(&self.0.sessions)
            .values()
            .filter_map(|s| {
                if let Some(dropped) = s.queue.cut_if_stalled(now) {
                    stalled.push((s.id.clone(), dropped));
                    return None;
                }
                if s.queue.is_closed() {
                    return None;
                }
                let expires = s.expires.load(Ordering::Relaxed);
                if expires != 0 && now >= expires {
                    // Told first, always: a tick that finds the grace already over (it is
                    // shorter than the timer's period) tells, and the next one closes.
                    if !s.expiry_told.swap(true, Ordering::Relaxed) {
                        expiring.push(s.clone());
                    } else if now >= expires.saturating_add(grace) {
                        return Some((s.clone(), Late::Expired));
                    }
                }
                // A connection whose input is not read (its queue is over the high-water mark)
                // is judged by the slow-consumer rule, not by silence.
                if s.queue.is_paused() {
                    return None;
                }
                let deadline = s.deadline.load(Ordering::Relaxed);
                if deadline != 0 && now >= deadline {
                    return Some((s.clone(), Late::Unfinished));
                }
                let heard = s.heard.load(Ordering::Relaxed);
                (heard != NEVER_SILENT && now.saturating_sub(heard) >= limit)
                    .then(|| (s.clone(), Late::Silent))
            })
            .collect();
        let told = format!(
            "the connection's token expired: send refresh with a new one within {} s, or the \
             connection closes",
            grace / 1000
        );
        for entry in expiring {
            let error = Outgoing::error(ErrorCode::TokenExpired, told.clone(), None);
            if let Push::Overflow { dropped } = entry.queue.push(&error) {
                stalled.push((entry.id.clone(), dropped));
            }
        }
        let silent = format!("nothing received for {idle:?}");
        let unfinished = format!(
            "a frame was left unfinished, or none came after connecting, for {:?}",
            self.0.config.frame_timeout()
        );
        let expired = "the connection's token expired and no refresh came in time";
        for (entry, why) in &late {
            let (code, message) = match why {
                Late::Silent => (ErrorCode::IdleTimeout, silent.as_str()),
                Late::Unfinished => (ErrorCode::IdleTimeout, unfinished.as_str()),
                Late::Expired => (ErrorCode::Unauthorized, expired),
            };
            if entry.queue.close(code, message) {
                Metrics::add(&self.0.metrics.errors, 1);
                if *why == Late::Unfinished {
                    Metrics::add(&self.0.metrics.unfinished_frames, 1);
                }
            }
            self.leave_all(entry);
        }
        let closed = late.len() + stalled.len();
        self.evict_slow(stalled);
        closed
    }

    /// How often the driver should call [`Hub::sweep`]: a quarter of the history's age limit
    /// (1 s to 60 s).
    pub fn sweep_period(&self) -> Duration {
        (self.0.config.history_age() / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }

    /// Expires old history and forgets rooms with no members and no history, at `now`. The
    /// driver calls this every [`Hub::sweep_period`].
    pub fn sweep(&self, now: Now) {
        let rooms: Vec<Arc<Room>> = read(&self.0.rooms).values().cloned().collect();
        let forget = self.0.engine.is_none();
        let idle: Vec<&Arc<Room>> = rooms.iter().filter(|r| r.sweep(now, forget)).collect();
        Metrics::set(&self.0.metrics.history_bytes, self.0.history.bytes());
        if idle.is_empty() {
            return;
        }
        let mut map = write(&self.0.rooms);
        for room in idle {
            if map.get(room.name()).is_some_and(|r| Arc::ptr_eq(r, room)) {
                map.remove(room.name());
            }
        }
        self.0.metrics.rooms.store(i64::try_from(map.len()).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}

/// Why the timer closes a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Late {
    /// Nothing received for the idle timeout.
    Silent,
    /// A frame unfinished (or none since connecting) past the frame timeout.
    Unfinished,
    /// The token expired and the grace period passed.
    Expired,
}
