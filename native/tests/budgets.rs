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
    assert!(metrics.contains("enchufe_connections_refused_total"), "{metrics}");
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
    assert!(refused >= 10 - (3 + refills + 1), "{refused} refused");
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
