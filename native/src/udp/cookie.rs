//! Address-validation cookies: a MAC of the peer's address and a time bucket.
//!
//! The server keeps no state for a peer until it echoes a cookie: the cookie proves the peer
//! receives datagrams at the address it sends from (a forged source address never sees its
//! challenge). The key is random per listener ([`mac::Key`]), so cookies cannot be computed
//! outside the process, and they die with it. Time is an input (`now`), like everywhere the
//! protocol's rules live: the caller reads the clock.

use std::{net::SocketAddr, time::Duration};

use tokio::time::Instant;

use crate::mac::{self, Key, TAG_LEN};

/// How long one time bucket lasts; a cookie is accepted in its bucket and the next, so it lives
/// between one and two of these (docs/DECISIONS.md: "valid ~2 minutes").
pub(crate) const BUCKET: Duration = Duration::from_secs(60);

/// Issues and checks cookies.
#[derive(Debug)]
pub(crate) struct Cookies {
    key: Key,
    /// Where bucket 0 starts.
    start: Instant,
}

impl Cookies {
    /// Cookies under a fresh random key, counting buckets from `now`.
    pub(crate) fn new(now: Instant) -> Self {
        Cookies::with_key(Key::random(), now)
    }

    /// Cookies under `key`, counting buckets from `start`.
    pub(crate) fn with_key(key: Key, start: Instant) -> Self {
        Cookies { key, start }
    }

    /// The cookie for `peer` at `now`: 128 bits of tag, in hex.
    pub(crate) fn issue(&self, peer: SocketAddr, now: Instant) -> String {
        self.tag(peer, self.bucket(now)).iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Whether `cookie` was issued to `peer` in `now`'s bucket or the previous one.
    pub(crate) fn check(&self, peer: SocketAddr, cookie: &str, now: Instant) -> bool {
        let Some(given) = unhex(cookie) else { return false };
        let bucket = self.bucket(now);
        // Both buckets are always tried, so the time does not tell which one matched.
        [Some(bucket), bucket.checked_sub(1)]
            .into_iter()
            .flatten()
            .fold(false, |ok, bucket| mac::equal(&self.tag(peer, bucket), &given) | ok)
    }

    fn bucket(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_secs() / BUCKET.as_secs()
    }

    /// The tag of (address, port, bucket) in a fixed layout: IPv4 as its IPv6-mapped form, so
    /// every input is 26 bytes and two different inputs are never the same bytes.
    fn tag(&self, peer: SocketAddr, bucket: u64) -> [u8; TAG_LEN] {
        let ip = match peer {
            SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
            SocketAddr::V6(v6) => *v6.ip(),
        };
        let mut message = [0; 26];
        message[..16].copy_from_slice(&ip.octets());
        message[16..18].copy_from_slice(&peer.port().to_be_bytes());
        message[18..].copy_from_slice(&bucket.to_be_bytes());
        self.key.mac(&message)
    }
}

/// A cookie's bytes, if it is [`TAG_LEN`] bytes of lowercase hex.
fn unhex(cookie: &str) -> Option<[u8; TAG_LEN]> {
    let digits = cookie.as_bytes();
    if digits.len() != 2 * TAG_LEN {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0; TAG_LEN];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_cookie_is_bound_to_its_address() {
        let now = Instant::now();
        let cookies = Cookies::new(now);
        let cookie = cookies.issue(addr(1000), now);
        assert_eq!(cookie.len(), 32);
        assert!(cookies.check(addr(1000), &cookie, now));
        assert!(!cookies.check(addr(1001), &cookie, now));
        assert!(!cookies.check(SocketAddr::from(([127, 0, 0, 2], 1000)), &cookie, now));
        assert!(!cookies.check(addr(1000), "0123", now));
        assert!(!cookies.check(addr(1000), &cookie.to_uppercase(), now), "not our spelling");
        assert!(!Cookies::new(now).check(addr(1000), &cookie, now), "another key refuses it");
    }

    #[test]
    fn a_seeded_key_issues_the_same_cookie() {
        let now = Instant::now();
        let seed = [3; crate::mac::KEY_LEN];
        let a = Cookies::with_key(Key::from_bytes(seed), now);
        let b = Cookies::with_key(Key::from_bytes(seed), now);
        assert_eq!(a.issue(addr(9), now), b.issue(addr(9), now));
        assert!(b.check(addr(9), &a.issue(addr(9), now), now));
    }

    #[test]
    fn a_cookie_expires_after_two_buckets() {
        let start = Instant::now();
        let cookies = Cookies::new(start);
        let cookie = cookies.issue(addr(1), start);
        assert!(cookies.check(addr(1), &cookie, start + BUCKET), "still valid in the next bucket");
        assert!(!cookies.check(addr(1), &cookie, start + 2 * BUCKET), "expired two buckets later");
        let later = cookies.issue(addr(1), start + BUCKET);
        assert_ne!(later, cookie, "each bucket has its own cookie");
    }
}
