//! The browser's WebSocket as the state machine's transport: open, send, close, and the three
//! handlers that turn its events into the machine's inputs.
//!
//! The handlers are created once per client and shared by all its sockets. Each checks that
//! the event comes from the client's current socket: a socket given up (a dead heartbeat, a
//! timed-out attempt) may still deliver a queued event, which the machine must not see.

use crate::prelude::*;
use alloc::rc::Weak;

use js_sys::{Array, ArrayBuffer, Function, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, EventTarget, MessageEvent, WebSocket};

/// One WebSocket connection attempt.
pub(crate) struct Socket {
    ws: WebSocket,
}

/// What a socket's events call: a client's handlers, holding it weakly (a client dropped by
/// the application does not live on through its socket).
///
/// All three take the event as a plain `JsValue`: closures of one signature share their glue.
pub(crate) struct Handlers {
    open: Closure<dyn FnMut(JsValue)>,
    message: Closure<dyn FnMut(JsValue)>,
    close: Closure<dyn FnMut(JsValue)>,
}

/// The receiver of a socket's events.
pub(crate) trait SocketEvents: 'static {
    /// The socket that sent `target`'s event is open.
    fn opened(&self, target: Option<EventTarget>);
    /// A binary message arrived, or (`None`) a text one: JSON, which this client does not read
    /// (it speaks binary, so the server answers in binary; see `wire.rs`).
    fn received(&self, target: Option<EventTarget>, message: Option<Vec<u8>>);
    /// The socket closed, or failed to open (`opened` says which), with the close code and
    /// reason.
    fn closed(&self, target: Option<EventTarget>, code: u16, reason: String);
}

impl Handlers {
    pub(crate) fn new<T: SocketEvents>(owner: &Weak<T>) -> Self {
        let (o, m, c) = (owner.clone(), owner.clone(), owner.clone());
        Handlers {
            open: Closure::new(move |event: JsValue| {
                let event: Event = event.unchecked_into();
                if let Some(owner) = o.upgrade() {
                    owner.opened(event.target());
                }
            }),
            message: Closure::new(move |event: JsValue| {
                let event: MessageEvent = event.unchecked_into();
                let Some(owner) = m.upgrade() else { return };
                let data = event.data();
                let message = if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
                    Some(Uint8Array::new(buffer).to_vec())
                } else if data.is_string() {
                    None
                } else {
                    return; // binaryType is "arraybuffer": nothing else arrives
                };
                owner.received(event.target(), message);
            }),
            close: Closure::new(move |event: JsValue| {
                let event: CloseEvent = event.unchecked_into();
                if let Some(owner) = c.upgrade() {
                    owner.closed(event.target(), event.code(), event.reason());
                }
            }),
        }
    }
}

impl Socket {
    /// Starts opening a WebSocket to `url` with `constructor` (the global `WebSocket`, or the
    /// application's, e.g. the `ws` package's in Node); its events go to `handlers`. Fails only
    /// for a URL the constructor refuses outright (a `SyntaxError`).
    pub(crate) fn open(
        constructor: &Function,
        url: &str,
        handlers: &Handlers,
    ) -> Result<Socket, JsValue> {
        let ws: WebSocket =
            js_sys::Reflect::construct(constructor, &Array::of1(&url.into()))?.unchecked_into();
        ws.set_binary_type(BinaryType::Arraybuffer);
        ws.set_onopen(Some(handlers.open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(handlers.message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(handlers.close.as_ref().unchecked_ref()));
        Ok(Socket { ws })
    }

    /// Whether `target` is this socket.
    pub(crate) fn is(&self, target: Option<&EventTarget>) -> bool {
        target.is_some_and(|t| {
            let (t, ws): (&JsValue, &JsValue) = (t, &self.ws);
            t == ws
        })
    }

    /// Sends one binary message. A socket that is closing refuses it; its `close` event
    /// follows and the state machine re-sends what matters on the next connection.
    pub(crate) fn send(&self, message: &[u8]) {
        let _ = self.ws.send_with_u8_array(message);
    }

    /// Closes the socket (normal closure) and stops listening to it.
    pub(crate) fn close(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}
