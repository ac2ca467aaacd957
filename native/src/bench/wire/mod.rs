//! The adapter between the workloads and a server: connect, subscribe, publish, and read
//! delivered payloads, the same way whatever the server (enchufe or NATS) and transport.
//!
//! The read side is lean on purpose, because the load tool must outrun the server it measures:
//! it reads in large chunks, cuts frames out in place and hands out borrowed payloads — no
//! allocation and no full decode per delivery. Publishes are a prepared frame whose payload bytes
//! are overwritten.

mod enchufe;
mod nats;

use std::{ops::Range, sync::Arc, time::Duration};

use async_tungstenite::{
    WebSocketReceiver, WebSocketSender,
    tokio::{TokioAdapter, client_async_with_config},
    tungstenite::{Message, protocol::WebSocketConfig},
};
use bytes::{Buf, Bytes, BytesMut};
use enchufe_core::{
    ClientFrame, Hello, PROTOCOL_VERSION, RoomName, ServerFrame,
    codec::{Frame, binary, datagram},
};
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{
        TcpStream, UdpSocket,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};

use super::{BenchError, Link, Server, Target};

/// How long connecting and subscribing may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How much a TCP read asks for at least.
const READ_CHUNK: usize = 64 * 1024;
/// Published bytes collected before a write, when publishing fast.
const WRITE_CHUNK: usize = 64 * 1024;

/// Something a server sent, as the workloads see it.
#[derive(Debug)]
pub enum Event<'a> {
    /// A delivered message's payload.
    Payload(&'a [u8]),
    /// A subscription is in place (enchufe `joined`; NATS `PONG` to the `PING` after `SUB`).
    Ready,
    /// NATS asks for a `PONG`.
    Ping,
    /// The server reported an error.
    Error(String),
    /// Anything else (`welcome`, `presence`, `INFO`, …).
    Other,
}

/// A connection: its receiving and sending halves.
pub struct Conn {
    /// Reads events.
    pub rx: Receiver,
    /// Sends subscriptions and publishes.
    pub tx: Sender,
}

/// The receiving half of a [`Conn`].
pub struct Receiver {
    server: Server,
    source: Source,
    buf: BytesMut,
}

enum Source {
    Tcp(OwnedReadHalf),
    Ws(Box<WebSocketReceiver<TokioAdapter<TcpStream>>>),
    Udp(Arc<UdpSocket>),
}

/// The sending half of a [`Conn`].
pub struct Sender {
    server: Server,
    sink: Sink,
    /// Bytes for a stream (TCP, or NATS's stream inside WebSocket messages) not yet written.
    out: Vec<u8>,
    publish: Option<PublishTemplate>,
}

enum Sink {
    Tcp(OwnedWriteHalf),
    Ws(Box<WebSocketSender<TokioAdapter<TcpStream>>>),
    Udp(Arc<UdpSocket>),
}

/// A publish frame prepared once; each publish overwrites `payload`.
#[derive(Clone, Debug)]
pub(crate) struct PublishTemplate {
    bytes: Vec<u8>,
    payload: Range<usize>,
}

/// Connects to `target` and says hello (enchufe: binary encoding; UDP: the cookie handshake;
/// NATS: `CONNECT`).
pub async fn connect(target: &Target) -> Result<Conn, BenchError> {
    let setup = async {
        match target.link {
            Link::Tcp => {
                let stream = TcpStream::connect(target.addr).await?;
                stream.set_nodelay(true)?;
                let (rd, wr) = stream.into_split();
                let mut conn = Conn {
                    rx: Receiver {
                        server: target.server,
                        source: Source::Tcp(rd),
                        buf: BytesMut::new(),
                    },
                    tx: Sender::new(target.server, Sink::Tcp(wr)),
                };
                let hello = match target.server {
                    Server::Enchufe => enchufe::TCP_HELLO,
                    Server::Nats => nats::CONNECT,
                };
                conn.tx.control(hello).await?;
                Ok(conn)
            }
            Link::Ws => {
                let stream = TcpStream::connect(target.addr).await?;
                stream.set_nodelay(true)?;
                let url = format!("ws://{}{}", target.addr, target.path);
                let config = WebSocketConfig::default().write_buffer_size(WRITE_CHUNK);
                let (ws, _) = client_async_with_config(url, stream, Some(config)).await?;
                let (tx, rx) = ws.split();
                let mut conn = Conn {
                    rx: Receiver {
                        server: target.server,
                        source: Source::Ws(Box::new(rx)),
                        buf: BytesMut::new(),
                    },
                    tx: Sender::new(target.server, Sink::Ws(Box::new(tx))),
                };
                let hello = match target.server {
                    Server::Enchufe => enchufe::hello(None, true),
                    Server::Nats => nats::CONNECT.to_vec(),
                };
                conn.tx.control(&hello).await?;
                Ok(conn)
            }
            Link::Udp => udp_handshake(target).await,
        }
    };
    tokio::time::timeout(SETUP_TIMEOUT, setup)
        .await
        .map_err(|_| BenchError::Timeout(format!("connecting to {}", target.url)))?
}

/// UDP: a padded JSON `hello`, the `challenge`, the binary `hello` with its cookie, `welcome`.
async fn udp_handshake(target: &Target) -> Result<Conn, BenchError> {
    let local = if target.addr.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" };
    let socket = Arc::new(UdpSocket::bind(local).await?);
    socket.connect(target.addr).await?;
    let mut first = Vec::new();
    let hello = ClientFrame::Hello(Hello { v: PROTOCOL_VERSION, ..Hello::default() });
    datagram::padded_hello(&hello, &mut first);
    socket.send(&first).await?;
    let mut buf = vec![0; 2048];
    let n = socket.recv(&mut buf).await?;
    let cookie = match ServerFrame::decode_json(&buf[..n]) {
        Ok(ServerFrame::Challenge(c)) => c.cookie,
        other => return Err(BenchError::Protocol(format!("expected a challenge, got {other:?}"))),
    };
    socket.send(&enchufe::hello(Some(cookie), false)).await?;
    let n = socket.recv(&mut buf).await?;
    match ServerFrame::decode_binary(&buf[..n]) {
        Ok(ServerFrame::Welcome(_)) => {}
        other => return Err(BenchError::Protocol(format!("expected welcome, got {other:?}"))),
    }
    Ok(Conn {
        rx: Receiver {
            server: Server::Enchufe,
            source: Source::Udp(socket.clone()),
            buf: BytesMut::new(),
        },
        tx: Sender::new(Server::Enchufe, Sink::Udp(socket)),
    })
}

impl Conn {
    /// Subscribes to `room` and waits until the server confirms it.
    pub async fn subscribe(&mut self, room: &RoomName) -> Result<(), BenchError> {
        let request = match self.tx.server {
            Server::Enchufe => enchufe::join(room),
            Server::Nats => nats::sub(room.as_str()),
        };
        self.tx.control(&request).await?;
        self.wait_ready().await
    }

    /// A ping answered by a pong (NATS's `PING`, enchufe's `ping`): the server has read and
    /// handled everything sent before it. A publisher that exits without it may lose what the
    /// server had not read yet (a socket closed with unread input is reset, and the reset
    /// discards the input still queued in the kernel).
    pub async fn sync(&mut self) -> Result<(), BenchError> {
        let ping = match self.tx.server {
            Server::Nats => b"PING\r\n".to_vec(),
            Server::Enchufe => enchufe::ping(),
        };
        self.tx.control(&ping).await?;
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> Result<(), BenchError> {
        let wait = async {
            loop {
                let mut ready = false;
                let mut failed = None;
                let mut ping = false;
                self.rx
                    .read(&mut |event| match event {
                        Event::Ready => ready = true,
                        Event::Error(e) => failed = Some(e),
                        Event::Ping => ping = true,
                        Event::Payload(_) | Event::Other => {}
                    })
                    .await?;
                if ping {
                    self.tx.pong().await?;
                }
                if let Some(error) = failed {
                    return Err(BenchError::Server(error));
                }
                if ready {
                    return Ok(());
                }
            }
        };
        tokio::time::timeout(SETUP_TIMEOUT, wait)
            .await
            .map_err(|_| BenchError::Timeout("waiting for the subscription".into()))?
    }
}

impl Receiver {
    /// Waits for input, then hands every complete event in it to `on`. Fails when the server
    /// closed the connection.
    pub async fn read(&mut self, on: &mut impl FnMut(Event<'_>)) -> Result<(), BenchError> {
        match &mut self.source {
            Source::Tcp(rd) => {
                self.buf.reserve(READ_CHUNK);
                if rd.read_buf(&mut self.buf).await? == 0 {
                    return Err(BenchError::Closed);
                }
                let used = match self.server {
                    Server::Enchufe => enchufe::stream(&self.buf, on)?,
                    Server::Nats => nats::stream(&self.buf, on)?,
                };
                self.buf.advance(used);
            }
            Source::Ws(rx) => {
                let first = rx.next().await;
                ws_message(self.server, &mut self.buf, first, on)?;
                // Whatever else is already buffered, without waiting again.
                while let Some(next) = rx.next().now_or_never() {
                    ws_message(self.server, &mut self.buf, next, on)?;
                }
            }
            Source::Udp(socket) => {
                self.buf.resize(2048, 0);
                let n = socket.recv(&mut self.buf).await?;
                enchufe::frame(&self.buf[..n], on);
            }
        }
        Ok(())
    }
}

/// One WebSocket message: a batch of enchufe's length-prefixed frames, or a chunk of NATS's
/// stream.
fn ws_message(
    server: Server,
    buf: &mut BytesMut,
    message: Option<Result<Message, async_tungstenite::tungstenite::Error>>,
    on: &mut impl FnMut(Event<'_>),
) -> Result<(), BenchError> {
    let data = match message {
        None | Some(Ok(Message::Close(_))) => return Err(BenchError::Closed),
        Some(Err(error)) => return Err(error.into()),
        Some(Ok(Message::Binary(data))) => data,
        Some(Ok(Message::Text(text))) => Bytes::from(text),
        Some(Ok(_)) => return Ok(()), // ping, pong: tungstenite answers pings itself
    };
    match server {
        Server::Enchufe => {
            if enchufe::stream(&data, on)? != data.len() {
                return Err(BenchError::Protocol("a batch ended inside a frame".into()));
            }
        }
        Server::Nats => {
            buf.extend_from_slice(&data);
            let used = nats::stream(buf, on)?;
            buf.advance(used);
        }
    }
    Ok(())
}

impl Sender {
    fn new(server: Server, sink: Sink) -> Self {
        Sender { server, sink, out: Vec::new(), publish: None }
    }

    /// Prepares publishing `size`-byte payloads to `room`.
    pub fn prepare(&mut self, room: &RoomName, size: usize) {
        self.publish = Some(match self.server {
            Server::Enchufe => enchufe::publish(room, size, matches!(self.sink, Sink::Tcp(_))),
            Server::Nats => nats::publish(room.as_str(), size),
        });
    }

    /// Publishes `payload` (of the prepared size) — buffered on streams until [`Sender::flush`]
    /// or a full chunk.
    pub async fn publish(&mut self, payload: &[u8]) -> Result<(), BenchError> {
        let Some(template) = self.publish.as_mut() else {
            return Err(BenchError::Protocol("publish before prepare".into()));
        };
        template.bytes[template.payload.clone()].copy_from_slice(payload);
        match (&mut self.sink, self.server) {
            (Sink::Ws(tx), Server::Enchufe) => {
                tx.feed(Message::Binary(Bytes::copy_from_slice(&template.bytes))).await?;
            }
            (Sink::Udp(socket), _) => {
                socket.send(&template.bytes).await?;
            }
            _ => {
                self.out.extend_from_slice(&template.bytes);
                if self.out.len() >= WRITE_CHUNK {
                    self.flush().await?;
                }
            }
        }
        Ok(())
    }

    /// Writes everything buffered.
    pub async fn flush(&mut self) -> Result<(), BenchError> {
        match &mut self.sink {
            Sink::Tcp(wr) => {
                if !self.out.is_empty() {
                    wr.write_all(&self.out).await?;
                }
            }
            Sink::Ws(tx) => {
                if !self.out.is_empty() {
                    tx.feed(Message::Binary(Bytes::copy_from_slice(&self.out))).await?;
                }
                tx.flush().await?;
            }
            Sink::Udp(_) => {}
        }
        self.out.clear();
        Ok(())
    }

    /// Answers a NATS `PING`.
    pub async fn pong(&mut self) -> Result<(), BenchError> {
        self.control(b"PONG\r\n").await
    }

    /// Sends one setup frame (or line) at once.
    async fn control(&mut self, bytes: &[u8]) -> Result<(), BenchError> {
        match &mut self.sink {
            Sink::Tcp(_) => {
                // enchufe's TCP stream starts with a JSON line; binary frames after it (they
                // start with their version byte) get their length prefix here.
                if self.server == Server::Enchufe && bytes.first() == Some(&binary::VERSION) {
                    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                    self.out.extend_from_slice(&len.to_be_bytes());
                }
                self.out.extend_from_slice(bytes);
                self.flush().await
            }
            Sink::Ws(tx) => Ok(tx.send(Message::Binary(Bytes::copy_from_slice(bytes))).await?),
            Sink::Udp(socket) => {
                socket.send(bytes).await?;
                Ok(())
            }
        }
    }
}
