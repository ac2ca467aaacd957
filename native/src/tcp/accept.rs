//! The TCP accept loop.

use std::time::Duration;

use tokio::net::TcpListener;

use crate::server::Context;

/// Accepts connections until shutdown begins; each runs in its own tracked task.
pub(crate) async fn serve(listener: TcpListener, ctx: Context) {
    loop {
        let accepted = tokio::select! {
            () = ctx.stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "tcp accepted");
                ctx.tracker.spawn(super::connection::run(stream, ctx.clone()));
            }
            Err(error) => {
                // Usually out of file descriptors: wait a little instead of spinning.
                tracing::warn!(%error, "tcp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
