//! The one client flow control cuts: a subscriber that stops reading is cut once its queue has
//! stayed over the high-water mark with nothing written for the deadline, while a healthy
//! subscriber of the same room keeps receiving.

mod common;
mod stalled;

use std::time::Duration;

use stalled::stall;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_cut_once_the_deadline_passes() {
    let slow_after = Duration::from_millis(1000);
    // Small messages and the default hard bound: the deadline comes first.
    let stalled = stall(64 << 20, slow_after, 512).await;
    assert!(stalled.why.contains("read nothing"), "{}", stalled.why);
    assert!(stalled.cut_after >= slow_after, "cut after {:?}", stalled.cut_after);
}
