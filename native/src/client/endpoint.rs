//! Where a client connects: a URL whose scheme picks the transport.

use std::{fmt, str::FromStr};

use super::Error;

/// A server address with its transport, parsed from `ws://host:port/ws`, `tcp://host:port` or
/// `udp://host:port`, or over TLS `wss://host:port/ws` and `tls://host:port`.
///
/// A missing port is the default of docs/DECISIONS.md (WebSocket 8480, TCP 8481, UDP 8482; the
/// same over TLS); a WebSocket URL without a path gets `/ws`, the server's WebSocket path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// WebSocket: one frame per message.
    Ws {
        /// The full URL handed to the WebSocket handshake.
        url: String,
        /// `host:port` for the TCP connection under it.
        addr: String,
        /// `wss://`: TLS under the WebSocket.
        tls: bool,
    },
    /// TCP: newline-delimited JSON, or length-prefixed binary after `hello`.
    Tcp {
        /// `host:port`.
        addr: String,
        /// `tls://`: TLS over the TCP connection.
        tls: bool,
    },
    /// UDP: one frame per datagram, after the cookie handshake.
    Udp {
        /// `host:port`.
        addr: String,
    },
}

impl Endpoint {
    /// The URL's scheme: `"ws"`, `"wss"`, `"tcp"`, `"tls"` or `"udp"`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Endpoint::Ws { tls: false, .. } => "ws",
            Endpoint::Ws { tls: true, .. } => "wss",
            Endpoint::Tcp { tls: false, .. } => "tcp",
            Endpoint::Tcp { tls: true, .. } => "tls",
            Endpoint::Udp { .. } => "udp",
        }
    }

    /// The `host:port` the transport connects to.
    pub fn addr(&self) -> &str {
        match self {
            Endpoint::Ws { addr, .. } | Endpoint::Tcp { addr, .. } | Endpoint::Udp { addr } => addr,
        }
    }

    /// Whether the connection is made over TLS (`wss://`, `tls://`).
    pub fn tls(&self) -> bool {
        matches!(self, Endpoint::Ws { tls: true, .. } | Endpoint::Tcp { tls: true, .. })
    }
}

impl FromStr for Endpoint {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| Error::InvalidUrl { url: url.to_owned(), reason };
        let (scheme, rest) = url.split_once("://").ok_or(invalid("expected scheme://host:port"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "ws" | "wss" => 8480,
            "tcp" | "tls" => 8481,
            "udp" => 8482,
            _ => return Err(invalid("the scheme must be ws, wss, tcp, tls or udp")),
        };
        let addr = with_port(authority, default_port).ok_or(invalid("bad host or port"))?;
        match scheme.as_str() {
            "ws" | "wss" => {
                let path = if path.is_empty() || path == "/" { "/ws" } else { path };
                let url = format!("{scheme}://{addr}{path}");
                Ok(Endpoint::Ws { url, addr, tls: scheme == "wss" })
            }
            _ if !(path.is_empty() || path == "/") => {
                Err(invalid("tcp://, tls:// and udp:// URLs have no path"))
            }
            "tcp" | "tls" => Ok(Endpoint::Tcp { addr, tls: scheme == "tls" }),
            _ => Ok(Endpoint::Udp { addr }),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Ws { url, .. } => f.write_str(url),
            Endpoint::Tcp { addr, .. } | Endpoint::Udp { addr } => {
                write!(f, "{}://{addr}", self.scheme())
            }
        }
    }
}

/// `host:port` from an authority (`host`, `host:port`, `[v6]`, `[v6]:port`), or `None` if the
/// host is empty or the port is not a number.
fn with_port(authority: &str, default_port: u16) -> Option<String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{host}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(port) => port.parse::<u16>().ok()?,
        None => default_port,
    };
    (!host.is_empty() && host != "[]").then(|| format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Endpoint {
        url.parse().unwrap()
    }

    #[test]
    fn schemes_pick_the_transport_and_default_ports() {
        assert_eq!(
            parse("tcp://127.0.0.1:9"),
            Endpoint::Tcp { addr: "127.0.0.1:9".into(), tls: false }
        );
        assert_eq!(
            parse("TLS://localhost"),
            Endpoint::Tcp { addr: "localhost:8481".into(), tls: true }
        );
        assert_eq!(parse("tls://localhost").to_string(), "tls://localhost:8481");
        assert_eq!(
            parse("wss://example.com"),
            Endpoint::Ws {
                url: "wss://example.com:8480/ws".into(),
                addr: "example.com:8480".into(),
                tls: true
            }
        );
        assert_eq!(parse("udp://localhost"), Endpoint::Udp { addr: "localhost:8482".into() });
        assert_eq!(
            parse("ws://example.com"),
            Endpoint::Ws {
                url: "ws://example.com:8480/ws".into(),
                addr: "example.com:8480".into(),
                tls: false
            }
        );
        assert_eq!(
            parse("WS://[::1]:7/custom"),
            Endpoint::Ws { url: "ws://[::1]:7/custom".into(), addr: "[::1]:7".into(), tls: false }
        );
        assert_eq!(parse("tcp://[::1]/").addr(), "[::1]:8481");
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        for url in
            ["127.0.0.1:8481", "http://x", "https://x", "tcp://", "tcp://x:port", "tls://x/y"]
        {
            assert!(
                matches!(url.parse::<Endpoint>(), Err(Error::InvalidUrl { .. })),
                "{url} should not parse"
            );
        }
    }
}
