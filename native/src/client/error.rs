//! The client library's errors.

use enchufe_core::{ErrorCode, RoomNameError};

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not `ws[s]://host:port[/path]`, `tcp://host:port`, `tls://host:port` or
    /// `udp://host:port`.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The CA file (PEM certificates to trust for `wss://` and `tls://`) could not be used.
    #[error("cannot use the CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The room name is not valid.
    #[error(transparent)]
    InvalidRoom(#[from] RoomNameError),
    /// The first connection attempt of [`connect`](super::connect) failed.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The server URL.
        url: String,
        /// What failed.
        source: TransportError,
    },
    /// The body could not be serialized as JSON.
    #[error("the body is not valid JSON: {0}")]
    InvalidBody(#[source] serde_json::Error),
    /// The server (or the client itself, for 4016 `outbox_full` and 4018 `closed`) refused the
    /// request; `code` is the [`ErrorCode`] number.
    #[error("refused with {code}: {message}")]
    Refused {
        /// The wire error code, possibly one newer than this library.
        code: u16,
        /// The explanation.
        message: String,
    },
    /// The client is closed (by [`Client::close`](super::Client::close) or because the server
    /// refused it for good): nothing more can be sent.
    #[error("the client is closed")]
    Closed,
}

impl Error {
    /// The wire error code of a [`Refused`](Error::Refused) error, if this library knows it.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Refused { code, .. } => ErrorCode::from_code(*code),
            _ => None,
        }
    }
}

/// Why a transport failed to open or broke.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A socket operation failed (connection refused, reset, unreachable …).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The WebSocket handshake or stream failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] async_tungstenite::tungstenite::Error),
    /// The server sent a frame larger than the client accepts, or broke the stream's framing.
    #[error(transparent)]
    Framing(#[from] enchufe_core::codec::FramingError),
    /// The host name resolved to no address.
    #[error("{0} resolved to no address")]
    NoAddress(String),
}
