//! Address-validation cookies: a keyed hash of the peer's address and a time bucket.
//!
//! The server keeps no state for a peer until it echoes a cookie: the cookie proves the peer
//! receives datagrams at the address it sends from (a forged source address never sees its
//! challenge). The key is random per process (std's SipHash with `RandomState` keys), so cookies
//! cannot be computed outside it, and they die with it.

use std::{
    hash::{BuildHasher, RandomState},
    net::SocketAddr,
    time::Duration,
};

use tokio::time::Instant;

/// How long one time bucket lasts; a cookie is accepted in its bucket and the next, so it lives
/// between one and two of these (docs/DECISIONS.md: "valid ~2 minutes").
pub(crate) const BUCKET: Duration = Duration::from_secs(60);

/// Issues and checks cookies.
#[derive(Debug)]
pub(crate) struct Cookies {
    keys: [RandomState; 2],
    start: Instant,
}

impl Cookies {
    /// Cookies under fresh random keys.
    pub(crate) fn new() -> Self {
        Cookies { keys: [RandomState::new(), RandomState::new()], start: Instant::now() }
    }

    /// The cookie for `peer` now.
    pub(crate) fn issue(&self, peer: SocketAddr) -> String {
        self.mac(peer, self.bucket())
    }

    /// Whether `cookie` was issued to `peer` in this bucket or the previous one.
    pub(crate) fn check(&self, peer: SocketAddr, cookie: &str) -> bool {
        let now = self.bucket();
        [Some(now), now.checked_sub(1)]
            .into_iter()
            .flatten()
            .any(|bucket| constant_time_eq(self.mac(peer, bucket).as_bytes(), cookie.as_bytes()))
    }

    fn bucket(&self) -> u64 {
        self.start.elapsed().as_secs() / BUCKET.as_secs()
    }

    /// 128 bits of keyed hash, in hex.
    fn mac(&self, peer: SocketAddr, bucket: u64) -> String {
        let [a, b] = &self.keys;
        format!("{:016x}{:016x}", a.hash_one((peer, bucket)), b.hash_one((peer, bucket)))
    }
}

/// Compares without stopping at the first difference, so timing does not reveal a prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_cookie_is_bound_to_its_address() {
        let cookies = Cookies::new();
        let cookie = cookies.issue(addr(1000));
        assert_eq!(cookie.len(), 32);
        assert!(cookies.check(addr(1000), &cookie));
        assert!(!cookies.check(addr(1001), &cookie));
        assert!(!cookies.check(addr(1000), "0123"));
        assert!(!Cookies::new().check(addr(1000), &cookie), "another key refuses it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cookie_expires_after_two_buckets() {
        let cookies = Cookies::new();
        let cookie = cookies.issue(addr(1));
        tokio::time::advance(BUCKET).await;
        assert!(cookies.check(addr(1), &cookie), "still valid in the next bucket");
        tokio::time::advance(BUCKET).await;
        assert!(!cookies.check(addr(1), &cookie), "expired two buckets later");
    }
}
