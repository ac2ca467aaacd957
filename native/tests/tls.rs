//! TLS on real sockets: a self-signed certificate made here (rcgen), the server's HTTP listener
//! as `https://`/`wss://` and its TCP listener as `tls://`. The native client over both, REST
//! and SSE over HTTPS, a plain client on the TLS port, a client that never says hello, the
//! certificate reloaded while the server runs, and the CLI's startup lines and SIGHUP.

mod client_support;

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use client_support::{TestServer, connect, lines_of, messages, options, text, within};
use enchufe::{server::Server, tls::TlsFiles};
use enchufe_tests::http::{SseClient, request_over};
use rustls::{ClientConfig, RootCertStore, crypto::ring};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files in a fresh
/// directory: the server's cert and key, and the cert again as the clients' CA file.
struct Cert {
    dir: PathBuf,
    der: CertificateDer<'static>,
}

impl Cert {
    fn new() -> Cert {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("enchufe-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cert = Cert { dir, der: CertificateDer::from(Vec::new()) };
        cert.generate()
    }

    /// A new key pair and certificate in the same files (what a renewal does).
    fn generate(mut self) -> Cert {
        let made = rcgen::generate_simple_self_signed(["127.0.0.1".to_owned(), "localhost".into()])
            .expect("a self-signed certificate");
        std::fs::write(self.cert_path(), made.cert.pem()).expect("write cert");
        std::fs::write(self.key_path(), made.signing_key.serialize_pem()).expect("write key");
        self.der = made.cert.der().clone();
        self
    }

    fn cert_path(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    fn files(&self) -> TlsFiles {
        TlsFiles { cert: self.cert_path(), key: self.key_path() }
    }
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TLS server on port 0 (HTTP, TCP; UDP too, plain) with `cert`, and `tweak` applied.
async fn server(cert: &Cert, tweak: impl FnOnce(&mut enchufe::config::Config)) -> TestServer {
    let files = cert.files();
    TestServer::start(|config| {
        config.tls = Some(files);
        tweak(config);
    })
    .await
}

/// A connector that trusts exactly `certs`.
fn connector(certs: &[&CertificateDer<'static>]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add((*cert).clone()).expect("a CA certificate");
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `addr`, checked for the name 127.0.0.1.
async fn tls_connect(connector: &TlsConnector, addr: SocketAddr) -> TlsStream<TcpStream> {
    let tcp = within("connect", TcpStream::connect(addr)).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("an IP address");
    within("tls handshake", connector.connect(name, tcp)).await.expect("tls handshake")
}

/// The certificate the server presented on `stream`.
fn peer_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().expect("a server certificate")[0].clone()
}

/// `/metrics` over HTTPS: the value of the unlabelled counter `name`.
async fn metric(connector: &TlsConnector, http: SocketAddr, name: &str) -> u64 {
    let stream = tls_connect(connector, http).await;
    let response = request_over(stream, &http.to_string(), "GET", "/metrics", &[], b"").await;
    let prefix = format!("{name} ");
    let text = response.text();
    let line = text.lines().find(|line| line.starts_with(&prefix)).expect("the metric");
    line[prefix.len()..].parse().expect("a number")
}

/// The native client publishes and receives over `scheme` (`wss` or `tls`), JSON and binary.
async fn native_client_over(scheme: &str) {
    let cert = Cert::new();
    let server = server(&cert, |_| {}).await;
    let url = match scheme {
        "wss" => format!("wss://{}/ws", server.http()),
        _ => format!("tls://{}", server.tcp()),
    };
    let ca = cert.cert_path();
    let ana = connect(&url, options("ana").ca_file(&ca)).await;
    let bob = connect(&url, options("bob").ca_file(&ca).binary(true)).await;
    within("join", ana.join("lobby", None)).await.expect("ana joins");
    within("join", bob.join("lobby", None)).await.expect("bob joins");
    let first = within("publish", ana.publish_json("lobby", &"hola")).await.expect("ack");
    let second = within("publish", bob.publish_json("lobby", &7)).await.expect("ack");
    assert_eq!((first, second), (1, 2), "{scheme}");
    for client in [&ana, &bob] {
        let got = messages(client, 2).await;
        assert_eq!((text(&got[0]), text(&got[1])), ("\"hola\"", "7"), "{scheme}");
    }
    ana.close().await;
    bob.close().await;
    server.stop().await;
}

#[tokio::test]
async fn native_client_over_wss() {
    native_client_over("wss").await;
}

#[tokio::test]
async fn native_client_over_tls_tcp() {
    native_client_over("tls").await;
}

#[tokio::test]
async fn a_client_without_the_ca_refuses_a_self_signed_server() {
    let cert = Cert::new();
    let server = server(&cert, |_| {}).await;
    // Mozilla's roots do not include a certificate made a moment ago.
    let refused = enchufe::client::connect(&format!("tls://{}", server.tcp()), options("x")).await;
    assert!(refused.is_err(), "connected without trusting the certificate");
    let missing = options("x").ca_file(cert.dir.join("missing.pem"));
    let refused = enchufe::client::connect(&format!("tls://{}", server.tcp()), missing).await;
    assert!(
        matches!(refused, Err(enchufe::client::Error::CaFile { .. })),
        "a CA file that cannot be read is its own error: {refused:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn rest_publish_and_an_sse_stream_over_https() {
    let cert = Cert::new();
    let server = server(&cert, |_| {}).await;
    let http = server.http();
    let host = http.to_string();
    let tls = connector(&[&cert.der]);

    let stream = tls_connect(&tls, http).await;
    let mut events = SseClient::connect_over(stream, &host, "/api/rooms/feed/events", &[]).await;
    assert_eq!(events.status, 200);
    assert!(events.content_type.starts_with("text/event-stream"), "{}", events.content_type);
    within("joined", events.next_kind("joined")).await;

    let stream = tls_connect(&tls, http).await;
    let headers = [("Content-Type", "application/json")];
    let path = "/api/rooms/feed/messages?from=rest";
    let posted = request_over(stream, &host, "POST", path, &headers, br#"{"n":1}"#).await;
    assert_eq!(posted.status, 201, "{}", posted.text());
    assert_eq!(posted.json()["seq"], 1);

    let stream = tls_connect(&tls, http).await;
    let info = request_over(stream, &host, "GET", "/api/info", &[], b"").await.json();
    assert_eq!(info["tls"], true, "{info}");

    let message = within("message", events.next_kind("message")).await.json();
    assert_eq!((message["seq"].as_u64(), message["body"]["n"].as_u64()), (Some(1), Some(1)));
    assert_eq!(message["from"], "rest");
    server.stop().await;
}

#[tokio::test]
async fn a_plain_client_on_a_tls_port_is_closed_and_the_server_stays_healthy() {
    let cert = Cert::new();
    let server = server(&cert, |_| {}).await;
    let tls = connector(&[&cert.der]);
    let before = metric(&tls, server.http(), "enchufe_tls_handshake_failures_total").await;

    for addr in [server.tcp(), server.http()] {
        let mut plain = within("connect", TcpStream::connect(addr)).await.expect("connect");
        let hello = b"{\"type\":\"hello\",\"v\":1}\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        plain.write_all(hello).await.expect("write");
        // rustls answers a record that is not TLS with an alert, then closes.
        let mut answer = Vec::new();
        let _ = within("close", plain.read_to_end(&mut answer)).await;
        assert!(!answer.windows(7).any(|w| w == b"welcome"), "no frame in the clear");
        assert!(!answer.starts_with(b"HTTP/"), "no HTTP in the clear");
    }

    let after = metric(&tls, server.http(), "enchufe_tls_handshake_failures_total").await;
    assert_eq!(after, before + 2, "each failed handshake is counted");
    // Still serving TLS clients.
    let ca = cert.cert_path();
    let client = connect(&format!("tls://{}", server.tcp()), options("ok").ca_file(&ca)).await;
    within("join", client.join("room", None)).await.expect("join after the failures");
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_never_sends_a_client_hello_is_closed_within_the_handshake_timeout() {
    let cert = Cert::new();
    let server = server(&cert, |config| config.header_timeout = Duration::from_millis(200)).await;
    for addr in [server.tcp(), server.http()] {
        let mut silent = within("connect", TcpStream::connect(addr)).await.expect("connect");
        let mut byte = [0u8; 1];
        // `within` bounds the wait well above the 200 ms timeout: a server that never closed
        // the connection would fail the test here.
        let read = within("closed by the server", silent.read(&mut byte)).await;
        assert!(matches!(read, Ok(0) | Err(_)), "{addr}: closed, nothing sent: {read:?}");
    }
    let tls = connector(&[&cert.der]);
    let failures = metric(&tls, server.http(), "enchufe_tls_handshake_failures_total").await;
    assert_eq!(failures, 2, "both timeouts counted");
    server.stop().await;
}

#[tokio::test]
async fn a_reloaded_certificate_serves_new_connections_and_a_bad_one_is_not_loaded() {
    let cert = Cert::new();
    let mut config = TestServer::config();
    config.tls = Some(cert.files());
    let server = Server::bind(config).await.expect("bind");
    let reload = server.tls().expect("tls is on").clone();
    let server = TestServer::spawn(server);
    let old = cert.der.clone();
    let ca = cert.cert_path();

    // A session made before the reload, and kept across it.
    let before = connect(&format!("tls://{}", server.tcp()), options("before").ca_file(&ca)).await;
    within("join", before.join("room", None)).await.expect("join");

    let cert = cert.generate();
    assert_ne!(cert.der, old, "a new certificate");
    reload.reload().expect("the new files load");
    let tls = connector(&[&old, &cert.der]);
    for addr in [server.tcp(), server.http()] {
        assert_eq!(peer_cert(&tls_connect(&tls, addr).await), cert.der, "{addr}: the new one");
    }
    let seq = within("publish", before.publish_json("room", &1)).await.expect("the old session");
    assert_eq!(seq, 1);
    assert_eq!(text(&messages(&before, 1).await[0]), "1");

    std::fs::write(cert.cert_path(), "not a certificate").expect("write");
    assert!(reload.reload().is_err(), "a bad file is refused");
    assert_eq!(peer_cert(&tls_connect(&tls, server.tcp()).await), cert.der, "still the last good");
    before.close().await;
    server.stop().await;
}

/// `enchufe serve --tls-cert --tls-key`: the startup lines say `https://` and `tls://` (UDP
/// stays `udp://`), a bad pair refuses to start, and SIGHUP reloads the certificate.
#[tokio::test]
async fn serve_prints_tls_schemes_and_reloads_on_sighup() {
    let cert = Cert::new();
    let bad = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .args(["serve", "--http", "127.0.0.1:0", "--tcp", "off", "--udp", "off"])
        .arg("--tls-cert")
        .arg(cert.key_path()) // a key where the certificate should be
        .arg("--tls-key")
        .arg(cert.key_path())
        .env_remove("ENCHUFE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run enchufe serve");
    assert!(!bad.status.success(), "a key is not a certificate");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("key.pem: no CERTIFICATE block"), "names the file: {stderr}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .args(["serve", "--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        .args(["--www", "/nonexistent"])
        .env("ENCHUFE_TLS_CERT", cert.cert_path())
        .env("ENCHUFE_TLS_KEY", cert.key_path())
        .env_remove("ENCHUFE_CONFIG")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start enchufe serve");
    let lines = lines_of(child.stdout.take().expect("stdout"));
    let logs = lines_of(child.stderr.take().expect("stderr"));
    let wait = Duration::from_secs(10);
    let addr = |prefix: &str| -> SocketAddr {
        let line = lines.recv_timeout(wait).expect("a startup line");
        line.strip_prefix(prefix).unwrap_or_else(|| panic!("{line}")).parse().expect("address")
    };
    let http = addr("enchufe: http listening on https://");
    let tcp = addr("enchufe: tcp listening on tls://");
    let _udp = addr("enchufe: udp listening on udp://");

    let old = cert.der.clone();
    let tls = connector(&[&old]);
    assert_eq!(peer_cert(&tls_connect(&tls, tcp).await), old);
    let cert = cert.generate();
    let tls = connector(&[&old, &cert.der]);
    let hup = Command::new("kill").arg("-HUP").arg(child.id().to_string()).status();
    assert!(hup.expect("kill -HUP").success());
    // The server logs the reload once the new certificate is in place.
    loop {
        let log = logs.recv_timeout(wait).expect("a log line saying the certificate reloaded");
        assert!(!log.contains("not reloaded"), "{log}");
        if log.contains("tls certificate reloaded") {
            break;
        }
    }
    assert_eq!(peer_cert(&tls_connect(&tls, http).await), cert.der, "the new certificate");
    assert!(child.try_wait().expect("child status").is_none(), "SIGHUP does not stop the server");
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("join");
    assert!(status.expect("exit status").success(), "exits 0 on SIGTERM");
}
