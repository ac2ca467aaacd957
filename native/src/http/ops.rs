//! `/healthz` and `/metrics`.

use axum::{extract::State, http::header, response::IntoResponse};

use crate::server::Context;

/// `GET /healthz`: `200 ok` while the process serves requests.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// `GET /metrics`: the Prometheus text exposition.
pub(crate) async fn metrics(State(ctx): State<Context>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        ctx.hub.metrics().render(),
    )
}
