//! Why a [`Session`](super::Session) refuses an input or an action.
//!
//! The session has its own error type so that a caller can see exactly what a session may
//! answer (never an invite error, never a browser failure). Every variant converts into
//! the crate-wide [`Error`] with the same stable code and message JavaScript has always
//! seen: the session's refusals reach JS as `Error::Signaling` / `Error::Crypto`.

use core::fmt;

use crate::Error;
use crate::crypto::CryptoError;
use crate::signaling::SignalingError;
use crate::signaling::relay_wire::WireError;

/// Why the session refused an input or an action. An input that fails leaves the session
/// unchanged (except for security counters) and is otherwise ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The relay message is malformed.
    Wire(WireError),
    /// A frame failed to open: authentication, a replay or a stale sequence, a key the
    /// pair does not hold, a malformed envelope. One opaque family, as the envelope reports
    /// it (see [`CryptoError`]).
    Crypto(CryptoError),
    /// A sealed frame's kind is unknown.
    Malformed,
    /// The frame's version is newer than this implementation speaks.
    UnsupportedVersion,
    /// The frame's or hello's version is older than the version this implementation
    /// requires.
    Downgrade,
    /// The frame names another room.
    WrongRoom,
    /// The frame is addressed to another participant.
    Misaddressed,
    /// The frame's sender differs from the participant the relay says sent it.
    SenderMismatch,
    /// The frame comes from a participant the relay has not announced.
    UnknownPeer,
    /// A participant claims a role other than the one the relay granted it (or cannot
    /// prove it), or a second patient joins.
    RoleConflict,
    /// The room already holds [`MAX_PARTICIPANTS`](crate::signaling::MAX_PARTICIPANTS).
    RoomFull,
    /// A peer sends hellos faster than the protocol allows, or has restarted too often.
    RateLimited,
    /// A well-formed message that the protocol forbids here (e.g. an admit from a patient).
    ProtocolViolation,
    /// The call is not valid in the current state (e.g. confirm a SAS not yet shown).
    InvalidState,
    /// This participant's role may not do that (e.g. a patient admitting someone).
    NotPermitted,
    /// A payload exceeds its limit.
    TooLarge,
    /// Too many messages are waiting for acknowledgement towards that peer.
    QueueFull,
    /// The session has ended.
    Closed,
    /// A local description does not carry exactly the certificate the session committed
    /// to (the driver must create every connection with that certificate).
    CertificateMismatch,
}

impl From<CryptoError> for SessionError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<WireError> for SessionError {
    fn from(e: WireError) -> Self {
        Self::Wire(e)
    }
}

impl From<SessionError> for Error {
    /// The crate-wide error with the code and message the session's refusals always had.
    fn from(e: SessionError) -> Self {
        let s = match e {
            SessionError::Crypto(c) => return Self::Crypto(c),
            SessionError::Wire(w) => SignalingError::Wire(w),
            SessionError::Malformed => SignalingError::Malformed,
            SessionError::UnsupportedVersion => SignalingError::UnsupportedVersion,
            SessionError::Downgrade => SignalingError::Downgrade,
            SessionError::WrongRoom => SignalingError::WrongRoom,
            SessionError::Misaddressed => SignalingError::Misaddressed,
            SessionError::SenderMismatch => SignalingError::SenderMismatch,
            SessionError::UnknownPeer => SignalingError::UnknownPeer,
            SessionError::RoleConflict => SignalingError::RoleConflict,
            SessionError::RoomFull => SignalingError::RoomFull,
            SessionError::RateLimited => SignalingError::RateLimited,
            SessionError::ProtocolViolation => SignalingError::ProtocolViolation,
            SessionError::InvalidState => SignalingError::InvalidState,
            SessionError::NotPermitted => SignalingError::NotPermitted,
            SessionError::TooLarge => SignalingError::TooLarge,
            SessionError::QueueFull => SignalingError::QueueFull,
            SessionError::Closed => SignalingError::Closed,
            SessionError::CertificateMismatch => SignalingError::CertificateMismatch,
        };
        Self::Signaling(s)
    }
}

impl SessionError {
    /// The stable code JavaScript sees for this error.
    pub fn code(self) -> crate::ErrorCode {
        Error::from(self).code()
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Error::from(*self), f)
    }
}

impl std::error::Error for SessionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_keeps_the_code_and_message_it_had() {
        let pairs = [
            (SessionError::Malformed, SignalingError::Malformed),
            (
                SessionError::UnsupportedVersion,
                SignalingError::UnsupportedVersion,
            ),
            (SessionError::Downgrade, SignalingError::Downgrade),
            (SessionError::WrongRoom, SignalingError::WrongRoom),
            (SessionError::Misaddressed, SignalingError::Misaddressed),
            (SessionError::SenderMismatch, SignalingError::SenderMismatch),
            (SessionError::UnknownPeer, SignalingError::UnknownPeer),
            (SessionError::RoleConflict, SignalingError::RoleConflict),
            (SessionError::RoomFull, SignalingError::RoomFull),
            (SessionError::RateLimited, SignalingError::RateLimited),
            (
                SessionError::ProtocolViolation,
                SignalingError::ProtocolViolation,
            ),
            (SessionError::InvalidState, SignalingError::InvalidState),
            (SessionError::NotPermitted, SignalingError::NotPermitted),
            (SessionError::TooLarge, SignalingError::TooLarge),
            (SessionError::QueueFull, SignalingError::QueueFull),
            (SessionError::Closed, SignalingError::Closed),
            (
                SessionError::CertificateMismatch,
                SignalingError::CertificateMismatch,
            ),
            (
                SessionError::Wire(WireError::BadField),
                SignalingError::Wire(WireError::BadField),
            ),
        ];
        for (session, signaling) in pairs {
            let top = Error::Signaling(signaling);
            assert_eq!(Error::from(session), top);
            assert_eq!(session.code(), top.code());
            assert_eq!(session.to_string(), top.to_string());
        }
        let replay = SessionError::from(CryptoError::Replayed);
        assert_eq!(Error::from(replay), Error::Crypto(CryptoError::Replayed));
        assert_eq!(
            replay.to_string(),
            Error::Crypto(CryptoError::Replayed).to_string()
        );
    }
}
