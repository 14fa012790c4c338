//! Errors as JavaScript sees them: an `Error` whose `name` is `"TeleconsultError"` and whose
//! `code` is a stable string from the exported `ErrorCode` type.

use wasm_bindgen::prelude::*;

use crate::{Error, ErrorCode};

#[wasm_bindgen(typescript_custom_section)]
const ERROR_CODE_TS: &'static str = ErrorCode::TYPESCRIPT;

#[wasm_bindgen(typescript_custom_section)]
const ERROR_TS: &'static str = r#"
/** Every error the SDK throws or rejects with. Branch on `code`, never on the message. */
export interface TeleconsultError extends Error {
  name: "TeleconsultError";
  code: ErrorCode;
  /** For `RelayRefused`: the relay's close code (4001 bad token, 4002 expired, 4005 room full, …). */
  relayCode?: number;
  /** For `Consent`: exactly what the ledger rejected (see docs/CONSENT.md, "Verification rules"). */
  consentCode?: ConsentErrorCode;
  /**
   * For `ConsentDenied`: why the enforcement point said no (a `ConsentReason`). For
   * `MalformedMeasurement`: the parser's reason (see `MalformedMeasurementError`).
   */
  reason?: ConsentReason | "truncated" | "trailingBytes" | "reserved" | "invalid";
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
        // Setting plain data properties on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().as_str().into());
        match e {
            Error::Relay(code) => {
                let _ = js_sys::Reflect::set(&err, &"relayCode".into(), &code.into());
            }
            Error::Consent(ledger) => {
                let _ = js_sys::Reflect::set(&err, &"consentCode".into(), &ledger.code().into());
            }
            Error::ConsentDenied(reason) => {
                let _ = js_sys::Reflect::set(
                    &err,
                    &"reason".into(),
                    &super::consent::reason_name(reason).into(),
                );
            }
            _ => {}
        }
        err.into()
    }
}

/// Every stable error code, in declaration order. The package's `ErrorCode` object is built
/// from this list.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<JsValue> {
    ErrorCode::ALL
        .iter()
        .map(|c| JsValue::from_str(c.as_str()))
        .collect()
}
