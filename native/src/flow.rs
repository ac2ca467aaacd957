//! Flow control, the driver's half: the hub says when a connection's queue is over its mark
//! ([`SendQueue::is_paused`](crate::hub::SendQueue::is_paused)); the stream transports stop reading it
//! until the writer drains it.

use crate::{clock, hub::Session};

/// Called by a stream transport's reader after each frame: while the connection's outbound
/// queue is over its high-water mark, waits for the writer to drain it — the client's input
/// stays unread, so TCP slows the client down instead of the server cutting it. Also gives other
/// tasks a turn now and then, so that a burst of input (a publisher's pipelined frames) cannot
/// starve the writers that deliver it.
pub(crate) async fn pace(session: &Session) {
    let queue = session.queue();
    if queue.is_paused() {
        // Boxed: the wait's state is allocated only when a pause happens, instead of making
        // every connection's task (and idle connection) that much larger.
        Box::pin(queue.writable()).await;
        session.resumed(clock::now());
    }
    tokio::task::coop::consume_budget().await;
}
