//! Shared helpers of the integration tests (this crate's and `enchufe`'s own `native/tests`).
//!
//! [`http`] is the one HTTP/1.1 and Server-Sent Events client the tests use, so that no test
//! hand-writes requests, de-chunks bodies or parses event streams; tests *about* raw bytes
//! (malformed requests, slow headers, a reader that never reads) keep their raw sockets.

pub mod http;
