//! The HTTP routes and the serve loop.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{any, delete, get},
    serve::ListenerExt as _,
};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use super::{admin, cors, info, ops, rest, sse, static_files};
use crate::server::Context;

/// Serves HTTP until shutdown begins, then lets open requests (SSE streams end when the hub
/// tells their sessions it is shutting down) finish.
pub(crate) async fn serve(listener: TcpListener, ctx: Context) {
    let stop = ctx.stop.clone();
    let app = router(ctx);
    // No Nagle delay: WebSocket frames and SSE events are small and must go out at once.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    if let Err(error) = served {
        tracing::error!(%error, "http server failed");
    }
}

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
