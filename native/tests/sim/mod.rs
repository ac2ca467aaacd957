//! A deterministic simulation of enchufe clients and a server over unreliable links, in
//! virtual time, without sockets (the quinn-proto way of testing a sans-IO state machine).
//!
//! - [`server`]: the real hub, driven in virtual time, and the log of what it stored.
//! - [`world`]: the clients' state machines, their links (latency per direction, reordering,
//!   drops, partitions, silence) and the event loop.
//! - [`rng`]: seeded randomness, so that every run of a seed is the same run.

pub(crate) mod rng;
pub(crate) mod server;
pub(crate) mod world;

pub(crate) use server::Server;
pub(crate) use world::{Link, World, room_name};
