//! A single rearmable timer on `setTimeout`, owning its closure: dropping the timer clears it.

use wasm_bindgen::prelude::*;

/// A pending `setTimeout`; cleared on drop so a closed consultation never wakes up again.
pub struct Timer {
    handle: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Calls `callback` once after `delay_ms` (clamped to 0..=2^31-1 as browsers require).
    pub fn once(delay_ms: f64, callback: impl FnOnce() + 'static) -> Result<Self, JsValue> {
        Self::once_boxed(delay_ms, Box::new(callback))
    }

    /// [`once`](Self::once) with the callback boxed: one wasm-bindgen closure type (and one
    /// copy of its JS-to-Rust glue) for every timer instead of one per callback.
    fn once_boxed(delay_ms: f64, callback: Box<dyn FnOnce()>) -> Result<Self, JsValue> {
        let mut callback = Some(callback);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = callback.take() {
                f();
            }
        });
        let delay = delay_ms.clamp(0.0, f64::from(i32::MAX)) as i32;
        let handle = set_timeout(closure.as_ref().unchecked_ref(), delay)?;
        Ok(Self {
            handle,
            _callback: closure,
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(self.handle);
    }
}

/// Milliseconds since the Unix epoch, the clock the core is driven with.
pub fn now_ms() -> u64 {
    let now = js_sys::Date::now();
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

#[wasm_bindgen]
extern "C" {
    // Global functions, so that the same code runs in windows, workers and Node.js.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    pub(crate) fn set_timeout(callback: &js_sys::Function, delay: i32) -> Result<i32, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: i32);
}
