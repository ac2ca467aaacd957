//! What a token allows in which rooms: four actions, each with a list of room patterns.

use enchufe_core::RoomName;
use serde::Deserialize;

/// Something a connection does in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `join` (and SSE streams): receive the room's messages.
    Subscribe,
    /// `publish` (and REST publish).
    Publish,
    /// See who is in the room: `joined.members` and `presence` events.
    Presence,
    /// `history` (and REST reads), and `join` with `since` to recover.
    History,
}

impl Action {
    /// The word used in the claim and in errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Subscribe => "subscribe",
            Action::Publish => "publish",
            Action::Presence => "presence",
            Action::History => "history",
        }
    }
}

/// A room pattern: an exact name (`lobby`), a prefix ending in `*` (`chat:*` matches `chat:a`
/// and `chat:b:c`), or `*` alone (every room).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub struct Pattern(String);

impl From<String> for Pattern {
    fn from(text: String) -> Self {
        Pattern(text)
    }
}

impl Pattern {
    /// Whether `room` matches.
    pub fn matches(&self, room: &RoomName) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => room.as_str().starts_with(prefix),
            None => room.as_str() == self.0,
        }
    }
}

/// The `rooms` claim: either one list of patterns for every action, or a list per action
/// (an action left out is allowed nowhere). Without the claim a token allows every action in
/// every room (it proves who the user is; the server's policy still applies).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Rights {
    /// No `rooms` claim: everything.
    #[default]
    #[serde(skip)]
    All,
    /// `"rooms": ["chat:*", "lobby"]`: every action in these rooms.
    Rooms(Vec<Pattern>),
    /// `"rooms": {"subscribe": [...], "publish": [...], "presence": [...], "history": [...]}`.
    PerAction {
        /// Rooms the holder may join.
        #[serde(default)]
        subscribe: Vec<Pattern>,
        /// Rooms the holder may publish to.
        #[serde(default)]
        publish: Vec<Pattern>,
        /// Rooms whose members the holder may see.
        #[serde(default)]
        presence: Vec<Pattern>,
        /// Rooms whose history the holder may read.
        #[serde(default)]
        history: Vec<Pattern>,
    },
}

impl Rights {
    /// Whether these rights allow `action` in `room`.
    pub fn allow(&self, action: Action, room: &RoomName) -> bool {
        let patterns = match self {
            Rights::All => return true,
            Rights::Rooms(patterns) => patterns,
            Rights::PerAction { subscribe, publish, presence, history } => match action {
                Action::Subscribe => subscribe,
                Action::Publish => publish,
                Action::Presence => presence,
                Action::History => history,
            },
        };
        patterns.iter().any(|p| p.matches(room))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::new(name).unwrap()
    }

    #[test]
    fn patterns_match_exact_names_and_prefixes() {
        let chat = Pattern("chat:*".into());
        assert!(chat.matches(&room("chat:a")) && chat.matches(&room("chat:a:b")));
        assert!(!chat.matches(&room("ops:x")) && !chat.matches(&room("chat")));
        assert!(Pattern("lobby".into()).matches(&room("lobby")));
        assert!(!Pattern("lobby".into()).matches(&room("lobby2")));
        assert!(Pattern("*".into()).matches(&room("anything")));
    }

    #[test]
    fn the_claim_is_a_list_or_a_list_per_action() {
        let all: Rights = serde_json::from_str(r#"["chat:*"]"#).unwrap();
        assert!(all.allow(Action::Publish, &room("chat:a")));
        assert!(!all.allow(Action::Subscribe, &room("ops:x")));
        let split: Rights =
            serde_json::from_str(r#"{"subscribe":["chat:*"],"publish":["chat:mine"]}"#).unwrap();
        assert!(split.allow(Action::Subscribe, &room("chat:a")));
        assert!(!split.allow(Action::Publish, &room("chat:a")));
        assert!(split.allow(Action::Publish, &room("chat:mine")));
        assert!(!split.allow(Action::History, &room("chat:a")), "left out: nowhere");
        assert!(Rights::All.allow(Action::History, &room("x")));
    }
}
