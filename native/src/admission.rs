//! Admission: the server-wide connection budgets — a cap on connections in all, a cap per client
//! address, and a rate of new connections per address (docs/DECISIONS.md, "Budgets").
//!
//! Every listener asks [`Admission::admit`] before it serves a connection (UDP: before it opens
//! a validated peer's session) and holds the returned [`Ticket`] for as long as the connection
//! lives; dropping the ticket gives the place back. A refusal is answered by the transport in
//! its own way (HTTP 503 with `Retry-After`, a TCP `error` line 4019, silence on UDP).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use serde::Deserialize;
use tokio::time::Instant;

use crate::{metrics::Metrics, token_bucket::TokenBucket};

/// The connection budgets. Every field has the default of docs/DECISIONS.md.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ConnectionLimits {
    /// Connections in all, every transport together (UDP sessions included). The server also
    /// keeps it below its file-descriptor limit, with room to spare.
    pub max_connections: usize,
    /// Connections from one IP address; `0` turns the cap off.
    pub max_per_address: usize,
    /// New connections one IP address may open per second, on average; `0` turns it off.
    pub rate_per_address: u32,
    /// How many new connections one address may open in a burst above that rate.
    pub burst_per_address: u32,
    /// REST publishes one IP address may make per second, on average; `0` turns it off.
    pub rest_rate_per_address: u32,
    /// How many REST publishes one address may make in a burst above that rate.
    pub rest_burst_per_address: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 50_000,
            max_per_address: 1_000,
            rate_per_address: 200,
            burst_per_address: 1_000,
            rest_rate_per_address: 1_000,
            rest_burst_per_address: 2_000,
        }
    }
}

/// Wrong admin tokens one address may send per second, on average, once its burst is spent…
pub(crate) const ADMIN_FAILURE_RATE: u32 = 1;
/// …and in a burst: a mistyped token or two costs nothing, guessing costs a second a guess.
pub(crate) const ADMIN_FAILURE_BURST: u32 = 10;

/// How long a refused client should wait before it tries again (`Retry-After`, and the least
/// backoff a client applies after 4019).
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The server holds `max_connections`.
    Full,
    /// This address holds `max_per_address`.
    AddressFull,
    /// This address opens connections faster than `rate_per_address`.
    AddressTooFast,
}

impl Refused {
    /// The message of the refusal (an `error` frame's, an HTTP body's).
    pub fn message(self, limits: &ConnectionLimits) -> String {
        let retry = RETRY_AFTER.as_secs();
        match self {
            Refused::Full => format!(
                "the server holds as many connections as it allows ({}); retry in {retry} s",
                limits.max_connections
            ),
            Refused::AddressFull => format!(
                "this address holds as many connections as one may ({}); retry in {retry} s",
                limits.max_per_address
            ),
            Refused::AddressTooFast => format!(
                "this address opens connections faster than {} a second; retry in {retry} s",
                limits.rate_per_address
            ),
        }
    }
}

/// The budgets and what they hold now. Cheap to share (`Arc`).
#[derive(Debug)]
pub(crate) struct Admission {
    limits: ConnectionLimits,
    /// `max_connections`, lowered to what the file-descriptor limit allows.
    max_connections: usize,
    state: Mutex<State>,
    metrics: Arc<Metrics>,
    /// The origin of the buckets' milliseconds.
    started: Instant,
}

#[derive(Debug, Default)]
struct State {
    open: usize,
    addresses: HashMap<IpAddr, Address>,
}

/// One client address: its open connections, and token buckets of its new connections, of its
/// REST publishes and of its failed admin requests.
#[derive(Debug)]
struct Address {
    open: usize,
    connects: TokenBucket,
    publishes: TokenBucket,
    admin_failures: TokenBucket,
}

/// A place held by one connection; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    address: IpAddr,
}

/// File descriptors kept free beyond the connection cap: for the listeners, the web app's files,
/// the log, and a new connection that a full server must still accept in order to refuse it.
pub(crate) const RESERVED_FDS: u64 = 256;

impl Admission {
    /// The budgets `limits`, with the connection cap lowered below `fd_limit` (the process's
    /// file-descriptor limit, when known).
    pub(crate) fn new(
        limits: ConnectionLimits,
        fd_limit: Option<u64>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let fds = fd_limit.map_or(usize::MAX, |n| {
            usize::try_from(n.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX)
        });
        let max_connections = limits.max_connections.min(fds).max(1);
        if max_connections < limits.max_connections {
            tracing::warn!(
                max_connections,
                configured = limits.max_connections,
                "the file-descriptor limit lowers the connection cap"
            );
        }
        Admission {
            limits,
            max_connections,
            state: Mutex::default(),
            metrics,
            started: Instant::now(),
        }
    }

    /// The budgets.
    pub(crate) fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// Takes a place for a connection from `address`, or says why there is none.
    pub(crate) fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Ticket, Refused> {
        let limits = &self.limits;
        let now = self.now_ms();
        let refused = {
            let mut state = self.lock();
            let open = state.open;
            let entry = state.addresses.entry(address).or_insert_with(|| Address::new(now, limits));
            let (rate, burst) = (limits.rate_per_address, limits.burst_per_address);
            let refused = if open >= self.max_connections {
                Some(Refused::Full)
            } else if limits.max_per_address > 0 && entry.open >= limits.max_per_address {
                Some(Refused::AddressFull)
            } else if rate > 0 && !entry.connects.take(now, rate, burst) {
                Some(Refused::AddressTooFast)
            } else {
                None
            };
            if refused.is_none() {
                entry.open += 1;
                state.open += 1;
                Metrics::set(&self.metrics.connections_open, state.open);
            }
            refused
        };
        match refused {
            Some(refused) => {
                Metrics::add(&self.metrics.connections_refused, 1);
                tracing::debug!(%address, ?refused, "connection refused");
                Err(refused)
            }
            None => Ok(Ticket { admission: Arc::clone(self), address }),
        }
    }

    /// Whether `address` may make one more REST publish now (else: 429 with `Retry-After`).
    pub(crate) fn rest_publish(&self, address: IpAddr) -> bool {
        let limits = &self.limits;
        let (rate, burst) = (limits.rest_rate_per_address, limits.rest_burst_per_address);
        if rate == 0 {
            return true;
        }
        let now = self.now_ms();
        let mut state = self.lock();
        let entry = state.addresses.entry(address).or_insert_with(|| Address::new(now, limits));
        entry.publishes.take(now, rate, burst)
    }

    /// Whether `address` may try the admin token now: `false` once it has sent more wrong ones
    /// than [`ADMIN_FAILURE_BURST`] plus [`ADMIN_FAILURE_RATE`] a second (then 429 with
    /// `Retry-After`, whatever the token: guessing must not go on at line speed).
    pub(crate) fn admin_allowed(&self, address: IpAddr) -> bool {
        let now = self.now_ms();
        let mut state = self.lock();
        let limits = &self.limits;
        let entry = state.addresses.entry(address).or_insert_with(|| Address::new(now, limits));
        entry.admin_failures.has(now, ADMIN_FAILURE_RATE, ADMIN_FAILURE_BURST)
    }

    /// Counts a wrong admin token from `address`.
    pub(crate) fn admin_failed(&self, address: IpAddr) {
        let now = self.now_ms();
        let mut state = self.lock();
        let limits = &self.limits;
        let entry = state.addresses.entry(address).or_insert_with(|| Address::new(now, limits));
        entry.admin_failures.take(now, ADMIN_FAILURE_RATE, ADMIN_FAILURE_BURST);
    }

    /// Forgets addresses with no connection whose buckets have refilled: the map holds only
    /// the addresses that still matter. The server calls this periodically.
    pub(crate) fn sweep(&self) {
        let now = self.now_ms();
        let limits = &self.limits;
        // A limit that is off leaves nothing to remember.
        let full =
            |bucket: &mut TokenBucket, rate, burst| rate == 0 || bucket.is_full(now, rate, burst);
        self.lock().addresses.retain(|_, a| {
            a.open > 0
                || !full(&mut a.connects, limits.rate_per_address, limits.burst_per_address)
                || !full(
                    &mut a.publishes,
                    limits.rest_rate_per_address,
                    limits.rest_burst_per_address,
                )
                || !full(&mut a.admin_failures, ADMIN_FAILURE_RATE, ADMIN_FAILURE_BURST)
        });
    }

    /// Milliseconds since the budgets were made: the buckets' clock.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn release(&self, address: IpAddr) {
        let mut state = self.lock();
        state.open = state.open.saturating_sub(1);
        if let Some(entry) = state.addresses.get_mut(&address) {
            entry.open = entry.open.saturating_sub(1);
        }
        Metrics::set(&self.metrics.connections_open, state.open);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics under this lock; a poisoned one still holds consistent counts.
        crate::sync::lock(&self.state)
    }
}

impl Address {
    fn new(now: u64, limits: &ConnectionLimits) -> Self {
        Address {
            open: 0,
            connects: TokenBucket::full(limits.burst_per_address, now),
            publishes: TokenBucket::full(limits.rest_burst_per_address, now),
            admin_failures: TokenBucket::full(ADMIN_FAILURE_BURST, now),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(limits: ConnectionLimits, fds: Option<u64>) -> Arc<Admission> {
        Arc::new(Admission::new(limits, fds, Arc::new(Metrics::default())))
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[tokio::test(start_paused = true)]
    async fn caps_in_all_and_per_address_and_places_come_back() {
        let limits = ConnectionLimits {
            max_connections: 3,
            max_per_address: 2,
            rate_per_address: 0,
            ..ConnectionLimits::default()
        };
        let admission = admission(limits, None);
        let a1 = admission.admit(A).unwrap();
        let _a2 = admission.admit(A).unwrap();
        assert_eq!(admission.admit(A).unwrap_err(), Refused::AddressFull);
        let _b1 = admission.admit(B).unwrap();
        assert_eq!(admission.admit(B).unwrap_err(), Refused::Full);
        drop(a1);
        assert!(admission.admit(B).is_ok(), "a place given back is taken again");
        assert_eq!(
            admission.metrics.connections_refused.load(std::sync::atomic::Ordering::Relaxed),
            2
        );
    }

    #[tokio::test(start_paused = true)]
    async fn new_connections_per_address_are_rate_limited_and_idle_addresses_forgotten() {
        let limits = ConnectionLimits {
            rate_per_address: 10,
            burst_per_address: 2,
            ..ConnectionLimits::default()
        };
        let admission = admission(limits, None);
        let held: Vec<Ticket> = (0..2).map(|_| admission.admit(A).unwrap()).collect();
        assert_eq!(admission.admit(A).unwrap_err(), Refused::AddressTooFast);
        assert!(admission.admit(B).is_ok(), "another address has its own bucket");
        tokio::time::advance(Duration::from_millis(100)).await;
        let third = admission.admit(A).unwrap();
        drop((held, third));
        admission.sweep();
        assert_eq!(admission.lock().addresses.len(), 1, "B's bucket refilled, A's not yet");
        tokio::time::advance(Duration::from_secs(1)).await;
        admission.sweep();
        assert!(admission.lock().addresses.is_empty());
    }

    #[test]
    fn the_file_descriptor_limit_lowers_the_cap() {
        let admission = admission(ConnectionLimits::default(), Some(1024));
        assert_eq!(admission.max_connections, 1024 - RESERVED_FDS as usize);
    }
}
