//! Flow control, the driver's half: the hub says when a connection's queue is over its mark
//! ([`SendQueue::is_paused`](crate::hub::SendQueue::is_paused)); the stream transports stop reading it
//! until the writer drains it.

use crate::{clock, hub::Session};

/// Deliveries that cost a reader one unit of tokio's cooperative budget (128 units a turn, one
/// of which each read from the socket also costs).
///
/// A reader yields its turn when its budget runs out, and only then do the writers of the
/// subscribers it published to run: the work done in one turn is each writer's batch. Charged
/// one unit a frame, a turn ended after at most 128 frames, whatever their fan-out: a `writev`
/// carried about 180 messages to each of 100 subscribers (measured: frames written over
/// `writev` calls at saturation), and a turn to 1,000 was up to 128,000 deliveries. Charged by
/// deliveries, a turn holds at most about 128 × 1,024 of them (plus what its reads bring of
/// cheaper frames), whatever the fan-out, and a `writev` to 100 subscribers carries about 460
/// messages (docs/PERFORMANCE.md).
const DELIVERIES_PER_UNIT: u32 = 1024;

/// Called by a stream transport's reader after each frame: while the connection's outbound
/// queue is over its high-water mark, waits for the writer to drain it — the client's input
/// stays unread, so TCP slows the client down instead of the server cutting it. Also charges
/// the deliveries its publishes caused against the task's budget ([`DELIVERIES_PER_UNIT`]), so
/// that a burst of input (a publisher's pipelined frames) cannot starve the writers that
/// deliver it.
///
/// Fans out the publishes the session gathered before either wait (`hub/run.rs`).
pub(crate) async fn pace(session: &mut Session) {
    if session.queue().is_paused() {
        session.flush();
        // Boxed: the wait's state is allocated only when a pause happens, instead of making
        // every connection's task (and idle connection) that much larger.
        Box::pin(session.queue().writable()).await;
        session.resumed(clock::now());
    }
    let units = session.take_work(DELIVERIES_PER_UNIT);
    if units > 0 {
        session.flush();
        for _ in 0..units {
            tokio::task::coop::consume_budget().await;
        }
    }
}
