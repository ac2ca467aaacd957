//! The writer's list of frames taken from the queue.

use std::{future::Future, sync::Arc};

use crate::{
    egress::Outgoing,
    hub::{CloseReason, SendQueue},
    metrics::Metrics,
};

/// A list longer than this is freed once the queue is drained.
const IDLE_BATCH: usize = 16;

/// The frames a writer took from its queue and is writing. The list is kept from batch to
/// batch while a burst lasts, and freed when the queue drains: an idle connection keeps none.
#[derive(Debug, Default)]
pub(crate) struct Batch(Vec<Arc<Outgoing>>);

impl Batch {
    /// Waits for the next frames (cancel-safe: what was taken stays in the list). Returns how
    /// the queue ended, if it did after these frames.
    ///
    /// Not an `async fn`: the queue's own future, without a wrapper's state around it, keeps
    /// every idle connection's task smaller.
    pub(crate) fn take<'a>(
        &'a mut self,
        queue: &'a SendQueue,
    ) -> impl Future<Output = Option<CloseReason>> + 'a {
        queue.next_batch(&mut self.0)
    }

    /// The frames taken, to write, counted out.
    pub(crate) fn frames(&self, metrics: &Metrics) -> &[Arc<Outgoing>] {
        Metrics::add(&metrics.frames_out, self.0.len());
        &self.0
    }

    /// The frames are written: forgets them, and frees the list if the burst is over.
    pub(crate) fn written(&mut self, queue: &SendQueue) {
        self.0.clear();
        if self.0.capacity() > IDLE_BATCH && queue.is_empty() {
            self.0 = Vec::new();
        }
    }
}
