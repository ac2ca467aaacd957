//! The server's one rate limiter: a token bucket, used per connection (frames in, rooms created)
//! and per client address (new connections, REST publishes).

/// A bucket full at `burst` tokens and refilled at `rate` per second. The rate and burst are the
/// caller's, and times are milliseconds of a clock the caller reads: both are passed in rather
/// than stored, so a bucket costs 16 bytes however many connections hold one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenBucket {
    tokens: f64,
    /// When it was last refilled.
    at: u64,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub(crate) fn full(burst: u32, now: u64) -> Self {
        TokenBucket { tokens: f64::from(burst.max(1)), at: now }
    }

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self, now: u64, rate: u32, burst: u32) -> bool {
        self.refill(now, rate, burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether a token is there, without taking it.
    pub(crate) fn has(&mut self, now: u64, rate: u32, burst: u32) -> bool {
        self.refill(now, rate, burst);
        self.tokens >= 1.0
    }

    /// Whether it is full again (nothing taken lately is remembered).
    pub(crate) fn is_full(&mut self, now: u64, rate: u32, burst: u32) -> bool {
        self.refill(now, rate, burst);
        self.tokens >= f64::from(burst.max(1))
    }

    fn refill(&mut self, now: u64, rate: u32, burst: u32) {
        let elapsed = now.saturating_sub(self.at) as f64 / 1000.0;
        self.at = now;
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst.max(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let mut bucket = TokenBucket::full(2, 0);
        assert!(bucket.take(0, 10, 2) && bucket.take(0, 10, 2));
        assert!(!bucket.take(0, 10, 2), "the burst is spent");
        assert!(bucket.take(100, 10, 2), "10 a second: one more after 100 ms");
        assert!(!bucket.is_full(150, 10, 2));
        assert!(bucket.is_full(300, 10, 2));
    }
}
