//! Heartbeats: a `ping` when the client has been quiet, a dead connection when the server has.

/// When the client last sent and last received, and the interval that turns these into
/// deadlines. Only meaningful while online.
#[derive(Clone, Debug)]
pub(crate) struct Heartbeat {
    interval_ms: u64,
    last_sent: u64,
    last_received: u64,
}

impl Heartbeat {
    pub(crate) fn new(interval_ms: u64) -> Self {
        Heartbeat { interval_ms: interval_ms.max(1), last_sent: 0, last_received: 0 }
    }

    /// A new connection is up at `now` with this interval (0 from a server means "keep ours").
    pub(crate) fn start(&mut self, now: u64, interval_ms: u64) {
        if interval_ms > 0 {
            self.interval_ms = interval_ms;
        }
        self.last_sent = now;
        self.last_received = now;
    }

    pub(crate) fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    pub(crate) fn on_sent(&mut self, now: u64) {
        self.last_sent = self.last_sent.max(now);
    }

    pub(crate) fn on_received(&mut self, now: u64) {
        self.last_received = self.last_received.max(now);
    }

    /// When a `ping` is due: `interval` after the last frame sent.
    pub(crate) fn ping_at(&self) -> u64 {
        self.last_sent.saturating_add(self.interval_ms)
    }

    /// When the connection counts as dead: `2 × interval` after the last frame received.
    pub(crate) fn dead_at(&self) -> u64 {
        self.last_received.saturating_add(self.interval_ms.saturating_mul(2))
    }

    /// The earlier of the two deadlines.
    pub(crate) fn deadline(&self) -> u64 {
        self.ping_at().min(self.dead_at())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ping_after_quiet_sending_dead_after_twice_quiet_receiving() {
        let mut hb = Heartbeat::new(15_000);
        hb.start(1_000, 10_000);
        assert_eq!((hb.ping_at(), hb.dead_at()), (11_000, 21_000));
        hb.on_sent(5_000);
        hb.on_received(8_000);
        assert_eq!((hb.ping_at(), hb.dead_at()), (15_000, 28_000));
        assert_eq!(hb.deadline(), 15_000);
        // A clock that stands still, or a late report of an older time, moves nothing back.
        hb.on_sent(4_000);
        hb.on_received(8_000);
        assert_eq!((hb.ping_at(), hb.dead_at()), (15_000, 28_000));
    }

    #[test]
    fn zero_from_the_server_keeps_the_configured_interval() {
        let mut hb = Heartbeat::new(15_000);
        hb.start(0, 0);
        assert_eq!(hb.interval_ms(), 15_000);
        assert_eq!(Heartbeat::new(0).interval_ms(), 1);
        let mut far = Heartbeat::new(u64::MAX);
        far.start(u64::MAX - 1, 0);
        assert_eq!(far.dead_at(), u64::MAX);
    }
}
