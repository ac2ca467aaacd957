//! The HTTP listener: one axum router for the web app, REST, SSE, WebSocket, admin and ops.
//!
//! - `router.rs`: the routes and the serve loop (graceful shutdown).
//! - `cors.rs`: cross-origin access to REST and SSE when `--cors` names origins.
//! - `doors.rs`: what every door checks: the caller's token (`Authorization: Bearer`,
//!   `?token=`) and the page's `Origin` on writes and WebSocket upgrades.
//! - `error.rs`: HTTP errors as `{"code","name","message"}` JSON.
//! - `rest.rs`: `POST/GET /api/rooms/{room}/messages`, `GET /api/rooms`.
//! - `sse.rs`: `GET /api/rooms/{room}/events`, Server-Sent Events (a read-only transport).
//! - `admin.rs`: `DELETE /api/sessions/{session}`.
//! - `info.rs`: `GET /api/info`, the listeners' addresses (for the web app's command panel).
//! - `ops.rs`: `/healthz`, `/metrics`.
//! - `static_files.rs`: the web app directory, content types, cache headers.
//!
//! The WebSocket endpoint `/ws` lives in [`crate::ws`].

mod admin;
mod cors;
mod doors;
mod error;
mod info;
mod ops;
mod rest;
mod router;
mod serve;
mod sse;
mod static_files;

pub(crate) use cors::is_cors_origin;
pub(crate) use doors::{Door, bearer, check_origin, principal, principal_from};
pub(crate) use error::ApiError;
pub(crate) use serve::{Cut, Held, Peer, serve};
