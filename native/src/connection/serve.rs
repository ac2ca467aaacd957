//! One connection's reader and writer, side by side, then the writer's bounded flush.

/// How a connection's writer ended: what the transport does last depends on it.
#[derive(Debug)]
pub(crate) enum Ended {
    /// The shutdown deadline passed during the flush: the connection drops what it holds.
    Aborted,
    /// The writer finished with this end of the queue; `None` if the connection broke, or the
    /// flush did not finish within the shutdown deadline.
    Flushed(Option<crate::hub::CloseReason>),
}

/// Serves one connection: `serve!(ctx, session, queue, reader: …, writer: …)` runs the reader
/// (feeding `session`) and the writer (draining `queue`, the session's) side by side until the
/// client stops sending, the session closes, or the writer ends. The session is then dropped —
/// it leaves its rooms — and the writer flushes what is queued, within the shutdown timeout.
/// Evaluates to an [`Ended`].
///
/// The writer comes first in the select, so that a finished writer is seen before a reader that
/// ended at the same time. There is no abort branch while both run: shutdown closes every
/// queue before its deadline aborts anything, so the writer ends first.
///
/// A macro rather than an `async fn`: the reader and writer futures then live in the
/// connection's own task, whereas a nested `async fn` holding them (and its arguments twice, as
/// rustc lays out async fns today) made the TCP connection task 240 bytes larger — and every
/// idle connection is one such task, so its size is what an idle connection costs
/// (docs/PERFORMANCE.md).
macro_rules! serve {
    ($ctx:expr, $session:ident, $queue:expr, reader: $reader:expr, writer: $writer:expr $(,)?) => {{
        let writer = $writer;
        ::tokio::pin!(writer);
        let mut ended = None;
        ::tokio::select! {
            biased;
            end = &mut writer => ended = Some(end),
            () = $queue.closed() => {}
            () = $reader => {}
        }
        drop($session);
        match ended {
            Some(end) => $crate::connection::Ended::Flushed(end),
            None => ::tokio::select! {
                () = $ctx.abort.cancelled() => $crate::connection::Ended::Aborted,
                end = ::tokio::time::timeout($ctx.config.shutdown_timeout, &mut writer) => {
                    $crate::connection::Ended::Flushed(end.ok().flatten())
                }
            },
        }
    }};
}

pub(crate) use serve;
