//! One TCP connection: a reader that splits the stream into frames for the session, a writer
//! that drains its queue; `connection::serve` runs them. The stream is plain TCP or TLS over it
//! ([`Wire`]); the connection's code is the same for both.

use std::{future::Future, io};

use bytes::{Buf, BytesMut};
use enchufe_core::{
    ClientFrame, Encoding,
    codec::{Frame, Framing, StreamDecoder},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt},
    net::{
        TcpStream,
        tcp::{ReadHalf, WriteHalf},
    },
};
use tokio_rustls::server::TlsStream;

use crate::{
    admission::Ticket,
    clock,
    connection::{Batch, Ended, discard, linger, serve},
    egress::{Form, write_batch},
    flow,
    hub::{CloseReason, HubConfig, SendQueue, Session, Transport},
    metrics::Metrics,
    server::Context,
};

/// Room made in the read buffer for a read, once the socket is readable. The buffer is freed
/// whenever it holds no partial frame, so it grows only as far as the frames a client actually
/// sends (at most one maximum frame plus this), and only while it sends.
const READ_CHUNK: usize = 4096;

/// A connection's byte stream, split into a reader and a writer that borrow it: plain TCP, or
/// TLS over TCP.
pub(crate) trait Wire {
    /// The reading half.
    type Reader<'a>: ReadSome
    where
        Self: 'a;
    /// The writing half.
    type Writer<'a>: AsyncWrite + Unpin + Send
    where
        Self: 'a;
    /// Splits the stream.
    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>);
}

impl Wire for TcpStream {
    type Reader<'a> = ReadHalf<'a>;
    type Writer<'a> = WriteHalf<'a>;

    fn halves(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        // Borrowed halves: into_split would put them in one more heap node per connection.
        self.split()
    }
}

impl Wire for TlsStream<TcpStream> {
    type Reader<'a> = tokio::io::ReadHalf<&'a mut Self>;
    type Writer<'a> = tokio::io::WriteHalf<&'a mut Self>;

    fn halves(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        // One shared TLS session under a lock: both halves read and write its records.
        tokio::io::split(self)
    }
}

/// Reads whatever has arrived into a buffer, making room only once there is something to read
/// where the stream allows it.
pub(crate) trait ReadSome: AsyncRead + Unpin + Send {
    /// Reads into `buf`; `Ok(0)` at the end of the stream.
    fn read_some(&mut self, buf: &mut BytesMut) -> impl Future<Output = io::Result<usize>> + Send;
}

impl ReadSome for ReadHalf<'_> {
    /// Waits until the socket is readable, and only then makes room in `buf` and reads.
    async fn read_some(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        loop {
            // poll_read_ready keeps the waker in the socket's own slot; `readable()` would hold a
            // waiter node in this (every idle connection's) task.
            std::future::poll_fn(|cx| self.as_ref().poll_read_ready(cx)).await?;
            buf.reserve(READ_CHUNK);
            match self.try_read_buf(buf) {
                // Readiness was stale: give the room back before waiting again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if buf.is_empty() {
                        *buf = BytesMut::new();
                    }
                }
                read => return read,
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> ReadSome for tokio::io::ReadHalf<S> {
    /// TLS decrypts into rustls's own buffers first (which an idle TLS connection holds
    /// anyway), so there is no readiness to wait for here: the room is made up front.
    async fn read_some(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        buf.reserve(READ_CHUNK);
        self.read_buf(buf).await
    }
}

/// Serves one connection until the client leaves, the hub ends the session, or shutdown aborts.
/// `_ticket` holds the connection's place in the connection budget until then.
pub(crate) async fn run<S: Wire>(mut stream: S, ctx: Context, _ticket: Ticket) {
    let (mut rd, wr) = stream.halves();
    let mut session = ctx.hub.open(Transport::Tcp, clock::now());
    let queue = session.queue().clone();
    tracing::debug!(session = session.id(), "tcp connected");
    let end = serve!(ctx, session, queue,
        reader: read_loop(&mut rd, &mut session, &ctx.config.hub),
        writer: write_loop(wr, queue.clone(), ctx.hub.metrics()),
    );
    let Ended::Flushed(end) = end else { return };
    tracing::debug!(?end, "tcp closed");
    // Closed with an error: the client may still be sending, and must get the error.
    if let Some(CloseReason::Error(_)) = end {
        linger(&ctx.abort, discard(&mut rd)).await;
    }
}

/// Reads, splits and decodes frames into the session until EOF, a read error, a framing error,
/// or the session closing (the hub closes it when the client falls silent).
async fn read_loop(rd: &mut impl ReadSome, session: &mut Session, config: &HubConfig) {
    let mut buf = BytesMut::new();
    let mut decoder = StreamDecoder::new(Framing::Lines, config.max_frame);
    session.batch_publishes();
    loop {
        loop {
            let split = match decoder.split(&buf) {
                Ok(split) => split,
                Err(error) => {
                    session.close(error.code(), &error.to_string());
                    return;
                }
            };
            let Some(bytes) = split.frame else {
                buf.advance(split.used);
                break;
            };
            match ClientFrame::decode(bytes, decoder.encoding()) {
                Ok(frame) => {
                    // The first line may switch the rest of the stream to binary frames.
                    if decoder.switch_on(&frame) {
                        session.queue().set_encoding(Encoding::Binary);
                    }
                    session.handle(clock::now(), frame);
                }
                Err(error) => session.reject(clock::now(), &error),
            }
            buf.advance(split.used);
            if session.is_closed() {
                return;
            }
            flow::pace(session).await;
        }
        if buf.is_empty() {
            // Nothing half-read: an idle connection holds no buffer at all.
            buf = BytesMut::new();
        }
        // Silence and unfinished frames are the hub's to judge (`Hub::handle_timeout`): no timer
        // per connection. Only whole frames count as heard, so a line trickling in a byte at a
        // time does not keep a connection alive.
        session.unfinished(clock::now(), !buf.is_empty());
        // What was read is handled: its publishes go out before the wait for more.
        session.flush();
        if let Ok(0) | Err(_) = rd.read_some(&mut buf).await {
            return;
        }
    }
}

/// Drains the queue: every queued frame, in the connection's framing, goes out in one
/// vectored write. Returns how the queue ended, or `None` if the connection broke.
async fn write_loop(
    mut wr: impl AsyncWrite + Unpin,
    queue: SendQueue,
    metrics: &Metrics,
) -> Option<CloseReason> {
    let mut batch = Batch::default();
    loop {
        let end = batch.take(&queue).await;
        write_batch(&mut wr, batch.frames(metrics), Form::tcp(queue.encoding())).await.ok()?;
        batch.written(&queue);
        if let Some(end) = end {
            let _ = wr.shutdown().await;
            return Some(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every idle connection is one of these tasks, waiting: its size is most of what an idle
    /// connection costs (docs/PERFORMANCE.md, "Memory per idle connection"). A change that grows
    /// it past the bound (an array in a future, a value held across an await) fails here.
    #[tokio::test]
    async fn an_idle_connection_task_stays_small() {
        // 792 in a debug build (776 release; rustc 1.95) since the wait for the queue's close
        // keeps its waker in the queue, not a waiter node here: tokio's task cell fell a
        // 128-byte step, and an idle TCP connection's RSS from 2,096 to 1,977 B. 840 since the
        // linger after an error close is boxed (856 before): 776 and 760 before flow control
        // and the connection budget (the ticket that holds the place is 32 bytes; the pause
        // between frames is boxed, so it costs only while a pause lasts).
        const BOUND: usize = 800;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let ctx = Context::for_tests();
        let ticket = ctx.admission.admit(std::net::Ipv4Addr::LOCALHOST.into()).unwrap();
        let task = run(stream, ctx, ticket);
        let size = std::mem::size_of_val(&task);
        assert!(size <= BOUND, "the TCP connection task is {size} bytes (bound {BOUND})");
    }
}
