//! Errors as JavaScript sees them: an `Error` whose `name` is `"TeleconsultError"` and whose
//! `code` is a stable string from the exported `ErrorCode` type.

use wasm_bindgen::prelude::*;

use crate::Error;

#[wasm_bindgen(typescript_custom_section)]
const ERROR_TS: &'static str = r#"
/**
 * Stable error codes. Branch on `error.code`, never on the message text.
 *
 * - `Unsupported`: the host lacks a platform feature the call needs; the message says which
 *   and what to do instead (for example, use the device bridge).
 * - `InvalidArgument`: an argument is invalid; the message names the argument.
 */
export type ErrorCode = "Unsupported" | "InvalidArgument";

/** Every error the SDK throws or rejects with. */
export interface TeleconsultError extends Error {
  name: "TeleconsultError";
  code: ErrorCode;
}
"#;

/// A core error on its way to JavaScript.
#[derive(Debug)]
pub struct JsError(pub Error);

impl From<Error> for JsError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<JsError> for JsValue {
    fn from(JsError(e): JsError) -> Self {
        let err = js_sys::Error::new(&e.to_string());
        err.set_name("TeleconsultError");
        // Setting a plain data property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().as_str().into());
        err.into()
    }
}
