//! `GET /api/info` over a real socket: the web app reads the TCP and UDP addresses from it.

use enchufe::{config::Config, server::Server};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The answer names the listeners' real (port-0-chosen) addresses, and `null` for one turned off.
#[tokio::test]
async fn info_reports_the_bound_addresses() {
    let mut config = Config::ephemeral();
    config.udp = None;
    let server = Server::bind(config).await.expect("bind");
    let addrs = server.addrs();
    let http = addrs.http.expect("http is on");
    let tcp = addrs.tcp.expect("tcp is on");
    let shutdown = server.shutdown_handle();
    let running = tokio::spawn(server.run());

    let mut stream = tokio::net::TcpStream::connect(http).await.expect("connect");
    let request = format!("GET /api/info HTTP/1.1\r\nHost: {http}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_ascii_lowercase().contains("content-type: application/json"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).expect("a body");
    let info: serde_json::Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(
        info,
        serde_json::json!({"http": http.to_string(), "tcp": tcp.to_string(), "udp": null})
    );

    shutdown.trigger();
    running.await.expect("server task").expect("server ran");
}
