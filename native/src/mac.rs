//! The server's one keyed MAC: SipHash-2-4 with 128-bit tags, under a key that is either drawn
//! from the OS or handed in (a seed, for reproducible tests and for a hub that takes its key as
//! an input), and the one constant-time comparison the server uses for secrets.
//!
//! Why a MAC and not std's `RandomState`: `RandomState` is keyed from the OS too, but its
//! algorithm is explicitly unspecified and may change between Rust releases, it cannot be seeded,
//! and it hashes `Hash` values whose byte layout is std's business. A tag that is a security
//! boundary (a UDP cookie a forger must not compute, a session id nobody may guess) wants a
//! named PRF under a key we control. SipHash-2-4 is a PRF designed for short inputs, which is
//! what we MAC; `siphasher` has no dependencies. (docs/DECISIONS.md: "One keyed MAC".)

use std::fmt;

use siphasher::sip128::{Hasher128 as _, SipHasher24};
use std::hash::Hasher as _;
use subtle::ConstantTimeEq as _;

/// The length of a key, in bytes (SipHash's 128 bits).
pub const KEY_LEN: usize = 16;
/// The length of a tag, in bytes (SipHash-2-4's 128-bit output).
pub const TAG_LEN: usize = 16;

/// A MAC key. Its `Debug` does not show the key.
#[derive(Clone)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A key from the OS's randomness source.
    ///
    /// # Panics
    /// If the OS has no randomness to give. Nothing secret can be made then, and std's own
    /// `RandomState` panics in the same case; it happens at start-up, not under load.
    #[must_use]
    pub fn random() -> Self {
        let mut key = [0; KEY_LEN];
        getrandom::fill(&mut key).expect("the OS provides randomness (getrandom)");
        Key(key)
    }

    /// A key from given bytes: a seed for reproducible ids in tests, or a key shared on purpose.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Key(bytes)
    }

    /// The tag of `message`. Callers MAC an unambiguous encoding (fixed-width fields, or
    /// length-prefixed ones), so that two different inputs cannot be the same bytes.
    #[must_use]
    pub fn mac(&self, message: &[u8]) -> [u8; TAG_LEN] {
        let mut hasher = SipHasher24::new_with_key(&self.0);
        hasher.write(message);
        hasher.finish128().as_bytes()
    }

    /// Whether `tag` is the tag of `message`, compared in constant time.
    #[must_use]
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        equal(&self.mac(message), tag)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ (only on
/// their lengths: different lengths are unequal at once). For tags, whose length is public.
#[must_use]
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether the secret `given` equals `expected` (a bearer token, say), without timing revealing
/// where they differ or how long `expected` is: both are MACed under a fresh random key and the
/// equal-length tags compared. (A collision of 128-bit tags under a secret key is negligible.)
#[must_use]
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let key = Key::random();
    equal(&key.mac(given), &key.mac(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_verifies_under_its_key_only() {
        let key = Key::from_bytes([7; KEY_LEN]);
        let tag = key.mac(b"message");
        assert!(key.verify(b"message", &tag));
        assert!(!key.verify(b"messagf", &tag), "another message");
        assert!(!Key::from_bytes([8; KEY_LEN]).verify(b"message", &tag), "another key");
        let mut wrong = tag;
        wrong[TAG_LEN - 1] ^= 1;
        assert!(!key.verify(b"message", &wrong), "one bit off");
        assert!(!key.verify(b"message", &tag[..8]), "a truncated tag");
        assert!(!key.verify(b"message", &[]), "no tag");
    }

    #[test]
    fn a_seeded_key_is_reproducible_and_random_keys_differ() {
        let seed = [42; KEY_LEN];
        assert_eq!(Key::from_bytes(seed).mac(b"x"), Key::from_bytes(seed).mac(b"x"));
        assert_ne!(Key::random().mac(b"x"), Key::random().mac(b"x"));
        assert_ne!(Key::from_bytes(seed).mac(b"x"), Key::from_bytes(seed).mac(b"y"));
    }

    #[test]
    fn it_is_siphash_2_4() {
        // The reference vector of the SipHash paper's 128-bit variant (key 00..0f, empty input).
        let key: [u8; KEY_LEN] = std::array::from_fn(|i| i as u8);
        let expected = [
            0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
            0x02, 0x93,
        ];
        assert_eq!(Key::from_bytes(key).mac(b""), expected);
    }

    #[test]
    fn secrets_compare_by_value() {
        assert!(same_secret(b"token", b"token"));
        assert!(!same_secret(b"token", b"tokem"));
        assert!(!same_secret(b"token", b"token "));
        assert!(!same_secret(b"", b"token"));
        assert!(equal(b"", b""));
        assert!(!equal(b"ab", b"abc"));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", Key::from_bytes([1; KEY_LEN])), "Key(..)");
    }
}
