//! The bytes every benchmark message carries: when it was sent, and which one it is.

use std::{sync::OnceLock, time::Instant};

/// The smallest payload: a send time and an index, 8 bytes each (little-endian).
pub const MIN_SIZE: usize = 16;

/// Nanoseconds since the first call in this process: the clock every stamp and every reading
/// uses (publisher and subscribers share the process, so no clock sync is needed).
pub fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Writes the send time `sent_ns` and `index` into the head of `payload` (at least
/// [`MIN_SIZE`] bytes; the rest is left as it is).
pub fn stamp(payload: &mut [u8], sent_ns: u64, index: u64) {
    payload[..8].copy_from_slice(&sent_ns.to_le_bytes());
    payload[8..16].copy_from_slice(&index.to_le_bytes());
}

/// The send time and index of a received payload; `None` if it is too short to be ours.
pub fn read(payload: &[u8]) -> Option<(u64, u64)> {
    let sent = u64::from_le_bytes(payload.get(..8)?.try_into().ok()?);
    let index = u64::from_le_bytes(payload.get(8..16)?.try_into().ok()?);
    Some((sent, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let mut p = vec![b'x'; 64];
        stamp(&mut p, 123_456, 7);
        assert_eq!(read(&p), Some((123_456, 7)));
        assert_eq!(&p[16..], &[b'x'; 48][..]);
        assert_eq!(read(&p[..15]), None);
    }
}
