//! The TCP accept loop.

use std::time::Duration;

use tokio::{
    io::AsyncWriteExt as _,
    net::{TcpListener, TcpStream},
};

use crate::{
    admission::Refused,
    egress::{Form, Outgoing},
    server::Context,
};

/// How long a refused connection is given to take its `error` line.
const REFUSAL_WRITE: Duration = Duration::from_secs(1);

/// Accepts connections until shutdown begins; each runs in its own tracked task.
pub(crate) async fn serve(listener: TcpListener, ctx: Context) {
    loop {
        let accepted = tokio::select! {
            () = ctx.stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => match ctx.admission.admit(peer.ip()) {
                Ok(ticket) => {
                    tracing::debug!(%peer, "tcp accepted");
                    ctx.tracker.spawn(super::connection::run(stream, ctx.clone(), ticket));
                }
                Err(refused) => {
                    ctx.tracker.spawn(refuse(stream, refused, ctx.clone()));
                }
            },
            Err(error) => {
                // Usually out of file descriptors: wait a little instead of spinning.
                tracing::warn!(%error, "tcp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A connection over the budget gets one JSON line, `error` 4019 `server_busy` (the framing
/// every client starts in), and is closed without a byte of it read.
async fn refuse(mut stream: TcpStream, refused: Refused, ctx: Context) {
    let message = refused.message(ctx.admission.limits());
    let error = Outgoing::error(enchufe_core::ErrorCode::ServerBusy, message, None);
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        stream.write_all(error.form(Form::JsonLine)).await?;
        stream.shutdown().await
    })
    .await;
}
