//! Budgets under abuse (docs/DECISIONS.md, "Budgets"): connections over the caps are refused
//! with the documented answers while the clients already in keep their round trips, and HTTP
//! connections that leave a request head unfinished — or send none — are closed at the header
//! deadline.

mod common;

use std::time::Duration;

use common::{TcpClient, TestServer, get, within};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// What a refused TCP connection reads: one `error` line, then the end.
async fn refused_tcp(addr: std::net::SocketAddr) -> Value {
    let mut refused = TcpClient::connect(addr).await;
    let frames = refused.until_eof().await;
    assert_eq!(frames.len(), 1, "one error line, then the end: {frames:?}");
    frames[0].clone()
}

/// A client that is in keeps its round trips.
async fn still_served(client: &mut TcpClient, id: u64) {
    client.send(json!({"type":"ping","id":id})).await;
    assert_eq!(client.recv_kind("pong").await["id"], id);
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_on_tcp_and_http_and_places_come_back() {
    let server = TestServer::start(|c| {
        c.connections.max_connections = 3;
        c.connections.max_per_address = 0;
        c.connections.rate_per_address = 0;
    })
    .await;
    let mut clients = Vec::new();
    for id in 0..3 {
        let mut client = TcpClient::connect(server.tcp()).await;
        still_served(&mut client, id).await;
        clients.push(client);
    }
    let error = refused_tcp(server.tcp()).await;
    assert_eq!((error["type"].as_str(), error["code"].as_u64()), (Some("error"), Some(4019)));
    assert!(error["message"].as_str().unwrap().contains("as many connections"), "{error}");
    let page = get(server.http(), "/healthz").await;
    assert_eq!(page.status, 503);
    assert_eq!(page.header("retry-after"), Some("5"));
    assert_eq!(page.json()["name"], "server_busy");
    for (id, client) in clients.iter_mut().enumerate() {
        still_served(client, 10 + id as u64).await;
    }
    // A place given back is taken again.
    drop(clients.pop());
    let admitted = within("a place again", async {
        loop {
            let mut client = TcpClient::connect(server.tcp()).await;
            client.send(json!({"type":"ping","id":99})).await;
            let first = client.recv().await;
            if first["type"] != "error" {
                return client;
            }
            tokio::task::yield_now().await; // the server has not seen the close yet
        }
    })
    .await;
    drop(admitted);
    let metrics = get(server.http(), "/metrics").await.text();
    let refusals = metrics
        .lines()
        .find_map(|l| l.strip_prefix("enchufe_connections_refused_total "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(refusals.is_some_and(|n| n >= 2), "the TCP and the HTTP refusal: {metrics}");
    server.stop().await;
}

#[tokio::test]
async fn one_address_is_capped_and_rate_limited() {
    let server = TestServer::start(|c| {
        c.connections.max_per_address = 2;
        c.connections.rate_per_address = 0;
    })
    .await;
    let mut a = TcpClient::connect(server.tcp()).await;
    let mut b = TcpClient::connect(server.tcp()).await;
    still_served(&mut a, 1).await;
    still_served(&mut b, 2).await;
    let error = refused_tcp(server.tcp()).await;
    assert_eq!(error["code"], 4019);
    assert!(error["message"].as_str().unwrap().contains("this address"), "{error}");
    still_served(&mut a, 3).await;
    server.stop().await;

    // One new connection a second, in bursts of 3: of 10 opened back to back, the ones past the
    // burst (and what the bucket refilled meanwhile) are refused.
    let server = TestServer::start(|c| {
        c.connections.max_per_address = 0;
        c.connections.rate_per_address = 1;
        c.connections.burst_per_address = 3;
    })
    .await;
    let started = tokio::time::Instant::now();
    let mut admitted = Vec::new();
    let mut refused = 0;
    for id in 0..10 {
        let mut client = TcpClient::connect(server.tcp()).await;
        client.send(json!({"type":"ping","id":id})).await;
        match client.next().await {
            Some(frame) if frame["type"] == "error" => {
                assert_eq!(frame["code"], 4019);
                assert!(frame["message"].as_str().unwrap().contains("faster"), "{frame}");
                refused += 1;
            }
            Some(_) => admitted.push(client),
            None => panic!("closed without a word"),
        }
    }
    let refills = started.elapsed().as_secs() as usize;
    assert!(admitted.len() <= 3 + refills + 1, "{} admitted in {refills} s", admitted.len());
    assert!(refused >= 10usize.saturating_sub(3 + refills + 1), "{refused} refused");
    server.stop().await;
}

/// Reads until the server closes the connection; returns what it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut got)).await;
    read.expect("the server closed the connection in time").ok();
    got
}

#[tokio::test]
async fn http_connections_that_leave_a_request_unfinished_are_closed_at_the_deadline() {
    let deadline = Duration::from_millis(800);
    let server = TestServer::start(|c| c.header_timeout = deadline).await;

    // Silent after connecting.
    let started = tokio::time::Instant::now();
    let mut silent = TcpStream::connect(server.http()).await.unwrap();
    until_closed(&mut silent).await;
    assert!(started.elapsed() >= deadline, "{:?}", started.elapsed());

    // Half a request head.
    let started = tokio::time::Instant::now();
    let mut partial = TcpStream::connect(server.http()).await.unwrap();
    partial.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    until_closed(&mut partial).await;
    assert!(started.elapsed() >= deadline, "{:?}", started.elapsed());

    // Idle after one answered request on a kept-alive connection.
    let mut kept = TcpStream::connect(server.http()).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let started = tokio::time::Instant::now();
    let answer = String::from_utf8(until_closed(&mut kept).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() >= deadline, "kept alive, then closed: {:?}", started.elapsed());

    // Meanwhile a well-behaved request is served.
    assert_eq!(get(server.http(), "/healthz").await.text(), "ok");
    server.stop().await;
}

#[tokio::test]
async fn tcp_connections_that_leave_a_frame_unfinished_or_send_none_are_closed() {
    let timeout = Duration::from_millis(500);
    let server = TestServer::start(|c| c.hub.frame_timeout_ms = timeout.as_millis() as u64).await;

    // Silent after connecting.
    let started = tokio::time::Instant::now();
    let mut silent = TcpClient::connect(server.tcp()).await;
    let frames = step(silent.until_eof()).await;
    assert_eq!(frames.last().expect("an error")["code"], 4013, "{frames:?}");
    assert!(started.elapsed() >= timeout);

    // After a whole frame, a line that trickles in a byte at a time and never ends: bytes are
    // not "heard", and the line must end within the timeout of its first byte.
    let started = tokio::time::Instant::now();
    let stream = TcpStream::connect(server.tcp()).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let trickle = tokio::spawn(async move {
        wr.write_all(b"{\"type\":\"ping\",\"id\":1}\n{\"type\":\"ping\",\"pad\":\"").await.unwrap();
        let mut sent = 0;
        while wr.write_all(b"x").await.is_ok() && sent < 1000 {
            sent += 1;
            tokio::time::sleep(Duration::from_millis(50)).await; // the client's pace, not a wait
        }
        sent
    });
    let mut reader = tokio::io::BufReader::new(rd);
    let mut text = String::new();
    step(reader.read_to_string(&mut text)).await.unwrap();
    let last: Value = serde_json::from_str(text.lines().last().expect("a line")).unwrap();
    assert_eq!(last["code"], 4013, "{text}");
    assert!(text.contains("\"pong\""), "the whole frame was answered: {text}");
    assert!(last["message"].as_str().unwrap().contains("unfinished"), "{last}");
    assert!(started.elapsed() >= timeout);
    assert!(step(trickle).await.unwrap() < 1000, "cut while still trickling");

    // Whole frames, however far apart within the idle timeout, keep a connection.
    let mut talking = TcpClient::connect(server.tcp()).await;
    for id in 0..4 {
        still_served(&mut talking, id).await;
        tokio::time::sleep(timeout / 2).await; // the client's pace
    }
    still_served(&mut talking, 9).await;
    server.stop().await;
}

/// Bounds a whole step.
async fn step<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f).await.expect("in time")
}

#[tokio::test]
async fn rooms_stop_at_the_cap_and_at_a_connections_creation_rate() {
    let server = TestServer::start(|c| {
        c.hub.room_limit = 3;
        c.hub.room_rate_per_sec = 0;
    })
    .await;
    let mut client = TcpClient::connect(server.tcp()).await;
    for (id, room) in ["r1", "r2", "r3"].into_iter().enumerate() {
        client.send(json!({"type":"publish","room":room,"body":1,"id":id})).await;
        assert_eq!(client.recv_kind("ack").await["id"], id);
    }
    client.send(json!({"type":"publish","room":"r4","body":1,"id":4})).await;
    let refused = client.recv_kind("error").await;
    assert_eq!((refused["code"].as_u64(), refused["id"].as_u64()), (Some(4020), Some(4)));
    client.send(json!({"type":"join","room":"r5","id":5})).await;
    assert_eq!(client.recv_kind("error").await["code"], 4020);
    client.send(json!({"type":"publish","room":"r1","body":2,"id":6})).await;
    assert_eq!(client.recv_kind("ack").await["seq"], 2, "existing rooms go on");
    let rest = common::post_json(server.http(), "/api/rooms/r6/messages", "1").await;
    assert_eq!((rest.status, rest.json()["name"].as_str()), (503, Some("room_limit")));
    server.stop().await;

    let server = TestServer::start(|c| {
        c.hub.room_rate_per_sec = 1;
        c.hub.room_burst = 2;
    })
    .await;
    let mut client = TcpClient::connect(server.tcp()).await;
    let started = tokio::time::Instant::now();
    let mut refused = 0;
    for id in 0..6 {
        client.send(json!({"type":"publish","room":format!("n{id}"),"body":1,"id":id})).await;
        let answer = client.recv().await;
        if answer["type"] == "error" {
            assert_eq!(answer["code"], 4020);
            assert!(answer["message"].as_str().unwrap().contains("faster"), "{answer}");
            refused += 1;
        }
    }
    let refills = started.elapsed().as_secs() as usize;
    assert!(refused >= 6usize.saturating_sub(2 + refills + 1), "{refused} refused in {refills} s");
    server.stop().await;
}

#[tokio::test]
async fn rest_publishes_over_the_address_rate_get_429_and_the_room_list_pages() {
    let server = TestServer::start(|c| {
        c.connections.rest_rate_per_address = 1;
        c.connections.rest_burst_per_address = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..6 {
        let answer =
            common::post_json(server.http(), "/api/rooms/r/messages", &n.to_string()).await;
        if answer.status == 429 {
            assert_eq!(answer.header("retry-after"), Some("1"));
            assert_eq!(answer.json()["name"], "rate_limited");
        }
        statuses.push(answer.status);
    }
    assert_eq!(&statuses[..3], &[201, 201, 201], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");

    let room = |n: usize| enchufe_core::RoomName::new(format!("room-{n:02}")).unwrap();
    for n in 0..25 {
        server
            .hub
            .publish(
                &room(n),
                "op",
                enchufe_core::Body::json(&n).unwrap(),
                None,
                enchufe::clock::now(),
            )
            .unwrap();
    }
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(after) => format!("/api/rooms?limit=10&after={after}"),
            None => "/api/rooms?limit=10".to_owned(),
        };
        let page = get(server.http(), &path).await.json();
        let rooms = page["rooms"].as_array().unwrap();
        assert!(rooms.len() <= 10);
        walked.extend(rooms.iter().map(|r| r["room"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let mut all: Vec<String> = (0..25).map(|n| room(n).to_string()).collect();
    all.push("r".into());
    all.sort();
    assert_eq!(walked, all);
    assert_eq!(get(server.http(), "/api/rooms?limit=0").await.status, 400);
    server.stop().await;
}
