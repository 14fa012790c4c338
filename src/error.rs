//! The crate-wide error type.
//!
//! Each module owns one error enum; [`Error`] gathers them so that callers can match on the
//! module that failed, and [`ErrorCode`] gives every error a stable code that crosses to
//! JavaScript unchanged. Messages never contain keys, personal data or payload bytes.

use core::fmt;

use crate::crypto::CryptoError;
use crate::signaling::SignalingError;

/// A stable, machine-readable error code. JavaScript receives it as the `code` property of
/// the thrown `Error`; integrators branch on it, so a code is never renamed or reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
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
}

impl ErrorCode {
    /// The code's stable name, as JavaScript sees it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unsupported => "Unsupported",
            Self::InvalidArgument => "InvalidArgument",
            Self::AuthenticationFailed => "AuthenticationFailed",
            Self::Replayed => "Replayed",
            Self::Malformed => "Malformed",
            Self::UnsupportedVersion => "UnsupportedVersion",
            Self::ProtocolViolation => "ProtocolViolation",
            Self::InvalidState => "InvalidState",
            Self::Timeout => "Timeout",
            Self::RateLimited => "RateLimited",
            Self::LimitExceeded => "LimitExceeded",
        }
    }
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
    /// A platform feature is missing; the message says which and what to do instead.
    Unsupported(&'static str),
    /// An argument is invalid; the message names the argument, never its value.
    InvalidArgument(&'static str),
    /// A cryptographic check or operation failed (see [`CryptoError`]).
    Crypto(CryptoError),
    /// The signaling session refused an input or action (see [`SignalingError`]).
    Signaling(SignalingError),
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
            Self::Unsupported(_) => ErrorCode::Unsupported,
            Self::InvalidArgument(_) => ErrorCode::InvalidArgument,
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
                SignalingError::BadInvite => ErrorCode::InvalidArgument,
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(what) => write!(f, "not supported here: {what}"),
            Self::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Self::Crypto(e) => write!(f, "crypto: {e}"),
            Self::Signaling(e) => write!(f, "signaling: {e}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_the_code_javascript_branches_on() {
        assert_eq!(Error::Unsupported("x").code().as_str(), "Unsupported");
        assert_eq!(Error::InvalidArgument("x").code().as_str(), "InvalidArgument");
        assert_eq!(
            Error::from(CryptoError::AuthenticationFailed).code(),
            ErrorCode::AuthenticationFailed
        );
        assert_eq!(Error::from(SignalingError::RoleConflict).code().as_str(), "ProtocolViolation");
        assert_eq!(Error::from(SignalingError::Closed).code(), ErrorCode::InvalidState);
    }

    #[test]
    fn display_names_the_problem_without_values() {
        let shown = Error::InvalidArgument("relay URL").to_string();
        assert_eq!(shown, "invalid argument: relay URL");
    }
}
