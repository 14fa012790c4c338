//! Small helpers for reading and building plain JavaScript objects without serde, which keeps
//! the wasm small, and for the platform's random source.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::web::Error;

/// `obj[key]`, or `undefined` if `obj` is not an object or the getter throws.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() || obj.is_function() {
        Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Whether a value is neither `undefined` nor `null`.
pub fn present(v: &JsValue) -> bool {
    !v.is_undefined() && !v.is_null()
}

/// An optional string field; a present non-string is an error naming the field.
pub fn opt_string(obj: &JsValue, key: &'static str) -> Result<Option<String>, Error> {
    let v = get(obj, key);
    if !present(&v) {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or(Error::InvalidArgument(key))
}

/// A required string field.
pub fn string(obj: &JsValue, key: &'static str) -> Result<String, Error> {
    opt_string(obj, key)?.ok_or(Error::InvalidArgument(key))
}

/// Sets `obj[key] = value` on a plain object we created (cannot fail).
pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    set_value(obj, key, value.into());
}

/// [`set`]'s body, not generic and not inlined: one copy serves every call site and value
/// type (inlined, the glue of `Reflect::set` repeated at each).
#[inline(never)]
fn set_value(obj: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(obj, &key.into(), &value);
}

/// Builds a plain object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> Object {
    let obj = Object::new();
    for (k, v) in pairs {
        set(&obj, k, v.clone());
    }
    obj
}

/// A core value as plain JavaScript data, with serde-wasm-bindgen (the one codec across the
/// boundary, docs/DEVELOPING.md): structs and maps become plain objects, unit variants
/// strings, `None` `undefined`, bytes a `Uint8Array`; an integer beyond 2^53 cannot be
/// represented and gives `undefined` (our types check times where they enter, so none do).
pub fn to_value<T: serde::Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    value.serialize(&serializer).unwrap_or(JsValue::UNDEFINED)
}

/// Fills `out` from the platform's cryptographic random source (`crypto.getRandomValues`,
/// in every browser, worker and Node.js 20, through `getrandom`). Where there is none, the
/// SDK refuses to run rather than fall back to a weak source.
pub fn random_bytes(out: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(out).map_err(|_| {
        Error::Unsupported("crypto.getRandomValues is missing; a secure random source is required")
    })
}

/// `x` when it is an integer that fits a `u16` (a port, a close code, an m-line index).
#[cfg(feature = "web-call")]
pub fn u16_of(x: f64) -> Option<u16> {
    (x.fract() == 0.0 && (0.0..=65535.0).contains(&x)).then_some(x as u16)
}

/// Lowercase hex, for participant ids.
pub fn hex(bytes: &[u8]) -> String {
    // The consent JSON's encoder: one copy of the code in the wasm.
    crate::consent::model::hex::encode(bytes)
}

/// Parses exactly `2 * N` hex digits (either case) into `N` bytes.
pub fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0; N];
    hex_into(s, &mut out).then_some(out)
}

/// Parses exactly 16 hex digits into 8 bytes.
pub fn parse_hex8(s: &str) -> Option<[u8; 8]> {
    parse_hex(s)
}

/// Fills `out` from exactly `2 * out.len()` hex digits (either case); false if `s` is
/// anything else (a sign or a space included). Not generic, so every length shares one copy
/// of the loop.
fn hex_into(s: &str, out: &mut [u8]) -> bool {
    let digits = s.as_bytes();
    if digits.len() != 2 * out.len() {
        return false;
    }
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let &[high, low] = pair else { return false };
        match (nibble(high), nibble(low)) {
            (Some(h), Some(l)) => *byte = h << 4 | l,
            _ => return false,
        }
    }
    true
}

/// The value of one hex digit.
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A boxed future the SDK runs on the event loop.
pub type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// A boxed future that settles a Promise.
pub type PromiseTask =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>>;

/// Runs `task` on the microtask queue, like `wasm_bindgen_futures::spawn_local`.
///
/// A size trick: `spawn_local` and `future_to_promise` are generic, so every future type
/// passed to them gets its own copy of wasm-bindgen's task machinery (scheduling, waker,
/// Promise executor). Every spawn in the SDK goes through these two non-generic functions
/// instead, with the future boxed, so the machinery exists once.
pub fn spawn(task: Task) {
    wasm_bindgen_futures::spawn_local(task);
}

/// A Promise that `task` settles: see [`spawn`] for why this is not generic. The task starts
/// in a microtask, exactly as the body of a `#[wasm_bindgen] async fn` does.
pub fn spawn_promise(task: PromiseTask) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(task)
}

/// What an exported async method does, written as `pub fn f(..) -> Promise { promise(async
/// move { .. }) }` with `unchecked_return_type = "Promise<..>"` so the TypeScript stays that
/// of an `async fn`. Only the small result conversion is generic; see [`spawn`].
#[cfg(feature = "web-call")]
pub fn promise<T: Into<JsValue>>(
    f: impl std::future::Future<Output = Result<T, super::JsError>> + 'static,
) -> js_sys::Promise {
    spawn_promise(Box::pin(async move {
        f.await.map(Into::into).map_err(Into::into)
    }))
}
