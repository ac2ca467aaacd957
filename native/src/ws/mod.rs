//! The WebSocket transport at `/ws`: async-tungstenite over the HTTP port's upgrade.
//!
//! A text message is one JSON frame, a binary message one binary frame (no length prefix); the
//! server answers in the encoding of the client's last message. Close codes are the
//! [`ErrorCode`](enchufe_core::ErrorCode) numbers, with the code's name as the reason.
//!
//! - `upgrade.rs`: the HTTP handler that validates the upgrade request and answers `101`.
//! - `connection.rs`: one connection's reader and writer around its
//!   [`Session`](crate::hub::Session).

mod connection;
mod upgrade;

pub(crate) use upgrade::upgrade;
