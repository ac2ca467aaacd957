//! # enchufe-core
//!
//! The enchufe protocol, defined once and spoken by the server (`enchufe`), the native client
//! and the browser client (`enchufe-wasm`):
//!
//! - [`frame`]: every frame as a Rust type ([`ClientFrame`], [`ServerFrame`]).
//! - [`codec`]: the JSON and binary encodings, and the framing of stream transports.
//!
//! The `json` feature (on by default) adds the JSON encoding; without it the crate speaks the
//! binary encoding only and needs no serde (the browser client's build).
//! - [`client`]: the sans-IO client state machine that the native and browser clients drive.
//! - [`RoomName`], [`ErrorCode`], [`Body`]: validated room names, the one table of wire error
//!   codes, message payloads.
//!
//! This crate performs no I/O, reads no clock and draws no randomness: time and random values
//! are inputs. It builds for `wasm32-unknown-unknown` unchanged.
//!
//! ## Panic policy
//! A panic is a bug. No input from the network panics a decoder (property-tested and fuzzed);
//! an `expect` outside tests names the invariant that makes it safe.

// The core is sans-IO: it takes `now` as an input and never reads a clock (clippy.toml lists the
// clock reads), so the client state machine runs the same in the browser, natively and in the
// simulation's virtual time.
#![deny(clippy::disallowed_methods)]
// `no_std` (with `alloc`), so that the browser package links no `std` and can bring a panic
// handler that does not format (wasm/src/lib.rs). The JSON encoding (serde_json) and the tests
// use std.
#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "json"))]
extern crate std;

/// What std's prelude gives and `no_std` does not (each module takes what it uses).
#[allow(unused_imports)]
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::vec::Vec;
    pub(crate) use alloc::{format, vec};
}

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod body;
pub mod client;
pub mod codec;
mod error_code;
pub mod frame;
mod json_text;
mod room;
pub mod text;

pub use body::{Body, MAX_BODY_DEPTH};
pub use error_code::{ErrorCode, SERVER_BUSY_RETRY_MS};
pub use frame::*;
pub use json_text::{InvalidJson, JsonText};
pub use room::{RoomName, RoomNameError};
