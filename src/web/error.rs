//! Errors as JavaScript sees them: an `Error` whose `name` is `"TeleconsultError"` and whose
//! `code` is a stable string from the exported `ErrorCode` type.

use core::fmt;

use wasm_bindgen::prelude::*;

use crate::ErrorCode;
use crate::consent::LedgerError;
use crate::crypto::CryptoError;
use crate::signaling::{SessionError, SignalingError};

/// An error of the browser layer: one of the core's, or one only a browser host has (a
/// missing platform feature, a bad JavaScript argument, the relay or the network, the media
/// engine, a permission). The core never produces the latter, so they live here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A platform feature is missing; the message says which and what to do instead.
    Unsupported(&'static str),
    /// An argument is invalid; the message names the argument, never its value.
    InvalidArgument(&'static str),
    /// The relay refused the connection with this close code (docs/PROTOCOL.md lists them).
    Relay(u16),
    /// The relay could not be reached; the message says what failed.
    Network(&'static str),
    /// The media engine failed; the message says which step.
    Media(&'static str),
    /// A permission was refused; the message says which.
    PermissionDenied(&'static str),
    /// An error of the sans-IO core.
    Core(crate::Error),
}

impl Error {
    /// The stable code JavaScript branches on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unsupported(_) => ErrorCode::Unsupported,
            Self::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Self::Relay(_) => ErrorCode::RelayRefused,
            Self::Network(_) => ErrorCode::NetworkError,
            Self::Media(_) => ErrorCode::MediaFailed,
            Self::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Self::Core(e) => e.code(),
        }
    }
}

impl Error {
    /// The message JavaScript sees, written by hand rather than with `write!`: in each wasm
    /// module this was the last user of `core::fmt` (docs/DEVELOPING.md, "Why size shapes
    /// the code").
    pub fn message(&self) -> String {
        let mut out = String::new();
        let (prefix, what) = match self {
            Self::Unsupported(what) => ("not supported here: ", *what),
            Self::InvalidArgument(what) => ("invalid argument: ", *what),
            Self::Network(what) => ("network: ", *what),
            Self::Media(what) => ("media: ", *what),
            Self::PermissionDenied(what) => ("permission denied: ", *what),
            Self::Relay(code) => {
                out.push_str("the relay refused the connection (code ");
                crate::text::push_padded(&mut out, u64::from(*code), 1);
                out.push(')');
                return out;
            }
            Self::Core(e) => {
                e.push_message(&mut out);
                return out;
            }
        };
        out.push_str(prefix);
        out.push_str(what);
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Self::Core(e)
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Core(e.into())
    }
}

impl From<SignalingError> for Error {
    fn from(e: SignalingError) -> Self {
        Self::Core(e.into())
    }
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        Self::Core(e.into())
    }
}

impl From<crate::devices::ParseError> for Error {
    fn from(e: crate::devices::ParseError) -> Self {
        Self::Core(e.into())
    }
}

impl From<crate::devices::CaptureError> for Error {
    fn from(e: crate::devices::CaptureError) -> Self {
        Self::Core(e.into())
    }
}

impl From<crate::devices::delivery::ReceiveError> for Error {
    fn from(e: crate::devices::delivery::ReceiveError) -> Self {
        Self::Core(e.into())
    }
}

impl From<LedgerError> for Error {
    fn from(e: LedgerError) -> Self {
        Self::Core(crate::Error::Consent(e))
    }
}

/// An error on its way to JavaScript.
#[derive(Debug)]
pub struct JsError(pub Error);

impl From<Error> for JsError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<crate::Error> for JsError {
    fn from(e: crate::Error) -> Self {
        Self(Error::Core(e))
    }
}

impl From<JsError> for JsValue {
    fn from(JsError(e): JsError) -> Self {
        let err = js_sys::Error::new(&e.message());
        err.set_name("TeleconsultError");
        // Setting plain data properties on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().as_str().into());
        match e {
            Error::Relay(code) => {
                let _ = js_sys::Reflect::set(&err, &"relayCode".into(), &code.into());
            }
            Error::Core(crate::Error::Consent(ledger)) => {
                let _ = js_sys::Reflect::set(&err, &"consentCode".into(), &ledger.code().into());
            }
            _ => {}
        }
        if let Some(reason) = reason(&e) {
            let _ = js_sys::Reflect::set(&err, &"reason".into(), &reason.into());
        }
        err.into()
    }
}

/// The error's `reason`: a consent denial's [`ConsentReason`](crate::consent::Reason), a
/// refused file's [`FileError::reason`](crate::files::FileError::reason).
pub(super) fn reason(e: &Error) -> Option<&'static str> {
    match e {
        Error::Core(crate::Error::ConsentDenied(reason))
        | Error::Core(crate::Error::File(crate::files::FileError::NotConsented(reason))) => {
            Some(reason.name())
        }
        Error::Core(crate::Error::File(f)) => Some(f.reason()),
        _ => None,
    }
}

/// Every stable error code, in declaration order. The package's `ErrorCode` object is built
/// from this list.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "string[]")]
pub fn error_codes() -> Vec<JsValue> {
    ErrorCode::ALL
        .iter()
        .map(|c| JsValue::from_str(c.as_str()))
        .collect()
}
