//! One UDP session's writer: its queue, one datagram per frame, never over [`MAX_DATAGRAM`].

use std::{net::SocketAddr, sync::Arc};

use enchufe_core::{ErrorCode, ServerFrame};
use tokio::{net::UdpSocket, sync::mpsc};
use tokio_util::sync::CancellationToken;

use super::MAX_DATAGRAM;
use crate::{egress::Outgoing, hub::SendQueue, metrics::Metrics};

/// Which peer session ended: its address and the number it was opened with.
pub(super) type Ended = (SocketAddr, u64);

/// Sends what the session's queue yields to `peer` until the queue ends (the session closed:
/// left, kicked, idle, shutting down, slow) or shutdown aborts; then reports `(peer, id)`.
pub(super) async fn run(
    queue: SendQueue,
    socket: Arc<UdpSocket>,
    peer: SocketAddr,
    id: u64,
    metrics: Arc<Metrics>,
    ended: mpsc::UnboundedSender<Ended>,
    abort: CancellationToken,
) {
    let mut batch = Vec::new();
    loop {
        let end = tokio::select! {
            () = abort.cancelled() => break,
            end = queue.next_batch(&mut batch) => end,
        };
        let encoding = queue.encoding();
        for frame in batch.drain(..) {
            let bytes = frame.encoded(encoding);
            let sent = if bytes.len() <= MAX_DATAGRAM {
                socket.send_to(bytes, peer).await
            } else {
                let refusal = too_large(frame.frame(), bytes.len());
                socket.send_to(refusal.encoded(encoding), peer).await
            };
            match sent {
                Ok(_) => Metrics::add(&metrics.frames_out, 1),
                // UDP promises nothing: a datagram the OS will not send is a lost datagram.
                Err(error) => tracing::debug!(%peer, %error, "udp send failed"),
            }
        }
        if end.is_some() {
            break;
        }
    }
    let _ = ended.send((peer, id));
}

/// The `error` 4012 sent instead of a frame of `len` bytes. A message's names its room and
/// seq (the client also sees the seq gap); an answer's carries the request id, so the request
/// fails instead of hanging.
fn too_large(frame: &ServerFrame, len: usize) -> Arc<Outgoing> {
    let code = ErrorCode::TooLargeForDatagram;
    let why = format!("{len} bytes, more than a datagram holds ({MAX_DATAGRAM})");
    match frame {
        ServerFrame::Message(m) => Outgoing::error(
            code,
            format!("message {} of room {} not sent over UDP: {why}", m.seq, m.room),
            None,
        ),
        ServerFrame::History(h) => Outgoing::error(
            code,
            format!("the history of room {} is {why}; ask for fewer (limit)", h.room),
            h.id,
        ),
        ServerFrame::Joined(j) => {
            Outgoing::error(code, format!("joined for room {} is {why}", j.room), j.id)
        }
        other => {
            Outgoing::error(code, format!("{} frame not sent over UDP: {why}", other.kind()), None)
        }
    }
}
