//! `rtt`: publish, wait for your own message, N times.

use std::time::Duration;

use enchufe_core::RoomName;

use super::{
    BenchError, Latency, RttReport, Target,
    payload::{self, now_ns},
    report::histogram,
    wire::{self, Event},
};

/// How long a round trip may take before it counts as lost.
const LOST_AFTER: Duration = Duration::from_secs(1);

/// Runs `count` round trips of `size`-byte payloads in `room`.
pub async fn run(
    target: &Target,
    count: u64,
    size: usize,
    room: &RoomName,
) -> Result<RttReport, BenchError> {
    let size = size.max(payload::MIN_SIZE);
    let mut conn = wire::connect(target).await?;
    conn.subscribe(room).await?;
    conn.tx.prepare(room, size);
    let mut latency = histogram();
    let mut lost = 0;
    let mut bytes = vec![b'x'; size];
    let started = now_ns();
    for index in 0..count {
        let sent = now_ns();
        payload::stamp(&mut bytes, sent, index);
        conn.tx.publish(&bytes).await?;
        conn.tx.flush().await?;
        let mut back = None;
        let round_trip = async {
            while back.is_none() {
                let mut ping = false;
                let mut failed = None;
                conn.rx
                    .read(&mut |event| match event {
                        Event::Payload(p) if payload::read(p).is_some_and(|(_, i)| i == index) => {
                            back = Some(now_ns());
                        }
                        Event::Ping => ping = true,
                        Event::Error(error) => failed = Some(error),
                        _ => {}
                    })
                    .await?;
                if ping {
                    conn.tx.pong().await?;
                }
                if let Some(error) = failed {
                    return Err(BenchError::Server(error));
                }
            }
            Ok(())
        };
        match tokio::time::timeout(LOST_AFTER, round_trip).await {
            Ok(result) => result?,
            Err(_) => lost += 1,
        }
        if let Some(at) = back {
            let _ = latency.record(at.saturating_sub(sent).max(1));
        }
    }
    Ok(RttReport {
        workload: "rtt",
        url: target.url.clone(),
        server: target.server.to_string(),
        transport: target.link.to_string(),
        count,
        size,
        lost,
        seconds: now_ns().saturating_sub(started) as f64 / 1e9,
        latency_us: Latency::of(&latency),
    })
}
