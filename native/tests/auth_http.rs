//! The HTTP doors check identity and origin: REST (publish, history, room list), SSE, the
//! WebSocket upgrade and the admin API, on a real server (docs/DECISIONS.md, "Identity").

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use async_tungstenite::tungstenite::client::IntoClientRequest as _;
use common::{SseClient, TestServer, WsClient, get, http, post_json, within};
use serde_json::{Value, json};

const SECRET: &str = "test-secret";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

fn token(claims: Value) -> String {
    enchufe::auth::mint(SECRET, &claims)
}

fn alice() -> String {
    token(json!({"sub": "alice", "exp": now() + 600, "rooms": ["chat:*"]}))
}

async fn secured() -> TestServer {
    TestServer::start(|c| c.auth.secret = Some(SECRET.into())).await
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[tokio::test]
async fn rest_publish_takes_the_sender_from_the_token() {
    let server = secured().await;
    let addr = server.http();
    let path = "/api/rooms/chat:a/messages?from=mallory";

    let missing = http(addr, "POST", path, &[JSON], b"1").await;
    assert_eq!(missing.status, 401, "{}", missing.text());
    assert_eq!(missing.json()["code"], 4009);
    assert!(missing.header("www-authenticate").unwrap().starts_with("Bearer"));

    let forged = enchufe::auth::mint("other-secret", &json!({"sub": "alice"}));
    for (auth, code) in [
        (format!("Bearer {forged}"), 4009),
        (format!("Bearer {}", token(json!({"sub": "alice", "exp": now() - 60}))), 4022),
        (format!("Basic {}", alice()), 4009),
        ("Bearer".to_owned(), 4009),
    ] {
        let refused = http(addr, "POST", path, &[JSON, ("Authorization", &auth)], b"1").await;
        assert_eq!((refused.status, &refused.json()["code"]), (401, &json!(code)), "{auth}");
        assert!(refused.header("www-authenticate").is_some());
    }

    let auth = format!("bearer {}", alice());
    let created = http(addr, "POST", path, &[JSON, ("Authorization", &auth)], b"\"hi\"").await;
    assert_eq!(created.status, 201, "{}", created.text());
    let page = get(addr, "/api/rooms/chat:a/messages").await;
    assert_eq!(page.status, 401, "history needs a token too");
    let page = http(addr, "GET", "/api/rooms/chat:a/messages", &[("Authorization", &auth)], b"")
        .await
        .json();
    assert_eq!(page["messages"][0]["from"], "alice", "?from= is ignored: the token says who");

    let forbidden =
        http(addr, "POST", "/api/rooms/ops:x/messages", &[JSON, ("Authorization", &auth)], b"1")
            .await;
    assert_eq!((forbidden.status, &forbidden.json()["code"]), (403, &json!(4021)));
    let read =
        http(addr, "GET", "/api/rooms/ops:x/messages", &[("Authorization", &auth)], b"").await;
    assert_eq!((read.status, &read.json()["code"]), (403, &json!(4021)));

    // The room list holds only the rooms the caller may read.
    let everything = format!("Bearer {}", token(json!({"sub": "root"})));
    let ops = http(
        addr,
        "POST",
        "/api/rooms/ops:x/messages",
        &[JSON, ("Authorization", &everything)],
        b"1",
    )
    .await;
    assert_eq!(ops.status, 201);
    assert_eq!(get(addr, "/api/rooms").await.status, 401);
    let mine = http(addr, "GET", "/api/rooms", &[("Authorization", &auth)], b"").await.json();
    let names: Vec<&str> =
        mine["rooms"].as_array().unwrap().iter().map(|r| r["room"].as_str().unwrap()).collect();
    assert_eq!(names, ["chat:a"]);
    let all = http(addr, "GET", "/api/rooms", &[("Authorization", &everything)], b"").await.json();
    assert_eq!(all["rooms"].as_array().unwrap().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn idempotency_keys_are_scoped_to_the_token_and_refused_when_reused() {
    let server = secured().await;
    let addr = server.http();
    let path = "/api/rooms/chat:a/messages";
    let alice = format!("Bearer {}", alice());
    let bob = format!("Bearer {}", token(json!({"sub": "bob"})));
    let send = |auth: &str, body: &'static [u8]| {
        let headers = [JSON, ("Authorization", auth), ("Idempotency-Key", "k1")];
        let headers: Vec<(String, String)> =
            headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            http(addr, "POST", path, &headers, body).await
        }
    };
    let first = send(&alice, b"1").await;
    let again = send(&alice, b"1").await;
    assert_eq!((first.status, again.status), (201, 200), "a short key is fine with a token");
    assert_eq!(first.json()["seq"], again.json()["seq"]);
    let reused = send(&alice, b"2").await;
    assert_eq!((reused.status, &reused.json()["code"]), (422, &json!(4008)), "{}", reused.text());
    let other = send(&bob, b"1").await;
    assert_eq!((other.status, &other.json()["seq"]), (201, &json!(2)), "bob's k1 is not alice's");
    server.stop().await;
}

#[tokio::test]
async fn anonymous_idempotency_keys_must_not_collide_by_accident() {
    let server = TestServer::start(|_| {}).await;
    let addr = server.http();
    let post = |key: &'static str, from: &'static str, body: &'static [u8]| async move {
        let path = format!("/api/rooms/r/messages?from={from}");
        http(addr, "POST", &path, &[JSON, ("Idempotency-Key", key)], body).await
    };
    for short in ["77", "abc", "0123456789abcdef0123456789abcde", "aBcDeFgHiJkLmNoPqRsTu"] {
        let refused = post(short, "a", b"1").await;
        assert_eq!((refused.status, &refused.json()["code"]), (400, &json!(4008)), "{short}");
    }
    let uuid = "0b9c6f3e-1d2a-4e5f-8a7b-6c5d4e3f2a1b";
    let base64 = "Zm9vYmFyYmF6cXV4cXV1eA";
    assert_eq!(post(uuid, "a", b"1").await.status, 201);
    assert_eq!(post(uuid, "a", b"1").await.status, 200);
    assert_eq!(post(uuid, "b", b"1").await.status, 201, "scoped to the sender name");
    assert_eq!(post(base64, "a", b"1").await.status, 201);
    let reused = post(uuid, "a", b"2").await;
    assert_eq!((reused.status, &reused.json()["code"]), (422, &json!(4008)));
    server.stop().await;
}

#[tokio::test]
async fn writes_take_only_json_or_bytes_and_only_from_trusted_origins() {
    for secured in [false, true] {
        let server = TestServer::start(|c| {
            if secured {
                c.auth.secret = Some(SECRET.into());
            }
        })
        .await;
        let addr = server.http();
        // A token on a server without keys is refused like a bad one (401): it cannot be checked.
        let auth = if secured { format!("Bearer {}", alice()) } else { String::new() };
        let auth = ("Authorization", auth.as_str());
        let auth = if secured { vec![auth] } else { Vec::new() };
        let path = "/api/rooms/chat:a/messages";
        for kind in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"] {
            let headers = [&[("Content-Type", kind)][..], &auth].concat();
            let refused = http(addr, "POST", path, &headers, b"1").await;
            assert_eq!(refused.status, 415, "{kind} (secured: {secured})");
            assert_eq!(refused.json()["code"], 4000);
        }
        let none = http(addr, "POST", path, &auth, b"1").await;
        assert_eq!(none.status, 415, "no Content-Type");
        let own = format!("http://{addr}");
        for (origin, status) in [("http://evil.example", 403), ("null", 403), (own.as_str(), 201)] {
            let headers = [&[JSON, ("Origin", origin)][..], &auth].concat();
            let answer = http(addr, "POST", path, &headers, b"1").await;
            assert_eq!(answer.status, status, "{origin} (secured: {secured}): {}", answer.text());
        }
        server.stop().await;
    }
    let listed = TestServer::start(|c| c.allowed_origins = vec!["http://app.example".into()]).await;
    let headers = [JSON, ("Origin", "http://app.example")];
    assert_eq!(
        http(listed.http(), "POST", "/api/rooms/r/messages", &headers, b"1").await.status,
        201
    );
    listed.stop().await;
}

/// Opens a WebSocket to `path` with `headers`: the client, or the refusal's status.
async fn ws(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<WsClient, u16> {
    let mut request = format!("ws://{addr}{path}").into_client_request().expect("a ws URL");
    for (name, value) in headers {
        let name = async_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes());
        request.headers_mut().insert(name.expect("a name"), value.parse().expect("a value"));
    }
    let stream = common::dial(addr).await;
    match within("ws connect", async_tungstenite::tokio::client_async(request, stream)).await {
        Ok((ws, _)) => Ok(WsClient { ws }),
        Err(async_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("ws connect failed: {other}"),
    }
}

#[tokio::test]
async fn the_websocket_upgrade_checks_the_token_and_the_origin() {
    let server = secured().await;
    let addr = server.http();
    assert_eq!(ws(addr, "/ws?token=junk", &[]).await.err(), Some(401));
    let expired = token(json!({"sub": "alice", "exp": now() - 60}));
    assert_eq!(ws(addr, &format!("/ws?token={expired}"), &[]).await.err(), Some(401));
    let good = format!("/ws?token={}", alice());
    let evil = [("Origin", "http://evil.example")];
    assert_eq!(ws(addr, &good, &evil).await.err(), Some(403), "keys set: foreign pages refused");
    assert_eq!(ws(addr, &good, &[("Origin", "null")]).await.err(), Some(403));

    let own = format!("http://{addr}");
    let mut client = ws(addr, &good, &[("Origin", &own)]).await.expect("own origin");
    client.send(json!({"type": "hello", "v": 1, "name": "mallory"})).await;
    let welcome = client.recv_kind("welcome").await;
    assert!(welcome["expires"].is_u64(), "the upgrade's token holds: {welcome}");
    client.send(json!({"type": "join", "room": "chat:a"})).await;
    client.recv_kind("joined").await;
    client.send(json!({"type": "publish", "room": "chat:a", "body": "hi", "id": 1})).await;
    let message = client.recv_kind("message").await;
    assert_eq!(message["from"], "alice");
    client.send(json!({"type": "join", "room": "ops:x", "id": 2})).await;
    assert_eq!(client.recv_kind("error").await["code"], 4021);

    // No token at the upgrade: the session asks hello for one.
    let mut anonymous = ws(addr, "/ws", &[]).await.expect("no Origin: not a browser");
    anonymous.send(json!({"type": "hello", "v": 1})).await;
    let (frames, code) = anonymous.until_close().await;
    assert_eq!((frames.last().map(|f| f["code"].clone()), code), (Some(json!(4009)), Some(4009)));
    server.stop().await;

    let open = TestServer::start(|_| {}).await;
    ws(open.http(), "/ws", &evil).await.expect("no auth, no list: local development");
    open.stop().await;
    let listed =
        TestServer::start(|c| c.allowed_origins = vec!["https://app.example".into()]).await;
    assert_eq!(ws(listed.http(), "/ws", &evil).await.err(), Some(403));
    ws(listed.http(), "/ws", &[("Origin", "https://app.example")]).await.expect("listed");
    ws(listed.http(), "/ws", &[]).await.expect("no Origin");
    listed.stop().await;
}

#[tokio::test]
async fn sse_takes_the_token_from_the_header_or_the_query() {
    let server = secured().await;
    let addr = server.http();
    assert_eq!(SseClient::connect(addr, "/api/rooms/chat:a/events", &[]).await.status, 401);
    let bad = SseClient::connect(addr, "/api/rooms/chat:a/events?token=junk", &[]).await;
    assert_eq!(bad.status, 401);
    let good = alice();
    let refused =
        SseClient::connect(addr, &format!("/api/rooms/ops:x/events?token={good}"), &[]).await;
    assert_eq!(refused.status, 403);

    let mut by_query =
        SseClient::connect(addr, &format!("/api/rooms/chat:a/events?token={good}"), &[]).await;
    assert_eq!(by_query.status, 200);
    by_query.next_kind("joined").await;
    let auth = format!("Bearer {good}");
    let mut by_header =
        SseClient::connect(addr, "/api/rooms/chat:a/events", &[("Authorization", &auth)]).await;
    assert_eq!(by_header.status, 200);
    by_header.next_kind("joined").await;
    let posted =
        http(addr, "POST", "/api/rooms/chat:a/messages", &[JSON, ("Authorization", &auth)], b"7")
            .await;
    assert_eq!(posted.status, 201);
    for stream in [&mut by_query, &mut by_header] {
        let message = stream.next_kind("message").await.json();
        assert_eq!((&message["from"], &message["body"]), (&json!("alice"), &json!(7)));
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_admin_tokens_are_throttled_per_address() {
    let server = TestServer::start(|c| {
        c.admin_token = Some("the-admin-token".into());
        // 2,000 requests on as many connections: the connection rate is not what is tested.
        c.connections.rate_per_address = 0;
    })
    .await;
    let addr = server.http();
    let started = std::time::Instant::now();
    let (mut unauthorized, mut throttled) = (0, 0);
    for guess in 0..2_000 {
        let auth = format!("Bearer guess-{guess}");
        let answer =
            http(addr, "DELETE", "/api/sessions/s-1", &[("Authorization", &auth)], b"").await;
        match answer.status {
            401 => unauthorized += 1,
            429 => {
                throttled += 1;
                assert!(answer.header("retry-after").is_some());
                assert_eq!(answer.json()["code"], 4010);
            }
            other => panic!("status {other}: {}", answer.text()),
        }
    }
    let allowed = 10 + started.elapsed().as_secs() + 1;
    assert!(unauthorized <= allowed, "{unauthorized} guesses answered (at most {allowed})");
    assert_eq!(unauthorized + throttled, 2_000);
    let right = http(
        addr,
        "DELETE",
        "/api/sessions/s-1",
        &[("Authorization", "Bearer the-admin-token")],
        b"",
    )
    .await;
    assert_eq!(right.status, 429, "while throttled even the right token waits");
    server.stop().await;
    let _ = post_json;
}
