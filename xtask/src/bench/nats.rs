//! NATS, the server enchufe is compared with: Debian's nats-server (2.9.x) and the config the
//! bench starts it with.

use crate::sh::{Result, cmd, has, step};

/// The server binary (on PATH once Debian's package is installed).
pub(super) const PROGRAM: &str = "nats-server";

/// Installs nats-server from Debian unless it already runs (we run as root on these machines).
pub(super) fn install() -> Result {
    if has(PROGRAM) {
        return Ok(());
    }
    step(cmd("apt-get", &["update"]))?;
    let mut install = cmd("apt-get", &["install", "-y", "nats-server"]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    step(install)
}

/// The config: client port and WebSocket listener (plain, no TLS) on loopback; everything
/// else — max_pending, write_deadline, max_payload — left at the server's defaults.
pub(super) fn config(tcp: &str, ws: &str) -> String {
    format!("listen: \"{tcp}\"\nwebsocket {{\n  listen: \"{ws}\"\n  no_tls: true\n}}\n")
}

#[cfg(test)]
mod tests {
    use super::config;

    #[test]
    fn config_names_both_listeners() {
        assert_eq!(
            config("127.0.0.1:4222", "127.0.0.1:4280"),
            "listen: \"127.0.0.1:4222\"\nwebsocket {\n  listen: \"127.0.0.1:4280\"\n  no_tls: true\n}\n"
        );
    }
}
