//! One room, every transport: messages published concurrently over TCP, UDP, HTTP POST and
//! WebSocket reach subscribers on TCP, UDP, WebSocket and Server-Sent Events in the same order,
//! with the same seqs and bodies — the room's one sequence, whatever the transport.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use enchufe::{
    client::{Client, Event, Options, connect},
    config::Config,
    server::Server,
};
use enchufe_tests::http::{SseClient, post_json};
use serde_json::{Value, json};

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

/// `POST` JSON; returns the status and the JSON body (`null` when it is not JSON).
async fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let response = post_json(addr, path, body).await;
    (response.status, serde_json::from_slice(&response.body).unwrap_or(Value::Null))
}

/// A Server-Sent Events reader (the shared test client) whose ids are read as seqs.
struct Sse(SseClient);

impl Sse {
    async fn open(addr: SocketAddr, path: &str) -> Sse {
        let sse = SseClient::connect(addr, path, &[]).await;
        assert_eq!(sse.status, 200, "{:?}", sse.headers);
        assert_eq!(sse.header("transfer-encoding"), Some("chunked"), "{:?}", sse.headers);
        Sse(sse)
    }

    /// The next event: its name, its id's seq, and its data lines joined.
    async fn next(&mut self) -> (String, Option<u64>, String) {
        let event = self.0.next().await.expect("the event stream ended");
        // `<epoch>:<seq>`; the seq is what this test compares.
        let seq = event.id.as_deref().and_then(|id| id.rsplit(':').next()?.parse().ok());
        (event.event, seq, event.data)
    }
}
