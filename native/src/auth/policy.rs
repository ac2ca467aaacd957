//! The server's policy: what a connection without a token may do, and per room namespace (the
//! part of a room's name before its first `:`) who may publish, whether presence and history are
//! on, and how much history is kept. Tokens narrow it further (their `rooms` claim); they never
//! widen it.

use std::collections::BTreeMap;

use enchufe_core::RoomName;
use serde::{Deserialize, Serialize};

use super::Action;

/// What a connection without a token may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Anonymous {
    /// Nothing: `hello` without a token is refused (4009).
    None,
    /// Join, read history and see presence; not publish.
    Read,
    /// Everything a token could allow (the default while no key is configured).
    #[default]
    Full,
}

/// Who may publish into a namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Publishers {
    /// Anyone the rest of the policy lets in.
    #[default]
    Anyone,
    /// Only connections with a token (whose rights allow it).
    Tokens,
    /// Nobody over the protocol (the admin API's REST publish still can).
    Nobody,
}

/// The rules of one namespace (`[auth.policy.namespaces.chat]` in the config file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Namespace {
    /// Who may publish.
    pub publish: Publishers,
    /// Whether members are shown (`joined.members`, `presence`).
    pub presence: bool,
    /// Whether messages are kept and can be read back (`history`, recovery with `since`).
    pub history: bool,
    /// Messages kept per room (the server's `history_len` when absent).
    pub history_len: Option<usize>,
    /// How long messages are kept, in seconds (the server's `history_age_secs` when absent).
    pub history_age_secs: Option<u64>,
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace {
            publish: Publishers::Anyone,
            presence: true,
            history: true,
            history_len: None,
            history_age_secs: None,
        }
    }
}

/// The whole policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// What a connection without a token may do; `None` means "full" while no key is
    /// configured and "none" once one is.
    pub anonymous: Option<Anonymous>,
    /// Whether a token holder's `hello.name` is shown as the sender and in presence. When off
    /// (the default), the token's `sub` is: a client cannot pose as someone else.
    pub names: bool,
    /// Rules per namespace; rooms of other namespaces (and without `:`) follow the defaults.
    pub namespaces: BTreeMap<String, Namespace>,
}

/// Why the policy refuses something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Policy {
    /// The rules for `room`.
    pub fn namespace(&self, room: &RoomName) -> Option<&Namespace> {
        let name = room.as_str();
        let prefix = name.split_once(':').map(|(ns, _)| ns)?;
        self.namespaces.get(prefix)
    }

    /// Whether the policy (not a token's rights) allows `action` in `room`, for a connection
    /// with a token (`token`) or without, given what anonymous connections may do.
    pub fn allow(
        &self,
        anonymous: Anonymous,
        token: bool,
        action: Action,
        room: &RoomName,
    ) -> Result<(), Refusal> {
        if !token && anonymous == Anonymous::Read && action == Action::Publish {
            return Err(Refusal("publishing needs a token on this server".into()));
        }
        let Some(ns) = self.namespace(room) else { return Ok(()) };
        let what = match action {
            Action::Publish => match ns.publish {
                Publishers::Anyone => return Ok(()),
                Publishers::Tokens if token => return Ok(()),
                Publishers::Tokens => "publishing without a token",
                Publishers::Nobody => "publishing",
            },
            Action::Presence if !ns.presence => "presence",
            Action::History if !ns.history => "history",
            _ => return Ok(()),
        };
        Err(Refusal(format!("{what} is off in room {room}'s namespace")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::new(name).unwrap()
    }

    #[test]
    fn namespaces_and_anonymous_access_refuse_what_they_say() {
        let policy: Policy = toml::from_str(
            r#"
            [namespaces.news]
            publish = "nobody"
            presence = false
            [namespaces.chat]
            publish = "tokens"
            history = false
            "#,
        )
        .unwrap();
        let full = Anonymous::Full;
        assert!(policy.allow(full, false, Action::Publish, &room("news:x")).is_err());
        assert!(policy.allow(full, true, Action::Presence, &room("news:x")).is_err());
        assert!(policy.allow(full, true, Action::Publish, &room("chat:a")).is_ok());
        assert!(policy.allow(full, false, Action::Publish, &room("chat:a")).is_err());
        assert!(policy.allow(full, true, Action::History, &room("chat:a")).is_err());
        assert!(policy.allow(full, false, Action::Publish, &room("other")).is_ok());
        let read = Anonymous::Read;
        assert!(policy.allow(read, false, Action::Publish, &room("other")).is_err());
        assert!(policy.allow(read, false, Action::Subscribe, &room("other")).is_ok());
    }
}
