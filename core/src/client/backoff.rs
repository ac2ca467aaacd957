//! Reconnect delays: exponential backoff with full jitter.
//!
//! "Full jitter" (AWS Architecture Blog, *Exponential Backoff and Jitter*, 2015): the delay is
//! uniform in `[0, min(cap, base·2ⁿ)]` rather than `base·2ⁿ` plus a little noise, so that
//! thousands of clients cut off by the same server restart spread their reconnects over the
//! whole window instead of arriving in waves.

use super::rng::SplitMix64;

/// The backoff schedule: how many attempts failed in a row, and the bounds.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    base_ms: u64,
    cap_ms: u64,
    /// Consecutive failures since the last `welcome` (the n of the next delay).
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(base_ms: u64, cap_ms: u64) -> Self {
        Backoff { base_ms, cap_ms, failures: 0 }
    }

    /// The upper bound of the n-th delay (n from 0): `min(cap, base·2ⁿ)`, without overflow.
    pub(crate) fn bound(&self, n: u32) -> u64 {
        if n >= 64 || self.base_ms > (self.cap_ms >> n) {
            return self.cap_ms;
        }
        (self.base_ms << n).min(self.cap_ms)
    }

    /// Records a failure and draws the delay before the next attempt.
    pub(crate) fn next_delay(&mut self, rng: &mut SplitMix64) -> u64 {
        let bound = self.bound(self.failures);
        self.failures = self.failures.saturating_add(1);
        rng.up_to(bound)
    }

    /// Failures in a row so far: the number of the next attempt.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// A `welcome` arrived: the next failure waits at most `base` again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn bound_doubles_up_to_the_cap() {
        let backoff = Backoff::new(500, 30_000);
        let bounds: Vec<u64> = (0..9).map(|n| backoff.bound(n)).collect();
        assert_eq!(bounds, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
        assert_eq!(backoff.bound(63), 30_000);
        assert_eq!(backoff.bound(u32::MAX), 30_000);
        assert_eq!(Backoff::new(u64::MAX, u64::MAX).bound(5), u64::MAX);
    }

    #[test]
    fn delays_stay_within_bounds_vary_and_reset() {
        let mut rng = SplitMix64::new(1);
        let mut backoff = Backoff::new(500, 30_000);
        let mut firsts = Vec::new();
        for _ in 0..50 {
            for n in 0..12 {
                let delay = backoff.next_delay(&mut rng);
                assert!(delay <= backoff.bound(n), "attempt {n}: {delay}");
            }
            assert_eq!(backoff.failures(), 12);
            backoff.reset();
            firsts.push(backoff.next_delay(&mut rng));
            backoff.reset();
        }
        firsts.sort_unstable();
        firsts.dedup();
        assert!(firsts.len() > 10, "no jitter: {firsts:?}");
    }
}
