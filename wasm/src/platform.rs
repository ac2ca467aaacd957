//! What the browser gives the driver: a monotonic clock, timers, randomness and a console.
//!
//! These are the global functions every browser window and worker has, imported by name so
//! the package needs no `window` (it works in a Web Worker too). The clock is
//! `performance.now()`: monotonic, unlike `Date.now()`, which jumps when the system clock is set
//! (and `std::time::Instant::now()` panics on wasm32-unknown-unknown).

use alloc::rc::Weak;
use core::cell::Cell;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;

    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]);

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, delay_ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);

    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &JsValue);

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue);

    // The global object's (`window`'s, a worker's `self`'s) by name, called bare as a page's
    // script may: no lookup of the global object (js_sys::global() and its four fallbacks).
    // Where there is none (Node), the call throws a ReferenceError, an `Err`.
    #[wasm_bindgen(catch, js_name = addEventListener)]
    fn add_event_listener(event: &str, listener: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = removeEventListener)]
    fn remove_event_listener(event: &str, listener: &JsValue) -> Result<(), JsValue>;
}

/// Milliseconds on the page's monotonic clock (`performance.now()`), the driver's `now`.
pub(crate) fn now_ms() -> u64 {
    // The clock starts near zero when the page loads and only grows: the conversion neither
    // truncates a negative value nor overflows.
    performance_now().max(0.0) as u64
}

/// Cryptographically random bytes (`crypto.getRandomValues`).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    get_random_values(&mut bytes);
    bytes
}

/// Runs `task` once, after the current task's synchronous code (`queueMicrotask`).
pub(crate) fn soon(task: impl FnOnce() + 'static) {
    queue_microtask(&Closure::once_into_js(task));
}

/// Calls `listener` on every `event` of the global object (`window`, a worker's `self`), when
/// it has `addEventListener` (Node's has not). The closure must be kept while it listens.
pub(crate) fn on_global(
    event: &str,
    listener: impl FnMut() + 'static,
) -> Option<Closure<dyn FnMut()>> {
    let closure = Closure::<dyn FnMut()>::new(listener);
    add_event_listener(event, closure.as_ref()).ok()?;
    Some(closure)
}

/// Removes a listener [`on_global`] added.
pub(crate) fn off_global(event: &str, listener: &Closure<dyn FnMut()>) {
    let _ = remove_event_listener(event, listener.as_ref());
}

/// Reports an exception thrown by an application's event listener, as the browser does for
/// listeners of a DOM event: logged, without stopping the other listeners.
pub(crate) fn report_listener_error(error: &JsValue) {
    console_error("enchufe: an event listener threw", error);
}

/// The one timer of a driver: `setTimeout` for the state machine's next deadline.
///
/// Rescheduling to the same deadline keeps the running timer; a new deadline replaces it.
pub(crate) struct Timer {
    /// The deadline and `setTimeout` handle of the scheduled timer.
    scheduled: Cell<Option<u64>>,
    handle: core::cell::RefCell<JsValue>,
    callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// A timer that calls `on_fire` on the value behind `target` while it is alive.
    pub(crate) fn new<T: 'static>(target: Weak<T>, on_fire: fn(&T)) -> Self {
        Timer {
            scheduled: Cell::new(None),
            handle: core::cell::RefCell::new(JsValue::UNDEFINED),
            callback: Closure::new(move || {
                if let Some(target) = target.upgrade() {
                    on_fire(&target);
                }
            }),
        }
    }

    /// Fires at `deadline` (ms on [`now_ms`]'s clock), or never for `None`.
    pub(crate) fn schedule(&self, deadline: Option<u64>, now: u64) {
        if self.scheduled.get() == deadline {
            return;
        }
        self.cancel();
        if let Some(deadline) = deadline {
            // At least 1 ms: a deadline reached already still runs after the current task, not
            // inside it, and `performance.now()` rounding never makes it fire a tick early twice.
            let delay = deadline.saturating_sub(now).max(1);
            let handle = set_timeout(self.callback.as_ref().unchecked_ref(), delay as f64);
            self.handle.replace(handle);
            self.scheduled.set(Some(deadline));
        }
    }

    /// Marks the timer as fired: the next [`schedule`](Timer::schedule) sets a new one even for
    /// the same deadline.
    pub(crate) fn fired(&self) {
        self.scheduled.set(None);
        self.handle.replace(JsValue::UNDEFINED);
    }

    /// Stops the scheduled timer, if any.
    pub(crate) fn cancel(&self) {
        if self.scheduled.take().is_some() {
            clear_timeout(&self.handle.replace(JsValue::UNDEFINED));
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}
