//! The one client flow control cuts: a subscriber that stops reading, cut by the hard bound
//! on its queue, and the server's memory meanwhile: within the bound docs/DECISIONS.md states
//! ("Flow control"), history plus at most `queue_max_bytes` for the stalled connection, each
//! message counted twice. Alone in its test binary, so that the resident set is this test's.

mod common;
mod stalled;

use std::time::Duration;

use stalled::stall;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_cut_by_the_hard_bound_and_memory_stays_under_it() {
    const BODY: usize = 10 * 1024;
    let queue_max_bytes = 32 << 20;
    // A deadline longer than the run: the hard bound comes first.
    let stalled = stall(queue_max_bytes, Duration::from_secs(600), BODY).await;
    assert!(stalled.why.contains("bound"), "{}", stalled.why);
    assert!(stalled.published * (BODY as u64) > queue_max_bytes as u64);
    // What docs/DECISIONS.md promises: every stored or queued message costs at most twice its
    // wire bytes (the message and its encoding); so history plus one stalled queue, twice,
    // with 32 MiB for the allocator and the clients' own buffers in this process.
    let stored = 100 * BODY as u64;
    let bound = 2 * (stored + queue_max_bytes as u64) + (32 << 20);
    assert!(stalled.grew < bound, "RSS grew by {} bytes, over {bound}", stalled.grew);
}
