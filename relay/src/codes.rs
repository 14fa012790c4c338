//! WebSocket close codes (4000–4999, application range) the relay uses. Each refusal is
//! sent first as a relay_wire `Error { code, reason }` message, then as the close frame.

/// A refusal or drop: the close code and a reason without personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close {
    /// The WebSocket close code.
    pub code: u16,
    /// Short human-readable reason (goes into the close frame; ≤ 123 bytes).
    pub reason: &'static str,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $reason:literal;)*) => {
        $( $(#[$doc])* pub const $name: Close = Close { code: $code, reason: $reason }; )*
        /// Every code, for documentation and metrics labels.
        pub const ALL: &[Close] = &[$($name),*];
    };
}

codes! {
    /// The participant id was taken over by a newer connection of the same subject (resume).
    REPLACED = 4000, "replaced by a newer connection";
    /// The token's signature, encoding or claims are invalid.
    BAD_TOKEN = 4001, "bad token";
    /// The token has expired.
    TOKEN_EXPIRED = 4002, "token expired";
    /// The token is for another room or role than asked, or the participant id belongs to
    /// another subject.
    WRONG_ROOM_OR_ROLE = 4003, "wrong room or role";
    /// A single-use token was presented again by a different participant.
    TOKEN_REUSED = 4004, "token reused";
    /// The room (or the relay) is full: participants, guests, rooms or connections.
    ROOM_FULL = 4005, "room full";
    /// The room already has its patient.
    SECOND_PATIENT = 4006, "room already has a patient";
    /// Only a clinician may open a room; it is not open yet.
    ROOM_NOT_OPEN = 4007, "room not open";
    /// A message exceeded the maximum frame size.
    FRAME_TOO_LARGE = 4008, "frame too large";
    /// Message or byte rate exceeded.
    RATE_LIMITED = 4009, "rate limited";
    /// Text message, unknown type, bad length, or no join first.
    MALFORMED = 4010, "malformed framing";
    /// No join within the handshake timeout, or nothing received within the idle timeout.
    TIMEOUT = 4011, "idle or handshake timeout";
    /// The client does not read fast enough; its queue overflowed.
    TOO_SLOW = 4012, "too slow";
    /// The relay is shutting down: reconnect (to another node).
    SHUTTING_DOWN = 4013, "shutting down - reconnect";
}

/// A WebSocket protocol violation (unmasked client frame, reserved bits, unknown opcode,
/// fragmented or oversized control frame, …): RFC 6455 close code 1002.
pub const PROTOCOL_ERROR: Close = Close {
    code: 1002,
    reason: "protocol error",
};

/// A text message that is not valid UTF-8: RFC 6455 close code 1007.
pub const INVALID_UTF8: Close = Close {
    code: 1007,
    reason: "invalid UTF-8",
};

/// Index of a code in per-code metric arrays (`code - 4000`), or `None` outside the table.
pub fn index(code: u16) -> Option<usize> {
    let i = usize::from(code.checked_sub(4000)?);
    (i < ALL.len()).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_reasons_fit_a_close_frame() {
        for (i, c) in ALL.iter().enumerate() {
            assert_eq!(index(c.code), Some(i));
            assert!(c.reason.len() <= 123);
        }
        assert_eq!(index(3999), None);
        assert_eq!(index(4999), None);
    }
}
