//! The `enchufe serve` binary: its startup lines, configuration precedence (flag > environment >
//! file > default), and a clean exit on SIGTERM.

mod common;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{WAIT, WsClient, get};
use serde_json::json;

#[tokio::test]
async fn serve_prints_addresses_layers_its_configuration_and_exits_0_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("enchufe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("enchufe.toml");
    std::fs::write(
        &file,
        "http = \"127.0.0.1:1\"\ntcp = \"127.0.0.1:0\"\nudp = \"off\"\n[hub]\nmax_rooms = 3\nmax_frame = 4096\n",
    )
    .expect("config file");

    let mut child = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .arg("serve")
        .arg("--config")
        .arg(&file)
        .args(["--http", "127.0.0.1:0", "--www", "/nonexistent", "--max-frame", "2048"])
        .env("ENCHUFE_TCP", "off") // the environment beats the file...
        .env("ENCHUFE_MAX_FRAME", "1000") // ...but not a flag
        .env_remove("ENCHUFE_UDP")
        .env_remove("ENCHUFE_HTTP")
        .env_remove("ENCHUFE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start enchufe serve");
    let lines = common::lines_of(child.stdout.take().expect("stdout"));
    let line = lines.recv_timeout(WAIT).expect("a startup line");
    let url = line.strip_prefix("enchufe: http listening on http://").expect(&line).to_owned();
    let http: std::net::SocketAddr = url.parse().expect("an address");
    assert_ne!(http.port(), 1, "the flag beats the file");
    assert!(
        lines.recv_timeout(Duration::from_millis(300)).is_err(),
        "tcp (env: off) and udp (file: off) are not listening"
    );

    assert_eq!(get(http, "/healthz").await.text(), "ok");
    let mut ws = WsClient::connect(http).await;
    ws.send(json!({"type":"ping"})).await;
    let limits = ws.recv_kind("welcome").await["limits"].clone();
    assert_eq!(limits["max_rooms"], 3, "from the file");
    assert_eq!(limits["max_frame"], 2048, "the flag beats the environment and the file");

    let killed =
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    assert_eq!(ws.until_close().await.1, Some(4015), "clients are told");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server exits after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_invalid_configuration_is_refused_with_exit_code_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .args(["serve", "--tcp", "not-an-address"])
        .output()
        .expect("run enchufe");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not-an-address"));

    let dir = std::env::temp_dir().join(format!("enchufe-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "htp = \"off\"\n").expect("config file");
    let output = Command::new(env!("CARGO_BIN_EXE_enchufe"))
        .arg("serve")
        .arg("--config")
        .arg(&file)
        .output()
        .expect("run enchufe");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("htp"), "typos are named");
    let _ = std::fs::remove_dir_all(dir);
}
