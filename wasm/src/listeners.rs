//! The application's event listeners, and the queue that delivers events in order.
//!
//! A listener may call back into the client (publish from a `message` listener, close from an
//! `error` one). So events are queued while the state machine is borrowed and delivered after,
//! and events raised while a listener runs join the end of the queue instead of overtaking
//! the ones still waiting: listeners see events in the order the state machine produced them.

use crate::prelude::*;
use alloc::collections::VecDeque;
use core::cell::{Cell, RefCell};

use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::platform::report_listener_error;

/// The events of the JavaScript API (`ClientEventMap` in the TypeScript).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    Message,
    Presence,
    Gap,
    Reset,
    State,
    Joined,
    Error,
}

impl EventKind {
    const ALL: [EventKind; 7] = [
        EventKind::Message,
        EventKind::Presence,
        EventKind::Gap,
        EventKind::Reset,
        EventKind::State,
        EventKind::Joined,
        EventKind::Error,
    ];

    /// The event's name in `on(name, …)`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Presence => "presence",
            EventKind::Gap => "gap",
            EventKind::Reset => "reset",
            EventKind::State => "state",
            EventKind::Joined => "joined",
            EventKind::Error => "error",
        }
    }

    /// The event called `name`, if there is one.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Every event name, for an error message.
    pub(crate) fn names() -> String {
        let mut names = String::new();
        for kind in Self::ALL {
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(kind.name());
        }
        names
    }
}

/// Whether `a` and `b` are the same function (`===`).
fn same(a: &Function, b: &Function) -> bool {
    let (a, b): (&JsValue, &JsValue) = (a, b);
    a == b
}

/// Listeners by event, and the delivery queue.
#[derive(Default)]
pub(crate) struct Listeners {
    /// Each listener, and whether it is to be called once only.
    by_kind: RefCell<[Vec<(Function, bool)>; EventKind::ALL.len()]>,
    queue: RefCell<VecDeque<(EventKind, JsValue)>>,
    delivering: Cell<bool>,
}

impl Listeners {
    /// Adds `listener` for `kind` (for the next event only when `once`), unless it is there
    /// already.
    pub(crate) fn add(&self, kind: EventKind, listener: Function, once: bool) {
        let mut by_kind = self.by_kind.borrow_mut();
        let list = &mut by_kind[kind as usize];
        if !list.iter().any(|(l, _)| same(l, &listener)) {
            list.push((listener, once));
        }
    }

    /// Removes `listener` for `kind`, if it is there.
    pub(crate) fn remove(&self, kind: EventKind, listener: &Function) {
        self.by_kind.borrow_mut()[kind as usize].retain(|(l, _)| !same(l, listener));
    }

    /// Queues an event for [`deliver`](Listeners::deliver).
    pub(crate) fn push(&self, kind: EventKind, payload: JsValue) {
        self.queue.borrow_mut().push_back((kind, payload));
    }

    /// Holds events back until [`release`](Listeners::release): the constructor's first
    /// events (`connecting`) then reach the listeners the application adds right after it.
    pub(crate) fn hold(&self) {
        self.delivering.set(true);
    }

    /// Ends [`hold`](Listeners::hold) and delivers what was held.
    pub(crate) fn release(&self) {
        self.delivering.set(false);
        self.deliver();
    }

    /// Calls the listeners of every queued event, oldest first, unless a delivery is already
    /// under way further up the stack (it will reach the events queued now).
    pub(crate) fn deliver(&self) {
        if self.delivering.replace(true) {
            return;
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some((kind, payload)) = next else { break };
            // A snapshot: listeners added or removed by a listener count from the next event.
            let listeners = self.by_kind.borrow()[kind as usize].clone();
            for (listener, once) in listeners {
                if once {
                    self.remove(kind, &listener);
                }
                if let Err(error) = listener.call1(&JsValue::UNDEFINED, &payload) {
                    report_listener_error(&error);
                }
            }
        }
        self.delivering.set(false);
    }
}
