//! The HTTP port alone: REST, errors as JSON, static files, admin, /healthz and /metrics.

mod common;

use common::{TcpClient, TestServer, WsClient, get, http, post_json};
use serde_json::json;

#[tokio::test]
async fn rest_publish_read_and_list() {
    let server = TestServer::start(|_| {}).await;
    let addr = server.http();
    let created =
        post_json(addr, "/api/rooms/news/messages?from=bot", r#"{"headline": "hola"}"#).await;
    assert_eq!(created.status, 201);
    let epoch = created.json()["epoch"].as_str().unwrap().to_owned();
    assert!(epoch.len() == 16 && epoch.chars().all(|c| c.is_ascii_hexdigit()), "{epoch}");
    assert_eq!(created.json(), json!({"room":"news","seq":1,"epoch":epoch}));
    let bytes = http(
        addr,
        "POST",
        "/api/rooms/news/messages",
        &[("Content-Type", "application/octet-stream")],
        &[0, 1, 255],
    )
    .await;
    assert_eq!(bytes.json()["seq"], 2);

    let read = get(addr, "/api/rooms/news/messages?since=0&limit=10").await;
    assert_eq!(read.status, 200);
    let body = read.json();
    assert_eq!(
        (&body["room"], &body["epoch"], &body["reset"]),
        (&json!("news"), &json!(epoch), &json!(false))
    );
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["from"], "bot");
    assert_eq!(messages[0]["body"], json!({"headline":"hola"}));
    assert!(messages[0].get("type").is_none(), "message frames without type");
    assert_eq!(messages[1]["bytes"], "AAH/");
    assert_eq!(messages[1]["from"], "http");
    let page = get(addr, "/api/rooms/news/messages?since=1").await.json();
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    let limited = get(addr, "/api/rooms/news/messages?limit=1").await.json();
    assert_eq!(limited["messages"][0]["seq"], 1);

    let mut member = TcpClient::connect(server.tcp()).await;
    member.join("news", None).await;
    let rooms = get(addr, "/api/rooms").await.json();
    assert_eq!(
        rooms,
        json!({"rooms":[{"room":"news","seq":2,"epoch":epoch,"members":1}],"next":null})
    );
    server.stop().await;
}

/// A poller that keeps `since` and `epoch` notices a restarted server (history is in memory, so
/// the room is numbered from 1 again): its next page starts at the room's start, says `reset`,
/// and carries the new epoch, even though the new seq has passed the old one.
#[tokio::test]
async fn a_history_page_after_a_restart_starts_the_room_over() {
    let first = TestServer::start(|_| {}).await;
    for i in 1..=2 {
        post_json(first.http(), "/api/rooms/feed/messages", &format!("\"old {i}\"")).await;
    }
    let page = get(first.http(), "/api/rooms/feed/messages?since=0").await.json();
    let old_epoch = page["epoch"].as_str().unwrap().to_owned();
    let since = page["messages"][1]["seq"].as_u64().unwrap();
    first.stop().await;

    let second = TestServer::start(|_| {}).await;
    let addr = second.http();
    let stale_path = format!("/api/rooms/feed/messages?since={since}&epoch={old_epoch}");
    assert_eq!(
        get(addr, &stale_path).await.json(),
        json!({"room":"feed","epoch":null,"reset":true,"messages":[]}),
        "no numbering of the room yet"
    );
    let mut new_epoch = String::new();
    for i in 1..=4 {
        let created = post_json(addr, "/api/rooms/feed/messages", &format!("\"new {i}\"")).await;
        new_epoch = created.json()["epoch"].as_str().unwrap().to_owned();
    }
    assert_ne!(new_epoch, old_epoch);

    let stale = get(addr, &stale_path).await.json();
    assert_eq!((&stale["epoch"], &stale["reset"]), (&json!(new_epoch), &json!(true)));
    let bodies: Vec<&str> =
        stale["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["new 1", "new 2", "new 3", "new 4"], "from the room's start");

    let current_path = format!("/api/rooms/feed/messages?since=2&epoch={new_epoch}");
    let current = get(addr, &current_path).await.json();
    assert_eq!(current["reset"], false);
    let seqs: Vec<u64> = current["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4], "the current epoch pages on from since");

    // Without an epoch, only a since the room never reached gives the restart away.
    let beyond = get(addr, "/api/rooms/feed/messages?since=9").await.json();
    assert_eq!((&beyond["reset"], beyond["messages"].as_array().unwrap().len()), (&json!(true), 4));
    let rooms = get(addr, "/api/rooms").await.json();
    assert_eq!(rooms["rooms"][0]["epoch"], json!(new_epoch));
    second.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_publishes_once() {
    let server = TestServer::start(|_| {}).await;
    let addr = server.http();
    let key = "6f1c2b0e-9d8a-4c3b-a2e1-0f9e8d7c6b5a";
    let headers = [("Content-Type", "application/json"), ("Idempotency-Key", key)];
    let first = http(addr, "POST", "/api/rooms/r/messages?from=job", &headers, b"1").await;
    let again = http(addr, "POST", "/api/rooms/r/messages?from=job", &headers, b"1").await;
    assert_eq!((first.status, again.status), (201, 200));
    assert_eq!(first.json(), again.json());
    let other = http(addr, "POST", "/api/rooms/r/messages?from=other", &headers, b"1").await;
    assert_eq!((other.status, other.json()["seq"].as_u64()), (201, Some(2)), "keys are per sender");
    server.stop().await;
}

#[tokio::test]
async fn http_errors_are_typed_json() {
    let server = TestServer::start(|c| c.hub.max_frame = 256).await;
    let addr = server.http();
    let cases = [
        (post_json(addr, "/api/rooms/bad%20room/messages", "1").await, 400, 4002),
        (post_json(addr, "/api/rooms/r/messages", "{not json").await, 400, 4000),
        (
            post_json(addr, "/api/rooms/r/messages", &format!("\"{}\"", "x".repeat(400))).await,
            413,
            4003,
        ),
        (get(addr, "/api/rooms/r/messages?limit=0").await, 400, 4008),
        (get(addr, "/api/rooms/r/messages?since=-1").await, 400, 4008),
        (get(addr, "/api/rooms/r/messages?epoch=0123456789abcdef").await, 400, 4008),
        (get(addr, "/api/rooms/r/messages?since=1&epoch=").await, 400, 4008),
        (
            http(
                addr,
                "POST",
                "/api/rooms/r/messages",
                &[("Content-Type", "application/json"), ("Idempotency-Key", "a b")],
                b"1",
            )
            .await,
            400,
            4008,
        ),
        (get(addr, "/api/nothing/here").await, 404, 404),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status, status, "{}", response.text());
        let body = response.json();
        assert_eq!(body["code"], code, "{body}");
        assert!(body["name"].is_string() && body["message"].is_string(), "{body}");
        assert!(response.header("content-type").unwrap().starts_with("application/json"));
    }
    server.stop().await;
}

#[tokio::test]
async fn healthz_and_metrics() {
    let server = TestServer::start(|_| {}).await;
    let addr = server.http();
    let health = get(addr, "/healthz").await;
    assert_eq!((health.status, health.text().as_str()), (200, "ok"));

    let mut ws = WsClient::connect(addr).await;
    ws.send(json!({"type":"publish","room":"m","body":1,"id":1})).await;
    ws.recv_kind("ack").await;
    let mut tcp = TcpClient::connect(server.tcp()).await;
    tcp.send(json!({"type":"ping"})).await;
    tcp.recv_kind("pong").await;

    let metrics = get(addr, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = metrics.text();
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
    };
    assert_eq!(value(r#"enchufe_connections{transport="ws"}"#), 1.0);
    assert_eq!(value(r#"enchufe_connections{transport="tcp"}"#), 1.0);
    assert_eq!(value("enchufe_messages_total"), 1.0);
    // Rooms held in this process: with the Redis engine only those it has members in.
    let held = if common::on_redis() { 0.0 } else { 1.0 };
    assert_eq!(value("enchufe_rooms"), held);
    assert!(value("enchufe_frames_in_total") >= 2.0);
    assert!(value("enchufe_frames_out_total") >= 4.0);
    assert!(text.contains("# TYPE enchufe_slow_consumers_total counter"));
    server.stop().await;
}

fn web_app_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("enchufe-www-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).expect("write the test web app");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>chat</title>")
        .expect("write the test web app");
    std::fs::write(dir.join("main.3f9a1c2b.js"), "console.log(1)").expect("write the test web app");
    std::fs::write(dir.join("assets/app.0123456789abcdef.wasm"), b"\0asm\x01\0\0\0")
        .expect("write the test web app");
    std::fs::write(dir.join("style.css"), "body{}").expect("write the test web app");
    dir
}

#[tokio::test]
async fn static_files_with_content_types_and_cache_headers() {
    let dir = web_app_dir();
    let server = TestServer::start(|c| c.www = dir.clone()).await;
    let addr = server.http();
    let cases = [
        ("/", "text/html", "no-cache"),
        ("/index.html", "text/html", "no-cache"),
        ("/main.3f9a1c2b.js", "text/javascript", "public, max-age=31536000, immutable"),
        (
            "/assets/app.0123456789abcdef.wasm",
            "application/wasm",
            "public, max-age=31536000, immutable",
        ),
        ("/style.css", "text/css", "no-cache"),
    ];
    for (path, content_type, cache) in cases {
        let response = get(addr, path).await;
        assert_eq!(response.status, 200, "{path}");
        assert!(
            response.header("content-type").unwrap().starts_with(content_type),
            "{path}: {:?}",
            response.headers
        );
        assert_eq!(response.header("cache-control"), Some(cache), "{path}");
    }
    assert!(get(addr, "/").await.text().contains("<title>chat</title>"));
    assert_eq!(get(addr, "/missing.js").await.status, 404);
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_the_web_app_the_root_page_says_how_to_build_it() {
    let server = TestServer::start(|_| {}).await;
    let page = get(server.http(), "/").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains("cargo xtask serve"), "{}", page.text());
    assert_eq!(get(server.http(), "/app.js").await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn admin_disconnect() {
    let server = TestServer::start(|c| c.admin_token = Some("s3cret".into())).await;
    let addr = server.http();
    let mut victim = TcpClient::connect(server.tcp()).await;
    let session = victim.hello(json!({"type":"hello","v":1})).await;
    let path = format!("/api/sessions/{session}");

    let anonymous = http(addr, "DELETE", &path, &[], b"").await;
    assert_eq!((anonymous.status, anonymous.json()["code"].as_u64()), (401, Some(4009)));
    let wrong = http(addr, "DELETE", &path, &[("Authorization", "Bearer nope")], b"").await;
    assert_eq!(wrong.status, 401);
    let ok = http(addr, "DELETE", &path, &[("Authorization", "Bearer s3cret")], b"").await;
    assert_eq!(ok.status, 204);
    let frames = victim.until_eof().await;
    assert_eq!(frames.last().unwrap()["code"], 4014);
    let gone =
        http(addr, "DELETE", "/api/sessions/s-none", &[("Authorization", "Bearer s3cret")], b"")
            .await;
    assert_eq!(gone.status, 404);
    server.stop().await;

    let server = TestServer::start(|_| {}).await;
    let off =
        http(server.http(), "DELETE", "/api/sessions/s-1", &[("Authorization", "Bearer x")], b"")
            .await;
    assert_eq!(off.status, 404, "without a configured token the endpoint does not exist");
    server.stop().await;
}

/// `--cors` lets pages of the named origins use REST and SSE; others, the admin endpoint, and a
/// server without `--cors` get no `Access-Control-Allow-Origin`, so browsers refuse the answer.
#[tokio::test]
async fn cors_opens_rest_and_sse_to_the_configured_origins_only() {
    const DASH: &str = "https://dash.example";
    let allow =
        |r: &common::HttpResponse| r.header("access-control-allow-origin").map(str::to_owned);
    let server = TestServer::start(|c| {
        c.cors_origins = vec![DASH.into()];
        c.admin_token = Some("secret".into());
    })
    .await;
    let addr = server.http();

    let rooms = http(addr, "GET", "/api/rooms", &[("Origin", DASH)], b"").await;
    assert_eq!((rooms.status, allow(&rooms).as_deref()), (200, Some(DASH)));
    let preflight = http(
        addr,
        "OPTIONS",
        "/api/rooms/news/messages",
        &[
            ("Origin", DASH),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type, idempotency-key"),
        ],
        b"",
    )
    .await;
    assert_eq!((preflight.status, allow(&preflight).as_deref()), (200, Some(DASH)));
    let methods = preflight.header("access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let posted = http(
        addr,
        "POST",
        "/api/rooms/news/messages",
        &[("Origin", DASH), ("Content-Type", "application/json")],
        b"\"hi\"",
    )
    .await;
    assert_eq!((posted.status, allow(&posted).as_deref()), (201, Some(DASH)));

    let stranger =
        http(addr, "GET", "/api/rooms", &[("Origin", "https://evil.example")], b"").await;
    assert_eq!(allow(&stranger), None);
    let admin = http(
        addr,
        "OPTIONS",
        "/api/sessions/s-1",
        &[("Origin", DASH), ("Access-Control-Request-Method", "DELETE")],
        b"",
    )
    .await;
    assert_eq!(allow(&admin), None, "the admin endpoint is never cross-origin");
    server.stop().await;

    let closed = TestServer::start(|_| {}).await;
    let rooms = http(closed.http(), "GET", "/api/rooms", &[("Origin", DASH)], b"").await;
    assert_eq!((rooms.status, allow(&rooms)), (200, None));
    closed.stop().await;
}
