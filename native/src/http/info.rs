//! `GET /api/info`: the addresses of this server's listeners, so that a client that found the
//! HTTP port (the web app's "connect from anywhere" panel) can show the TCP and UDP ones.

use axum::{Json, extract::State};
use serde::Serialize;

use crate::server::Context;

/// The answer: each listener as `host:port` (the bound address; `0.0.0.0` when bound to every
/// interface — the client substitutes the host it used), `null` when turned off.
#[derive(Debug, Serialize)]
pub(crate) struct Info {
    http: Option<String>,
    tcp: Option<String>,
    udp: Option<String>,
    /// Whether HTTP and TCP speak TLS (`https://`/`wss://`, `tls://`); UDP never does.
    tls: bool,
}

/// `GET /api/info` → `{"http":"127.0.0.1:8480","tcp":"127.0.0.1:8481","udp":null,"tls":false}`.
pub(crate) async fn info(State(ctx): State<Context>) -> Json<Info> {
    let addrs = ctx.addrs;
    Json(Info {
        http: addrs.http.map(|a| a.to_string()),
        tcp: addrs.tcp.map(|a| a.to_string()),
        udp: addrs.udp.map(|a| a.to_string()),
        tls: addrs.tls,
    })
}
