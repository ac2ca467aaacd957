//! `GET /api/info` over a real socket: the web app reads the TCP and UDP addresses from it.

use enchufe::{config::Config, server::Server};
use enchufe_tests::http::get;

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

    let response = get(http, "/api/info").await;

    assert_eq!(response.status, 200, "{}", response.text());
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{response:?}");
    let info = response.json();
    assert_eq!(
        info,
        serde_json::json!({"http": http.to_string(), "tcp": tcp.to_string(), "udp": null, "tls": false})
    );

    shutdown.trigger();
    running.await.expect("server task").expect("server ran");
}
