//! The UDP receive loop: address validation, routing datagrams to sessions.
//!
//! Silent sessions are not expired here: every datagram counts as heard (`Session::heard`), and
//! the hub's one sweep (`Hub::handle_timeout`) closes a UDP session silent for 3 × heartbeat with
//! 4013 as it does a TCP or WebSocket one. Its writer then finishes and the peer is forgotten.
//! Half-open handshakes hold no state to expire: the cookie is a keyed hash of the address and a
//! time bucket (`cookie.rs`).

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use enchufe_core::{Challenge, ClientFrame, Encoding, ErrorCode, ServerFrame, codec::Frame};
use tokio::{net::UdpSocket, sync::mpsc, time::Instant};

use super::{cookie::Cookies, writer};
use crate::{
    admission::Ticket,
    clock,
    egress::Outgoing,
    hub::{Session, Transport},
    server::Context,
};

/// A validated peer.
struct Peer {
    session: Session,
    /// Its place in the connection budget.
    _ticket: Ticket,
    /// Distinguishes this session from an earlier one of the same address.
    id: u64,
}

/// The loop's state.
struct Listener {
    socket: Arc<UdpSocket>,
    ctx: Context,
    cookies: Cookies,
    peers: HashMap<SocketAddr, Peer>,
    next_id: u64,
    ended: mpsc::UnboundedSender<writer::Ended>,
}

/// Serves UDP on `socket` until shutdown begins, then waits for the sessions to end through the
/// hub's shutdown (their writers send what is queued and `error` 4015, then finish) or for the
/// shutdown deadline. Sessions are not dropped first: that would end them without the 4015.
pub(crate) async fn serve(socket: UdpSocket, ctx: Context) {
    let (ended, mut ended_rx) = mpsc::unbounded_channel();
    let mut listener = Listener {
        socket: Arc::new(socket),
        ctx,
        cookies: Cookies::new(Instant::now()),
        peers: HashMap::new(),
        next_id: 0,
        ended,
    };
    // One datagram at most: the largest a UDP socket can deliver.
    let mut buf = vec![0; 65_536];
    loop {
        tokio::select! {
            biased;
            () = listener.ctx.stop.cancelled() => break,
            Some((peer, id)) = ended_rx.recv() => listener.forget(peer, id),
            received = listener.socket.recv_from(&mut buf) => match received {
                Ok((len, peer)) => listener.datagram(&buf[..len], peer),
                // Windows reports an earlier send's ICMP error here; nothing is wrong with the socket.
                Err(error) => tracing::debug!(%error, "udp receive failed"),
            },
        }
    }
    while !listener.peers.is_empty() {
        tokio::select! {
            () = listener.ctx.abort.cancelled() => break,
            Some((peer, id)) = ended_rx.recv() => listener.forget(peer, id),
        }
    }
}

impl Listener {
    fn datagram(&mut self, bytes: &[u8], peer: SocketAddr) {
        if bytes.len() > self.ctx.config.hub.max_frame {
            tracing::debug!(%peer, len = bytes.len(), "udp: datagram over max_frame dropped");
            return;
        }
        // A binary frame starts with its version byte, a control character that JSON never
        // starts with (JSON may start with whitespace): any other version is then refused as
        // one (4004), not taken for broken JSON.
        let encoding = match bytes.first() {
            Some(&byte) if byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r') => {
                Encoding::Binary
            }
            _ => Encoding::Json,
        };
        let decoded = ClientFrame::decode(bytes, encoding);
        // A peer whose session ended (kicked, idle, slow) starts over: its session is dropped
        // now rather than when its writer finishes, and this datagram is judged as a stranger's.
        if self.peers.get(&peer).is_some_and(|p| p.session.is_closed()) {
            self.peers.remove(&peer);
        }
        if let Some(known) = self.peers.get_mut(&peer) {
            known.session.heard(clock::now());
            known.session.queue().set_encoding(encoding);
            match decoded {
                Ok(frame) => known.session.handle(clock::now(), frame),
                Err(error) => known.session.reject(clock::now(), &error),
            }
            return;
        }
        // An address not validated yet: answer only with what is no larger than it sent.
        let answer = match decoded {
            Ok(ClientFrame::Hello(hello)) => {
                if hello
                    .cookie
                    .as_deref()
                    .is_some_and(|c| self.cookies.check(peer, c, Instant::now()))
                {
                    self.open(peer, ClientFrame::Hello(hello), encoding);
                    return;
                }
                ServerFrame::Challenge(Challenge {
                    cookie: self.cookies.issue(peer, Instant::now()),
                })
            }
            Ok(frame) => ServerFrame::Error(enchufe_core::ErrorFrame::new(
                ErrorCode::HelloRequired,
                "hello first",
                frame.id(),
            )),
            // Garbage from an unknown address is not worth a byte.
            Err(_) => return,
        };
        let answer = Outgoing::new(answer);
        let out = answer.encoded(encoding);
        if out.len() > bytes.len() {
            tracing::debug!(%peer, sent = bytes.len(), answer = out.len(), "udp: short datagram not answered");
            return;
        }
        // The loop never waits on a send: a full socket buffer loses the datagram, as UDP may.
        if let Err(error) = self.socket.try_send_to(out, peer) {
            tracing::debug!(%peer, %error, "udp: answer not sent");
        }
    }

    /// Opens the session of a validated peer, starting with its `hello`.
    fn open(&mut self, peer: SocketAddr, hello: ClientFrame, encoding: Encoding) {
        // Over the connection budget a validated peer gets silence, as UDP allows: no session.
        let Ok(ticket) = self.ctx.admission.admit(peer.ip()) else { return };
        self.next_id += 1;
        let id = self.next_id;
        let mut session = self.ctx.hub.open(Transport::Udp, clock::now());
        session.queue().set_encoding(encoding);
        tracing::debug!(%peer, session = session.id(), "udp session opened");
        session.handle(clock::now(), hello);
        self.ctx.tracker.spawn(writer::run(
            session.queue().clone(),
            self.socket.clone(),
            peer,
            id,
            self.ctx.hub.metrics().clone(),
            self.ended.clone(),
            self.ctx.abort.clone(),
        ));
        self.peers.insert(peer, Peer { session, _ticket: ticket, id });
    }

    /// A session's writer finished: forget the session (dropping it leaves its rooms).
    fn forget(&mut self, peer: SocketAddr, id: u64) {
        if self.peers.get(&peer).is_some_and(|p| p.id == id) {
            self.peers.remove(&peer);
            tracing::debug!(%peer, "udp session ended");
        }
    }
}
