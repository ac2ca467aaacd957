//! The native client: a tokio driver of the core client state machine over WebSocket, TCP or
//! UDP (WebSocket and TCP also over TLS: `wss://`, `tls://`), behind an async API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), enchufe::client::Error> {
//! use enchufe::client::{Event, Options, connect};
//! let client = connect("ws://127.0.0.1:8480/ws", Options::default().name("ana")).await?;
//! let joined = client.join("lobby", None).await?;
//! let seq = client.publish_json("lobby", &"hello").await?;
//! assert!(seq > joined.seq);
//! while let Some(event) = client.next_event().await {
//!     match event {
//!         Event::Message(message) => println!("[{}] {}", message.seq, message.from),
//!         Event::Gap { room, from, to } => eprintln!("{room}: lost {from}..={to}"),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The protocol rules — reconnect with backoff and jitter, re-join with `since`, the publish
//! outbox, heartbeats, duplicate and gap detection — all live in
//! [`enchufe_core::client::Client`]; this module only does what that machine cannot: I/O,
//! time and randomness.
//!
//! | file | concept |
//! |---|---|
//! | `handle.rs` | [`Client`], the application's handle, and [`connect`] |
//! | `driver.rs` | the background task: drive loop, request ↔ answer routing |
//! | `transport/` | one task per connection: `tcp.rs`, `ws.rs`, `udp.rs` (cookie handshake padding) |
//! | `endpoint.rs` | [`Endpoint`]: `ws://`, `wss://`, `tcp://`, `tls://`, `udp://` URLs |
//! | `tls.rs` | TLS (rustls on ring): a CA file or Mozilla's roots, the handshake |
//! | `options.rs`, `event.rs`, `error.rs` | [`Options`], [`Event`] and [`JoinInfo`], [`Error`] |
//! | `seed.rs` | the client id and the jitter seed, from the OS |

mod driver;
mod endpoint;
mod error;
mod event;
mod handle;
mod options;
mod seed;
mod tls;
pub(crate) mod transport;

pub use endpoint::Endpoint;
pub use error::{Error, TransportError};
pub use event::{Event, JoinInfo};
pub use handle::{Client, connect};
pub use options::Options;
pub use transport::HELLO_SIZE;

pub use enchufe_core::{Body, Member, Message, Presence, PresenceAction, client::ConnState};
