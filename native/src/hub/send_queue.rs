//! The outbound queue of one connection: the only way frames reach a transport.
//!
//! Flow control lives here (docs/DECISIONS.md, "Flow control"):
//! - the queue is bounded in **bytes**; over its high-water mark the transport stops reading the
//!   connection ([`SendQueue::writable`]), so a client's own answers push back on its own input;
//! - a connection is a slow consumer only when it is **stalled**: over the high-water mark with
//!   nothing taken by its writer for the stall deadline (the hub's timer checks,
//!   [`SendQueue::cut_if_stalled`]) — or, whatever the deadline, past the hard bound that keeps
//!   server memory bounded (checked at each push);
//! - a replay of history is a **cursor**, not a copy: the writer pulls the next stretch from the
//!   room as the connection drains ([`Replay`]).

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU8, Ordering},
    },
    task::{Poll, Waker},
    time::Duration,
};

use enchufe_core::{Encoding, ErrorCode};
use tokio::sync::Notify;

use super::{Outgoing, room::Room};

/// How much the writer takes from the queue at once, in bytes (a batch always holds at least one
/// frame). Bounded so that taking a batch is a sign of progress ([`SendLimits::stall`]) and one
/// write never pins a whole backlog.
pub(crate) const BATCH_BYTES: usize = 256 * 1024;

/// A connection's outbound queue.
///
/// The hub pushes into it (replies, fan-out, presence) and never waits. The transport's writer
/// drains it with [`SendQueue::next_batch`], writes the batch and flushes once; its reader checks
/// [`SendQueue::is_paused`] between frames and waits on [`SendQueue::writable`]. The connection is cut
/// with `error` 4011 `slow_consumer` only when
/// - the queue stays over [`SendLimits::high_water`] while its writer takes nothing for
///   [`SendLimits::stall`] (the hub's timer asks, [`SendQueue::cut_if_stalled`]), or
/// - a push would take it past [`SendLimits::max_bytes`] ([`Push::Overflow`]; a queue that is
///   empty always takes one frame, however large).
///
/// It reads no clock: the only timed rule is checked by the hub's timer, with `now` passed in.
///
/// Cloning is cheap; all clones are the same queue.
#[derive(Clone, Debug)]
pub struct SendQueue(Arc<Inner>);

/// The bounds of every connection's queue (from [`HubConfig`](super::HubConfig)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendLimits {
    /// Queued bytes over which the connection's input is not read.
    pub high_water: usize,
    /// Queued bytes never exceeded: a push past it cuts the connection at once.
    pub max_bytes: usize,
    /// How long a queue may stay over `high_water` with nothing taken before it is cut.
    pub stall: Duration,
}

/// How a queue ends, returned with its last batch by [`SendQueue::next_batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
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
    /// The connection is a slow consumer: the frame and `dropped` pending frames were
    /// discarded, `error` 4011 is queued and the queue is now closed. The caller must
    /// disconnect the session.
    Overflow {
        /// How many frames were discarded, this one included.
        dropped: usize,
    },
    /// The queue was already closed; the frame was discarded.
    Closed,
}

/// The most entries a list is allocated for ahead of a burst (64 KiB of queue slots).
const MAX_BURST: usize = 4096;

/// What one queued entry is charged beyond its bytes: its slot in the queue.
const ENTRY_COST: usize = std::mem::size_of::<Entry>();

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Wakes the writer (one waiter: `notify_one` keeps a permit).
    ready: Notify,
    /// Set once, with `state.end`; read without the lock.
    closed: AtomicBool,
    /// Wakes a reader paused in [`SendQueue::writable`] when the queue drains below the
    /// high-water mark, or closes.
    wake: Notify,
    encoding: AtomicU8,
    /// The client reads batches (WebSocket `hello` with `batch`).
    batch: AtomicBool,
    /// Shared by every connection of the hub: one pointer here.
    limits: Arc<SendLimits>,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Entry>,
    /// Bytes charged for the queued frames (their encoding plus [`ENTRY_COST`]).
    bytes: usize,
    /// Bytes charged for work whose answer is still to come ([`SendQueue::reserve`]): they
    /// pause the reader like queued frames, but nothing waits for the client's reading, so the
    /// stall rule and the hard bound do not count them.
    reserved: u32,
    end: Option<CloseReason>,
    /// The waker of the task waiting in [`SendQueue::closed`]: a slot here rather than a
    /// waiter node in that task, which is every connection's task, idle ones included.
    closer: Option<Waker>,
    /// How many times the writer took from the queue (wrapping): its progress.
    progress: u32,
    /// The stall check's note: `progress` as it was when the queue was first seen over its mark,
    /// and when (ms). Cleared when the queue is seen under the mark again.
    over_since: Option<(u32, u64)>,
    /// A reader waits in [`SendQueue::writable`].
    paused: bool,
    /// Numbers replays, so that a pull finds its own entry again.
    next_replay: u64,
    /// How many frames the writer took when it last drained the list: the next burst's list
    /// is allocated at that size at once, rather than grown by doubling.
    burst: u32,
}

/// One queued entry: a frame, or a replay the writer pulls from its room when it gets there.
#[derive(Debug)]
enum Entry {
    Frame { frame: Arc<Outgoing>, cost: usize },
    Replay(Box<Replay>),
}

/// A replay of a room's history, as a cursor: the writer pulls the messages from `next` on when
/// the entry reaches the front of the queue, a batch at a time.
#[derive(Debug)]
pub(crate) struct Replay {
    pub(crate) room: Arc<Room>,
    /// The seq of the next message to send.
    pub(crate) next: u64,
    /// The last seq to send; `None`: until the room's latest, then the subscriber goes live
    /// (messages published from then on are pushed to it, not pulled).
    pub(crate) until: Option<u64>,
    id: u64,
}

impl Replay {
    /// A replay of `room` from seq `next`, up to `until` (or until caught up, then live).
    pub(crate) fn new(room: Arc<Room>, next: u64, until: Option<u64>) -> Self {
        Replay { room, next, until, id: 0 }
    }
}

/// What a pull from a room gave ([`Room::replay`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pulled {
    /// Messages were pulled; more follow.
    More,
    /// The replay is complete.
    Done,
    /// History no longer holds the next message: the connection read too slowly to be replayed.
    Gap,
}

impl SendQueue {
    /// An empty queue with these bounds.
    pub fn new(limits: Arc<SendLimits>) -> Self {
        SendQueue(Arc::new(Inner {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            encoding: AtomicU8::new(0),
            batch: AtomicBool::new(false),
            limits,
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

    /// Whether the client reads batches: the WebSocket writer may then put several frames in
    /// one message.
    pub fn batched(&self) -> bool {
        self.0.batch.load(Ordering::Relaxed)
    }

    /// The client reads batches (its `hello` said so).
    pub fn set_batched(&self) {
        self.0.batch.store(true, Ordering::Relaxed);
    }

    /// Whether `other` is this same queue.
    pub(crate) fn same(&self, other: &SendQueue) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Queues `frame`, unless the connection is a slow consumer (then the queue closes with
    /// 4011 instead).
    pub fn push(&self, frame: &Arc<Outgoing>) -> Push {
        self.push_all(std::slice::from_ref(frame))
    }

    /// Queues `frames` in order under one lock (a run of one publisher's messages to a room),
    /// unless the connection is a slow consumer: then the queue closes with 4011 at the frame
    /// that would pass its bound, and that frame and the rest are dropped with what was queued.
    pub fn push_all(&self, frames: &[Arc<Outgoing>]) -> Push {
        // Encode before taking the lock: the bytes are shared with every other subscriber.
        let encoding = self.encoding();
        for frame in frames {
            frame.encoded(encoding);
        }
        let limits = &self.0.limits;
        let mut state = self.lock();
        if state.end.is_some() {
            return Push::Closed;
        }
        // The writer waits only on an empty queue, and takes everything queued when it runs:
        // only a push that makes the queue non-empty needs to wake it.
        let wake = state.queue.is_empty();
        if state.queue.capacity() == 0 {
            let burst = (state.burst as usize).max(frames.len());
            state.queue.reserve(burst);
        }
        for (index, frame) in frames.iter().enumerate() {
            let cost = frame.encoded(encoding).len() + ENTRY_COST;
            if !state.queue.is_empty() && state.bytes.saturating_add(cost) > limits.max_bytes {
                let dropped = state.queue.len() + frames.len() - index;
                let message = format!(
                    "the connection's outbound queue reached its bound of {} bytes",
                    limits.max_bytes
                );
                self.cut(state, &message);
                return Push::Overflow { dropped };
            }
            state.bytes += cost;
            state.queue.push_back(Entry::Frame { frame: Arc::clone(frame), cost });
        }
        drop(state);
        if wake && !frames.is_empty() {
            self.0.ready.notify_one();
        }
        Push::Queued
    }

    /// Queues a replay of history: the writer pulls its messages when it gets there. It costs
    /// the queue nothing until then.
    pub(crate) fn push_replay(&self, mut replay: Replay) -> Push {
        let mut state = self.lock();
        if state.end.is_some() {
            return Push::Closed;
        }
        state.next_replay += 1;
        replay.id = state.next_replay;
        state.queue.push_back(Entry::Replay(Box::new(replay)));
        drop(state);
        self.0.ready.notify_one();
        Push::Queued
    }

    /// Ends the queue normally (the client went away): the writer writes what is pending, then
    /// gets [`CloseReason::Finished`]. Returns false if the queue was already closed.
    pub fn finish(&self) -> bool {
        self.end(CloseReason::Finished, "", false)
    }

    /// Ends the queue with `error` `code` after what is pending (the error bypasses the bounds);
    /// the writer then gets [`CloseReason::Error`]. Returns false if the queue was already closed.
    pub fn close(&self, code: ErrorCode, message: &str) -> bool {
        self.end(CloseReason::Error(code), message, false)
    }

    /// Ends the queue with `error` `code` *instead of* what is pending (a connection refused as
    /// it opens). Returns false if the queue was already closed.
    pub fn refuse(&self, code: ErrorCode, message: &str) -> bool {
        self.end(CloseReason::Error(code), message, true)
    }

    fn end(&self, end: CloseReason, message: &str, discard: bool) -> bool {
        let mut state = self.lock();
        if state.end.is_some() {
            return false;
        }
        if discard {
            state.queue.clear();
            state.bytes = 0;
        }
        if let CloseReason::Error(code) = end {
            state.queue.push_back(error_entry(code, message));
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
    ///
    /// One task waits here (the connection's; SSE's deadline task): the queue keeps one waker
    /// for it, and a second waiter would take the first one's place.
    pub fn closed(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| {
            if self.is_closed() {
                return Poll::Ready(());
            }
            let mut state = self.lock();
            // Checked under the lock that `end` is set under: a close cannot slip in between.
            if state.end.is_some() {
                return Poll::Ready(());
            }
            match &mut state.closer {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }

    /// The hub's timer, at `now` (ms): if the queue has stayed over its high-water mark, with its
    /// writer taking nothing, for [`SendLimits::stall`] since the timer first saw it so, cuts it
    /// (4011) and returns how many frames were dropped. Seen first at some tick, a stall is cut
    /// between one and two timer periods late — never early.
    pub(crate) fn cut_if_stalled(&self, now: u64) -> Option<usize> {
        let limits = &self.0.limits;
        let mut state = self.lock();
        // Only frames waiting for the client: a connection whose own requests wait for a shared
        // engine's answers is over its mark, but it is not the one that is slow.
        if state.end.is_some() || state.bytes <= limits.high_water {
            state.over_since = None;
            return None;
        }
        match state.over_since {
            Some((progress, since)) if progress == state.progress => {
                if now.saturating_sub(since) < millis(limits.stall) {
                    return None;
                }
            }
            _ => {
                state.over_since = Some((state.progress, now));
                return None;
            }
        }
        let dropped = state.queue.len();
        let message = format!(
            "the connection read nothing for {} ms while over {} bytes waited for it",
            millis(limits.stall),
            limits.high_water
        );
        self.cut(state, &message);
        Some(dropped)
    }

    /// Whether the queue is over its high-water mark: the transport should not read more input
    /// from this connection until [`SendQueue::writable`] completes.
    pub fn is_paused(&self) -> bool {
        self.over_mark(&self.lock())
    }

    /// Whether queued frames and reserved work together pass the high-water mark.
    fn over_mark(&self, state: &State) -> bool {
        state.bytes.saturating_add(state.reserved as usize) > self.0.limits.high_water
    }

    /// Completes once the queue is at or below its high-water mark (or closed). While a reader
    /// waits here the connection's input stays in the kernel, and TCP's own flow control slows
    /// the client down.
    pub async fn writable(&self) {
        loop {
            let notified = self.0.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if !self.over_mark(&state) || state.end.is_some() {
                    state.paused = false;
                    return;
                }
                state.paused = true;
            }
            notified.await;
        }
    }

    /// Called once, after `state.end` is set: tells the writer, a paused reader and the
    /// `closed()` waiter.
    fn closing(&self) {
        self.0.closed.store(true, Ordering::Release);
        let closer = self.lock().closer.take();
        self.0.wake.notify_waiters();
        self.0.ready.notify_one();
        if let Some(closer) = closer {
            closer.wake();
        }
    }

    /// Cuts a slow consumer: drops what is pending and closes with `error` 4011.
    fn cut(&self, mut state: MutexGuard<'_, State>, message: &str) {
        state.queue.clear();
        state.bytes = 0;
        state.queue.push_back(error_entry(ErrorCode::SlowConsumer, message));
        state.end = Some(CloseReason::Error(ErrorCode::SlowConsumer));
        drop(state);
        self.closing();
    }

    /// How many entries are queued (a pending replay counts as one).
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until something is queued or the queue is closed, then moves up to [`BATCH_BYTES`]
    /// of frames to the end of `batch` — pulling a replay's next stretch from its room when one
    /// is at the front. Returns `Some(end)` with the last batch (possibly empty) once the queue
    /// is closed and drained; the writer writes the batch, then closes the connection.
    ///
    /// Only one task (the connection's writer) should call this.
    pub async fn next_batch(&self, batch: &mut Vec<Arc<Outgoing>>) -> Option<CloseReason> {
        let had = batch.len();
        loop {
            let replay = {
                let mut state = self.lock();
                let mut taken = 0;
                let mut replay = None;
                batch.reserve(state.queue.len().min(MAX_BURST));
                while taken < BATCH_BYTES {
                    match state.queue.front() {
                        None => break,
                        Some(Entry::Replay(r)) => {
                            if batch.len() == had {
                                replay = Some((r.room.clone(), r.next, r.until, r.id));
                            }
                            break;
                        }
                        Some(Entry::Frame { .. }) => {
                            if let Some(Entry::Frame { frame, cost }) = state.queue.pop_front() {
                                taken += cost;
                                batch.push(frame);
                            }
                        }
                    }
                }
                if taken > 0 {
                    self.taken(&mut state, taken);
                }
                if replay.is_none() {
                    // A drained list is freed: an idle connection holds no slots (idle
                    // connections are counted in bytes), and the next burst's list costs one
                    // allocation beside its write.
                    if state.queue.capacity() > 0 && state.queue.is_empty() {
                        state.queue = VecDeque::new();
                        state.burst = (batch.len() - had).min(MAX_BURST) as u32;
                    }
                    let end = if state.queue.is_empty() { state.end } else { None };
                    if end.is_some() || batch.len() > had {
                        return end;
                    }
                }
                replay
            };
            match replay {
                Some((room, next, until, id)) => self.pull(&room, next, until, id, batch),
                // notify_one stores a permit when nobody waits, so a push between the unlock
                // above and this await is not lost.
                None => self.0.ready.notified().await,
            }
            if batch.len() > had {
                return None;
            }
        }
    }

    /// Pulls the next stretch of the replay `id` at the front of the queue into `batch`.
    fn pull(
        &self,
        room: &Room,
        mut next: u64,
        until: Option<u64>,
        id: u64,
        batch: &mut Vec<Arc<Outgoing>>,
    ) {
        // The room's lock is taken without the queue's: fan-out pushes under the room's lock.
        let mut pulled = Vec::new();
        let outcome = room.replay(self, &mut next, until, BATCH_BYTES, &mut pulled);
        let mut state = self.lock();
        state.progress = state.progress.wrapping_add(1);
        let Some(Entry::Replay(replay)) = state.queue.front_mut() else { return };
        if replay.id != id {
            return; // the queue was cleared meanwhile (closed)
        }
        replay.next = next;
        match outcome {
            Pulled::More => {}
            Pulled::Done => {
                state.queue.pop_front();
            }
            Pulled::Gap => {
                let message = format!(
                    "room {}'s history moved past this connection's replay: it read too slowly; \
                     join again with since to recover what is still stored",
                    room.name()
                );
                self.cut(state, &message);
                return;
            }
        }
        drop(state);
        batch.append(&mut pulled);
    }

    /// Charges `bytes` for work the connection asked for whose answer is still to come (a
    /// shared engine's round trip): counted against the high-water mark like queued frames, so
    /// a client that sends faster than the engine answers is paused, not refused.
    pub(crate) fn reserve(&self, bytes: u32) {
        let mut state = self.lock();
        state.reserved = state.reserved.saturating_add(bytes);
    }

    /// The answer to [`SendQueue::reserve`]d work came: its charge goes, and a paused reader
    /// wakes once the queue is back under its mark.
    pub(crate) fn release(&self, bytes: u32) {
        let mut state = self.lock();
        state.reserved = state.reserved.saturating_sub(bytes);
        self.wake_if_under(&mut state);
    }

    /// The writer took `bytes`: it is making progress. Wakes a paused reader once the queue is
    /// back under its high-water mark.
    fn taken(&self, state: &mut State, bytes: usize) {
        state.bytes -= bytes;
        state.progress = state.progress.wrapping_add(1);
        self.wake_if_under(state);
    }

    /// Wakes a reader paused in [`SendQueue::writable`] once the queue is back under its mark.
    fn wake_if_under(&self, state: &mut State) {
        if state.paused && !self.over_mark(state) {
            state.paused = false;
            self.0.wake.notify_waiters();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock (push/pop only), so a poisoned lock still holds
        // a consistent queue.
        crate::sync::lock(&self.0.state)
    }
}

fn error_entry(code: ErrorCode, message: &str) -> Entry {
    // Bypasses the bounds and is never charged: it is the queue's last entry.
    Entry::Frame { frame: Outgoing::error(code, message, None), cost: 0 }
}

/// Milliseconds on the process's monotonic clock (tokio's, so paused-time tests move it).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::{Pong, ServerFrame};

    fn pong(id: u64) -> Arc<Outgoing> {
        Outgoing::new(ServerFrame::Pong(Pong { id: Some(id) }))
    }

    /// A pong's cost in the queue.
    fn cost() -> usize {
        pong(1).encoded(Encoding::Json).len() + ENTRY_COST
    }

    fn limits(high_water: usize, max_bytes: usize, stall_ms: u64) -> Arc<SendLimits> {
        Arc::new(SendLimits { high_water, max_bytes, stall: Duration::from_millis(stall_ms) })
    }

    #[tokio::test]
    async fn batches_what_is_queued() {
        let queue = SendQueue::new(limits(1024, 4096, 1000));
        for id in 0..3 {
            assert_eq!(queue.push(&pong(id)), Push::Queued);
        }
        let mut batch = Vec::new();
        assert_eq!(queue.next_batch(&mut batch).await, None);
        assert_eq!(batch.len(), 3);
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn a_queue_over_its_high_water_mark_is_cut_only_once_stalled() {
        let queue = SendQueue::new(limits(cost() * 2, 1 << 20, 1000));
        for id in 0..10 {
            assert_eq!(queue.push(&pong(id)), Push::Queued, "over the mark but not stalled");
        }
        assert!(queue.is_paused());
        assert_eq!(queue.cut_if_stalled(5_000), None, "first seen over the mark");
        assert_eq!(queue.cut_if_stalled(5_900), None, "900 ms");
        // The writer takes a batch: progress, so the deadline starts again.
        queue.next_batch(&mut Vec::new()).await;
        assert!(!queue.is_paused());
        for id in 0..10 {
            assert_eq!(queue.push(&pong(id)), Push::Queued);
        }
        assert_eq!(queue.cut_if_stalled(6_100), None, "progress since the last look");
        assert_eq!(queue.cut_if_stalled(7_000), None, "900 ms with no progress");
        assert_eq!(queue.cut_if_stalled(7_100), Some(10), "1000 ms with no progress");
        assert_eq!(queue.push(&pong(101)), Push::Closed);
        let mut batch = Vec::new();
        assert_eq!(
            queue.next_batch(&mut batch).await,
            Some(CloseReason::Error(ErrorCode::SlowConsumer))
        );
        assert!(
            matches!(batch[..], [ref e] if matches!(e.frame(), ServerFrame::Error(e) if e.code == 4011))
        );
    }

    #[tokio::test]
    async fn a_queue_under_its_mark_is_never_stalled() {
        let queue = SendQueue::new(limits(cost() * 4, 1 << 20, 1000));
        let _ = queue.push(&pong(1));
        assert_eq!(queue.cut_if_stalled(0), None);
        assert_eq!(queue.cut_if_stalled(60_000), None, "a minute unread, but under the mark");
        for id in 0..10 {
            let _ = queue.push(&pong(id));
        }
        assert_eq!(queue.cut_if_stalled(60_001), None, "over the mark: the deadline starts now");
        assert_eq!(queue.cut_if_stalled(61_001), Some(11));
    }

    /// A publisher on a shared engine with requests in flight: paused, but not a slow consumer
    /// (its `writable` wakes when answers come), and its own answers are not refused by the hard
    /// bound. The Redis suites found it: a publisher that asked for no acks was cut with 4011.
    #[tokio::test]
    async fn work_waiting_for_answers_pauses_the_reader_but_is_not_a_stall() {
        let queue = SendQueue::new(limits(4096, 4096, 1000));
        for _ in 0..3 {
            queue.reserve(2048);
        }
        assert!(queue.is_paused());
        assert_eq!(queue.cut_if_stalled(0), None);
        assert_eq!(queue.cut_if_stalled(60_000), None, "a minute over the mark, nothing queued");
        assert_eq!(queue.push(&pong(1)), Push::Queued, "an answer is under the hard bound");
        assert_eq!(queue.push(&pong(2)), Push::Queued);
        use futures_util::FutureExt;
        let writable = queue.writable();
        tokio::pin!(writable);
        assert!(writable.as_mut().now_or_never().is_none(), "over the mark: paused");
        queue.release(2048);
        assert!(writable.as_mut().now_or_never().is_none(), "still over it");
        queue.release(2048);
        assert!(writable.as_mut().now_or_never().is_some(), "under it: the reader goes on");
        assert!(!queue.is_paused());
    }

    #[tokio::test]
    async fn the_hard_bound_cuts_at_once_but_an_empty_queue_takes_one_big_frame() {
        let queue = SendQueue::new(limits(1, 10, 60_000));
        assert_eq!(queue.push(&pong(1)), Push::Queued, "empty queue accepts a frame over it");
        assert!(matches!(queue.push(&pong(2)), Push::Overflow { dropped: 2 }));
    }

    #[tokio::test]
    async fn a_batch_is_bounded_in_bytes() {
        let queue = SendQueue::new(limits(usize::MAX, usize::MAX, 1000));
        let big = Outgoing::new(ServerFrame::Pong(Pong { id: Some(1) }));
        let n = BATCH_BYTES / cost() + 10;
        for _ in 0..n {
            let _ = queue.push(&big);
        }
        let mut batch = Vec::new();
        queue.next_batch(&mut batch).await;
        assert!(batch.len() < n && batch.len() >= BATCH_BYTES / cost(), "{}", batch.len());
        queue.next_batch(&mut batch).await;
        assert_eq!(batch.len(), n);
    }

    #[tokio::test]
    async fn a_paused_reader_resumes_when_the_writer_drains() {
        let queue = SendQueue::new(limits(cost(), 1 << 20, 60_000));
        for id in 0..4 {
            let _ = queue.push(&pong(id));
        }
        assert!(queue.is_paused());
        let reader = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.writable().await })
        };
        tokio::task::yield_now().await;
        assert!(!reader.is_finished());
        queue.next_batch(&mut Vec::new()).await;
        tokio::time::timeout(Duration::from_secs(5), reader).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn close_keeps_pending_frames_unless_told_to_discard() {
        let queue = SendQueue::new(limits(1024, 4096, 1000));
        let _ = queue.push(&pong(1));
        assert!(queue.close(ErrorCode::ShuttingDown, "bye"));
        assert!(!queue.finish(), "closing twice is a no-op");
        let mut batch = Vec::new();
        assert_eq!(
            queue.next_batch(&mut batch).await,
            Some(CloseReason::Error(ErrorCode::ShuttingDown))
        );
        assert_eq!(batch.len(), 2);
        assert_eq!(
            queue.next_batch(&mut Vec::new()).await,
            Some(CloseReason::Error(ErrorCode::ShuttingDown))
        );
    }

    #[tokio::test]
    async fn a_waiting_writer_wakes_on_push() {
        let queue = SendQueue::new(limits(1024, 4096, 1000));
        let writer = {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut batch = Vec::new();
                queue.next_batch(&mut batch).await;
                batch.len()
            })
        };
        tokio::task::yield_now().await;
        let _ = queue.push(&pong(1));
        assert_eq!(writer.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn the_closed_waiter_wakes_on_close() {
        let queue = SendQueue::new(limits(1024, 4096, 1000));
        let waiter = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.closed().await })
        };
        tokio::task::yield_now().await;
        assert!(!queue.is_closed());
        assert!(!waiter.is_finished());
        let _ = queue.push(&pong(1));
        assert!(matches!(queue.push(&pong(2)), Push::Queued));
        assert!(queue.finish());
        tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert!(queue.is_closed());
        queue.closed().await; // and at once when already closed
    }

    /// A cut (the hub's, not the transport's) wakes the waiter too.
    #[tokio::test]
    async fn a_cut_wakes_the_closed_waiter() {
        let queue = SendQueue::new(limits(cost(), 1 << 20, 1000));
        let waiter = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.closed().await })
        };
        tokio::task::yield_now().await;
        for id in 0..4 {
            let _ = queue.push(&pong(id));
        }
        assert_eq!(queue.cut_if_stalled(0), None);
        assert_eq!(queue.cut_if_stalled(1_000), Some(4));
        tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    }
}
