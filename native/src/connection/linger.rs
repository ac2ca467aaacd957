//! Reading on for a moment after the server closed a connection.
//!
//! A socket closed with unread input is reset, and a reset can overtake what was written last —
//! the error frame or the close frame that says why. So after such a close the server reads and
//! discards what the client still sends, until it closes too, for a bounded moment.

use std::{future::Future, pin::Pin, time::Duration};

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio_util::sync::CancellationToken;

/// How long input is still read after a close.
const LINGER: Duration = Duration::from_secs(1);

/// Runs `drain` (reading what the client still sends) for at most [`LINGER`], or until
/// shutdown's deadline (`abort`).
///
/// On the heap: a connection lingers once, at its end, whereas the space for it inline would
/// be in every idle connection's task (with a timer, it is larger than the rest of the close).
pub(crate) fn linger<'a>(
    abort: &'a CancellationToken,
    drain: impl Future<Output = ()> + 'a,
) -> Pin<Box<impl Future<Output = ()> + 'a>> {
    Box::pin(async move {
        tokio::select! {
            () = abort.cancelled() => {}
            _ = tokio::time::timeout(LINGER, drain) => {}
        }
    })
}

/// Reads and discards input until the stream ends or fails.
pub(crate) async fn discard(rd: &mut (impl AsyncRead + Unpin)) {
    // On the heap: an array here would make every connection's task this much larger.
    let mut sink = vec![0u8; 2048];
    while let Ok(1..) = rd.read(&mut sink).await {}
}
