//! The built `enchufe` binary's client subcommands (`pub`, `sub`, `chat`) against an in-process
//! server on port 0.

mod client_support;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Output, Stdio},
};

use client_support::{TestServer, connect, messages, options, text, within};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_enchufe");

/// A child process killed if the test ends first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `enchufe ARGS` to completion (off the runtime, bounded by the test timeout).
async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
    let command = tokio::task::spawn_blocking(move || {
        Command::new(BIN).args(&args).stdin(Stdio::null()).output().expect("run enchufe")
    });
    within("enchufe to finish", command).await.expect("blocking task")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "enchufe failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

/// Starts `enchufe sub ARGS` and waits until its stderr says it joined.
async fn start_sub(args: &[&str]) -> (Running, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(BIN)
        .arg("sub")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn enchufe sub");
    let stderr = child.stderr.take().expect("stderr");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    // Read stderr to its end (so the child never writes to a closed pipe), reporting the join.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("joined ") {
                tx.take().map(|tx| tx.send(()));
            }
        }
    });
    within("sub to join", rx).await.expect("sub exited before joining");
    (Running(child), stdout)
}

/// Reads the rest of `sub`'s stdout (it exits after `--count` messages) as JSON values.
async fn lines(stdout: BufReader<std::process::ChildStdout>) -> Vec<Value> {
    let read = tokio::task::spawn_blocking(move || {
        stdout
            .lines()
            .map(|line| serde_json::from_str(&line.expect("line")).expect("a JSON line"))
            .collect::<Vec<Value>>()
    });
    within("sub output", read).await.expect("reader task")
}

#[tokio::test]
async fn pub_prints_the_seq_and_sub_prints_json_lines() {
    let server = TestServer::start(|_| {}).await;
    let tcp = server.url("tcp");
    let (sub, out) = start_sub(&["lobby", "--url", &tcp, "--count", "3"]).await;

    let json = run(&["pub", "lobby", r#"{"text":"hi"}"#, "--url", &tcp, "--name", "ana"]).await;
    assert_eq!(stdout(&json), "1\n");
    let ws = server.url("ws");
    let text = run(&["pub", "lobby", "hello world", "--url", &ws, "--name", "bob"]).await;
    assert_eq!(stdout(&text), "2\n");
    let udp = run(&["pub", "lobby", "7", "--url", &server.url("udp"), "--binary"]).await;
    assert_eq!(stdout(&udp), "3\n");

    let got = lines(out).await;
    assert_eq!(got.len(), 3);
    assert_eq!((got[0]["seq"].as_u64(), got[0]["from"].as_str()), (Some(1), Some("ana")));
    assert_eq!(got[0]["body"], serde_json::json!({"text": "hi"}));
    assert_eq!(
        (got[1]["from"].as_str(), &got[1]["body"]),
        (Some("bob"), &Value::from("hello world"))
    );
    assert_eq!((got[2]["seq"].as_u64(), &got[2]["body"]), (Some(3), &Value::from(7)));
    drop(sub);
    server.stop().await;
}

#[tokio::test]
async fn sub_since_replays_history_in_order() {
    let server = TestServer::start(|_| {}).await;
    let publisher = connect(&server.url("tcp"), options("p")).await;
    for n in 1..=4 {
        within("publish", publisher.publish_json("log", &n)).await.expect("ack");
    }
    let (sub, out) =
        start_sub(&["log", "--since", "1", "--count", "3", "--url", &server.url("udp")]).await;
    let seqs: Vec<_> = lines(out).await.iter().map(|v| v["seq"].as_u64()).collect();
    assert_eq!(seqs, [Some(2), Some(3), Some(4)]);
    drop(sub);
    publisher.close().await;
    server.stop().await;
}

#[tokio::test]
async fn pub_to_no_server_fails_with_a_message() {
    let addr =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let output = run(&["pub", "r", "x", "--url", &format!("tcp://{addr}")]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let output = run(&["pub", "r", "x", "--url", "gopher://x"]).await;
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid server URL"));
}

#[tokio::test]
async fn chat_shows_recent_messages_and_publishes_typed_lines() {
    let server = TestServer::start(|_| {}).await;
    let ana = connect(&server.url("tcp"), options("ana")).await;
    within("join", ana.join("den", None)).await.expect("join");
    within("publish", ana.publish_json("den", &"earlier")).await.expect("ack");
    assert_eq!(messages(&ana, 1).await[0].seq, 1);

    let url = server.url("ws");
    let chat = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(["chat", "den", "--url", &url, "--name", "bob"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn enchufe chat");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"hello there\n\n{\"n\":1}\n").expect("type");
        drop(stdin); // Ctrl-D: chat sends what was typed, then exits
        child.wait_with_output().expect("chat output")
    });
    let output = within("chat", chat).await.expect("chat task");
    assert!(stdout(&output).contains("[1] ana: earlier"), "recent messages are shown");

    let got = messages(&ana, 2).await;
    assert_eq!((got[0].seq, got[0].from.as_str(), text(&got[0])), (2, "bob", "\"hello there\""));
    assert_eq!((got[1].seq, text(&got[1])), (3, r#"{"n":1}"#), "the blank line was skipped");
    ana.close().await;
    server.stop().await;
}

/// `sub` stopped by SIGTERM (a service manager, `timeout`) leaves its rooms at once: over UDP,
/// which has no stream end, its member would otherwise linger until the idle expiry (45 s).
#[tokio::test]
async fn sub_stopped_by_sigterm_leaves_the_room_at_once() {
    use enchufe::client::{Event, PresenceAction};

    let server = TestServer::start(|_| {}).await;
    let watcher = connect(&server.url("ws"), options("watcher")).await;
    within("watcher joins", watcher.join("bye", None)).await.expect("join");
    let (mut sub, _out) =
        start_sub(&["bye", "--url", &server.url("udp"), "--name", "leaver"]).await;
    let presence = |want: PresenceAction| {
        move |event: Event| match event {
            Event::Presence(p)
                if p.action == want && p.member.name.as_deref() == Some("leaver") =>
            {
                Some(())
            }
            _ => None,
        }
    };
    client_support::next_matching(&watcher, presence(PresenceAction::Join)).await;

    let pid = sub.0.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(kill.success());
    client_support::next_matching(&watcher, presence(PresenceAction::Leave)).await;
    let status = within("sub to exit", async {
        loop {
            if let Some(status) = sub.0.try_wait().expect("try_wait") {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(status.success(), "sub exited with {status}");
    watcher.close().await;
    server.stop().await;
}
