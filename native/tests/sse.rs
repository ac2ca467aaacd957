//! Server-Sent Events: a read-only transport with resume by `Last-Event-ID` or `?since=`.

mod common;

use common::{SseClient, TcpClient, TestServer, post_json};
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
    assert_eq!((message.event.as_str(), message.id.as_deref()), ("message", Some("1")));
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
    let ids: Vec<String> = [sse.next().await.unwrap(), sse.next().await.unwrap()]
        .into_iter()
        .map(|e| e.id.unwrap())
        .collect();
    assert_eq!(ids, ["3", "4"], "Last-Event-ID wins over ?since=");
    post_json(server.http(), "/api/rooms/feed/messages", "5").await;
    assert_eq!(sse.next().await.unwrap().id.as_deref(), Some("5"), "then live");

    let mut from_since =
        SseClient::connect(server.http(), "/api/rooms/feed/events?since=3", &[]).await;
    from_since.next_kind("joined").await;
    assert_eq!(from_since.next().await.unwrap().id.as_deref(), Some("4"));
    server.stop().await;
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
    server.stop().await;
}
