//! The TCP accept loop, plain or TLS (`tls://`).

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
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                match (ctx.admission.admit(peer.ip()), &ctx.tls) {
                    (Ok(ticket), None) => {
                        tracing::debug!(%peer, "tcp accepted");
                        ctx.tracker.spawn(super::connection::run(stream, ctx.clone(), ticket));
                    }
                    (Ok(ticket), Some(tls)) => {
                        tracing::debug!(%peer, "tls accepted");
                        let (tls, ctx) = (tls.clone(), ctx.clone());
                        ctx.tracker.clone().spawn(async move {
                            if let Some(stream) = tls.accept(stream, &ctx).await {
                                super::connection::run(stream, ctx, ticket).await;
                            }
                        });
                    }
                    (Err(refused), None) => {
                        ctx.tracker.spawn(refuse(stream, refused, ctx.clone()));
                    }
                    // Over TLS the refusal would cost a handshake, just when the server is
                    // short of room: the connection is closed unanswered.
                    (Err(_), Some(_)) => tracing::debug!(%peer, "tls connection refused"),
                }
            }
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
