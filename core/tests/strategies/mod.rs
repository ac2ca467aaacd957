//! proptest strategies for every frame of the protocol, with each optional field both present
//! and absent, and bodies both JSON (any JSON value, as compact text) and bytes.

use enchufe_core::{
    Ack, Body, Challenge, ClientFrame, Encoding, ErrorFrame, Hello, History, HistoryRequest, Join,
    Joined, Leave, Left, Limits, Member, Message, Ping, Pong, Presence, PresenceAction, Publish,
    Refresh, Refreshed, RoomName, ServerFrame, Welcome,
};
use proptest::{collection::vec, option, prelude::*};
use serde_json::{Map, Number, Value};

/// Any text: every Unicode scalar value, control characters and quotes included.
pub(crate) fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..12).prop_map(String::from_iter)
}

pub(crate) fn room() -> impl Strategy<Value = RoomName> {
    "[A-Za-z0-9_.:-]{1,64}".prop_map(|name| RoomName::new(name).expect("the regex is the rule"))
}

/// Any JSON value: nested arrays and objects, unicode strings, integers and finite floats.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((text(), inner), 0..6).prop_map(|fields| Value::Object(Map::from_iter(fields))),
        ]
    })
}

/// A body as a publisher would send it: compact JSON text (the JSON encoding keeps a body's
/// text verbatim, so round-trip equality needs the text serde_json writes), or bytes.
pub(crate) fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        json_value().prop_map(|value| {
            Body::from_json_text(serde_json::to_string(&value).expect("a Value serializes"))
                .expect("serde_json writes valid JSON")
        }),
        vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
    ]
}

fn id() -> impl Strategy<Value = Option<u64>> {
    option::of(any::<u64>())
}

fn member() -> impl Strategy<Value = Member> {
    (text(), option::of(text())).prop_map(|(session, name)| Member { session, name })
}

fn message() -> impl Strategy<Value = Message> {
    (room(), any::<u64>(), text(), any::<u64>(), body())
        .prop_map(|(room, seq, from, ts, body)| Message { room, seq, from, ts, body })
}

pub(crate) fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        (
            any::<u32>(),
            option::of(text()),
            option::of(text()),
            option::of(text()),
            option::of(text()),
            prop_oneof![Just(Encoding::Json), Just(Encoding::Binary)],
            any::<bool>(),
        )
            .prop_map(|(v, name, token, client, cookie, encoding, batch)| {
                ClientFrame::Hello(Hello { v, name, token, client, cookie, encoding, batch })
            }),
        (room(), option::of(any::<u64>()), id(), option::of(text())).prop_map(
            |(room, since, id, epoch)| ClientFrame::Join(Join { room, since, id, epoch })
        ),
        (room(), id()).prop_map(|(room, id)| ClientFrame::Leave(Leave { room, id })),
        (room(), body(), id()).prop_map(|(room, body, id)| ClientFrame::Publish(Publish {
            room,
            body,
            id
        })),
        (room(), option::of(any::<u64>()), option::of(any::<u32>()), id()).prop_map(
            |(room, since, limit, id)| {
                ClientFrame::History(HistoryRequest { room, since, limit, id })
            }
        ),
        id().prop_map(|id| ClientFrame::Ping(Ping { id })),
        (text(), id()).prop_map(|(token, id)| ClientFrame::Refresh(Refresh { token, id })),
    ]
}

pub(crate) fn server_frame() -> impl Strategy<Value = ServerFrame> {
    prop_oneof![
        (any::<u32>(), text(), any::<u64>(), any::<[u32; 3]>(), id()).prop_map(
            |(v, session, heartbeat_ms, [max_frame, max_rooms, max_history], expires)| {
                let limits = Limits { max_frame, max_rooms, max_history };
                ServerFrame::Welcome(Welcome { v, session, heartbeat_ms, limits, expires })
            }
        ),
        text().prop_map(|cookie| ServerFrame::Challenge(Challenge { cookie })),
        (room(), any::<u64>(), vec(member(), 0..4), any::<bool>(), id(), text()).prop_map(
            |(room, seq, members, recovered, id, epoch)| {
                ServerFrame::Joined(Joined { room, seq, members, recovered, id, epoch })
            }
        ),
        (room(), id()).prop_map(|(room, id)| ServerFrame::Left(Left { room, id })),
        message().prop_map(ServerFrame::Message),
        (room(), prop_oneof![Just(PresenceAction::Join), Just(PresenceAction::Leave)], member())
            .prop_map(|(room, action, member)| {
                ServerFrame::Presence(Presence { room, action, member })
            }),
        (any::<u64>(), room(), any::<u64>()).prop_map(|(id, room, seq)| ServerFrame::Ack(Ack {
            id,
            room,
            seq
        })),
        (room(), vec(message(), 0..4), id())
            .prop_map(|(room, messages, id)| ServerFrame::History(History { room, messages, id })),
        id().prop_map(|id| ServerFrame::Pong(Pong { id })),
        (id(), id()).prop_map(|(id, expires)| ServerFrame::Refreshed(Refreshed { id, expires })),
        (any::<u16>(), text(), id())
            .prop_map(|(code, message, id)| ServerFrame::Error(ErrorFrame { code, message, id })),
    ]
}
