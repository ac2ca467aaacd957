//! `idle`: C connections, each joined to a room, doing nothing; what they cost the server.

use std::time::Duration;

use enchufe_core::RoomName;

use super::{BenchError, IdleReport, Target, crowd, wire::Event};

/// Opens `conns` connections spread over `rooms` rooms (`idle-0`, `idle-1`, …), waits `settle`,
/// and reads the resident memory of the server's process `pid` before and after.
pub async fn run(
    target: &Target,
    conns: usize,
    rooms: usize,
    pid: Option<u32>,
    settle: Duration,
) -> Result<IdleReport, BenchError> {
    let rooms = rooms.max(1);
    let rss_before = pid.and_then(rss);
    let names = (0..rooms)
        .map(|r| RoomName::new(format!("idle-{r}")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::Protocol(e.to_string()))?;
    let mut held = crowd::open(
        target,
        conns,
        |i| names[i % rooms].clone(),
        |_, mut conn| async move {
            // Read what comes (presence of later joiners, heartbeats), as a live client does.
            loop {
                let mut ping = false;
                let read = conn.rx.read(&mut |e| ping |= matches!(e, Event::Ping)).await;
                if read.is_err() || (ping && conn.tx.pong().await.is_err()) {
                    return;
                }
            }
        },
    )
    .await?;
    tokio::time::sleep(settle).await;
    let rss_after = pid.and_then(rss);
    held.abort_all();
    let rss_per_conn = match (rss_before, rss_after) {
        (Some(before), Some(after)) if conns > 0 => {
            Some(after.saturating_sub(before) / conns as u64)
        }
        _ => None,
    };
    Ok(IdleReport {
        workload: "idle",
        url: target.url.clone(),
        server: target.server.to_string(),
        transport: target.link.to_string(),
        conns,
        rooms,
        rss_before,
        rss_after,
        rss_per_conn,
    })
}

/// The resident set size of process `pid` in bytes (Linux: `VmRSS` in /proc/PID/status).
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
