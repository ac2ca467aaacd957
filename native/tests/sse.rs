//! Server-Sent Events: a read-only transport with resume by `Last-Event-ID` or `?since=`.

mod common;

use std::{net::SocketAddr, time::Duration};

use common::{SseClient, SseEvent, TcpClient, TestServer, WAIT, post_json};
use enchufe::server::Server;
use serde_json::json;

#[tokio::test]
async fn events_stream_messages_and_presence() {
    let server = TestServer::start(|_| {}).await;
    let mut sse = SseClient::connect(server.http(), "/api/rooms/live/events", &[]).await;
    assert_eq!(sse.status, 200);
    assert_eq!(sse.content_type, "text/event-stream");
    let joined = sse.next_kind("joined").await.json();
    assert_eq!((joined["seq"].as_u64(), joined["recovered"].as_bool()), (Some(0), Some(true)));

    let mut member = TcpClient::connect(server.tcp()).await;
    member.hello(json!({"type":"hello","v":1,"name":"eva"})).await;
    member.join("live", None).await;
    let presence = sse.next().await.unwrap();
    assert_eq!(presence.event, "presence");
    assert_eq!(presence.json()["member"]["name"], "eva");

    // A body with line breaks travels as several data: lines and comes back as the same JSON.
    post_json(server.http(), "/api/rooms/live/messages", "{\n  \"a\": 1\n}").await;
    let message = sse.next().await.unwrap();
    let id = format!("{}:1", joined["epoch"].as_str().unwrap());
    assert_eq!((message.event.as_str(), message.id.as_deref()), ("message", Some(id.as_str())));
    assert_eq!(message.json()["body"], json!({"a":1}));
    assert_eq!(message.json()["seq"], 1);

    drop(member);
    assert_eq!(sse.next().await.unwrap().json()["action"], "leave");
    server.stop().await;
}

#[tokio::test]
async fn last_event_id_resumes_after_the_last_seen_message() {
    let server = TestServer::start(|_| {}).await;
    for i in 1..=4 {
        post_json(server.http(), "/api/rooms/feed/messages", &i.to_string()).await;
    }
    let mut sse = SseClient::connect(
        server.http(),
        "/api/rooms/feed/events?since=0",
        &[("Last-Event-ID", "2")],
    )
    .await;
    let joined = sse.next_kind("joined").await.json();
    assert_eq!((joined["seq"].as_u64(), joined["recovered"].as_bool()), (Some(4), Some(true)));
    let epoch = joined["epoch"].as_str().unwrap().to_owned();
    let ids: Vec<String> = [sse.next().await.unwrap(), sse.next().await.unwrap()]
        .into_iter()
        .map(|e| e.id.unwrap())
        .collect();
    assert_eq!(
        ids,
        [format!("{epoch}:3"), format!("{epoch}:4")],
        "Last-Event-ID wins over ?since="
    );
    post_json(server.http(), "/api/rooms/feed/messages", "5").await;
    assert_eq!(sse.next().await.unwrap().id, Some(format!("{epoch}:5")), "then live");

    // The form this server writes: <epoch>:<seq>.
    let last = format!("{epoch}:3");
    let mut by_id =
        SseClient::connect(server.http(), "/api/rooms/feed/events", &[("Last-Event-ID", &last)])
            .await;
    assert_eq!(by_id.next_kind("joined").await.json()["recovered"], true);
    assert_eq!(seqs(&mut by_id, 2).await, [4, 5]);

    let mut from_since =
        SseClient::connect(server.http(), "/api/rooms/feed/events?since=3", &[]).await;
    from_since.next_kind("joined").await;
    assert_eq!(from_since.next().await.unwrap().id, Some(format!("{epoch}:4")));
    let path = format!("/api/rooms/feed/events?since=3&epoch={epoch}");
    let mut with_epoch = SseClient::connect(server.http(), &path, &[]).await;
    assert_eq!(with_epoch.next_kind("joined").await.json()["recovered"], true);
    assert_eq!(seqs(&mut with_epoch, 2).await, [4, 5]);
    server.stop().await;
}

/// An id from another numbering of the room — another epoch, or a bare seq above the room's —
/// replays the room from its start with `recovered: false`, in `Last-Event-ID` or `?since=`.
#[tokio::test]
async fn a_stale_epoch_replays_the_room_from_its_start() {
    let server = TestServer::start(|_| {}).await;
    for i in 1..=3 {
        post_json(server.http(), "/api/rooms/feed/messages", &i.to_string()).await;
    }
    let paths_and_ids = [
        ("/api/rooms/feed/events", Some("0123456789abcdef:2")),
        ("/api/rooms/feed/events", Some("9")),
        ("/api/rooms/feed/events?since=2&epoch=0123456789abcdef", None),
        ("/api/rooms/feed/events?since=9", None),
    ];
    for (path, last_event_id) in paths_and_ids {
        let headers: Vec<(&str, &str)> =
            last_event_id.map(|id| ("Last-Event-ID", id)).into_iter().collect();
        let mut sse = SseClient::connect(server.http(), path, &headers).await;
        let joined = sse.next_kind("joined").await.json();
        assert_eq!(joined["recovered"], false, "{path} {last_event_id:?}");
        assert_eq!(seqs(&mut sse, 3).await, [1, 2, 3], "{path} {last_event_id:?}");
    }
    server.stop().await;
}

/// A browser's EventSource reconnecting to a restarted server: the new server numbers the room
/// from 1 again and has gone past the seq the stream last saw. The old `Last-Event-ID` carries
/// the old epoch, so every message of the new numbering arrives, with `recovered: false`.
#[tokio::test]
async fn last_event_id_survives_a_server_restart() {
    let first = TestServer::start(|_| {}).await;
    let http = first.http();
    for i in 1..=2 {
        post_json(http, "/api/rooms/feed/messages", &format!("\"old {i}\"")).await;
    }
    let mut sse = SseClient::connect(http, "/api/rooms/feed/events?since=0", &[]).await;
    let old_epoch = sse.next_kind("joined").await.json()["epoch"].as_str().unwrap().to_owned();
    let last = [sse.next().await.unwrap(), sse.next().await.unwrap()][1].clone();
    assert_eq!(last.id, Some(format!("{old_epoch}:2")));
    first.stop().await;
    assert_eq!(sse.next_kind("error").await.json()["code"], 4015, "told of the shutdown");

    let second = restart_on(http).await;
    for i in 1..=5 {
        post_json(http, "/api/rooms/feed/messages", &format!("\"new {i}\"")).await;
    }
    let last_id = last.id.unwrap();
    let mut sse =
        SseClient::connect(http, "/api/rooms/feed/events", &[("Last-Event-ID", &last_id)]).await;
    let joined = sse.next_kind("joined").await.json();
    let new_epoch = joined["epoch"].as_str().unwrap().to_owned();
    assert_ne!(new_epoch, old_epoch, "a restarted server numbers the room anew");
    assert_eq!((joined["seq"].as_u64(), joined["recovered"].as_bool()), (Some(5), Some(false)));
    let mut got = Vec::new();
    for _ in 1..=5 {
        let event = sse.next_kind("message").await;
        let body = event.json()["body"].as_str().unwrap().to_owned();
        got.push((event.id.unwrap(), body));
    }
    let want: Vec<(String, String)> =
        (1..=5).map(|i| (format!("{new_epoch}:{i}"), format!("new {i}"))).collect();
    assert_eq!(got, want, "every message since the restart, under the new epoch");
    second.stop().await;
}

/// The seqs of the next `n` message events.
async fn seqs(sse: &mut SseClient, n: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    for _ in 0..n {
        let event: SseEvent = sse.next_kind("message").await;
        seqs.push(event.json()["seq"].as_u64().expect("a message has a seq"));
    }
    seqs
}

/// A server whose HTTP listener is on `http`, the address a stopped server had. Binding is
/// retried for a moment in case the OS has not released the port yet.
async fn restart_on(http: SocketAddr) -> TestServer {
    let deadline = tokio::time::Instant::now() + WAIT;
    let server = loop {
        let mut config = TestServer::config();
        config.udp = None;
        config.http = Some(http);
        let _tls = common::with_tls(&mut config);
        match Server::bind(config).await {
            Ok(server) => break server,
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("binding {http} again: {error}; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("binding {http} again: {error}"),
        }
    };
    TestServer::spawn(server)
}

#[tokio::test]
async fn bad_event_requests_are_refused() {
    let server = TestServer::start(|_| {}).await;
    let bad_room = common::get(server.http(), "/api/rooms/no%20pe/events").await;
    assert_eq!((bad_room.status, bad_room.json()["code"].as_u64()), (400, Some(4002)));
    let bad_id =
        common::http(server.http(), "GET", "/api/rooms/r/events", &[("Last-Event-ID", "x")], b"")
            .await;
    assert_eq!((bad_id.status, bad_id.json()["code"].as_u64()), (400, Some(4008)));
    for bad in [":3", "0123456789abcdef:", "0123456789abcdef:x"] {
        let response = common::http(
            server.http(),
            "GET",
            "/api/rooms/r/events",
            &[("Last-Event-ID", bad)],
            b"",
        )
        .await;
        assert_eq!((response.status, response.json()["code"].as_u64()), (400, Some(4008)), "{bad}");
    }
    for path in ["/api/rooms/r/events?epoch=0123456789abcdef", "/api/rooms/r/events?since=1&epoch="]
    {
        let response = common::get(server.http(), path).await;
        assert_eq!(
            (response.status, response.json()["code"].as_u64()),
            (400, Some(4008)),
            "{path}"
        );
    }
    server.stop().await;
}
