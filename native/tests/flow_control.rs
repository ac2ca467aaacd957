//! Flow control on real sockets (docs/DECISIONS.md, "Flow control"): a client that reads is
//! never cut, whatever the server has to send it — a whole history of the largest messages, the
//! answers to its own pipelined requests, a publisher's burst, its own rate-limit refusals.
//! (The stalled reader that is cut, and the server's memory meanwhile, are in
//! `slow_consumer.rs`; ten thousand members of one room in `crowd.rs`.)

mod common;

use std::{sync::atomic::Ordering, time::Duration};

use common::{SseClient, TcpClient, TestServer, WsClient, WsEvent, get, within};
use enchufe::hub::Hub;
use enchufe_core::{Body, ClientFrame, Join, RoomName, ServerFrame};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

/// A bound on a whole step (many reads, each bounded by `within` on its own).
async fn step<F: std::future::Future>(what: &str, secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("timed out after {secs} s: {what}"))
}

fn slow_consumers(hub: &Hub) -> u64 {
    hub.metrics().slow_consumers.load(Ordering::Relaxed)
}

/// The seq of a `message` frame in JSON, failing on an `error`.
fn message_seq(frame: &Value) -> Option<u64> {
    assert_ne!(frame["type"], "error", "{frame}");
    (frame["type"] == "message").then(|| frame["seq"].as_u64().expect("a seq"))
}

const BIG: usize = 60 * 1024;
const STORED: u64 = 1000;
const LIVE: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_history_of_the_largest_messages_replays_on_every_transport_then_live() {
    let server = TestServer::start(|c| {
        c.hub.rate_per_sec = 0;
        // Room for the live messages published during the replays, so that none of the
        // replayed ones is evicted under a reader (that reader would be cut: it fell behind).
        c.hub.history_len = 1010;
    })
    .await;
    let room = RoomName::new("big").unwrap();
    let body = Body::json(&"y".repeat(BIG)).unwrap();
    for _ in 0..STORED {
        server.hub.publish(&room, "op", body.clone(), None, enchufe::clock::now()).expect("a room");
    }

    let mut tcp = TcpClient::connect(server.tcp()).await;
    tcp.send(json!({"type":"join","room":"big","since":0})).await;
    let mut ws_text = WsClient::connect(server.http()).await;
    ws_text.send(json!({"type":"join","room":"big","since":0})).await;
    let mut ws_binary = WsClient::connect(server.http()).await;
    let join = Join { room: room.clone(), since: Some(0), id: Some(1), epoch: None };
    ws_binary.send_binary(&ClientFrame::Join(join)).await;
    let mut sse = SseClient::connect(server.http(), "/api/rooms/big/events?since=0", &[]).await;
    assert_eq!(sse.status, 200);

    // Live messages while every replay is still in flight: they follow the replay, no gap and
    // no duplicate.
    for _ in 0..LIVE {
        server
            .hub
            .publish(&room, "op", Body::json(&"live").unwrap(), None, enchufe::clock::now())
            .unwrap();
    }
    let want: Vec<u64> = (1..=STORED + LIVE).collect();
    let (tcp_seqs, text_seqs, binary_seqs, sse_seqs) = step("every replay", 240, async {
        tokio::join!(
            async {
                let mut seqs = Vec::new();
                while seqs.len() < want.len() {
                    seqs.extend(message_seq(&tcp.recv().await));
                }
                seqs
            },
            async {
                let mut seqs = Vec::new();
                while seqs.len() < want.len() {
                    seqs.extend(message_seq(&ws_text.recv().await));
                }
                seqs
            },
            async {
                let mut seqs = Vec::new();
                while seqs.len() < want.len() {
                    match ws_binary.event().await {
                        WsEvent::Binary(ServerFrame::Message(m)) => {
                            assert!(m.seq > STORED || m.body.len() > BIG, "the whole body");
                            seqs.push(m.seq);
                        }
                        WsEvent::Binary(ServerFrame::Error(e)) => panic!("{e:?}"),
                        WsEvent::Binary(_) => {}
                        other => panic!("{other:?}"),
                    }
                }
                seqs
            },
            async {
                let mut seqs = Vec::new();
                while seqs.len() < want.len() {
                    let event = sse.next().await.expect("the stream goes on");
                    seqs.extend(message_seq(&event.json()));
                }
                seqs
            },
        )
    })
    .await;
    assert_eq!(tcp_seqs, want, "tcp");
    assert_eq!(text_seqs, want, "ws text");
    assert_eq!(binary_seqs, want, "ws binary");
    assert_eq!(sse_seqs, want, "sse");

    // The REST pages walk the same history (each page bounded in bytes, continued by `since`).
    let mut walked = Vec::new();
    let mut pages = 0;
    while walked.len() < want.len() {
        let since = walked.last().copied().unwrap_or(0);
        let page = get(server.http(), &format!("/api/rooms/big/messages?since={since}")).await;
        assert_eq!(page.status, 200);
        let page = page.json();
        let messages = page["messages"].as_array().unwrap();
        assert!(!messages.is_empty(), "a page after {since}");
        walked.extend(messages.iter().map(|m| m["seq"].as_u64().unwrap()));
        pages += 1;
    }
    assert_eq!(walked, want, "rest, in {pages} pages");
    assert_eq!(slow_consumers(&server.hub), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_pipelined_pings_get_ten_thousand_pongs() {
    const PINGS: u64 = 10_000;
    // The defaults, and a high-water mark so low that the server must pause reading.
    for high_water in [None, Some(4 * 1024)] {
        let server = TestServer::start(|c| {
            if let Some(bytes) = high_water {
                c.hub.queue_bytes = bytes;
            }
        })
        .await;
        let stream = within("connect", TcpStream::connect(server.tcp())).await.unwrap();
        let (rd, mut wr) = stream.into_split();
        let mut pings = Vec::new();
        for id in 0..PINGS {
            pings.extend_from_slice(format!("{{\"type\":\"ping\",\"id\":{id}}}\n").as_bytes());
        }
        // One write of every ping, while this task reads.
        let writer = tokio::spawn(async move {
            wr.write_all(&pings).await.unwrap();
            wr
        });
        let mut lines = BufReader::new(rd).lines();
        let mut ids = Vec::new();
        step("every pong", 120, async {
            while (ids.len() as u64) < PINGS {
                let line = within("a line", lines.next_line()).await.unwrap().expect("no eof");
                let frame: Value = serde_json::from_str(&line).unwrap();
                match frame["type"].as_str() {
                    Some("pong") => ids.push(frame["id"].as_u64().unwrap()),
                    Some("welcome") => {}
                    _ => panic!("{frame}"),
                }
            }
        })
        .await;
        assert_eq!(ids, (0..PINGS).collect::<Vec<_>>(), "{high_water:?}");
        let _wr = writer.await.unwrap();
        let pauses = server.hub.metrics().read_pauses.load(Ordering::Relaxed);
        if high_water.is_some() {
            assert!(pauses > 0, "the reader paused instead of cutting the client");
        }
        assert_eq!(slow_consumers(&server.hub), 0);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publishers_burst_reaches_a_hundred_subscribers_that_read() {
    const SUBS: usize = 100;
    const BURST: u64 = 2000; // the default rate limit's burst
    let server = TestServer::start(|_| {}).await;
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..SUBS {
        let mut sub = TcpClient::connect(server.tcp()).await;
        sub.join("burst", None).await;
        readers.spawn(async move {
            let mut seqs = Vec::with_capacity(BURST as usize);
            while (seqs.len() as u64) < BURST {
                seqs.extend(message_seq(&sub.recv().await));
            }
            seqs
        });
    }
    // 2,000 publishes of 1 KiB in one write: over 2 MiB for every subscriber, twice the
    // default high-water mark.
    let mut publisher = TcpClient::connect(server.tcp()).await;
    let body = "z".repeat(1024);
    let mut burst = Vec::new();
    for _ in 0..BURST {
        let frame = json!({"type":"publish","room":"burst","body":body});
        burst.extend_from_slice(format!("{frame}\n").as_bytes());
    }
    publisher.send_raw(&burst).await;
    let mut delivered = 0;
    step("every delivery", 240, async {
        while let Some(seqs) = readers.join_next().await {
            let seqs = seqs.unwrap();
            assert_eq!(seqs, (1..=BURST).collect::<Vec<_>>());
            delivered += seqs.len();
        }
    })
    .await;
    assert_eq!(delivered, SUBS * BURST as usize);
    assert_eq!(slow_consumers(&server.hub), 0, "no subscriber was cut");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_the_rate_limit_gets_4010_and_is_not_cut() {
    const FLOOD: u64 = 5000;
    let server = TestServer::start(|c| {
        c.hub.rate_per_sec = 100;
        c.hub.rate_burst = 100;
    })
    .await;
    let started = tokio::time::Instant::now();
    let mut client = TcpClient::connect(server.tcp()).await;
    let mut flood = Vec::new();
    for id in 1..=FLOOD {
        let frame = json!({"type":"publish","room":"r","body":id,"id":id});
        flood.extend_from_slice(format!("{frame}\n").as_bytes());
    }
    flood.extend_from_slice(b"{\"type\":\"ping\",\"id\":0}\n");
    client.send_raw(&flood).await;
    let (mut acks, mut refusals) = (0u64, 0u64);
    step("the pong after the flood", 60, async {
        loop {
            let frame = client.recv().await;
            match frame["type"].as_str() {
                Some("ack") => acks += 1,
                Some("error") if frame["code"] == 4010 => refusals += 1,
                Some("error") => panic!("{frame}"),
                Some("pong") => break,
                _ => {}
            }
        }
    })
    .await;
    let seconds = started.elapsed().as_secs();
    assert!((100..FLOOD).contains(&acks), "{acks} acks");
    assert!(refusals >= 1, "the client is told");
    assert!(refusals <= seconds + 1, "one 4010 a second: {refusals} in {seconds} s");
    let dropped = server.hub.metrics().rate_limited.load(Ordering::Relaxed);
    assert_eq!(acks + dropped, FLOOD, "every publish was either stored or counted as dropped");
    // Still connected, and still served.
    client.send(json!({"type":"ping","id":1})).await;
    assert_eq!(client.recv_kind("pong").await["id"], 1);
    assert_eq!(slow_consumers(&server.hub), 0);
    server.stop().await;
}
