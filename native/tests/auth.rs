//! Identity over every protocol transport (TCP JSON and binary, WebSocket, UDP), with the native
//! client: refused tokens, rights per room, the token's `sub` as the sender, refresh and expiry,
//! a refresh that narrows rights, and a JWKS key rotation picked up without a restart (by
//! `Auth::reload` and by SIGHUP to a real `enchufe serve`).

mod client_support;

use std::{
    process::{Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use client_support::{
    TestServer, WAIT, connect, lines_of, next_matching, next_message, options, text, within,
};
use enchufe::client::{self, Client, Event, Options};
use futures_util::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};

const SECRET: &str = "transport-secret";
const AUDIENCE: &str = "enchufe-tests";

/// Every transport and encoding: (URL scheme, binary).
const TRANSPORTS: [(&str, bool); 4] = [("tcp", false), ("tcp", true), ("ws", false), ("udp", true)];

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// An HS256 token for `sub` with `extra` claims, the audience included.
fn token(sub: &str, extra: Value) -> String {
    let mut claims = json!({"sub": sub, "aud": AUDIENCE, "exp": now() + 600});
    for (k, v) in extra.as_object().expect("claims are an object") {
        claims[k] = v.clone();
    }
    enchufe::auth::mint(SECRET, &claims)
}

async fn server(grace_secs: u64) -> TestServer {
    TestServer::start(|c| {
        c.auth.secret = Some(SECRET.into());
        c.auth.audience = Some(AUDIENCE.into());
        c.auth.grace_secs = grace_secs;
        // The hub's timer runs every quarter of its shortest deadline (2.5 s by default); a
        // short stall deadline makes it run every 100 ms, well inside a 1 s grace (a grace
        // shorter than the timer's period can close a connection before it is told 4022).
        c.hub.slow_after_ms = 400;
    })
    .await
}

fn opts(name: &str, binary: bool, token: Option<String>) -> Options {
    let mut options = options(name).binary(binary);
    options.token = token;
    options
}

/// The code a refused first connection reports.
async fn refused_code(url: &str, options: Options) -> u16 {
    match within("a refused connect", client::connect(url, options)).await {
        Err(client::Error::Refused { code, .. }) => code,
        Err(other) => panic!("{url}: refused otherwise: {other}"),
        Ok(_) => panic!("{url}: connected"),
    }
}

/// Waits for an error event with `code`.
async fn error_event(client: &Client, code: u16) -> String {
    next_matching(client, |event| match event {
        Event::Error { code: c, message } if c == code => Some(message),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn bad_tokens_are_refused_with_4009_on_every_transport() {
    let server = server(30).await;
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "alice", "aud": AUDIENCE}),
        &EncodingKey::from_secret(b"not-the-secret"),
    )
    .unwrap();
    let cases = [
        ("no token", None),
        ("bad signature", Some(forged)),
        ("expired", Some(token("alice", json!({"exp": now() - 120})))),
        ("wrong audience", Some(token("alice", json!({"aud": "someone-else"})))),
    ];
    let runs = TRANSPORTS.iter().flat_map(|&(scheme, binary)| {
        let server = &server;
        cases.iter().map(move |(what, token)| async move {
            let code = refused_code(&server.url(scheme), opts("x", binary, token.clone())).await;
            assert_eq!(code, 4009, "{what} over {scheme} (binary: {binary})");
        })
    });
    join_all(runs).await;
    server.stop().await;
}

#[tokio::test]
async fn rights_and_the_sender_come_from_the_token() {
    let server = server(30).await;
    join_all(TRANSPORTS.iter().map(|&(scheme, binary)| {
        let server = &server;
        async move {
            let room = format!("chat:{scheme}{binary}");
            let watcher =
                connect(&server.url(scheme), opts("w", binary, Some(token("root", json!({})))))
                    .await;
            watcher.join(&room, None).await.unwrap();
            let rooms = json!({"rooms": ["chat:*"]});
            // hello.name "mallory": with the policy's names off, the token's sub is shown.
            let alice =
                connect(&server.url(scheme), opts("mallory", binary, Some(token("alice", rooms))))
                    .await;
            alice.publish_json(&room, &json!("hi")).await.expect("chat:* allows it");
            let message = next_message(&watcher).await;
            assert_eq!((message.from.as_str(), text(&message)), ("alice", "\"hi\""), "{scheme}");
            match alice.publish_json("ops:x", &json!("no")).await {
                Err(client::Error::Refused { code, .. }) => assert_eq!(code, 4021, "{scheme}"),
                other => panic!("{scheme}: publish to ops:x: {other:?}"),
            }
            alice.close().await;
            watcher.close().await;
        }
    }))
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_refresh_outlives_the_first_token_and_silence_is_closed_after_the_grace() {
    let server = server(1).await;
    join_all(TRANSPORTS.iter().map(|&(scheme, binary)| {
        let server = &server;
        async move {
            let url = server.url(scheme);
            let short = |sub: &str| token(sub, json!({"exp": now() + 2}));
            let refreshing = connect(&url, opts("r", binary, Some(short("rita")))).await;
            let lapsing = connect(&url, opts("l", binary, Some(short("lars")))).await;
            let room = format!("room-{scheme}{binary}");
            refreshing.join(&room, None).await.unwrap();
            lapsing.join(&room, None).await.unwrap();
            let later = now() + 600;
            refreshing.refresh(token("rita", json!({"exp": later}))).await.unwrap();
            let refreshed = next_matching(&refreshing, |event| match event {
                Event::Refreshed { expires } => Some(expires),
                _ => None,
            })
            .await;
            assert_eq!(refreshed, Some(later));

            // The one that does not refresh is told (4022), then closed after the grace (4009).
            let mut told = Vec::new();
            while let Some(event) = within("lapsing events", lapsing.next_event()).await {
                if let Event::Error { code, .. } = event {
                    told.push(code);
                }
            }
            assert_eq!(told, [4022, 4009], "{scheme} (binary: {binary})");
            // By now the first tokens have expired: the refreshed connection goes on.
            let seq = refreshing.publish_json(&room, &json!("still here")).await;
            assert!(seq.is_ok(), "{scheme}: {seq:?}");
            let message = next_message(&refreshing).await;
            assert_eq!(text(&message), "\"still here\"");
            refreshing.close().await;
        }
    }))
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_refresh_that_narrows_rights_leaves_the_rooms_no_longer_allowed() {
    let server = server(30).await;
    let root = Some(token("root", json!({})));
    join_all(TRANSPORTS.iter().map(|&(scheme, binary)| {
        let (server, root) = (&server, root.clone());
        async move {
            let url = server.url(scheme);
            let wide = token("nora", json!({"rooms": ["chat:*", "ops:*"]}));
            let nora = connect(&url, opts("n", binary, Some(wide))).await;
            let (chat, ops) = (format!("chat:{scheme}{binary}"), format!("ops:{scheme}{binary}"));
            nora.join(&chat, None).await.unwrap();
            nora.join(&ops, None).await.unwrap();
            nora.refresh(token("nora", json!({"rooms": ["chat:*"]}))).await.unwrap();
            let why = error_event(&nora, 4021).await;
            assert!(why.contains(&ops), "{why}");
            // Published in this order, the ops message would come first if she were still in.
            let publisher = connect(&url, opts("p", binary, root)).await;
            publisher.publish_json(&ops, &json!("secret")).await.unwrap();
            publisher.publish_json(&chat, &json!("public")).await.unwrap();
            let message = next_message(&nora).await;
            assert_eq!((message.room.as_str(), text(&message)), (chat.as_str(), "\"public\""));
            publisher.close().await;
            nora.close().await;
        }
    }))
    .await;

    // On the wire: for each room no longer allowed an error 4021 and a `left` without an id,
    // then `refreshed`.
    let mut tcp = tokio::net::TcpStream::connect(server.addr("tcp")).await.unwrap();
    let (read, mut write) = tcp.split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let hello =
        json!({"type": "hello", "v": 1, "token": token("nora", json!({"rooms": ["ops:*"]}))});
    let narrow = json!({"type": "refresh", "token": token("nora", json!({"rooms": ["chat:*"]}))});
    for frame in [hello, json!({"type": "join", "room": "ops:wire"})] {
        write.write_all(format!("{frame}\n").as_bytes()).await.unwrap();
    }
    let mut seen = Vec::new();
    // With the Redis engine a join is answered when Redis answers, so a refresh sent behind it
    // may be answered first (and the join then refused: docs/PROTOCOL.md): wait for `joined`.
    while client_support::on_redis() && !seen.iter().any(|f: &Value| f["type"] == "joined") {
        let line = within("a line", lines.next_line()).await.unwrap().expect("not EOF");
        seen.push(serde_json::from_str(&line).unwrap());
    }
    write.write_all(format!("{narrow}\n").as_bytes()).await.unwrap();
    while !seen.iter().any(|f: &Value| f["type"] == "refreshed") {
        let line = within("a line", lines.next_line()).await.unwrap().expect("not EOF");
        seen.push(serde_json::from_str(&line).unwrap());
    }
    let kinds: Vec<&str> = seen.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["welcome", "joined", "error", "left", "refreshed"]);
    let (error, left) = (&seen[2], &seen[3]);
    assert_eq!(
        (&error["code"], &left["room"], left.get("id")),
        (&json!(4021), &json!("ops:wire"), None)
    );
    server.stop().await;
}

// Two P-256 keys for ES256 (test fixtures): the private key as PKCS#8 PEM, the public point.
const KEY_A: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIVQ5pqj2BTJ8BbVi
WhBQ5eqIbAzsPec5SMkMpVVBi56hRANCAARlV8KBCUuxz6F70EsUs+OJH+ONAxqL
rVuWSCI3eqC9exE5LRmkwlXGNSoeyeW7BsDwSTrMz1P9NXcx6h3ijYiO
-----END PRIVATE KEY-----
";
const POINT_A: (&str, &str) =
    ("ZVfCgQlLsc-he9BLFLPjiR_jjQMai61blkgiN3qgvXs", "ETktGaTCVcY1Kh7J5bsGwPBJOszPU_01dzHqHeKNiI4");
const KEY_B: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+bqMY15jQGNM20o6
yeyw/fbLbI4FTg5GNOq+QdLX2muhRANCAARpFGAAcffgCoxpWGAvt40kIIV2mCWX
RUbnNb+AcxTgx9q/snARc22gkVzaDdkUBgpLDSdmgHBWWVWUMzqnbzuF
-----END PRIVATE KEY-----
";
const POINT_B: (&str, &str) =
    ("aRRgAHH34AqMaVhgL7eNJCCFdpgll0VG5zW_gHMU4Mc", "2r-ycBFzbaCRXNoN2RQGCksNJ2aAcFZZVZQzOqdvO4U");

/// A JWKS with one EC key.
fn jwks(kid: &str, (x, y): (&str, &str)) -> String {
    json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": x, "y": y}]})
        .to_string()
}

/// An ES256 token signed with `pem`, naming `kid`.
fn es256(pem: &str, kid: &str, sub: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).expect("a PKCS#8 EC key");
    jsonwebtoken::encode(&header, &json!({"sub": sub, "exp": now() + 600}), &key).expect("signs")
}

/// A file for this test alone, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("enchufe-{}-{name}", std::process::id()));
        TempFile(path)
    }

    fn write(&self, text: &str) {
        // Written whole, then renamed: a reader never sees half a file.
        let staging = self.0.with_extension("tmp");
        std::fs::write(&staging, text).expect("write a temp file");
        std::fs::rename(&staging, &self.0).expect("rename a temp file");
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn a_jwks_rotation_is_picked_up_by_reload() {
    let file = TempFile::new("rotation.jwks");
    file.write(&jwks("a", POINT_A));
    let path = file.0.clone();
    let server = TestServer::start(|c| c.auth.jwks_file = Some(path)).await;
    let url = server.url("ws");
    let first = connect(&url, opts("a", false, Some(es256(KEY_A, "a", "ada")))).await;
    assert_eq!(refused_code(&url, opts("b", false, Some(es256(KEY_B, "b", "bo")))).await, 4009);

    file.write(&jwks("b", POINT_B));
    server.hub.auth().reload().expect("the new file loads");
    let second = connect(&url, opts("b", false, Some(es256(KEY_B, "b", "bo")))).await;
    second.join("r", None).await.unwrap();
    assert_eq!(refused_code(&url, opts("a", false, Some(es256(KEY_A, "a", "ada")))).await, 4009);

    // A file that no longer parses keeps the keys in use.
    file.write("{not json");
    assert!(server.hub.auth().reload().is_err());
    connect(&url, opts("b", false, Some(es256(KEY_B, "b", "bo")))).await.close().await;
    first.close().await;
    second.close().await;
    server.stop().await;
}

/// A child process killed if the test ends first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_keys_of_a_running_server() {
    let file = TempFile::new("sighup.jwks");
    file.write(&jwks("a", POINT_A));
    let child = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .args(["serve", "--http", "off", "--udp", "off", "--tcp", "127.0.0.1:0", "--auth-jwks"])
        .arg(&file.0)
        .env_remove("ENCHUFE_CONFIG")
        .env_remove("ENCHUFE_AUTH_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start enchufe serve");
    let mut child = Running(child);
    let lines = lines_of(child.0.stdout.take().expect("stdout"));
    let line = lines.recv_timeout(WAIT).expect("a startup line");
    let url = line.strip_prefix("enchufe: tcp listening on ").expect(&line).to_owned();
    connect(&url, opts("a", false, Some(es256(KEY_A, "a", "ada")))).await.close().await;

    file.write(&jwks("b", POINT_B));
    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-HUP", &pid]).status().expect("kill -HUP");
    assert!(killed.success());
    // The reload runs on the server's own time: retry until the new key works, boundedly.
    within("the new key to be taken", async {
        loop {
            let options = opts("b", false, Some(es256(KEY_B, "b", "bo")));
            if let Ok(client) = client::connect(&url, options).await {
                client.close().await;
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(refused_code(&url, opts("a", false, Some(es256(KEY_A, "a", "ada")))).await, 4009);
}

/// Runs the `enchufe` binary to completion (off the runtime, bounded).
async fn enchufe(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
    let env: Vec<(String, String)> =
        env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_enchufe"))
            .args(&args)
            .env_remove("ENCHUFE_AUTH_SECRET")
            .env_remove("ENCHUFE_TOKEN")
            .env_remove("ENCHUFE_TOKEN_FILE")
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("run enchufe")
    });
    within("enchufe to finish", run).await.expect("blocking task")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("UTF-8").trim().to_owned()
}

#[tokio::test]
async fn enchufe_token_mints_what_the_server_takes_and_the_clients_send_it() {
    let server = server(30).await;
    let auth = server.hub.auth().clone();
    let unix_ms = now() * 1000;
    let minted = stdout(
        &enchufe(&["token", "--secret", SECRET, "--sub", "alice", "--rooms", "chat:*,lobby"], &[])
            .await,
    );
    // No audience given: this server wants one.
    assert!(auth.verify(&minted, unix_ms).is_err());
    let minted = stdout(
        &enchufe(
            &[
                "token",
                "--sub",
                "alice",
                "--rooms",
                "chat:*,lobby",
                "--ttl",
                "60",
                "--aud",
                AUDIENCE,
            ],
            &[("ENCHUFE_AUTH_SECRET", SECRET)],
        )
        .await,
    );
    let principal = auth.verify(&minted, unix_ms).expect("the minted token verifies");
    assert_eq!(&*principal.sub, "alice");
    let expires = principal.expires.expect("an exp");
    assert!((now() + 55..=now() + 61).contains(&expires), "{expires}");

    // The secret and the audience from the server's config file.
    let config = TempFile::new("token.toml");
    config.write(&format!("[auth]\nsecret = \"{SECRET}\"\naudience = \"{AUDIENCE}\"\n"));
    let path = config.0.to_str().unwrap().to_owned();
    let from_file = stdout(&enchufe(&["token", "--config", &path, "--sub", "bob"], &[]).await);
    assert_eq!(&*auth.verify(&from_file, unix_ms).unwrap().sub, "bob");
    let no_secret = enchufe(&["token", "--sub", "x"], &[]).await;
    assert_eq!(no_secret.status.code(), Some(2));

    // The client commands send it: --token-file, --token, ENCHUFE_TOKEN.
    let file = TempFile::new("alice.token");
    file.write(&format!("{minted}\n"));
    let url = server.url("tcp");
    let token_file = file.0.to_str().unwrap().to_owned();
    let published =
        enchufe(&["pub", "--url", &url, "--token-file", &token_file, "chat:a", "hi"], &[]).await;
    assert_eq!(stdout(&published), "1");
    let published = enchufe(&["pub", "--url", &url, "--token", &minted, "lobby", "hi"], &[]).await;
    assert_eq!(stdout(&published), "1");
    let forbidden =
        enchufe(&["pub", "--url", &url, "ops:x", "hi"], &[("ENCHUFE_TOKEN", &minted)]).await;
    assert!(!forbidden.status.success());
    assert!(String::from_utf8_lossy(&forbidden.stderr).contains("4021"), "{forbidden:?}");
    let anonymous = enchufe(&["pub", "--url", &url, "chat:a", "hi"], &[]).await;
    assert!(!anonymous.status.success());
    assert!(String::from_utf8_lossy(&anonymous.stderr).contains("4009"), "{anonymous:?}");
    server.stop().await;
}
