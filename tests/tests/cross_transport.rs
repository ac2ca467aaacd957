//! One room, every transport: messages published concurrently over TCP, UDP, HTTP POST and
//! WebSocket reach subscribers on TCP, UDP, WebSocket and Server-Sent Events in the same order,
//! with the same seqs and bodies — the room's one sequence, whatever the transport.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use enchufe::{
    client::{Client, Event, Options, connect},
    config::Config,
    server::Server,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const WAIT: Duration = Duration::from_secs(10);
const ROOM: &str = "everywhere";
/// Messages per publishing transport.
const EACH: u64 = 10;

async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// `(seq, body)` of every message in the order a subscriber saw them.
type Seen = Vec<(u64, Value)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_sees_one_order() {
    let mut config = Config::ephemeral();
    config.www = PathBuf::from("/nonexistent/enchufe-www");
    let server = Server::bind(config).await.expect("bind");
    let addrs = server.addrs();
    let shutdown = server.shutdown_handle();
    let running = tokio::spawn(server.run());
    let http = addrs.http.expect("http");
    let urls = [
        ("tcp", format!("tcp://{}", addrs.tcp.expect("tcp"))),
        ("udp", format!("udp://{}", addrs.udp.expect("udp"))),
        ("ws", format!("ws://{http}/ws")),
    ];

    // Subscribers: one per client transport, joined before anything is published, and SSE.
    let mut subscribers = Vec::new();
    for (scheme, url) in &urls {
        let client = within("connect", connect(url, Options::default().name(*scheme))).await;
        let client = client.expect("subscriber connects");
        within("join", client.join(ROOM, None)).await.expect("join");
        subscribers.push((*scheme, client));
    }
    let mut sse = Sse::open(http, &format!("/api/rooms/{ROOM}/events?name=sse")).await;
    assert_eq!(sse.next().await.0, "joined");

    // Publishers: every transport that can publish, all at once.
    let mut publishing = Vec::new();
    for (scheme, url) in &urls {
        let client = within("connect", connect(url, Options::default().name(*scheme))).await;
        let client = client.expect("publisher connects");
        let via = *scheme;
        publishing.push(tokio::spawn(async move { publish_all(&client, via).await }));
    }
    publishing.push(tokio::spawn(async move {
        let mut seqs = Vec::new();
        for n in 0..EACH {
            let body = json!({"via": "http", "n": n}).to_string();
            let path = format!("/api/rooms/{ROOM}/messages?from=http");
            let (status, answer) = post(http, &path, &body).await;
            assert_eq!(status, 201, "{answer}");
            seqs.push(answer["seq"].as_u64().expect("seq"));
        }
        seqs
    }));
    let mut acked = Vec::new();
    for task in publishing {
        let seqs = within("publisher", task).await.expect("publisher task");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "one publisher's seqs increase: {seqs:?}");
        acked.extend(seqs);
    }
    acked.sort_unstable();
    let total = 4 * EACH;
    assert_eq!(acked, (1..=total).collect::<Vec<_>>(), "every publish got its own seq");

    // Every subscriber saw exactly 1..=total, and the same body under each seq.
    let mut views: Vec<(&str, Seen)> = Vec::new();
    for (scheme, client) in &subscribers {
        views.push((scheme, within("messages", received(client, total)).await));
    }
    let mut seen = Seen::new();
    while seen.len() < usize::try_from(total).expect("small") {
        let (event, id, data) = sse.next().await;
        if event == "message" {
            let message: Value = serde_json::from_str(&data).expect("message JSON");
            assert_eq!(id, message["seq"].as_u64(), "the SSE id ends with the seq");
            seen.push((message["seq"].as_u64().expect("seq"), message["body"].clone()));
        }
    }
    views.push(("sse", seen));

    let (_, reference) = &views[0];
    assert_eq!(
        reference.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "in seq order, without gaps or repeats"
    );
    for via in ["tcp", "udp", "ws", "http"] {
        let ns: Vec<_> = reference
            .iter()
            .filter(|(_, b)| b["via"] == via)
            .map(|(_, b)| b["n"].clone())
            .collect();
        assert_eq!(ns, (0..EACH).map(Value::from).collect::<Vec<_>>(), "{via}'s messages in order");
    }
    for (scheme, view) in &views[1..] {
        assert_eq!(view, reference, "{scheme} sees what tcp sees");
    }

    for (_, client) in subscribers {
        client.close().await;
    }
    shutdown.trigger();
    within("server stop", running).await.expect("server task").expect("server run");
}

/// Publishes `EACH` messages in order, each after the previous one's ack; returns the seqs.
async fn publish_all(client: &Client, via: &str) -> Vec<u64> {
    let mut seqs = Vec::new();
    for n in 0..EACH {
        let body = json!({"via": via, "n": n});
        seqs.push(within("publish", client.publish_json(ROOM, &body)).await.expect("ack"));
    }
    client.close().await;
    seqs
}

/// The first `total` messages a client receives.
async fn received(client: &Client, total: u64) -> Seen {
    let mut seen = Seen::new();
    while seen.len() < usize::try_from(total).expect("small") {
        match client.next_event().await.expect("not closed") {
            Event::Message(message) => {
                let body = message.body.as_json_text().expect("JSON body");
                seen.push((message.seq, serde_json::from_str(body).expect("JSON")));
            }
            Event::Gap { from, to, .. } => panic!("gap {from}..={to}"),
            _ => {}
        }
    }
    seen
}

/// A minimal HTTP/1.1 request; returns the status and the JSON body.
async fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let mut stream = within("http connect", TcpStream::connect(addr)).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    within("http response", stream.read_to_end(&mut response)).await.expect("read");
    let response = String::from_utf8(response).expect("UTF-8");
    let (head, body) = response.split_once("\r\n\r\n").expect("a header block");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A Server-Sent Events reader over a raw socket (the response body is chunked).
struct Sse {
    stream: TcpStream,
    /// Raw bytes not yet de-chunked.
    raw: Vec<u8>,
    /// De-chunked event text not yet parsed.
    text: String,
}

impl Sse {
    async fn open(addr: SocketAddr, path: &str) -> Sse {
        let mut stream = within("sse connect", TcpStream::connect(addr)).await.expect("connect");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut sse = Sse { stream, raw: Vec::new(), text: String::new() };
        let head = loop {
            if let Some(end) = sse.raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&sse.raw[..end]).into_owned();
                sse.raw.drain(..end + 4);
                break head;
            }
            sse.read().await;
        };
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
        sse
    }

    async fn read(&mut self) {
        let mut chunk = [0; 4096];
        let n = within("sse read", self.stream.read(&mut chunk)).await.expect("read");
        assert!(n > 0, "the event stream ended");
        self.raw.extend_from_slice(&chunk[..n]);
    }

    /// Moves every complete chunk from `raw` to `text`.
    fn dechunk(&mut self) {
        while let Some(line_end) = self.raw.windows(2).position(|w| w == b"\r\n") {
            let size = std::str::from_utf8(&self.raw[..line_end]).expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            let start = line_end + 2;
            if self.raw.len() < start + size + 2 {
                return;
            }
            self.text.push_str(std::str::from_utf8(&self.raw[start..start + size]).expect("UTF-8"));
            self.raw.drain(..start + size + 2);
        }
    }

    /// The next event: its name, its id, and its data lines joined.
    async fn next(&mut self) -> (String, Option<u64>, String) {
        loop {
            self.dechunk();
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        // `<epoch>:<seq>`; the seq is what this test compares.
                        id = v.rsplit(':').next().and_then(|seq| seq.parse().ok());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push(v);
                    }
                }
                if block.starts_with(':') {
                    continue; // a keep-alive comment
                }
                return (event, id, data.join("\n"));
            }
            self.read().await;
        }
    }
}
