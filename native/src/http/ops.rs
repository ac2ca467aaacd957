//! `/healthz` and `/metrics`.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};

use crate::server::Context;

/// `GET /healthz`: `200 ok` while the process serves requests and its engine is reachable;
/// `503` while the Redis engine is not (a load balancer sends clients to other nodes).
pub(crate) async fn healthz(State(ctx): State<Context>) -> (StatusCode, &'static str) {
    match ctx.hub.engine() {
        Some(engine) if !engine.is_ready() => {
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: Redis is out of reach")
        }
        _ => (StatusCode::OK, "ok"),
    }
}

/// `GET /metrics`: the Prometheus text exposition.
pub(crate) async fn metrics(State(ctx): State<Context>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        ctx.hub.metrics().render(),
    )
}
