//! The consent model: who grants what to whom, for which purposes, for how long, after
//! reading which notice, collected how — and the events that change it.
//!
//! These are plain data types: JavaScript sees them as objects (serde), the ledger encodes
//! them deterministically (see `encoding`), the policy reads them.

use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An identifier of a person or an organization: a FHIR logical id such as the `123` of
/// `Patient/123`. It is personal data, so `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartyId(pub String);

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PartyId(<redacted>)")
    }
}

impl From<String> for PartyId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for PartyId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Declares a closed code list: each variant has a stable byte (the ledger encoding) and a
/// stable code string (JSON, FHIR); `ALL` lists them in byte order.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $b:literal, $code:literal;)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $code)] $v = $b,)+
        }
        impl $name {
            /// Every value, in encoding order.
            pub const ALL: &'static [Self] = &[$(Self::$v),+];
            /// The stable code string (JSON value, FHIR code).
            pub const fn code(self) -> &'static str {
                match self { $(Self::$v => $code,)+ }
            }
            /// The value with encoding byte `b`, if any.
            pub fn from_byte(b: u8) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| *v as u8 == b)
            }
        }
    };
}

code_enum! {
    /// Why the data may be used: HL7 v3 PurposeOfUse codes
    /// (system `http://terminology.hl7.org/CodeSystem/v3-ActReason`).
    Purpose {
        /// TREAT: treatment (the consultation itself).
        Treatment = 1, "TREAT";
        /// ETREAT: emergency treatment.
        EmergencyTreatment = 2, "ETREAT";
        /// CAREMGT: care management.
        CareManagement = 3, "CAREMGT";
        /// HPAYMT: healthcare payment.
        Payment = 4, "HPAYMT";
        /// HOPERAT: healthcare operations.
        Operations = 5, "HOPERAT";
        /// HRESCH: healthcare research.
        Research = 6, "HRESCH";
        /// PATRQT: at the patient's request.
        PatientRequested = 7, "PATRQT";
        /// PUBHLTH: public health.
        PublicHealth = 8, "PUBHLTH";
        /// HQUALIMP: quality improvement.
        QualityImprovement = 9, "HQUALIMP";
    }
}

code_enum! {
    /// What data the consent covers: the consultation's media and each kind of device
    /// reading. Each is a separate enforcement point in the SDK.
    DataCategory {
        /// The live camera stream.
        Video = 1, "video";
        /// The live microphone stream.
        Audio = 2, "audio";
        /// Recording of the consultation.
        Recording = 3, "recording";
        /// Sharing the screen.
        ScreenShare = 4, "screen-share";
        /// Heart-rate readings.
        HeartRate = 5, "heart-rate";
        /// Blood-pressure readings.
        BloodPressure = 6, "blood-pressure";
        /// Body-temperature readings.
        BodyTemperature = 7, "body-temperature";
        /// Body-weight readings.
        BodyWeight = 8, "body-weight";
        /// Blood-glucose readings.
        BloodGlucose = 9, "blood-glucose";
        /// Oxygen-saturation (pulse oximetry) readings.
        Spo2 = 10, "spo2";
        /// Sharing the consultation's earlier chat messages with a participant admitted
        /// later (a guest, an interpreter).
        ChatHistory = 11, "chat-history";
        /// Photos and documents shared during the consultation (taken, picked, sent or
        /// received: `consultation.files`).
        Files = 12, "files";
    }
}

impl DataCategory {
    /// The LOINC code of a reading category (as in the FHIR Observations the SDK emits);
    /// `None` for media.
    pub const fn loinc(self) -> Option<&'static str> {
        match self {
            Self::HeartRate => Some("8867-4"),
            Self::BloodPressure => Some("85354-9"),
            Self::BodyTemperature => Some("8310-5"),
            Self::BodyWeight => Some("29463-7"),
            Self::BloodGlucose => Some("2339-0"),
            Self::Spo2 => Some("59408-5"),
            Self::Video
            | Self::Audio
            | Self::Recording
            | Self::ScreenShare
            | Self::ChatHistory
            | Self::Files => None,
        }
    }
}

code_enum! {
    /// The kind of party that receives the data.
    RecipientKind {
        /// A clinician (FHIR Practitioner).
        Practitioner = 1, "Practitioner";
        /// An organization (FHIR Organization): a clinic, a hospital.
        Organization = 2, "Organization";
    }
}

/// Who receives the data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recipient {
    /// Clinician or organization.
    pub kind: RecipientKind,
    /// Its FHIR logical id.
    pub id: PartyId,
}

/// A validity period in milliseconds since the Unix epoch: `start` inclusive, `end`
/// exclusive; no `end` means "until withdrawn".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// First instant of validity.
    pub start: u64,
    /// First instant after validity, if the grant has an expiry date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
}

/// The privacy notice the patient was shown. The SHA-256 of its exact text proves which
/// words the patient agreed to, even if the page at `uri` changes later.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Notice {
    /// Where the notice is published.
    pub uri: String,
    /// Its version label; a new version requires consent again.
    pub version: String,
    /// BCP 47 language tag of the text shown.
    pub language: String,
    /// SHA-256 of the exact text shown (hex in JSON).
    #[serde(with = "hex")]
    pub sha256: [u8; 32],
}

impl Notice {
    /// Builds a notice record from the exact text shown, hashing it.
    pub fn for_text(uri: &str, version: &str, language: &str, text: &[u8]) -> Self {
        Self {
            uri: uri.to_owned(),
            version: version.to_owned(),
            language: language.to_owned(),
            sha256: Sha256::digest(text).into(),
        }
    }
}

/// How consent was collected.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Collection {
    /// The patient acted on their own device (checkbox, button).
    PatientAction,
    /// The patient consented verbally and the named clinician attests it.
    VerbalAttested {
        /// The attesting clinician's FHIR Practitioner id.
        clinician: PartyId,
    },
}

/// A consent grant: everything HIPAA 164.508(c) and GDPR Art. 7/9 ask a record to name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The patient (FHIR Patient id) giving consent.
    pub patient: PartyId,
    /// Who may receive the data.
    pub recipient: Recipient,
    /// What the data may be used for (non-empty).
    pub purposes: Vec<Purpose>,
    /// Which data (non-empty).
    pub categories: Vec<DataCategory>,
    /// When the grant is valid.
    pub period: Period,
    /// The notice shown.
    pub notice: Notice,
    /// How consent was collected.
    pub collection: Collection,
}

impl Grant {
    /// Sorts and de-duplicates the purpose and category sets, so that a grant equals its
    /// decoded encoding (the encoding is canonical: sets in ascending code order).
    pub fn normalize(&mut self) {
        // `sort_unstable` + `dedup`, with less wasm (see `sort_dedup_few`).
        crate::sorted_map::sort_dedup_few(&mut self.purposes);
        crate::sorted_map::sort_dedup_few(&mut self.categories);
    }
}

/// Something recorded in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    /// Consent given.
    Grant(Grant),
    /// Consent withdrawn; `grant` is the sequence number of the grant's entry.
    Withdraw {
        /// Sequence number of the withdrawn grant.
        grant: u64,
    },
    /// A grant reached the end of its period (recorded when noticed; the policy also
    /// honours the period without it).
    Expire {
        /// Sequence number of the expired grant.
        grant: u64,
    },
    /// The integrator published a new notice (version); grants under an older version of
    /// the same notice no longer allow anything.
    NoticeUpdated(Notice),
    /// Both sides confirmed the short authentication string of a session.
    SasConfirmed {
        /// The session's transcript hash.
        #[serde(with = "hex")]
        transcript: [u8; 32],
    },
    /// The clinician admitted a participant from the waiting room.
    ParticipantAdmitted {
        /// The relay participant id.
        #[serde(with = "hex")]
        participant: [u8; 8],
    },
}

/// Fixed-size byte arrays as lowercase hex strings in JSON.
pub(crate) mod hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Lowercase hex of `bytes`. A nibble table rather than `format!("{b:02x}")`: no
    /// formatting machinery or per-byte `String` (the browser driver's ids use it too).
    pub(crate) fn encode(bytes: &[u8]) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(bytes.len().saturating_mul(2));
        for &b in bytes {
            // Both indexes are below 16.
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        out
    }

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let s = String::deserialize(d)?;
        if s.len() != 2 * N || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(D::Error::custom("expected hex of the right length"));
        }
        let mut out = [0u8; N];
        for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            *o = pair.iter().fold(0, |acc, &c| acc << 4 | digit(c));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encode_matches_format() {
        let bytes: Vec<u8> = (0..=255).collect();
        let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex::encode(&bytes), want);
        assert_eq!(hex::encode(&[]), "");
    }

    #[test]
    fn codes_round_trip_through_their_bytes() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_byte(*p as u8), Some(*p));
        }
        for c in DataCategory::ALL {
            assert_eq!(DataCategory::from_byte(*c as u8), Some(*c));
        }
        assert_eq!(Purpose::from_byte(0), None);
        assert_eq!(DataCategory::from_byte(13), None);
        assert_eq!(DataCategory::ScreenShare.code(), "screen-share");
    }

    #[test]
    fn debug_never_prints_personal_identifiers() {
        let r = Recipient {
            kind: RecipientKind::Practitioner,
            id: "dr-jones".into(),
        };
        assert!(!format!("{r:?}").contains("jones"));
    }

    #[test]
    fn notice_hash_is_sha256_of_the_text() {
        let n = Notice::for_text("u", "1", "en", b"abc");
        assert_eq!(
            hex::encode(&n.sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn normalize_sorts_and_dedups_sets() {
        let mut g = Grant {
            patient: "p".into(),
            recipient: Recipient {
                kind: RecipientKind::Organization,
                id: "o".into(),
            },
            purposes: vec![Purpose::Research, Purpose::Treatment, Purpose::Research],
            categories: vec![DataCategory::Audio, DataCategory::Video],
            period: Period {
                start: 0,
                end: None,
            },
            notice: Notice::for_text("u", "1", "en", b""),
            collection: Collection::PatientAction,
        };
        g.normalize();
        assert_eq!(g.purposes, [Purpose::Treatment, Purpose::Research]);
        assert_eq!(g.categories, [DataCategory::Video, DataCategory::Audio]);
    }
}
