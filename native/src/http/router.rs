//! The HTTP routes.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{any, delete, get},
};
use tower_http::trace::TraceLayer;

use super::{admin, cors, info, ops, rest, sse, static_files};
use crate::server::Context;

/// Every route of the HTTP port.
pub(crate) fn router(ctx: Context) -> Router {
    let max_body = ctx.config.hub.max_frame;
    // The routes other origins may call when `--cors` allows them.
    let mut public_api = Router::new()
        .route("/api/info", get(info::info))
        .route("/api/rooms", get(rest::rooms))
        .route("/api/rooms/{room}/messages", get(rest::history).post(rest::publish))
        .route("/api/rooms/{room}/events", get(sse::events));
    if let Some(cors) = cors::layer(&ctx.config.cors_origins) {
        public_api = public_api.layer(cors);
    }
    Router::new()
        .route("/ws", any(crate::ws::upgrade))
        .merge(public_api)
        .route("/api/sessions/{session}", delete(admin::kick))
        .route("/api/{*rest}", any(rest::not_found))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(ctx)
}
