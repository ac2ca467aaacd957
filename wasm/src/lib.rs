//! # enchufe-wasm
//!
//! The wasm module of the enchufe browser client, published to npm as `enchufe`: the core's
//! sans-IO client state machine ([`enchufe_core::client::Client`]) behind a numbers-only
//! interface, driven by the package's hand-written JavaScript (`js/enchufe.js`: the `Client`
//! class, options, listeners, promises, the WebSocket, timers, tokens, errors; README.md,
//! "Size", says why the split).
//!
//! There is one implementation of the protocol, reconnects and recovery: the core's. Frames
//! are encoded and decoded only here.
//!
//! - `machine.rs`: the exported class `Machine`: inputs and commands in (their arguments
//!   written into the module's memory), outputs and events out as one byte record.
//! - `wire.rs`: frames ↔ binary WebSocket messages (pure; tested natively).
//! - `typescript.rs`: a test of `js/enchufe.d.ts` against the core's error-code table.
//!
//! Natively the crate holds only its pure parts, so the workspace's `cargo test` and `clippy`
//! build it without browser dependencies; the browser parts build for `wasm32` only.
//!
//! ## Panic policy
//! A panic is a bug (and aborts: the package is built with `panic = "abort"`). No server frame
//! and no input panics: frames that do not decode are reported as `error` events, and
//! arguments that are not what an input takes read as absent (the JavaScript checks the API's
//! arguments, throwing a `TypeError` or rejecting with an `EnchufeError`).

// `no_std` (with `alloc`), as is every crate of the npm build (enchufe-core and wasm-bindgen
// without their `std` features): without std's panic handler, which formats the panic's
// message, core's formatting code leaves the module (wasm/README.md, "Size").
#![no_std]

extern crate alloc;
#[cfg(not(feature = "panic-handler"))]
extern crate std;

/// What std's prelude gives and `no_std` does not.
#[allow(unused_imports)]
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::vec::Vec;
    pub(crate) use alloc::{format, vec};
}

mod typescript;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod machine;

/// The npm build's panic handler (a panic is a bug, and aborts): a trap, without formatting the
/// message or keeping the panic locations. Without the feature std's handler is linked, as the
/// browser tests (wasm-bindgen-test is std) need.
#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::cell::TalcSyncCell<talc::wasm::WasmGrowAndClaim, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(talc::wasm::WasmGrowAndClaim);
