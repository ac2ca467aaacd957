//! [`Now`]: the time, as an input. The hub reads no clock, like core's client: its driver (the
//! tokio server, or a simulation in virtual time) reads one and passes the moment in with every
//! call that needs it.

/// A moment on the driver's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Now {
    /// Monotonic milliseconds since an origin the driver picked, the same for every call into
    /// one hub: deadlines, rates, stalls and history age count in it.
    pub ms: u64,
    /// Wall-clock milliseconds since the Unix epoch: only for `message.ts`, which clients show.
    pub unix_ms: u64,
}

impl Now {
    /// A deadline `ms` milliseconds from now: never early. `self.ms` is truncated to the
    /// millisecond, so the true now may be up to 1 ms later; the deadline counts that ms too.
    pub fn after(self, ms: u64) -> u64 {
        self.ms.saturating_add(ms).saturating_add(1)
    }
}
