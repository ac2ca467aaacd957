//! Why a load could not run.

use std::io;

use async_tungstenite::tungstenite;

/// A load that could not run (lost messages are not errors: they are reported).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The URL is not one the tool loads (scheme, address, not loopback).
    #[error("bad url {0}")]
    Url(String),
    /// A socket failed.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// The WebSocket handshake or a WebSocket read/write failed.
    #[error("websocket: {0}")]
    Ws(#[from] tungstenite::Error),
    /// The server closed a connection the load still needed.
    #[error("the server closed the connection")]
    Closed,
    /// The server answered with an error (its text).
    #[error("the server reported: {0}")]
    Server(String),
    /// The server sent bytes the tool cannot parse.
    #[error("unexpected input: {0}")]
    Protocol(String),
    /// A step did not complete in time.
    #[error("timed out: {0}")]
    Timeout(String),
}
