//! What a load measured, as JSON (`--json`) or text.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency percentiles in microseconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// The largest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

/// A histogram of nanoseconds from 1 ns to 100 s at 3 significant digits.
pub(crate) fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}

impl Latency {
    /// Reads the percentiles off a histogram of nanoseconds.
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        let us = |ns: u64| (ns as f64 / 100.0).round() / 10.0;
        Latency {
            p50: us(h.value_at_quantile(0.5)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            mean: (h.mean() / 100.0).round() / 10.0,
        }
    }
}

/// The result of `fanout`.
#[derive(Clone, Debug, Serialize)]
pub struct FanoutReport {
    /// Always `"fanout"`.
    pub workload: &'static str,
    /// The target's URL.
    pub url: String,
    /// `enchufe` or `nats`.
    pub server: String,
    /// `tcp`, `ws` or `udp`.
    pub transport: String,
    /// Subscribers.
    pub subs: usize,
    /// Payload bytes.
    pub size: usize,
    /// The publishing rate asked for (messages/s), `null` for as fast as possible.
    pub rate: Option<f64>,
    /// Messages published.
    pub published: u64,
    /// Deliveries expected: `published × subs`.
    pub expected: u64,
    /// Deliveries received.
    pub delivered: u64,
    /// Deliveries that never arrived (within the drain time).
    pub lost: u64,
    /// From the first publish to the last delivery.
    pub seconds: f64,
    /// `published / seconds`.
    pub messages_per_sec: f64,
    /// `delivered / seconds`.
    pub deliveries_per_sec: f64,
    /// From publish to delivery, over every delivery.
    pub latency_us: Latency,
    /// Errors the server sent (at most a few, e.g. a slow-consumer cut).
    pub errors: Vec<String>,
}

/// The result of `rtt`.
#[derive(Clone, Debug, Serialize)]
pub struct RttReport {
    /// Always `"rtt"`.
    pub workload: &'static str,
    /// The target's URL.
    pub url: String,
    /// `enchufe` or `nats`.
    pub server: String,
    /// `tcp`, `ws` or `udp`.
    pub transport: String,
    /// Round trips attempted.
    pub count: u64,
    /// Payload bytes.
    pub size: usize,
    /// Round trips whose message never came back (within a second).
    pub lost: u64,
    /// The whole run.
    pub seconds: f64,
    /// Publish to own delivery.
    pub latency_us: Latency,
}

/// The result of `idle`.
#[derive(Clone, Debug, Serialize)]
pub struct IdleReport {
    /// Always `"idle"`.
    pub workload: &'static str,
    /// The target's URL.
    pub url: String,
    /// `enchufe` or `nats`.
    pub server: String,
    /// `tcp`, `ws` or `udp`.
    pub transport: String,
    /// Connections held, each joined to one room.
    pub conns: usize,
    /// Rooms they were spread over.
    pub rooms: usize,
    /// The server's resident memory before connecting (bytes; `null` without `--pid`).
    pub rss_before: Option<u64>,
    /// … and with every connection joined and settled.
    pub rss_after: Option<u64>,
    /// `(rss_after − rss_before) / conns`.
    pub rss_per_conn: Option<u64>,
}

impl FanoutReport {
    /// Human-readable lines.
    pub fn text(&self) -> String {
        let rate = self.rate.map_or("as fast as possible".to_owned(), |r| format!("{r:.0} msg/s"));
        format!(
            "fanout {} ({}): {} subscribers, {} B payloads, {rate}\n\
             published {} messages, delivered {} of {} ({} lost) in {:.2} s\n\
             {:.0} deliveries/s ({:.0} messages/s)\n\
             latency µs: {}{}",
            self.url,
            self.server,
            self.subs,
            self.size,
            self.published,
            self.delivered,
            self.expected,
            self.lost,
            self.seconds,
            self.deliveries_per_sec,
            self.messages_per_sec,
            latency_text(&self.latency_us),
            errors_text(&self.errors),
        )
    }
}

impl RttReport {
    /// Human-readable lines.
    pub fn text(&self) -> String {
        format!(
            "rtt {} ({}): {} round trips of {} B, {} lost, {:.2} s\nlatency µs: {}",
            self.url,
            self.server,
            self.count,
            self.size,
            self.lost,
            self.seconds,
            latency_text(&self.latency_us)
        )
    }
}

impl IdleReport {
    /// Human-readable lines.
    pub fn text(&self) -> String {
        let rss = match (self.rss_before, self.rss_after, self.rss_per_conn) {
            (Some(b), Some(a), Some(per)) => {
                format!("server RSS {b} B → {a} B: {per} B per connection")
            }
            _ => "server RSS not measured (give --pid)".to_owned(),
        };
        format!(
            "idle {} ({}): {} connections in {} rooms\n{rss}",
            self.url, self.server, self.conns, self.rooms
        )
    }
}

fn latency_text(l: &Latency) -> String {
    format!("p50 {} · p99 {} · p99.9 {} · max {} · mean {}", l.p50, l.p99, l.p999, l.max, l.mean)
}

fn errors_text(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!("\nserver errors: {}", errors.join("; "))
    }
}
