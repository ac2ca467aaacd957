//! NATS's side of the adapter: its text protocol (`CONNECT`, `SUB`, `PUB`, `MSG`, `PING`), as
//! `nats bench` speaks it — the same on TCP and inside WebSocket binary messages.

use super::{Event, PublishTemplate};
use crate::bench::BenchError;

/// The first line: no `+OK` per command (verbose off), own messages delivered (echo on, for rtt).
pub(super) const CONNECT: &[u8] =
    b"CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":true,\"lang\":\"enchufe-bench\",\"version\":\"1\"}\r\n";

/// Subscribes to `subject` and asks for a `PONG`, which confirms the subscription is in place.
pub(super) fn sub(subject: &str) -> Vec<u8> {
    format!("SUB {subject} 1\r\nPING\r\n").into_bytes()
}

/// A `PUB` of `size` bytes to `subject`.
pub(super) fn publish(subject: &str, size: usize) -> PublishTemplate {
    let mut bytes = format!("PUB {subject} {size}\r\n").into_bytes();
    let at = bytes.len();
    bytes.resize(at + size, 0);
    bytes.extend_from_slice(b"\r\n");
    PublishTemplate { bytes, payload: at..at + size }
}

/// Parses what `buf` holds completely into events; returns the bytes used.
pub(super) fn stream(buf: &[u8], on: &mut impl FnMut(Event<'_>)) -> Result<usize, BenchError> {
    let mut used = 0;
    loop {
        let rest = &buf[used..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else { break };
        let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
        if line.starts_with(b"MSG ") || line.starts_with(b"HMSG ") {
            let len = line
                .rsplit(|&b| b == b' ')
                .next()
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(|t| t.parse::<usize>().ok())
                .ok_or_else(|| BenchError::Protocol(String::from_utf8_lossy(line).into()))?;
            let start = nl + 1;
            if rest.len() < start + len + 2 {
                break;
            }
            on(Event::Payload(&rest[start..start + len]));
            used += start + len + 2;
            continue;
        }
        match line {
            b"PING" => on(Event::Ping),
            b"PONG" => on(Event::Ready),
            _ if line.starts_with(b"-ERR") => {
                on(Event::Error(String::from_utf8_lossy(line).into_owned()))
            }
            _ => on(Event::Other), // INFO, +OK
        }
        used += nl + 1;
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_pings_and_errors_are_cut_out_of_a_stream() {
        let input = b"INFO {}\r\nMSG bench 1 5\r\nhello\r\nPING\r\nPONG\r\n-ERR 'Slow Consumer'\r\nMSG bench 1 3\r\nab";
        let mut events = Vec::new();
        let used = stream(input, &mut |e| {
            events.push(match e {
                Event::Payload(p) => format!("payload {}", String::from_utf8_lossy(p)),
                Event::Ready => "ready".into(),
                Event::Ping => "ping".into(),
                Event::Error(e) => format!("error {e}"),
                Event::Other => "other".into(),
            })
        })
        .unwrap();
        assert_eq!(
            events,
            ["other", "payload hello", "ping", "ready", "error -ERR 'Slow Consumer'"]
        );
        assert_eq!(&input[used..], b"MSG bench 1 3\r\nab");
    }

    #[test]
    fn the_publish_template_has_the_payload_between_header_and_crlf() {
        let t = publish("bench", 4);
        assert_eq!(t.bytes, b"PUB bench 4\r\n\0\0\0\0\r\n");
        assert_eq!(t.payload, 13..17);
    }
}
