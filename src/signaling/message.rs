//! The compact binary encodings of sealed message bodies (docs/PROTOCOL.md, "Message
//! kinds"). Hand-written, bounds-checked, big-endian; every decoder rejects trailing bytes.

use zeroize::Zeroizing;

use super::relay_wire::{ParticipantId, Role};
use super::{
    MAX_APP_DATA_LEN, MAX_CANDIDATE_LEN, MAX_NAME_LEN, MAX_PARTICIPANTS, MAX_SDP_LEN, Redacted,
};

/// Header kind: a hello, sealed under the sender's hello key.
pub const KIND_HELLO: u8 = 0x01;
/// Header kind: a reliable signaling message (`msg_id || Signal`).
pub const KIND_SIGNAL: u8 = 0x02;
/// Header kind: reliable application data (`msg_id || bytes`).
pub const KIND_APP_DATA: u8 = 0x03;
/// Header kind: a cumulative acknowledgement (`next_expected: u64`).
pub const KIND_ACK: u8 = 0x04;
/// Header kind: the sender leaves (`reason: u8`).
pub const KIND_BYE: u8 = 0x05;

/// Longest encoded certificate fingerprint in a SAS reveal (one entry: count, name of at
/// most 64 bytes, digest of at most 64 bytes, and their lengths).
pub const MAX_FINGERPRINT_LEN: usize = 1 + 1 + 64 + 1 + 64;

/// Why a body failed to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyError;

struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    // `split_at_checked` and `split_first_chunk`: no panicking split or copy behind the
    // length checks, so no panic paths in the wasm.
    fn take(&mut self, n: usize) -> Result<&'a [u8], BodyError> {
        let (a, b) = self.0.split_at_checked(n).ok_or(BodyError)?;
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, BodyError> {
        let [b] = self.arr()?;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, BodyError> {
        Ok(u16::from_be_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, BodyError> {
        Ok(u32::from_be_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, BodyError> {
        Ok(u64::from_be_bytes(self.arr()?))
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], BodyError> {
        let (a, b) = self.0.split_first_chunk::<N>().ok_or(BodyError)?;
        self.0 = b;
        Ok(*a)
    }
    fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.0)
    }
    fn end(&self) -> Result<(), BodyError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(BodyError)
        }
    }
}

fn utf8(b: &[u8]) -> Result<String, BodyError> {
    core::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| BodyError)
}

/// A hello's body. The *core* (everything before the proof) enters the transcript and is
/// what a role proof signs ([`crate::crypto::Authority`]).
///
/// ```text
/// u8 max_version || u64 epoch || [32] static_pub || [32] ephemeral_pub || u8 role
/// || u32 capabilities || u8 name_len || name (UTF-8, <= 64)
/// || u8 has_proof (0 or 1) || [64] proof (if has_proof) || u64 reply_to
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Highest envelope version the sender speaks.
    pub max_version: u8,
    /// The sender's handshake epoch (strictly increasing per session).
    pub epoch: u64,
    /// The sender's static public key: its identity for the whole session.
    pub static_public: [u8; 32],
    /// The sender's ephemeral public key for this epoch.
    pub ephemeral_public: [u8; 32],
    /// The role the sender claims (must equal the role the relay announced).
    pub role: Role,
    /// Capability bits ([`CAP_RESUME`], [`CAP_RESUMING`]; unknown bits are ignored).
    pub capabilities: u32,
    /// The display name (personal data; only ever shown, never logged).
    pub name: String,
    /// The role proof: a clinician's or patient's signature over the core (none for a
    /// guest).
    pub proof: Option<[u8; 64]>,
    /// The recipient's epoch this hello answers, or 0 for an unsolicited hello.
    pub reply_to: u64,
}

impl Hello {
    /// The transcript core.
    pub fn core(&self) -> Vec<u8> {
        let name = self.name.as_bytes();
        let n = name.len().min(MAX_NAME_LEN);
        let mut out = Vec::with_capacity(80 + n);
        out.push(self.max_version);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.static_public);
        out.extend_from_slice(&self.ephemeral_public);
        out.push(self.role as u8);
        out.extend_from_slice(&self.capabilities.to_be_bytes());
        out.push(n as u8);
        out.extend_from_slice(&name[..n]);
        out
    }

    /// The full body.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.core();
        out.push(u8::from(self.proof.is_some()));
        if let Some(p) = &self.proof {
            out.extend_from_slice(p);
        }
        out.extend_from_slice(&self.reply_to.to_be_bytes());
        out
    }

    /// Decodes a body; never panics.
    pub fn decode(b: &[u8]) -> Result<Self, BodyError> {
        let mut r = R(b);
        let max_version = r.u8()?;
        let epoch = r.u64()?;
        let static_public = r.arr()?;
        let ephemeral_public = r.arr()?;
        let role = Role::from_byte(r.u8()?).ok_or(BodyError)?;
        let capabilities = r.u32()?;
        let n = usize::from(r.u8()?);
        if n > MAX_NAME_LEN {
            return Err(BodyError);
        }
        let name = utf8(r.take(n)?)?;
        let proof = match r.u8()? {
            0 => None,
            1 => Some(r.arr()?),
            _ => return Err(BodyError),
        };
        let reply_to = r.u64()?;
        r.end()?;
        if epoch == 0 {
            return Err(BodyError);
        }
        Ok(Self {
            max_version,
            epoch,
            static_public,
            ephemeral_public,
            role,
            capabilities,
            name,
            proof,
            reply_to,
        })
    }
}

/// The type of a session description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SdpKind {
    /// An offer.
    Offer = 1,
    /// An answer.
    Answer = 2,
}

/// An ICE candidate as the browser reports it (`RTCIceCandidateInit`). An empty
/// `candidate` means end-of-candidates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The `candidate:` attribute line (without `a=`).
    pub candidate: String,
    /// The media stream id it belongs to.
    pub sdp_mid: Option<String>,
    /// The m-line index it belongs to.
    pub sdp_mline_index: Option<u16>,
}

/// A reliable signaling message (inside [`KIND_SIGNAL`], after the `msg_id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `0x01 kind:u8 sdp` — an offer or answer.
    Description {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP.
        sdp: String,
    },
    /// `0x02 flags:u8 mline:u16 mid_len:u8 mid candidate` — a trickled candidate
    /// (flags bit 0: mline present, bit 1: mid present).
    Candidate(Candidate),
    /// `0x03 count:u8 id*count` — a clinician admits the recipient; lists the other
    /// participants already in the call.
    Admit {
        /// Others in the call.
        in_call: Vec<ParticipantId>,
    },
    /// `0x04` — a clinician turns the recipient away.
    Deny,
    /// `0x05 id` — a clinician tells an in-call participant that `id` was admitted.
    Admitted(ParticipantId),
    /// `0x06 tag:[16]` — the sender's user confirmed the SAS.
    SasConfirm([u8; 16]),
    /// `0x07 commitment:[32]` — (the lower id of a pair) commits to its SAS inputs.
    SasCommit([u8; 32]),
    /// `0x08 nonce:[32] fingerprint` — reveals the sender's SAS inputs: the nonce and the
    /// encoded fingerprint of its DTLS certificate.
    SasReveal {
        /// The nonce.
        nonce: [u8; 32],
        /// The encoded certificate fingerprint (`crypto::encode_fingerprints`, one entry).
        fingerprint: Vec<u8>,
    },
    /// `0x09 paused:u8` — the sender stopped (1) or resumed (0) sending video to the
    /// recipient because their link cannot carry it (the audio-only fallback,
    /// `crate::quality`), so both sides can show it.
    VideoPaused(bool),
    /// `0x0a id:[16] secret:[32]` — (a clinician to a participant it admitted, if that
    /// participant's hello advertised [`CAP_RESUME`]) a resume ticket: the participant may
    /// come back after a page reload without a new admission (docs/PROTOCOL.md, "Resume
    /// after a reload").
    ResumeTicket {
        /// The ticket's id (random; names it to its issuer).
        id: [u8; 16],
        /// The ticket's secret (never printed; zeroized when dropped).
        secret: Redacted<Zeroizing<[u8; 32]>>,
    },
    /// `0x0b id:[16] flags:u8 proof:[32]` — a resume proof: the sender holds ticket `id`,
    /// bound to this pairing. From the holder `flags` is 0; the clinician's answer carries
    /// the SAS confirmations the previous pairing had (bit 0: the clinician's user, bit 1:
    /// the holder's user).
    Resume {
        /// The ticket's id.
        id: [u8; 16],
        /// The carried SAS confirmations (0 from the holder).
        flags: u8,
        /// The proof (`crypto::resume_proof`).
        proof: [u8; 32],
    },
    /// `0x0c 01 stream_id` / `0x0c 00 reason:u8` — (a clinician) the sender started sharing
    /// its screen, sent in the stream named here, or stopped (docs/PROTOCOL.md, "Screen
    /// sharing").
    ScreenShare(ScreenShare),
}

/// Longest stream id a screen-share notice carries (browsers use a 36- or 38-character
/// UUID).
pub const MAX_STREAM_ID_LEN: usize = 64;

/// A clinician's screen-share notice: which of its incoming streams is the shared screen, or
/// that the share ended. Sealed under the pair key from the clinician's proven hello, so
/// neither the relay nor another participant can make a participant believe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScreenShare {
    /// Sharing: the screen track arrives in the stream with this id (`MediaStream.id`,
    /// carried in the SDP's `msid`), so the receiver tells it from the camera. 1 to
    /// [`MAX_STREAM_ID_LEN`] bytes of visible ASCII.
    Started {
        /// The shared stream's id.
        stream_id: String,
    },
    /// The share ended.
    Stopped(ScreenShareEnd),
}

/// Why a screen share ended, as the sharer reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenShareEnd {
    /// The sharer's app stopped it (`stopScreenShare()`).
    Stopped = 1,
    /// The captured track ended: the browser's own "stop sharing" control, or the shared
    /// window closed.
    Ended = 2,
}

impl ScreenShareEnd {
    /// The stable name JavaScript sees.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Ended => "ended",
        }
    }
}

/// Whether `id` may name a shared stream: 1 to [`MAX_STREAM_ID_LEN`] bytes of visible ASCII
/// (no spaces, no controls: it is shown nowhere, only compared).
pub fn valid_stream_id(id: &str) -> bool {
    (1..=MAX_STREAM_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Hello capability bit: the sender takes resume tickets (docs/PROTOCOL.md, "Resume after
/// a reload"). A clinician issues none to a peer without it, so older clients never see a
/// signal they do not know.
pub const CAP_RESUME: u32 = 1;

/// Hello capability bit: the sender holds a resume ticket and will present it once the
/// pairing's SAS inputs are exchanged, so a clinician that issued one to this participant
/// holds its admission request back until then (a few round trips, at most
/// `RESUME_DEFER_MS`) rather than show a waiting-room entry that is about to go away.
pub const CAP_RESUMING: u32 = 2;

impl Signal {
    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Description { kind, sdp } => {
                out.push(0x01);
                out.push(*kind as u8);
                out.extend_from_slice(sdp.as_bytes());
            }
            Self::Candidate(c) => {
                out.push(0x02);
                let mid = c.sdp_mid.as_deref().unwrap_or("").as_bytes();
                let mid = &mid[..mid.len().min(255)];
                let flags =
                    u8::from(c.sdp_mline_index.is_some()) | (u8::from(c.sdp_mid.is_some()) << 1);
                out.push(flags);
                out.extend_from_slice(&c.sdp_mline_index.unwrap_or(0).to_be_bytes());
                out.push(mid.len() as u8);
                out.extend_from_slice(mid);
                out.extend_from_slice(c.candidate.as_bytes());
            }
            Self::Admit { in_call } => {
                out.push(0x03);
                let n = in_call.len().min(MAX_PARTICIPANTS);
                out.push(n as u8);
                for id in &in_call[..n] {
                    out.extend_from_slice(&id.0);
                }
            }
            Self::Deny => out.push(0x04),
            Self::Admitted(id) => {
                out.push(0x05);
                out.extend_from_slice(&id.0);
            }
            Self::SasConfirm(tag) => {
                out.push(0x06);
                out.extend_from_slice(tag);
            }
            Self::SasCommit(c) => {
                out.push(0x07);
                out.extend_from_slice(c);
            }
            Self::SasReveal { nonce, fingerprint } => {
                out.push(0x08);
                out.extend_from_slice(nonce);
                out.extend_from_slice(fingerprint);
            }
            Self::VideoPaused(paused) => {
                out.push(0x09);
                out.push(u8::from(*paused));
            }
            Self::ResumeTicket { id, secret } => {
                out.push(0x0a);
                out.extend_from_slice(id);
                out.extend_from_slice(secret.expose().as_slice());
            }
            Self::Resume { id, flags, proof } => {
                out.push(0x0b);
                out.extend_from_slice(id);
                out.push(*flags);
                out.extend_from_slice(proof);
            }
            Self::ScreenShare(ScreenShare::Started { stream_id }) => {
                out.extend_from_slice(&[0x0c, 1]);
                out.extend_from_slice(stream_id.as_bytes());
            }
            Self::ScreenShare(ScreenShare::Stopped(reason)) => {
                out.extend_from_slice(&[0x0c, 0, *reason as u8]);
            }
        }
        out
    }

    /// Decodes a message; never panics.
    pub fn decode(b: &[u8]) -> Result<Self, BodyError> {
        let mut r = R(b);
        let msg = match r.u8()? {
            0x01 => {
                let kind = match r.u8()? {
                    1 => SdpKind::Offer,
                    2 => SdpKind::Answer,
                    _ => return Err(BodyError),
                };
                let sdp = r.rest();
                if sdp.len() > MAX_SDP_LEN {
                    return Err(BodyError);
                }
                Self::Description {
                    kind,
                    sdp: utf8(sdp)?,
                }
            }
            0x02 => {
                let flags = r.u8()?;
                if flags > 3 {
                    return Err(BodyError);
                }
                let mline = r.u16()?;
                let n = usize::from(r.u8()?);
                let mid = utf8(r.take(n)?)?;
                let cand = r.rest();
                if cand.len() > MAX_CANDIDATE_LEN {
                    return Err(BodyError);
                }
                if flags & 2 == 0 && !mid.is_empty() {
                    return Err(BodyError);
                }
                Self::Candidate(Candidate {
                    candidate: utf8(cand)?,
                    sdp_mid: (flags & 2 != 0).then_some(mid),
                    sdp_mline_index: (flags & 1 != 0).then_some(mline),
                })
            }
            0x03 => {
                let n = usize::from(r.u8()?);
                if n > MAX_PARTICIPANTS {
                    return Err(BodyError);
                }
                let mut in_call = Vec::with_capacity(n);
                for _ in 0..n {
                    in_call.push(ParticipantId(r.arr()?));
                }
                Self::Admit { in_call }
            }
            0x04 => Self::Deny,
            0x05 => Self::Admitted(ParticipantId(r.arr()?)),
            0x06 => Self::SasConfirm(r.arr()?),
            0x07 => Self::SasCommit(r.arr()?),
            0x08 => {
                let nonce = r.arr()?;
                let fingerprint = r.rest();
                if fingerprint.len() > MAX_FINGERPRINT_LEN {
                    return Err(BodyError);
                }
                Self::SasReveal {
                    nonce,
                    fingerprint: fingerprint.to_vec(),
                }
            }
            0x09 => match r.u8()? {
                0 => Self::VideoPaused(false),
                1 => Self::VideoPaused(true),
                _ => return Err(BodyError),
            },
            0x0a => Self::ResumeTicket {
                id: r.arr()?,
                secret: Redacted::new(Zeroizing::new(r.arr()?)),
            },
            0x0b => {
                let id = r.arr()?;
                let flags = r.u8()?;
                if flags > 3 {
                    return Err(BodyError);
                }
                Self::Resume {
                    id,
                    flags,
                    proof: r.arr()?,
                }
            }
            0x0c => Self::ScreenShare(match r.u8()? {
                1 => {
                    let stream_id = utf8(r.rest())?;
                    if !valid_stream_id(&stream_id) {
                        return Err(BodyError);
                    }
                    ScreenShare::Started { stream_id }
                }
                0 => ScreenShare::Stopped(match r.u8()? {
                    1 => ScreenShareEnd::Stopped,
                    2 => ScreenShareEnd::Ended,
                    _ => return Err(BodyError),
                }),
                _ => return Err(BodyError),
            }),
            _ => return Err(BodyError),
        };
        r.end()?;
        Ok(msg)
    }
}

/// Splits a reliable body into its message id and payload.
pub fn split_reliable(b: &[u8]) -> Result<(u64, &[u8]), BodyError> {
    let mut r = R(b);
    let id = r.u64()?;
    let rest = r.rest();
    if rest.len() > MAX_SDP_LEN.max(MAX_APP_DATA_LEN) + 64 {
        return Err(BodyError);
    }
    Ok((id, rest))
}

/// Decodes an acknowledgement body.
pub fn decode_ack(b: &[u8]) -> Result<u64, BodyError> {
    let mut r = R(b);
    let v = r.u64()?;
    r.end()?;
    Ok(v)
}

/// Decodes a bye body (`reason: u8`: 0 leave, 1 end the consultation for everyone).
pub fn decode_bye(b: &[u8]) -> Result<u8, BodyError> {
    let mut r = R(b);
    let v = r.u8()?;
    r.end()?;
    if v > 1 { Err(BodyError) } else { Ok(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bodies_round_trip() {
        let h = Hello {
            max_version: 1,
            epoch: 7,
            static_public: [1; 32],
            ephemeral_public: [2; 32],
            role: Role::Patient,
            capabilities: 0,
            name: "Ana".into(),
            proof: None,
            reply_to: 3,
        };
        assert_eq!(Hello::decode(&h.encode()), Ok(h.clone()));
        assert_eq!(h.encode().len(), h.core().len() + 1 + 8);
        let signed = Hello {
            proof: Some([9; 64]),
            ..h.clone()
        };
        assert_eq!(Hello::decode(&signed.encode()), Ok(signed.clone()));
        assert_eq!(
            signed.core(),
            h.core(),
            "the proof is not part of what it signs"
        );
        let msgs = [
            Signal::Description {
                kind: SdpKind::Offer,
                sdp: "v=0\r\n".into(),
            },
            Signal::Candidate(Candidate {
                candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            }),
            Signal::Candidate(Candidate {
                candidate: String::new(),
                sdp_mid: None,
                sdp_mline_index: None,
            }),
            Signal::Admit {
                in_call: vec![ParticipantId([3; 8])],
            },
            Signal::Deny,
            Signal::Admitted(ParticipantId([4; 8])),
            Signal::SasConfirm([5; 16]),
            Signal::SasCommit([6; 32]),
            Signal::SasReveal {
                nonce: [7; 32],
                fingerprint: vec![1, 7, b's', b'h', b'a', b'-', b'2', b'5', b'6', 1, 8],
            },
            Signal::VideoPaused(true),
            Signal::VideoPaused(false),
            Signal::ResumeTicket {
                id: [8; 16],
                secret: Redacted::new(Zeroizing::new([9; 32])),
            },
            Signal::Resume {
                id: [8; 16],
                flags: 3,
                proof: [10; 32],
            },
            Signal::ScreenShare(ScreenShare::Started {
                stream_id: "{4f1c2b9e-0d3a-4e5f-9a7b-1c2d3e4f5a6b}".into(),
            }),
            Signal::ScreenShare(ScreenShare::Started {
                stream_id: "x".repeat(MAX_STREAM_ID_LEN),
            }),
            Signal::ScreenShare(ScreenShare::Stopped(ScreenShareEnd::Stopped)),
            Signal::ScreenShare(ScreenShare::Stopped(ScreenShareEnd::Ended)),
        ];
        for m in msgs {
            assert_eq!(Signal::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        assert!(Signal::decode(&[]).is_err());
        assert!(Signal::decode(&[0x09]).is_err());
        assert!(Signal::decode(&[0x09, 2]).is_err());
        assert!(Signal::decode(&[0x09, 1, 0]).is_err());
        assert!(Signal::decode(&[0x0a]).is_err());
        assert!(
            Signal::decode(&[0x0a; 48]).is_err(),
            "a ticket one byte short"
        );
        let mut resume = vec![0x0b];
        resume.extend([0; 16]);
        resume.push(4);
        resume.extend([0; 32]);
        assert!(Signal::decode(&resume).is_err(), "an unknown flag");
        assert!(Signal::decode(&[0x0c]).is_err());
        assert!(Signal::decode(&[0x0c, 1]).is_err(), "an empty stream id");
        assert!(
            Signal::decode(&[0x0c, 1, b'a', b' ', b'b']).is_err(),
            "a space"
        );
        assert!(Signal::decode(&[0x0c, 1, b'a', 0x0a]).is_err(), "a control");
        assert!(Signal::decode(&[0x0c, 1, 0xC3, 0xA9]).is_err(), "not ASCII");
        let mut long = vec![0x0c, 1];
        long.extend([b'x'; MAX_STREAM_ID_LEN + 1]);
        assert!(Signal::decode(&long).is_err(), "a stream id too long");
        assert!(Signal::decode(&[0x0c, 0]).is_err(), "no reason");
        assert!(Signal::decode(&[0x0c, 0, 0]).is_err());
        assert!(Signal::decode(&[0x0c, 0, 3]).is_err());
        assert!(Signal::decode(&[0x0c, 0, 1, 0]).is_err(), "trailing");
        assert!(Signal::decode(&[0x0c, 2]).is_err());
        assert!(Signal::decode(&[0x0d]).is_err());
        assert!(Signal::decode(&[0x04, 0]).is_err());
        assert!(Signal::decode(&[0x01, 3]).is_err());
        assert!(Signal::decode(&[0x03, 7]).is_err());
        assert!(Hello::decode(&[1; 10]).is_err());
        assert!(decode_bye(&[2]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic_and_reencode(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(m) = Signal::decode(&b) { prop_assert_eq!(m.encode(), b.clone()); }
            if let Ok(h) = Hello::decode(&b) { prop_assert_eq!(h.encode(), b.clone()); }
            let _ = split_reliable(&b);
            let _ = decode_ack(&b);
        }
    }
}
