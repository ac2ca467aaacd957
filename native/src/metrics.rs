//! Counters and gauges for `/metrics`, as plain atomics rendered in the Prometheus text format.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
};

use crate::hub::Transport;

/// The server's metrics. Every field is a relaxed atomic: a scrape may see one counter a few
/// increments ahead of another, which Prometheus tolerates, and the hot path pays one atomic add.
#[derive(Debug, Default)]
pub struct Metrics {
    connections: [AtomicI64; Transport::ALL.len()],
    connections_total: [AtomicU64; Transport::ALL.len()],
    /// Frames received from clients (all transports).
    pub frames_in: AtomicU64,
    /// Frames written to clients (all transports).
    pub frames_out: AtomicU64,
    /// Messages stored in a room (publishes that were not duplicates).
    pub messages: AtomicU64,
    /// Publishes answered with the seq of an earlier one (de-duplicated).
    pub duplicates: AtomicU64,
    /// Frames discarded because a connection's queue overflowed.
    pub dropped: AtomicU64,
    /// Connections cut off as slow consumers.
    pub slow_consumers: AtomicU64,
    /// Frames dropped by the input rate limit (answered with 4010 at most once a second), and
    /// REST publishes refused by their per-address rate (429).
    pub rate_limited: AtomicU64,
    /// Times a connection's input was paused because its outbound queue passed the high-water
    /// mark (flow control; docs/DECISIONS.md).
    pub read_pauses: AtomicU64,
    /// Frames refused with an `error` (bad input, limits).
    pub errors: AtomicU64,
    /// Sessions disconnected by an administrator.
    pub kicks: AtomicU64,
    /// Rooms the hub holds now.
    pub rooms: AtomicI64,
    /// Bytes every room's history holds (their messages' JSON), against the history budget.
    pub history_bytes: AtomicI64,
    /// Connections holding a place in the connection budget now (every transport, plain HTTP
    /// connections included).
    pub connections_open: AtomicI64,
    /// Connections refused by the connection budget (in all, per address, or too fast).
    pub connections_refused: AtomicU64,
    /// Connections closed for leaving a frame (or the first one) unfinished past its deadline.
    pub unfinished_frames: AtomicU64,
    /// Publishes and joins refused because they would create a room over the budget (in all,
    /// or a connection's rate of new rooms).
    pub rooms_refused: AtomicU64,
    /// TLS handshakes that failed or did not finish in time (HTTP and TCP listeners).
    pub tls_handshake_failures: AtomicU64,
    /// Shared engine (Redis): requests answered, and their summed round-trip time in µs.
    pub engine_requests: AtomicU64,
    /// Shared engine: the round-trip times of `engine_requests`, summed, in microseconds.
    pub engine_rtt_us: AtomicU64,
    /// Shared engine: requests that failed (unreachable, timed out, refused) and connections
    /// lost.
    pub engine_errors: AtomicU64,
    /// Shared engine: messages that arrived from it, and their summed delay from publication
    /// (`ts`) to arrival here, in ms (pub/sub lag, clock differences between nodes included).
    pub engine_messages: AtomicU64,
    /// Shared engine: the summed lag of `engine_messages`, in ms.
    pub engine_lag_ms: AtomicU64,
    /// Shared engine: messages fetched from its history to fill a gap (after a reconnect).
    pub engine_resynced: AtomicU64,
    /// Shared engine: 1 while it is reachable.
    pub engine_up: AtomicI64,
}

impl Metrics {
    /// Counts a connection opening.
    pub fn connection_opened(&self, transport: Transport) {
        self.connections[transport as usize].fetch_add(1, Relaxed);
        self.connections_total[transport as usize].fetch_add(1, Relaxed);
    }

    /// Counts a connection closing.
    pub fn connection_closed(&self, transport: Transport) {
        self.connections[transport as usize].fetch_sub(1, Relaxed);
    }

    /// Open connections on `transport`.
    pub fn connections(&self, transport: Transport) -> i64 {
        self.connections[transport as usize].load(Relaxed)
    }

    /// Sets a gauge.
    pub fn set(gauge: &AtomicI64, n: usize) {
        gauge.store(i64::try_from(n).unwrap_or(i64::MAX), Relaxed);
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, i128)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_transport = |values: &dyn Fn(Transport) -> i128| -> Vec<(String, i128)> {
            Transport::ALL
                .iter()
                .map(|t| (format!("{{transport=\"{}\"}}", t.as_str()), values(*t)))
                .collect()
        };
        let open = per_transport(&|t| i128::from(self.connections(t)));
        let total =
            per_transport(&|t| i128::from(self.connections_total[t as usize].load(Relaxed)));
        let open: Vec<(&str, i128)> = open.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        let total: Vec<(&str, i128)> = total.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        family("enchufe_connections", "gauge", "Open connections, by transport.", &open);
        family(
            "enchufe_connections_total",
            "counter",
            "Connections accepted, by transport.",
            &total,
        );
        let counter = |c: &AtomicU64| i128::from(c.load(Relaxed));
        for (name, help, value) in [
            ("enchufe_frames_in_total", "Frames received from clients.", counter(&self.frames_in)),
            ("enchufe_frames_out_total", "Frames written to clients.", counter(&self.frames_out)),
            ("enchufe_messages_total", "Messages published into rooms.", counter(&self.messages)),
            (
                "enchufe_duplicate_publishes_total",
                "Publishes de-duplicated by (client, id).",
                counter(&self.duplicates),
            ),
            (
                "enchufe_dropped_frames_total",
                "Frames discarded from overflowing queues.",
                counter(&self.dropped),
            ),
            (
                "enchufe_slow_consumers_total",
                "Connections cut off because they did not read fast enough.",
                counter(&self.slow_consumers),
            ),
            (
                "enchufe_rate_limited_frames_total",
                "Frames dropped by the input rate limit.",
                counter(&self.rate_limited),
            ),
            (
                "enchufe_read_pauses_total",
                "Times a connection's input was paused while its outbound queue was over the \
                 high-water mark.",
                counter(&self.read_pauses),
            ),
            ("enchufe_errors_total", "Error frames sent for refused input.", counter(&self.errors)),
            (
                "enchufe_kicks_total",
                "Sessions disconnected by an administrator.",
                counter(&self.kicks),
            ),
            (
                "enchufe_connections_refused_total",
                "Connections refused by the connection budget (in all, per address, or too fast).",
                counter(&self.connections_refused),
            ),
            (
                "enchufe_rooms_refused_total",
                "Publishes and joins refused because they would create a room over the budget.",
                counter(&self.rooms_refused),
            ),
            (
                "enchufe_unfinished_frames_total",
                "Connections closed for leaving a frame unfinished past its deadline.",
                counter(&self.unfinished_frames),
            ),
            (
                "enchufe_tls_handshake_failures_total",
                "TLS handshakes that failed or did not finish within the header timeout.",
                counter(&self.tls_handshake_failures),
            ),
            (
                "enchufe_engine_requests_total",
                "Requests the shared engine (Redis) answered.",
                counter(&self.engine_requests),
            ),
            (
                "enchufe_engine_rtt_microseconds_total",
                "Summed round-trip time of the shared engine's requests (divide by the requests).",
                counter(&self.engine_rtt_us),
            ),
            (
                "enchufe_engine_errors_total",
                "Shared engine requests that failed, and its connections lost.",
                counter(&self.engine_errors),
            ),
            (
                "enchufe_engine_messages_total",
                "Messages the shared engine delivered to this node.",
                counter(&self.engine_messages),
            ),
            (
                "enchufe_engine_lag_milliseconds_total",
                "Summed delay from publication to arrival here of the engine's messages.",
                counter(&self.engine_lag_ms),
            ),
            (
                "enchufe_engine_resynced_total",
                "Messages fetched from the shared engine's history to fill a gap.",
                counter(&self.engine_resynced),
            ),
        ] {
            family(name, "counter", help, &[("", value)]);
        }
        family(
            "enchufe_rooms",
            "gauge",
            "Rooms held in memory.",
            &[("", i128::from(self.rooms.load(Relaxed)))],
        );
        family(
            "enchufe_history_bytes",
            "gauge",
            "Bytes every room's history holds (the messages' JSON), against the history budget.",
            &[("", i128::from(self.history_bytes.load(Relaxed)))],
        );
        family(
            "enchufe_engine_up",
            "gauge",
            "1 while the shared engine (Redis) is reachable; 0 while it is not or not configured.",
            &[("", i128::from(self.engine_up.load(Relaxed)))],
        );
        family(
            "enchufe_connections_open",
            "gauge",
            "Connections holding a place in the connection budget (plain HTTP included).",
            &[("", i128::from(self.connections_open.load(Relaxed)))],
        );
        out
    }
}
