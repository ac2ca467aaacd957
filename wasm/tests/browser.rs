//! The browser client against a live `enchufe serve`, in headless Chromium:
//! `cargo xtask test` runs `wasm-pack test --headless --chrome wasm` with the server's address.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::{Function, Promise, Uint8Array};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SECOND: f64 = 1000.0;

fn since(seq: u64) -> Option<JoinOptionsArg> {
    Some(js(&format!(r#"{{"since":{seq}}}"#)).unchecked_into())
}

#[wasm_bindgen_test]
async fn connects_joins_publishes_and_receives_its_own_message() {
    let room = fresh_room("basic");
    let client = client(r#"{"name":"ana"}"#);
    let events = Recorder::attach(&client);
    assert_eq!(client.state(), JsValue::from_str("connecting"));
    events.online(1).await;
    assert_eq!(client.state(), JsValue::from_str("online"));
    // Listeners added right after the constructor see its first event too.
    assert_eq!(events.states(), ["connecting", "online"]);
    let session = client.session().expect("a session while online");

    let info = resolved(5.0 * SECOND, "join", client.join(&room, None)).await;
    assert_eq!(text(&info, "room"), room);
    assert_eq!(num(&info, "seq"), 0.0);
    assert_eq!(get(&info, "recovered"), JsValue::TRUE);
    let epoch = text(&info, "epoch");
    assert!(epoch.len() == 16 && epoch.chars().all(|c| c.is_ascii_hexdigit()), "epoch {epoch:?}");
    let members = json(&get(&info, "members"));
    assert!(members.contains(&session) && members.contains("\"ana\""), "{members}");

    let body = js(r#"{"text":"hola","n":[1,2.5,null,true]}"#);
    let seq = resolved(5.0 * SECOND, "publish", client.publish(&room, body.clone())).await;
    assert_eq!(seq.as_f64(), Some(1.0));

    events.until(5.0 * SECOND, "the message", |e| !e.messages(&room).is_empty()).await;
    let message = &events.messages(&room)[0];
    assert_eq!(num(message, "seq"), 1.0);
    assert_eq!(text(message, "from"), "ana");
    assert_eq!(json(&get(message, "body")), json(&body));
    assert!(num(message, "ts") > 1.6e12, "ts is ms since the epoch: {}", json(message));
    client.close();
    assert_eq!(client.state(), JsValue::from_str("closed"));
}

#[wasm_bindgen_test]
async fn receives_a_message_published_over_rest() {
    let room = fresh_room("rest");
    let client = client("{}");
    let events = Recorder::attach(&client);
    resolved(5.0 * SECOND, "join", client.join(&room, None)).await;
    let answer = control(&format!("publish/{room}?from=curl"), r#"{"via":"http"}"#).await;
    assert!(answer.contains("\"seq\":1"), "{answer}");
    events.until(5.0 * SECOND, "the REST message", |e| !e.messages(&room).is_empty()).await;
    let message = &events.messages(&room)[0];
    assert_eq!(text(message, "from"), "curl");
    assert_eq!(json(&get(message, "body")), r#"{"via":"http"}"#);
    client.close();
}

#[wasm_bindgen_test]
async fn presence_of_a_second_client() {
    let room = fresh_room("presence");
    let ana = client(r#"{"name":"ana"}"#);
    let ana_events = Recorder::attach(&ana);
    resolved(5.0 * SECOND, "ana's join", ana.join(&room, None)).await;

    let bea = client(r#"{"name":"bea"}"#);
    let info = resolved(5.0 * SECOND, "bea's join", bea.join(&room, None)).await;
    let members = json(&get(&info, "members"));
    assert!(members.contains("\"ana\"") && members.contains("\"bea\""), "{members}");
    let bea_session = bea.session().expect("bea is online after her join");

    let came = |action: &'static str| {
        let (bea_session, room) = (bea_session.clone(), room.clone());
        move |e: &Recorder| {
            e.of("presence").iter().any(|p| {
                text(p, "action") == action
                    && text(&get(p, "member"), "session") == bea_session
                    && text(&get(p, "member"), "name") == "bea"
                    && text(p, "room") == room
            })
        }
    };
    ana_events.until(5.0 * SECOND, "bea's presence join", came("join")).await;
    bea.close();
    ana_events.until(5.0 * SECOND, "bea's presence leave", came("leave")).await;
    ana.close();
}

#[wasm_bindgen_test]
async fn history_answers_with_the_stored_messages() {
    let room = fresh_room("history");
    let client = client("{}");
    for n in 1..=3 {
        let seq = resolved(5.0 * SECOND, "publish", client.publish(&room, n.into())).await;
        assert_eq!(seq.as_f64(), Some(f64::from(n)));
    }
    let options = js(r#"{"since":1,"limit":10}"#).unchecked_into();
    let messages = resolved(5.0 * SECOND, "history", client.history(&room, Some(options))).await;
    let messages: Vec<JsValue> = js_sys::Array::from(&messages).to_vec();
    let seqs: Vec<f64> = messages.iter().map(|m| num(m, "seq")).collect();
    let bodies: Vec<String> = messages.iter().map(|m| json(&get(m, "body"))).collect();
    assert_eq!(seqs, [2.0, 3.0]);
    assert_eq!(bodies, ["2", "3"]);

    // Joining with `since` replays what came after it.
    let events = Recorder::attach(&client);
    let info = resolved(5.0 * SECOND, "join since 1", client.join(&room, since(1))).await;
    assert_eq!(num(&info, "seq"), 3.0);
    events.until(5.0 * SECOND, "the replay", |e| e.messages(&room).len() == 2).await;
    let replayed: Vec<f64> = events.messages(&room).iter().map(|m| num(m, "seq")).collect();
    assert_eq!(replayed, [2.0, 3.0]);
    client.close();
}

#[wasm_bindgen_test]
async fn bytes_and_json_bodies_round_trip_in_binary_frames() {
    let room = fresh_room("bytes");
    let binary = client(r#"{"encoding":"binary"}"#);
    let text_client = client("{}");
    let binary_events = Recorder::attach(&binary);
    let text_events = Recorder::attach(&text_client);
    resolved(5.0 * SECOND, "join", binary.join(&room, None)).await;
    resolved(5.0 * SECOND, "join", text_client.join(&room, None)).await;

    let bytes = Uint8Array::from(&[0u8, 1, 2, 254, 255][..]);
    resolved(5.0 * SECOND, "bytes publish", text_client.publish(&room, bytes.into())).await;
    resolved(5.0 * SECOND, "json publish", binary.publish(&room, js(r#"{"k":"v"}"#))).await;

    for events in [&binary_events, &text_events] {
        events.until(5.0 * SECOND, "both messages", |e| e.messages(&room).len() == 2).await;
        let messages = events.messages(&room);
        let first = get(&messages[0], "body");
        let first = first.dyn_into::<Uint8Array>().expect("a bytes body is a Uint8Array");
        assert_eq!(first.to_vec(), [0, 1, 2, 254, 255]);
        assert_eq!(json(&get(&messages[1], "body")), r#"{"k":"v"}"#);
    }
    binary.close();
    text_client.close();
}

/// The acceptance test of recovery: the server cuts both the subscriber and the publisher
/// (the admin disconnect) while messages are being published. Every message arrives once, in
/// order; every publish is acknowledged once with its own seq.
#[wasm_bindgen_test]
async fn recovers_without_loss_or_duplicate_after_the_server_cuts_the_connection() {
    const COUNT: u32 = 40;
    let room = fresh_room("recovery");
    let reader = client(r#"{"name":"reader","reconnect":{"baseMs":50,"capMs":200}}"#);
    let writer = client(r#"{"name":"writer","reconnect":{"baseMs":50,"capMs":200}}"#);
    let reader_events = Recorder::attach(&reader);
    let writer_events = Recorder::attach(&writer);
    resolved(5.0 * SECOND, "reader's join", reader.join(&room, None)).await;
    writer_events.online(1).await;

    let mut acks = Vec::new();
    for n in 0..COUNT {
        acks.push(writer.publish(&room, n.into()));
        if n == COUNT / 4 {
            // Cut both while publishes are in flight; the rest are published while offline.
            let reader_session = reader.session().expect("reader online");
            let writer_session = writer.session().expect("writer online");
            control(&format!("kick/{reader_session}"), "").await;
            control(&format!("kick/{writer_session}"), "").await;
        }
    }
    let all = Promise::all(&acks.iter().map(JsValue::from).collect::<js_sys::Array>());
    let seqs = resolved(20.0 * SECOND, "every ack", all).await;
    let mut seqs: Vec<f64> = js_sys::Array::from(&seqs).iter().filter_map(|s| s.as_f64()).collect();
    seqs.sort_by(f64::total_cmp);
    let expected: Vec<f64> = (1..=COUNT).map(f64::from).collect();
    assert_eq!(seqs, expected, "each publish stored once, under its own seq");

    reader_events
        .until(20.0 * SECOND, "every message", |e| e.messages(&room).len() >= COUNT as usize)
        .await;
    // Wait for one more round trip so that a late duplicate would have shown up.
    resolved(5.0 * SECOND, "a history round trip", reader.history(&room, None)).await;
    let messages = reader_events.messages(&room);
    let got: Vec<(f64, String)> =
        messages.iter().map(|m| (num(m, "seq"), json(&get(m, "body")))).collect();
    let want: Vec<(f64, String)> = (0..COUNT).map(|n| (f64::from(n + 1), n.to_string())).collect();
    // Bodies in publish order: the writer's outbox re-sends in order, the server keeps it.
    assert_eq!(got, want, "no loss, no duplicate, in order");
    assert!(reader_events.of("gap").is_empty(), "no gap: {:?}", reader_events.of("gap"));

    for events in [&reader_events, &writer_events] {
        let states = events.states();
        assert!(states.iter().any(|s| s == "waiting"), "was cut off and waited: {states:?}");
        assert_eq!(states.last().map(String::as_str), Some("online"), "{states:?}");
        let kicked = events.of("error").iter().any(|e| num(e, "code") == 4014.0);
        assert!(kicked, "told it was kicked: {:?}", events.of("error"));
        let waiting = events.of("state").into_iter().find(|s| text(s, "state") == "waiting");
        let waiting = waiting.expect("a waiting state");
        let delay = num(&waiting, "retryInMs");
        assert!((0.0..=200.0).contains(&delay), "retry delay within the cap: {delay}");
        assert!(num(&waiting, "retryAt") > 0.0);
    }
    // The reader re-joined by itself, with recovery.
    let rejoins = reader_events.of("joined");
    assert!(rejoins.len() >= 2, "joined again after the cut: {rejoins:?}");
    assert!(rejoins.iter().all(|j| get(j, "recovered") == JsValue::TRUE));
    // The same server: the room keeps its numbering, so no reset.
    let epochs: Vec<String> = rejoins.iter().map(|j| text(j, "epoch")).collect();
    assert!(epochs.iter().all(|e| !e.is_empty() && *e == epochs[0]), "one epoch: {epochs:?}");
    assert!(reader_events.of("reset").is_empty(), "no reset: {:?}", reader_events.of("reset"));
    reader.close();
    writer.close();
}

#[wasm_bindgen_test]
async fn publishes_queue_while_offline_within_the_outbox_bound() {
    let room = fresh_room("outbox");
    let client = client(r#"{"outboxCapacity":2}"#);
    // Still connecting: the first two wait in the outbox, the third does not fit.
    let first = client.publish(&room, "a".into());
    let second = client.publish(&room, "b".into());
    let error = rejected(SECOND, "third publish", client.publish(&room, "c".into())).await;
    assert_eq!(text(&error, "name"), "outbox_full");
    assert_eq!(num(&error, "code"), 4016.0);
    assert_eq!(text(&error, "room"), room);
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(resolved(5.0 * SECOND, "first", first).await.as_f64(), Some(1.0));
    assert_eq!(resolved(5.0 * SECOND, "second", second).await.as_f64(), Some(2.0));
    client.close();
}

#[wasm_bindgen_test]
async fn close_rejects_what_is_pending_and_connect_starts_over() {
    let room = fresh_room("close");
    let client = client("{}");
    let events = Recorder::attach(&client);
    let publish = client.publish(&room, "x".into());
    let join = client.join(&room, None);
    client.close();
    for (what, promise) in [("publish", JsValue::from(publish)), ("join", JsValue::from(join))] {
        let error = rejected(SECOND, what, promise).await;
        assert_eq!(text(&error, "name"), "closed", "{what}");
        assert_eq!(num(&error, "code"), 4018.0, "{what}");
    }
    assert_eq!(events.states().last().map(String::as_str), Some("closed"));

    client.connect();
    events.online(1).await;
    let seq = resolved(5.0 * SECOND, "publish after connect", client.publish(&room, "y".into()));
    assert!(seq.await.as_f64().is_some());
    client.close();
}

#[wasm_bindgen_test]
async fn bad_arguments_are_typed_errors() {
    let client = client("{}");
    let error = rejected(SECOND, "join", client.join("no spaces", None)).await;
    assert_eq!((text(&error, "name"), num(&error, "code")), ("invalid_room".into(), 4002.0));
    let error = rejected(SECOND, "publish", client.publish("", "x".into())).await;
    assert_eq!(text(&error, "name"), "invalid_room");
    // `undefined` and functions have no JSON; BigInt makes JSON.stringify throw.
    for body in
        [JsValue::UNDEFINED, Function::new_no_args("").into(), js_sys::BigInt::from(1).into()]
    {
        let error = rejected(SECOND, "publish", client.publish("room", body)).await;
        assert_eq!(text(&error, "name"), "invalid_field");
    }
    let error = rejected(
        SECOND,
        "since",
        client.join("room", Some(js(r#"{"since":-1}"#).unchecked_into())),
    )
    .await;
    assert_eq!(text(&error, "name"), "invalid_field");
    let listener = Function::new_no_args("");
    let thrown = client.on("mesage", listener).expect_err("unknown event");
    assert!(thrown.is_instance_of::<js_sys::TypeError>());
    client.close();

    let thrown = Client::new(server_url(), Some(js(r#"{"name":5}"#).unchecked_into()))
        .err()
        .expect("a name must be a string");
    assert!(thrown.is_instance_of::<js_sys::TypeError>(), "{thrown:?}");
    for encoding in [r#"{"encoding":"xml"}"#, r#"{"encoding":"json"}"#] {
        let thrown = Client::new(server_url(), Some(js(encoding).unchecked_into()))
            .err()
            .expect("the client speaks binary only");
        assert!(thrown.is_instance_of::<js_sys::TypeError>(), "{thrown:?}");
    }
    let thrown = Client::new("ftp://example", None).err().expect("not a WebSocket URL");
    assert_eq!(text(&thrown, "name"), "SyntaxError", "{thrown:?}");
}

#[wasm_bindgen_test]
async fn listeners_can_call_the_client_and_see_events_in_order() {
    let room = fresh_room("listeners");
    let client = std::rc::Rc::new(client("{}"));
    let events = Recorder::attach(&client);
    // A listener that publishes a reply to the first message: re-entrant use of the client.
    let replier = {
        let client = client.clone();
        let room = room.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |message: JsValue| {
            if num(&message, "seq") == 1.0 {
                let _ = client.publish(&room, "reply".into());
            }
        })
    };
    client.on("message", replier.as_ref().unchecked_ref::<Function>().clone()).expect("known");
    // A listener that throws does not stop the others.
    let thrower = Function::new_no_args("throw new Error('listener failure (expected)')");
    client.on("message", thrower.clone()).expect("known");
    resolved(5.0 * SECOND, "join", client.join(&room, None)).await;
    resolved(5.0 * SECOND, "publish", client.publish(&room, "first".into())).await;
    events.until(5.0 * SECOND, "the reply", |e| e.messages(&room).len() == 2).await;
    let bodies: Vec<String> =
        events.messages(&room).iter().map(|m| json(&get(m, "body"))).collect();
    assert_eq!(bodies, [r#""first""#, r#""reply""#]);
    client.off("message", thrower).expect("known");
    client.off("message", replier.as_ref().unchecked_ref::<Function>().clone()).expect("known");
    client.close();
}

/// Two joins of the same room in flight at once each resolve (every command's id gets exactly
/// one answer); the second is sent before the first is answered, as both promises are made
/// before either is awaited.
#[wasm_bindgen_test]
async fn two_joins_of_one_room_at_once_both_resolve() {
    let room = fresh_room("twice");
    let client = client("{}");
    let events = Recorder::attach(&client);
    events.online(1).await;
    let first = client.join(&room, None);
    let second = client.join(&room, None);
    let first = resolved(5.0 * SECOND, "first join", first).await;
    let second = resolved(5.0 * SECOND, "second join", second).await;
    assert_eq!((text(&first, "room"), text(&second, "room")), (room.clone(), room));
    client.close();
}
