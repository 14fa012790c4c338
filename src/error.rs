//! The crate-wide error type.
//!
//! Each module owns one error enum; [`Error`] gathers them so that callers can match on the
//! module that failed, and [`ErrorCode`] gives every error a stable code that crosses to
//! JavaScript unchanged. Messages never contain keys, personal data or payload bytes.

use core::fmt;

use crate::crypto::CryptoError;
use crate::devices::{CaptureError, ParseError};
use crate::signaling::SignalingError;

/// Declares [`ErrorCode`] once: the enum, its stable names and the list of all codes (the
/// TypeScript union the JS package exports, pkg/src/types/error-code.ts, is checked against
/// the list by a test).
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $name:ident,)+) => {
        /// A stable, machine-readable error code. JavaScript receives it as the `code`
        /// property of the thrown `Error`; integrators branch on it, so a code is never
        /// renamed or reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $name,)+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$name,)+];

            /// The code's stable name, as JavaScript sees it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)+
                }
            }
        }
    };
}

error_codes! {
    /// The host lacks a platform feature the call needs (for example Web Bluetooth).
    Unsupported,
    /// An argument passed by the caller is invalid.
    InvalidArgument,
    /// A sealed frame failed authentication (tampered, wrong key, wrong room secret). The
    /// frame was dropped; the app also receives a security event.
    AuthenticationFailed,
    /// A frame was a duplicate or too old for the replay window; dropped.
    Replayed,
    /// A message could not be decoded.
    Malformed,
    /// A frame used an unsupported (newer or downgraded) protocol version.
    UnsupportedVersion,
    /// A peer broke the protocol (wrong room, misaddressed, role conflict, forbidden
    /// message); the input was dropped.
    ProtocolViolation,
    /// The call is not valid in the current state, for this role, or after the session ended.
    InvalidState,
    /// A wait ran out (handshake, waiting room, relay).
    Timeout,
    /// A peer exceeded a rate limit.
    RateLimited,
    /// A size, count or queue limit was exceeded.
    LimitExceeded,
    /// The relay refused the connection (bad or expired token, room full, second patient…);
    /// the error's `relayCode` holds the relay's close code.
    RelayRefused,
    /// The relay could not be reached or the connection failed.
    NetworkError,
    /// The media engine failed (camera, microphone, peer connection).
    MediaFailed,
    /// The user or the host app refused a permission (camera, microphone, Bluetooth).
    PermissionDenied,
    /// The consent ledger rejected an operation or failed verification; the error's
    /// message (and [`LedgerError::code`](crate::consent::LedgerError::code)) says exactly why.
    Consent,
    /// Consent does not allow the capture or sharing that was asked for (no grant, withdrawn,
    /// expired, notice changed, …); the error's `reason` names the obstacle. Nothing was
    /// captured or sent.
    ConsentDenied,
    /// A device sent a characteristic value that does not follow its Bluetooth SIG
    /// definition (too short, reserved flags, impossible date, bytes left over…). The
    /// message names the characteristic and the field, never the bytes; the error's
    /// `reason` is the parser's code (`truncated`, `trailingBytes`, `reserved`, `invalid`).
    MalformedMeasurement,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Any error the SDK reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A cryptographic check or operation failed (see [`CryptoError`]).
    Crypto(CryptoError),
    /// The signaling session refused an input or action (see [`SignalingError`]).
    Signaling(SignalingError),
    /// A consent ledger error.
    Consent(crate::consent::LedgerError),
    /// An enforcement point denied the action; the reason says why.
    ConsentDenied(crate::consent::Reason),
    /// A device value was rejected or is not a measurement (see [`CaptureError`]): bad bytes
    /// are `MalformedMeasurement`; an unknown or non-measurement characteristic, or a glucose
    /// context for another record, is `InvalidArgument`.
    Device(CaptureError),
    /// A shared reading's envelope was refused (`InvalidArgument`; its measurement, when that
    /// is what failed, is a [`Error::Device`]).
    Reading(crate::devices::delivery::ReceiveError),
    /// A chat frame or action was refused (see [`crate::chat::ChatError`]).
    Chat(crate::chat::ChatError),
    /// A file frame or action was refused (see [`crate::files::FileError`]).
    File(crate::files::FileError),
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<SignalingError> for Error {
    fn from(e: SignalingError) -> Self {
        Self::Signaling(e)
    }
}

impl Error {
    /// The stable code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Crypto(e) => match e {
                CryptoError::AuthenticationFailed | CryptoError::InvalidPublicKey => {
                    ErrorCode::AuthenticationFailed
                }
                CryptoError::Replayed | CryptoError::TooOld => ErrorCode::Replayed,
                CryptoError::Malformed => ErrorCode::Malformed,
                CryptoError::UnsupportedVersion => ErrorCode::UnsupportedVersion,
                CryptoError::UnknownKey => ErrorCode::ProtocolViolation,
                CryptoError::NonceExhausted | CryptoError::TooLarge => ErrorCode::LimitExceeded,
            },
            Self::Signaling(e) => match e {
                SignalingError::Wire(_) | SignalingError::Malformed => ErrorCode::Malformed,
                SignalingError::UnsupportedVersion | SignalingError::Downgrade => {
                    ErrorCode::UnsupportedVersion
                }
                SignalingError::WrongRoom
                | SignalingError::Misaddressed
                | SignalingError::SenderMismatch
                | SignalingError::UnknownPeer
                | SignalingError::RoleConflict
                | SignalingError::ProtocolViolation => ErrorCode::ProtocolViolation,
                SignalingError::RateLimited => ErrorCode::RateLimited,
                SignalingError::InvalidState
                | SignalingError::NotPermitted
                | SignalingError::Closed => ErrorCode::InvalidState,
                SignalingError::RoomFull | SignalingError::TooLarge | SignalingError::QueueFull => {
                    ErrorCode::LimitExceeded
                }
                SignalingError::BadInvite | SignalingError::OldInvite => ErrorCode::InvalidArgument,
                SignalingError::CertificateMismatch => ErrorCode::InvalidState,
            },
            Self::Consent(_) => ErrorCode::Consent,
            Self::ConsentDenied(_) => ErrorCode::ConsentDenied,
            Self::Device(e) => match e {
                CaptureError::Parse {
                    error: ParseError::InvalidUuid | ParseError::UnsupportedCharacteristic { .. },
                }
                | CaptureError::NotAMeasurement { .. }
                | CaptureError::ContextMismatch => ErrorCode::InvalidArgument,
                _ => ErrorCode::MalformedMeasurement,
            },
            Self::Reading(_) => ErrorCode::InvalidArgument,
            Self::Chat(e) => e.code(),
            Self::File(e) => e.code(),
        }
    }
}

impl Error {
    /// The `Display` text, written without the formatting machinery: `to_string()` of an
    /// `Error` is what JavaScript sees as `message`, and `write!` here kept the integer and
    /// hex `Display` impls in the wasm for it alone.
    pub(crate) fn push_message(&self, out: &mut String) {
        match self {
            Self::Crypto(e) => {
                out.push_str("crypto: ");
                out.push_str(e.message());
            }
            Self::Signaling(e) => {
                out.push_str("signaling: ");
                e.push_message(out);
            }
            Self::Consent(e) => e.push_message(out),
            Self::ConsentDenied(reason) => {
                out.push_str("consent does not allow this: ");
                out.push_str(reason.name());
            }
            Self::Device(e) => e.push_message(out),
            Self::Reading(e) => {
                out.push_str("invalid argument: ");
                out.push_str(e.message());
            }
            Self::Chat(e) => {
                out.push_str("chat: ");
                out.push_str(e.message());
            }
            Self::File(e) => {
                out.push_str("file: ");
                out.push_str(e.message());
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.push_message(&mut out);
        f.write_str(&out)
    }
}

impl std::error::Error for Error {}

impl From<CaptureError> for Error {
    fn from(e: CaptureError) -> Self {
        Self::Device(e)
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Self::Device(CaptureError::Parse { error: e })
    }
}

impl From<crate::consent::LedgerError> for Error {
    fn from(e: crate::consent::LedgerError) -> Self {
        Self::Consent(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Display` text as it was written with `write!`, before `push_message`.
    fn message_reference(e: &Error, f: &mut String) -> fmt::Result {
        use fmt::Write as _;
        match e {
            Error::Crypto(e) => write!(f, "crypto: {e}"),
            Error::Signaling(e) => write!(f, "signaling: {e}"),
            Error::Consent(e) => write!(f, "{e}"),
            Error::ConsentDenied(reason) => {
                write!(f, "consent does not allow this: {}", reason.name())
            }
            Error::Device(e) => write!(f, "{e}"),
            Error::Reading(e) => write!(f, "invalid argument: {}", e.message()),
            Error::Chat(e) => write!(f, "chat: {e}"),
            Error::File(e) => write!(f, "file: {e}"),
        }
    }

    proptest::proptest! {
        #[test]
        fn messages_are_what_write_wrote(code in proptest::prelude::any::<u16>(), seq in proptest::prelude::any::<u64>()) {
            use crate::devices::Characteristic;
            let c = Characteristic::ALL[usize::from(code) % Characteristic::ALL.len()];
            let mut all = vec![
                Error::Consent(crate::consent::LedgerError::Fork { seq }),
                Error::Consent(crate::consent::LedgerError::Full),
                Error::Reading(crate::devices::delivery::ReceiveError::IdMismatch),
                Error::Device(CaptureError::NotAMeasurement { characteristic: c }),
                Error::Device(CaptureError::ContextMismatch),
                Error::Device(CaptureError::Parse { error: ParseError::UnsupportedCharacteristic { uuid16: code } }),
                Error::Device(CaptureError::Parse { error: ParseError::TrailingBytes { characteristic: c, count: usize::from(code) } }),
                Error::Signaling(SignalingError::Wire(crate::signaling::relay_wire::WireError::BadField)),
                Error::Signaling(SignalingError::Closed),
                Error::Crypto(CryptoError::Replayed),
            ];
            all.push(Error::ConsentDenied(crate::consent::Reason::NoticeChanged));
            all.extend(
                [
                    SignalingError::Malformed,
                    SignalingError::UnsupportedVersion,
                    SignalingError::Downgrade,
                    SignalingError::WrongRoom,
                    SignalingError::Misaddressed,
                    SignalingError::SenderMismatch,
                    SignalingError::UnknownPeer,
                    SignalingError::RoleConflict,
                    SignalingError::RoomFull,
                    SignalingError::RateLimited,
                    SignalingError::ProtocolViolation,
                    SignalingError::InvalidState,
                    SignalingError::NotPermitted,
                    SignalingError::TooLarge,
                    SignalingError::QueueFull,
                    SignalingError::BadInvite,
                    SignalingError::OldInvite,
                    SignalingError::CertificateMismatch,
                ]
                .map(Error::Signaling),
            );
            for e in all {
                let mut want = String::new();
                message_reference(&e, &mut want).unwrap();
                proptest::prop_assert_eq!(e.to_string(), want);
            }
        }
    }

    #[test]
    fn every_error_has_the_code_javascript_branches_on() {
        assert_eq!(
            Error::from(CryptoError::AuthenticationFailed).code(),
            ErrorCode::AuthenticationFailed
        );
        assert_eq!(
            Error::from(SignalingError::RoleConflict).code().as_str(),
            "ProtocolViolation"
        );
        assert_eq!(
            Error::from(SignalingError::Closed).code(),
            ErrorCode::InvalidState
        );
    }

    #[test]
    fn the_typescript_union_lists_every_code_in_order() {
        let ts = include_str!("../pkg/src/types/error-code.ts");
        let union = ts
            .split_once("export type ErrorCode =")
            .map(|(_, u)| u)
            .unwrap_or_default();
        let listed: Vec<&str> = union
            .split(['|', ';'])
            .map(|m| m.trim().trim_matches('"'))
            .filter(|m| !m.is_empty())
            .collect();
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, codes);
    }

    #[test]
    fn consent_errors_have_their_own_codes() {
        use crate::consent::{LedgerError, Reason};
        let e = Error::from(LedgerError::BadSignature { seq: 2 });
        assert_eq!(e.code(), ErrorCode::Consent);
        let denied = Error::ConsentDenied(Reason::Withdrawn);
        assert_eq!(denied.code().as_str(), "ConsentDenied");
        assert_eq!(denied.to_string(), "consent does not allow this: Withdrawn");
    }

    #[test]
    fn bad_device_bytes_are_malformed_measurements_and_bad_names_invalid_arguments() {
        use crate::devices::{Characteristic, parse};
        let short = parse(&0x2A37u16, &[0x10, 72]).unwrap_err();
        let e = Error::from(short);
        assert_eq!(e.code(), ErrorCode::MalformedMeasurement);
        assert_eq!(
            e.to_string(),
            "Heart Rate Measurement (0x2A37): payload ends before field `rrInterval`"
        );
        assert_eq!(
            Error::from(ParseError::InvalidUuid).code(),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            Error::from(CaptureError::NotAMeasurement {
                characteristic: Characteristic::BatteryLevel
            })
            .code(),
            ErrorCode::InvalidArgument
        );
    }
}
