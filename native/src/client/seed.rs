//! Randomness from the OS, without a dependency: std's `RandomState` is seeded from the OS's
//! random source once per thread and varied per instance, which is plenty for a jitter seed and
//! a client id (neither is a secret; the id only has to be unique).

use std::{
    hash::{BuildHasher, RandomState},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// A random 64-bit value; no two calls in a process return the same stream.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    RandomState::new().hash_one((n, nanos, std::process::id()))
}

/// A fresh client id (`hello.client`): 128 random bits in hex.
pub(crate) fn client_id() -> String {
    format!("c-{:016x}{:016x}", random_u64(), random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_differ() {
        let a = client_id();
        let b = client_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 34);
    }
}
