//! The bounded outbound queue of one connection: the only way frames reach a transport.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU8, Ordering},
    },
};

use enchufe_core::{Encoding, ErrorCode};
use tokio::sync::Notify;

use super::Outgoing;

/// A connection's outbound queue, bounded in frames **and** bytes.
///
/// The hub pushes into it (replies, fan-out, presence) and never waits: when a push would go
/// over either bound, the queue drops everything pending, queues `error` 4011 `slow_consumer`
/// as its last frame and closes ([`Push::Overflow`]); the hub then removes the session from its
/// rooms. The transport's writer drains it with [`Outbox::next_batch`], writes the whole batch
/// and flushes once. Memory per connection is therefore at most one queue plus the batch being
/// written. A queue that is empty always accepts one frame, however large, so a single big
/// answer (a `history` of long messages) is not mistaken for a slow reader.
///
/// Cloning is cheap; all clones are the same queue.
#[derive(Clone, Debug)]
pub struct Outbox(Arc<Inner>);

/// How a queue ends, returned with its last batch by [`Outbox::next_batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The session ended normally (the client left): write what is queued, then close.
    Finished,
    /// The server ends the connection for this reason; the batch's last frame is the matching
    /// `error`. On WebSocket the close code is the code's number.
    Error(ErrorCode),
}

/// What happened to a pushed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Push {
    /// The frame is queued.
    Queued,
    /// The queue was full: the frame and `dropped` pending frames were discarded, `error` 4011
    /// is queued and the queue is now closed. The caller must disconnect the session.
    Overflow {
        /// How many frames were discarded, this one included.
        dropped: usize,
    },
    /// The queue was already closed; the frame was discarded.
    Closed,
}

/// A queue list longer than this is freed once drained (a burst is over; idle connections are
/// counted in bytes).
const IDLE_QUEUE: usize = 64;

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Wakes the writer (one waiter: `notify_one` keeps a permit).
    ready: Notify,
    /// Set once, with `state.end`; read without the lock.
    closed: AtomicBool,
    /// Wakes everyone waiting in [`Outbox::closed`].
    on_close: Notify,
    encoding: AtomicU8,
    max_frames: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Arc<Outgoing>>,
    bytes: usize,
    end: Option<End>,
}

impl Outbox {
    /// An empty queue holding at most `max_frames` frames and `max_bytes` encoded bytes.
    pub fn new(max_frames: usize, max_bytes: usize) -> Self {
        Outbox(Arc::new(Inner {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            closed: AtomicBool::new(false),
            on_close: Notify::new(),
            encoding: AtomicU8::new(0),
            max_frames: max_frames.max(1),
            max_bytes,
        }))
    }

    /// The encoding the connection writes in (JSON until told otherwise).
    pub fn encoding(&self) -> Encoding {
        match self.0.encoding.load(Ordering::Relaxed) {
            0 => Encoding::Json,
            _ => Encoding::Binary,
        }
    }

    /// Switches the encoding of the frames written from now on (TCP `hello` with
    /// `"encoding":"binary"`; a WebSocket client's last message kind).
    pub fn set_encoding(&self, encoding: Encoding) {
        let value = match encoding {
            Encoding::Json => 0,
            Encoding::Binary => 1,
        };
        self.0.encoding.store(value, Ordering::Relaxed);
    }

    /// Queues `frame` unless that would go over a bound (then the queue overflows and closes).
    pub fn push(&self, frame: &Arc<Outgoing>) -> Push {
        // Encode before taking the lock: the bytes are shared with every other subscriber.
        let len = frame.encoded(self.encoding()).len();
        let mut state = self.lock();
        if state.end.is_some() {
            return Push::Closed;
        }
        let full = state.queue.len() >= self.0.max_frames
            || state.bytes.saturating_add(len) > self.0.max_bytes;
        if full && !state.queue.is_empty() {
            let dropped = state.queue.len() + 1;
            state.queue.clear();
            state.bytes = 0;
            let message = format!(
                "the connection did not read fast enough: its queue of {} frames / {} bytes \
                 filled up",
                self.0.max_frames, self.0.max_bytes
            );
            state.queue.push_back(Outgoing::error(ErrorCode::SlowConsumer, message, None));
            state.end = Some(End::Error(ErrorCode::SlowConsumer));
            drop(state);
            self.closing();
            return Push::Overflow { dropped };
        }
        state.bytes += len;
        state.queue.push_back(Arc::clone(frame));
        drop(state);
        self.0.ready.notify_one();
        Push::Queued
    }

    /// Closes the queue: after what is pending (or instead of it, when `discard` is set), the
    /// writer gets `end`, preceded by the `error` frame for an [`End::Error`] (which bypasses the
    /// bounds). Returns false if the queue was already closed.
    pub fn close(&self, end: End, message: &str, discard: bool) -> bool {
        let mut state = self.lock();
        if state.end.is_some() {
            return false;
        }
        if discard {
            state.queue.clear();
            state.bytes = 0;
        }
        if let End::Error(code) = end {
            state.queue.push_back(Outgoing::error(code, message, None));
        }
        state.end = Some(end);
        drop(state);
        self.closing();
        true
    }

    /// Whether the queue is closed (the connection is ending).
    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire)
    }

    /// Completes when the queue is closed: a transport's reader stops reading then, and gives
    /// the writer a deadline to flush.
    pub async fn closed(&self) {
        loop {
            let notified = self.0.on_close.notified();
            tokio::pin!(notified);
            // Registered before the check, so a close in between still wakes this waiter.
            notified.as_mut().enable();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Called once, after `state.end` is set: tells the writer and every `closed()` waiter.
    fn closing(&self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.on_close.notify_waiters();
        self.0.ready.notify_one();
    }

    /// How many frames are queued.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no frame is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until frames are queued or the queue is closed, then moves every queued frame to the
    /// end of `batch`. Returns `Some(end)` with the last batch (possibly empty) once the queue is
    /// closed; the writer writes the batch, then closes the connection.
    ///
    /// Only one task (the connection's writer) should call this.
    pub async fn next_batch(&self, batch: &mut Vec<Arc<Outgoing>>) -> Option<End> {
        loop {
            {
                let mut state = self.lock();
                let had = batch.len();
                batch.extend(state.queue.drain(..));
                state.bytes = 0;
                if state.queue.capacity() > IDLE_QUEUE {
                    state.queue = VecDeque::new();
                }
                if state.end.is_some() || batch.len() > had {
                    return state.end;
                }
            }
            // notify_one stores a permit when nobody waits, so a push between the unlock above
            // and this await is not lost.
            self.0.ready.notified().await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock (push/pop only), so a poisoned lock still holds
        // a consistent queue.
        self.0.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::{Pong, ServerFrame};

    fn pong(id: u64) -> Arc<Outgoing> {
        Outgoing::new(ServerFrame::Pong(Pong { id: Some(id) }))
    }

    #[tokio::test]
    async fn batches_everything_queued() {
        let outbox = Outbox::new(8, 1024);
        for id in 0..3 {
            assert_eq!(outbox.push(&pong(id)), Push::Queued);
        }
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, None);
        assert_eq!(batch.len(), 3);
        assert!(outbox.is_empty());
    }

    #[tokio::test]
    async fn overflow_by_frames_drops_the_queue_and_ends_with_slow_consumer() {
        let outbox = Outbox::new(2, 1 << 20);
        assert_eq!(outbox.push(&pong(1)), Push::Queued);
        assert_eq!(outbox.push(&pong(2)), Push::Queued);
        assert_eq!(outbox.push(&pong(3)), Push::Overflow { dropped: 3 });
        assert_eq!(outbox.push(&pong(4)), Push::Closed);
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, Some(End::Error(ErrorCode::SlowConsumer)));
        assert_eq!(batch.len(), 1);
        assert!(matches!(batch[0].frame(), ServerFrame::Error(e) if e.code == 4011));
    }

    #[tokio::test]
    async fn overflow_by_bytes_but_an_empty_queue_takes_one_big_frame() {
        let outbox = Outbox::new(100, 10);
        assert_eq!(
            outbox.push(&pong(1)),
            Push::Queued,
            "empty queue accepts a frame over the limit"
        );
        assert!(matches!(outbox.push(&pong(2)), Push::Overflow { .. }));
    }

    #[tokio::test]
    async fn close_keeps_pending_frames_unless_told_to_discard() {
        let outbox = Outbox::new(8, 1024);
        let _ = outbox.push(&pong(1));
        assert!(outbox.close(End::Error(ErrorCode::ShuttingDown), "bye", false));
        assert!(!outbox.close(End::Finished, "", false), "closing twice is a no-op");
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, Some(End::Error(ErrorCode::ShuttingDown)));
        assert_eq!(batch.len(), 2);
        assert_eq!(
            outbox.next_batch(&mut Vec::new()).await,
            Some(End::Error(ErrorCode::ShuttingDown))
        );
    }

    #[tokio::test]
    async fn a_waiting_writer_wakes_on_push() {
        let outbox = Outbox::new(8, 1024);
        let writer = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut batch = Vec::new();
                outbox.next_batch(&mut batch).await;
                batch.len()
            })
        };
        tokio::task::yield_now().await;
        let _ = outbox.push(&pong(1));
        assert_eq!(writer.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn every_closed_waiter_wakes_on_close() {
        let outbox = Outbox::new(8, 1024);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let outbox = outbox.clone();
                tokio::spawn(async move { outbox.closed().await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(!outbox.is_closed());
        let _ = outbox.push(&pong(1));
        assert!(matches!(outbox.push(&pong(2)), Push::Queued));
        assert!(outbox.close(End::Finished, "", false));
        for waiter in waiters {
            tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
        }
        assert!(outbox.is_closed());
        outbox.closed().await; // and at once when already closed
    }
}
