//! What the engine writes into Redis and reads back: a message as its JSON with `seq` 0 (the
//! stream entry id and the channel payload carry the seq), presence events as member JSON.

use enchufe_core::{Member, Message, Presence, PresenceAction, RoomName};

/// One thing a room's channel said.
#[derive(Debug)]
pub(super) enum Event {
    /// A message, numbered.
    Message(Message),
    /// A member came or went on `node` (`-`: its entry expired in Redis).
    Presence { node: String, presence: Presence },
}

/// A message as it is stored and published: its JSON, `seq` left 0 for the script to give.
pub(super) fn message_json(message: &Message) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

/// A stored message, `{seq}\n{json}` (a history entry, or a channel payload after `m\n`).
pub(super) fn numbered(text: &str) -> Result<Message, String> {
    let (seq, json) = text.split_once('\n').ok_or("no seq")?;
    let seq: u64 = seq.parse().map_err(|_| format!("seq {seq:?} is not a number"))?;
    let mut message: Message =
        serde_json::from_str(json).map_err(|e| format!("a stored message does not decode: {e}"))?;
    message.seq = seq;
    Ok(message)
}

/// A channel's payload, from the channel of `room`.
pub(super) fn event(room: &RoomName, payload: &str) -> Result<Event, String> {
    match payload.split_once('\n') {
        Some(("m", rest)) => numbered(rest).map(Event::Message),
        Some(("p", rest)) => {
            let mut parts = rest.splitn(3, '\n');
            let (Some(node), Some(action), Some(member)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err("a presence event without its parts".into());
            };
            let action = match action {
                "join" => PresenceAction::Join,
                "leave" => PresenceAction::Leave,
                other => return Err(format!("presence action {other:?}")),
            };
            let member: Member = serde_json::from_str(member)
                .map_err(|e| format!("a member does not decode: {e}"))?;
            let presence = Presence { room: room.clone(), action, member };
            Ok(Event::Presence { node: node.to_owned(), presence })
        }
        _ => Err("a payload of no known kind".into()),
    }
}

/// The room a channel `{prefix}:{room}` is of.
pub(super) fn room_of(prefix: &str, channel: &str) -> Option<RoomName> {
    let name = channel.strip_prefix(prefix)?.strip_prefix(":{")?.strip_suffix('}')?;
    RoomName::new(name).ok()
}

/// A member as stored in a room's presence hash.
pub(super) fn member_json(member: &Member) -> String {
    serde_json::to_string(member).unwrap_or_default()
}

/// A member from a presence hash.
pub(super) fn member(json: &str) -> Option<Member> {
    serde_json::from_str(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use enchufe_core::Body;

    #[test]
    fn a_message_goes_in_with_seq_0_and_comes_back_numbered() {
        let room = RoomName::new("chat").unwrap();
        let body = Body::from_json_text(r#"{"seq":0,"text":"hi\nthere"}"#).unwrap();
        let message = Message { room: room.clone(), seq: 0, from: "a".into(), ts: 5, body };
        let stored = format!("42\n{}", message_json(&message));
        let back = numbered(&stored).unwrap();
        assert_eq!(back, Message { seq: 42, ..message.clone() });
        let Event::Message(published) = event(&room, &format!("m\n{stored}")).unwrap() else {
            panic!("not a message");
        };
        assert_eq!(published.seq, 42);
        assert!(event(&room, "x\n1").is_err());
        assert!(numbered("seven\n{}").is_err());
    }

    #[test]
    fn presence_events_name_their_node() {
        let room = RoomName::new("chat").unwrap();
        let member = Member { session: "s-1".into(), name: Some("ann".into()) };
        let text = format!("p\nnode-a\nleave\n{}", member_json(&member));
        let Event::Presence { node, presence } = event(&room, &text).unwrap() else {
            panic!("not presence");
        };
        assert_eq!(node, "node-a");
        assert_eq!(presence, Presence { room, action: PresenceAction::Leave, member });
        assert_eq!(room_of("enchufe", "enchufe:{a:b}").unwrap().as_str(), "a:b");
        assert!(room_of("enchufe", "other:{a}").is_none());
    }
}
