//! The transports under the driver: one task per connection attempt, speaking frames.
//!
//! The driver asks for a connection when the core machine says [`Output::Connect`]
//! (enchufe_core::client::Output::Connect). [`Connection::open`] spawns a task that opens the
//! transport, reports [`Input::Connected`], then runs a reader (frames in → [`Input::Frame`]) and
//! a writer (frames from the driver → bytes out) side by side until either ends, reporting
//! [`Input::Closed`] if the transport broke. Every input carries the connection's number, so
//! the driver drops what a connection it has already abandoned still delivers.
//!
//! The driver abandons a connection by dropping it: the writer sends what is queued, closes the
//! transport gracefully (TCP shutdown, WebSocket close frame) and the task ends; a task that
//! does not finish within [`CLOSE_GRACE`] is aborted.

mod tcp;
mod udp;
mod ws;

use std::time::Duration;

use enchufe_core::{ClientFrame, Encoding, ServerFrame};
use tokio::{
    sync::mpsc::{self, error::TrySendError},
    task::JoinHandle,
    time::Instant,
};

pub use udp::HELLO_SIZE;

use super::{Endpoint, TransportError};

/// How every connection of a client is made, besides its endpoint.
#[derive(Clone)]
pub(crate) struct Dial {
    /// The encoding after `hello`.
    pub(crate) encoding: Encoding,
    /// TLS settings, for `wss://` and `tls://` endpoints.
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for Dial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dial")
            .field("encoding", &self.encoding)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// The largest frame the client accepts from a server, in bytes (the server's own limit on what
/// it accepts is 64 KiB by default; a message it forwards carries a little more).
pub(crate) const MAX_INBOUND: usize = 1024 * 1024;

/// How long an abandoned connection may take to close gracefully before it is aborted.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Frames the driver may queue for a connection's writer; a writer this far behind means the
/// transport is not draining, and the driver gives the connection up.
const WRITE_QUEUE: usize = 1024;

/// What a connection task reports to the driver.
#[derive(Debug)]
pub(crate) enum Input {
    /// Connection `conn` is open: the driver calls `handle_connected`.
    Connected {
        /// The connection's number.
        conn: u64,
    },
    /// A frame arrived on connection `conn`.
    Frame {
        /// The connection's number.
        conn: u64,
        /// The decoded frame.
        frame: ServerFrame,
    },
    /// Connection `conn` failed to open or ended (`error` is `None` for a clean close).
    Closed {
        /// The connection's number.
        conn: u64,
        /// What went wrong, if anything.
        error: Option<TransportError>,
    },
}

/// One connection attempt, owned by the driver.
#[derive(Debug)]
pub(crate) struct Connection {
    id: u64,
    frames: mpsc::Sender<ClientFrame>,
    task: JoinHandle<()>,
}

/// A connection being closed, kept so that its graceful close can be awaited or cut short.
#[derive(Debug)]
pub(crate) struct Retiring {
    since: Instant,
    task: JoinHandle<()>,
}

/// Why [`Connection::send`] could not queue a frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The writer is [`WRITE_QUEUE`] frames behind.
    Full,
    /// The task has ended (its `Closed` input is on its way).
    Gone,
}

impl Connection {
    /// Spawns the task of connection number `id` to `endpoint`.
    pub(crate) fn open(
        id: u64,
        endpoint: &Endpoint,
        dial: &Dial,
        inputs: mpsc::Sender<Input>,
    ) -> Self {
        let (frames, queue) = mpsc::channel(WRITE_QUEUE);
        let task = tokio::spawn(run(id, endpoint.clone(), dial.clone(), queue, inputs));
        Connection { id, frames, task }
    }

    /// The connection's number.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Queues a frame for the writer, without waiting.
    pub(crate) fn send(&self, frame: ClientFrame) -> Result<(), SendError> {
        self.frames.try_send(frame).map_err(|error| match error {
            TrySendError::Full(_) => SendError::Full,
            TrySendError::Closed(_) => SendError::Gone,
        })
    }

    /// Stops using the connection: the writer flushes, closes the transport and the task ends.
    pub(crate) fn retire(self) -> Retiring {
        Retiring { since: Instant::now(), task: self.task }
    }
}

impl Retiring {
    /// Whether the task is over, or was aborted for taking longer than [`CLOSE_GRACE`].
    pub(crate) fn reap(&self) -> bool {
        if self.task.is_finished() {
            return true;
        }
        if self.since.elapsed() >= CLOSE_GRACE {
            self.task.abort();
            return true;
        }
        false
    }

    /// Waits for the graceful close until [`CLOSE_GRACE`] after it began, then aborts.
    pub(crate) async fn finish(self) {
        let abort = self.task.abort_handle();
        if tokio::time::timeout_at(self.since + CLOSE_GRACE, self.task).await.is_err() {
            abort.abort();
        }
    }
}

/// The two halves of an open transport.
enum Reader {
    Tcp(tcp::Reader),
    Ws(ws::Reader),
    Udp(udp::Reader),
}

enum Writer {
    Tcp(tcp::Writer),
    Ws(ws::Writer),
    Udp(udp::Writer),
}

async fn open(endpoint: &Endpoint, dial: &Dial) -> Result<(Reader, Writer), TransportError> {
    let encoding = dial.encoding;
    // Set for every TLS endpoint by `Client::spawn`; a missing one is a bug, reported as such.
    let tls = || {
        dial.tls.as_ref().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no TLS settings for a TLS URL")
        })
    };
    Ok(match endpoint {
        Endpoint::Tcp { addr, tls: false } => {
            let (r, w) = tcp::open(tcp::connect(addr).await?, encoding);
            (Reader::Tcp(r), Writer::Tcp(w))
        }
        Endpoint::Tcp { addr, tls: true } => {
            let (r, w) = tcp::open(super::tls::connect(tls()?, addr).await?, encoding);
            (Reader::Tcp(r), Writer::Tcp(w))
        }
        Endpoint::Ws { url, addr, tls: false } => {
            let (r, w) =
                ws::open(url, ws::Stream::Plain(tcp::connect(addr).await?), encoding).await?;
            (Reader::Ws(r), Writer::Ws(w))
        }
        Endpoint::Ws { url, addr, tls: true } => {
            let stream = super::tls::connect(tls()?, addr).await?;
            let (r, w) = ws::open(url, ws::Stream::Tls(Box::new(stream)), encoding).await?;
            (Reader::Ws(r), Writer::Ws(w))
        }
        Endpoint::Udp { addr } => {
            let (r, w) = udp::open(addr, encoding).await?;
            (Reader::Udp(r), Writer::Udp(w))
        }
    })
}

impl Reader {
    /// The next frame; `Ok(None)` when the transport ended cleanly.
    async fn next(&mut self) -> Result<Option<ServerFrame>, TransportError> {
        match self {
            Reader::Tcp(r) => r.next().await,
            Reader::Ws(r) => r.next().await,
            Reader::Udp(r) => r.next().await,
        }
    }
}

impl Writer {
    /// Writes a batch of frames, in order.
    async fn send(&mut self, frames: &[ClientFrame]) -> Result<(), TransportError> {
        match self {
            Writer::Tcp(w) => w.send(frames).await,
            Writer::Ws(w) => w.send(frames).await,
            Writer::Udp(w) => w.send(frames).await,
        }
    }

    /// Closes the transport gracefully (errors do not matter any more).
    async fn close(&mut self) {
        match self {
            Writer::Tcp(w) => w.close().await,
            Writer::Ws(w) => w.close().await,
            Writer::Udp(_) => {}
        }
    }
}

/// The connection task.
async fn run(
    conn: u64,
    endpoint: Endpoint,
    dial: Dial,
    mut queue: mpsc::Receiver<ClientFrame>,
    inputs: mpsc::Sender<Input>,
) {
    // Nothing is queued before `Connected`, so `recv` returning means the driver gave up.
    let opened = tokio::select! {
        opened = open(&endpoint, &dial) => opened,
        _ = queue.recv() => return,
    };
    let (mut reader, mut writer) = match opened {
        Ok(halves) => halves,
        Err(error) => {
            let _ = inputs.send(Input::Closed { conn, error: Some(error) }).await;
            return;
        }
    };
    if inputs.send(Input::Connected { conn }).await.is_err() {
        return;
    }
    let read = async {
        loop {
            match reader.next().await {
                Ok(Some(frame)) => {
                    if inputs.send(Input::Frame { conn, frame }).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    };
    let write = async {
        let mut batch = Vec::with_capacity(64);
        loop {
            if queue.recv_many(&mut batch, 64).await == 0 {
                writer.close().await;
                return Ok(());
            }
            writer.send(&batch).await?;
            batch.clear();
        }
    };
    tokio::select! {
        ended = read => {
            let _ = inputs.send(Input::Closed { conn, error: ended.err() }).await;
        }
        ended = write => {
            if let Err(error) = ended {
                let _ = inputs.send(Input::Closed { conn, error: Some(error) }).await;
            }
        }
    }
}
