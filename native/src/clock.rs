//! The one clock the server's drivers read, and hand to the hub as [`Now`]: the hub itself reads
//! none (it is driven like core's client, so a simulation can run it in virtual time).

use std::{
    sync::LazyLock,
    time::{SystemTime, UNIX_EPOCH},
};

use crate::hub::Now;

/// The monotonic origin: tokio's clock, so that tests that pause tokio's time pause the hub's.
static ORIGIN: LazyLock<tokio::time::Instant> = LazyLock::new(tokio::time::Instant::now);

/// The time now.
pub fn now() -> Now {
    let ms = u64::try_from(ORIGIN.elapsed().as_millis()).unwrap_or(u64::MAX);
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Now { ms, unix_ms }
}
