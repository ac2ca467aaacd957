//! What a load runs against: the server kind and transport, from a URL.

use std::{fmt, net::SocketAddr, str::FromStr};

use super::BenchError;

/// The server software behind a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// enchufe, speaking its binary encoding (the most compact one, as NATS's text protocol is
    /// for NATS).
    Enchufe,
    /// NATS, speaking its text protocol (`CONNECT`, `SUB`, `PUB`, `MSG`, `PING`).
    Nats,
}

/// How bytes travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// A TCP byte stream.
    Tcp,
    /// WebSocket binary messages (client frames masked, as RFC 6455 requires).
    Ws,
    /// UDP datagrams (enchufe only).
    Udp,
}

/// A server to load: `ws://`, `tcp://`, `udp://` (enchufe), `nats://`, `nats+ws://` (NATS).
///
/// Only loopback addresses are accepted: the tool floods what it targets, so it cannot be
/// pointed at someone else's machine by mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// The server software.
    pub server: Server,
    /// The transport.
    pub link: Link,
    /// The socket address.
    pub addr: SocketAddr,
    /// The WebSocket request path (`/ws` for enchufe, `/` for NATS).
    pub path: String,
}

impl FromStr for Target {
    type Err = BenchError;

    fn from_str(url: &str) -> Result<Self, BenchError> {
        let invalid = |why: &str| BenchError::Url(format!("{url}: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("expected scheme://"))?;
        let (server, link, default_path) = match scheme {
            "ws" => (Server::Enchufe, Link::Ws, "/ws"),
            "tcp" => (Server::Enchufe, Link::Tcp, ""),
            "udp" => (Server::Enchufe, Link::Udp, ""),
            "nats" => (Server::Nats, Link::Tcp, ""),
            "nats+ws" => (Server::Nats, Link::Ws, "/"),
            _ => return Err(invalid("the scheme must be ws, tcp, udp, nats or nats+ws")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, default_path),
        };
        let addr: SocketAddr =
            authority.parse().map_err(|_| invalid("expected an IP address and a port"))?;
        if !addr.ip().is_loopback() {
            return Err(invalid("only loopback addresses may be loaded"));
        }
        let path = if path.is_empty() { default_path } else { path };
        Ok(Target { url: url.to_owned(), server, link, addr, path: path.to_owned() })
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Server::Enchufe => "enchufe",
            Server::Nats => "nats",
        })
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Link::Tcp => "tcp",
            Link::Ws => "ws",
            Link::Udp => "udp",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_server_and_link() {
        let t: Target = "nats+ws://127.0.0.1:4280".parse().unwrap();
        assert_eq!((t.server, t.link, t.path.as_str()), (Server::Nats, Link::Ws, "/"));
        let t: Target = "ws://127.0.0.1:8480".parse().unwrap();
        assert_eq!((t.server, t.link, t.path.as_str()), (Server::Enchufe, Link::Ws, "/ws"));
        let t: Target = "tcp://[::1]:8481".parse().unwrap();
        assert_eq!((t.server, t.link), (Server::Enchufe, Link::Tcp));
    }

    #[test]
    fn only_loopback_is_accepted() {
        assert!("tcp://10.0.0.1:8481".parse::<Target>().is_err());
        assert!("tcp://example.com:8481".parse::<Target>().is_err());
        assert!("http://127.0.0.1:1".parse::<Target>().is_err());
    }
}
