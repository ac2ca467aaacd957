//! Helpers shared by the integration tests: an in-process server on 127.0.0.1 port 0, and
//! small clients for each transport. Every wait is bounded by [`WAIT`].
//!
//! With `ENCHUFE_TEST_TLS=1` ([`TLS_ENV`]) the same tests run over TLS: the server gets a
//! self-signed certificate made for the process, and every client here (TCP, WebSocket, HTTP,
//! SSE) connects through [`dial`], which makes the handshake (`cargo xtask test` runs the TCP,
//! WebSocket, SSE and HTTP suites so once more).
#![allow(dead_code, unused_imports, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::{
    net::SocketAddr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_tungstenite::{
    WebSocketStream,
    tokio::{TokioAdapter, client_async},
    tungstenite::Message,
};
use enchufe::{config::Config, tls::TlsFiles};
use enchufe_core::{ClientFrame, ServerFrame, codec::Frame};
use enchufe_tests::http::Stream;
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, ReadHalf, WriteHalf},
    net::TcpStream,
};

/// The longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(5);

#[path = "../support/server.rs"]
mod server;
pub use server::{TestServer, on_redis};
#[path = "../support/lines.rs"]
mod lines;
pub use lines::lines_of;

impl TestServer {
    /// HTTP+WS and TCP on port 0 (UDP off: these tests do not speak it); over TLS with
    /// [`TLS_ENV`] set.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = TestServer::config();
        config.udp = None;
        let _files = with_tls(&mut config);
        tweak(&mut config);
        TestServer::bind(config).await
    }

    /// Shuts down and waits for `run` to return.
    pub async fn stop(self) {
        self.stop_within(WAIT * 2).await;
    }
}

/// Awaits `f` for at most [`WAIT`].
pub async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

// ---------------------------------------------------------------- TLS

/// Set (to anything but `0`) to run the tests of this process over TLS.
pub const TLS_ENV: &str = "ENCHUFE_TEST_TLS";

/// Whether [`TLS_ENV`] is set.
pub fn tls_on() -> bool {
    std::env::var_os(TLS_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The process's self-signed certificate (127.0.0.1, localhost) and a connector trusting it.
pub struct TestCert {
    cert_pem: String,
    key_pem: String,
    pub connector: tokio_rustls::TlsConnector,
}

pub fn test_cert() -> &'static TestCert {
    static CERT: OnceLock<TestCert> = OnceLock::new();
    CERT.get_or_init(|| {
        let made = rcgen::generate_simple_self_signed(["127.0.0.1".to_owned(), "localhost".into()])
            .expect("a self-signed certificate");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(made.cert.der().clone()).expect("a CA certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TestCert {
            cert_pem: made.cert.pem(),
            key_pem: made.signing_key.serialize_pem(),
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    })
}

/// The certificate's PEM files, removed on drop: keep it until the server is bound (the files
/// are read at bind; these tests do not reload them).
pub struct TlsDir(std::path::PathBuf);

impl Drop for TlsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// With [`TLS_ENV`] set: turns TLS on in `config` with the process's certificate, and sends
/// the shared HTTP client's requests through [`dial`].
pub fn with_tls(config: &mut Config) -> Option<TlsDir> {
    if !tls_on() {
        return None;
    }
    enchufe_tests::http::set_dialer(|addr| Box::pin(dial(addr)));
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("enchufe-test-tls-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = TlsFiles { cert: dir.join("cert.pem"), key: dir.join("key.pem") };
    std::fs::write(&files.cert, &test_cert().cert_pem).unwrap();
    std::fs::write(&files.key, &test_cert().key_pem).unwrap();
    config.tls = Some(files);
    Some(TlsDir(dir))
}

/// A connection to `addr`: plain TCP, or with [`TLS_ENV`] set, TLS over it.
pub async fn dial(addr: SocketAddr) -> Box<dyn Stream> {
    let tcp = within("connect", TcpStream::connect(addr)).await.expect("connect");
    if !tls_on() {
        return Box::new(tcp);
    }
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = within("tls handshake", test_cert().connector.connect(name, tcp)).await;
    Box::new(tls.expect("tls handshake"))
}

// ---------------------------------------------------------------- TCP (JSON lines)

pub struct TcpClient {
    reader: BufReader<ReadHalf<Box<dyn Stream>>>,
    writer: WriteHalf<Box<dyn Stream>>,
}

impl TcpClient {
    pub async fn connect(addr: SocketAddr) -> TcpClient {
        let (r, w) = tokio::io::split(dial(addr).await);
        TcpClient { reader: BufReader::new(r), writer: w }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("tcp write");
        // TLS keeps what is written until flushed; a plain socket's flush does nothing.
        self.writer.flush().await.expect("tcp flush");
    }

    pub async fn send(&mut self, frame: Value) {
        let mut line = serde_json::to_vec(&frame).unwrap();
        line.push(b'\n');
        self.send_raw(&line).await;
    }

    /// The next frame as JSON, or `None` at EOF.
    pub async fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        let n = within("tcp line", self.reader.read_line(&mut line)).await.unwrap_or(0);
        if n == 0 {
            return None;
        }
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}")))
    }

    pub async fn recv(&mut self) -> Value {
        self.next().await.expect("a frame, not EOF")
    }

    /// Skips frames until one of `kind` arrives.
    pub async fn recv_kind(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Reads until EOF and returns everything read.
    pub async fn until_eof(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next().await {
            frames.push(frame);
        }
        frames
    }

    /// Sends `hello` and waits for `welcome`; returns the session id.
    pub async fn hello(&mut self, hello: Value) -> String {
        self.send(hello).await;
        let welcome = self.recv_kind("welcome").await;
        welcome["session"].as_str().unwrap().to_owned()
    }

    /// Joins `room` (optionally with `since`) and returns `joined`.
    pub async fn join(&mut self, room: &str, since: Option<u64>) -> Value {
        let mut join = serde_json::json!({"type":"join","room":room});
        if let Some(since) = since {
            join["since"] = since.into();
        }
        self.send(join).await;
        self.recv_kind("joined").await
    }
}

// ---------------------------------------------------------------- TCP (binary)

pub struct BinaryTcpClient {
    stream: Box<dyn Stream>,
}

impl BinaryTcpClient {
    /// Connects and switches to binary with a JSON `hello` line.
    pub async fn connect(addr: SocketAddr, hello: Value) -> BinaryTcpClient {
        let mut stream = dial(addr).await;
        let mut line = serde_json::to_vec(&hello).unwrap();
        line.push(b'\n');
        stream.write_all(&line).await.unwrap();
        stream.flush().await.unwrap();
        BinaryTcpClient { stream }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        let mut body = Vec::new();
        frame.encode_binary(&mut body);
        self.send_prefixed(&body).await;
    }

    pub async fn send_prefixed(&mut self, body: &[u8]) {
        let mut out = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(body);
        self.stream.write_all(&out).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    pub async fn next(&mut self) -> Option<ServerFrame> {
        let mut len = [0u8; 4];
        within("binary prefix", self.stream.read_exact(&mut len)).await.ok()?;
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        within("binary body", self.stream.read_exact(&mut body)).await.ok()?;
        Some(ServerFrame::decode_binary(&body).expect("server sends valid binary frames"))
    }

    pub async fn recv(&mut self) -> ServerFrame {
        self.next().await.expect("a frame, not EOF")
    }
}

// ---------------------------------------------------------------- WebSocket

pub struct WsClient {
    pub ws: WebSocketStream<TokioAdapter<Box<dyn Stream>>>,
}

/// What a WebSocket read produced.
#[derive(Debug)]
pub enum WsEvent {
    Text(Value),
    Binary(ServerFrame),
    Closed(Option<u16>, String),
}

impl WsClient {
    pub async fn connect(addr: SocketAddr) -> WsClient {
        let stream = dial(addr).await;
        let (ws, _) = within("ws connect", client_async(format!("ws://{addr}/ws"), stream))
            .await
            .expect("ws handshake");
        WsClient { ws }
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::Text(frame.to_string().into())).await.expect("ws send");
    }

    pub async fn send_binary(&mut self, frame: &ClientFrame) {
        let mut body = Vec::new();
        frame.encode_binary(&mut body);
        self.ws.send(Message::Binary(body.into())).await.expect("ws send");
    }

    pub async fn event(&mut self) -> WsEvent {
        loop {
            match within("ws message", self.ws.next()).await {
                Some(Ok(Message::Text(text))) => {
                    return WsEvent::Text(serde_json::from_str(&text).expect("json frame"));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    return WsEvent::Binary(ServerFrame::decode_binary(&bytes).expect("binary"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return WsEvent::Closed(
                        frame.as_ref().map(|f| u16::from(f.code)),
                        frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    );
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return WsEvent::Closed(None, e.to_string()),
                None => return WsEvent::Closed(None, "ended".into()),
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        match self.event().await {
            WsEvent::Text(v) => v,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    pub async fn recv_kind(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Reads until the close frame; returns the frames before it and the close code.
    pub async fn until_close(&mut self) -> (Vec<Value>, Option<u16>) {
        let mut frames = Vec::new();
        loop {
            match self.event().await {
                WsEvent::Text(v) => frames.push(v),
                WsEvent::Binary(_) => {}
                WsEvent::Closed(code, _) => return (frames, code),
            }
        }
    }
}

// ---------------------------------------------------------------- HTTP and SSE

// One HTTP/SSE client for every test (tests/src/http.rs): real requests through hyper's client,
// nothing hand-written. Tests about raw bytes (slow headers, a reader that never reads) keep
// their own sockets.
pub use enchufe_tests::http::{HttpResponse, SseClient, SseEvent, get, post_json, request as http};

// ---------------------------------------------------------------- raw WebSocket

/// A WebSocket client that does nothing on its own (it never answers pings): for idle tests.
pub struct RawWs {
    stream: Box<dyn Stream>,
}

impl RawWs {
    pub async fn connect(addr: SocketAddr) -> RawWs {
        let mut stream = dial(addr).await;
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            within("handshake", stream.read_exact(&mut byte)).await.unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "RFC 6455's sample accept key");
        RawWs { stream }
    }

    /// Sends raw bytes, e.g. a frame that breaks the protocol.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// Every (opcode, payload) the server sends until it closes the connection.
    pub async fn frames_until_eof(&mut self) -> Vec<(u8, Vec<u8>)> {
        let mut raw = Vec::new();
        match within("eof", self.stream.read_to_end(&mut raw)).await {
            // Over TLS, a close without close_notify; what came before it is in `raw`.
            Err(e) if tls_on() && e.kind() == std::io::ErrorKind::UnexpectedEof => {}
            read => {
                read.unwrap();
            }
        }
        let mut frames = Vec::new();
        let mut rest = &raw[..];
        while rest.len() >= 2 {
            let opcode = rest[0] & 0x0f;
            let (len, header) = match rest[1] & 0x7f {
                126 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
                127 => (u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize, 10),
                n => (n as usize, 2),
            };
            frames.push((opcode, rest[header..header + len].to_vec()));
            rest = &rest[header + len..];
        }
        frames
    }
}
