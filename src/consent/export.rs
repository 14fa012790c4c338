//! Exports: FHIR R4 Consent resources, ISO/IEC TS 27560 style consent receipts, and the
//! offline verifier for an exported ledger.
//!
//! The structs serialize (serde) to exactly the JSON the standards expect; building them
//! needs no JSON library.

use serde::{Deserialize, Serialize};

use super::encoding::Checkpoint;
use super::error::LedgerError;
use super::ledger::{Ledger, Summary, entry_hash};
use super::model::{Collection, DataCategory, Notice, Period, Purpose, Recipient, hex};
use super::policy::{ConsentState, GrantRecord, GrantStatus};

/// Code system of the SDK's data categories (FHIR `provision.code`).
pub const CATEGORY_SYSTEM: &str = "urn:teleconsult:data-category";
/// Identifier system of ledger entries (`<ledger id hex>/<seq>`).
pub const LEDGER_SYSTEM: &str = "urn:teleconsult:consent-ledger";
/// URL of the notice extension (complex: version, language, sha256).
pub const NOTICE_EXTENSION: &str = "urn:teleconsult:fhir:consent-notice";
/// URL of the collection-method extension (`patient-action` or `verbal-attested`).
pub const COLLECTION_EXTENSION: &str = "urn:teleconsult:fhir:collection-method";
/// URL of the extension naming the clinician who attested verbal consent.
pub const ATTESTER_EXTENSION: &str = "urn:teleconsult:fhir:attested-by";

/// Formats milliseconds since the Unix epoch as an ISO 8601 UTC timestamp with
/// milliseconds (FHIR `dateTime` / `instant`). Ledger times never exceed the year 9999.
pub fn iso8601(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    // At most u64::MAX / 86_400_000 days: well inside an i64.
    let (days, rem) = ((secs / 86_400) as i64, (secs % 86_400) as i64);
    let mut out = String::with_capacity(24);
    crate::devices::time::push_date_time(&mut out, days, rem);
    out.push('.');
    crate::text::push_padded(&mut out, millis, 3);
    out.push('Z');
    out
}

/// A FHIR Coding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coding {
    /// Code system URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
}

/// A FHIR CodeableConcept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeableConcept {
    /// Its codings.
    pub coding: Vec<Coding>,
}

fn concept(system: &'static str, code: &'static str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding { system, code }],
    }
}

/// A FHIR Reference (`Patient/123`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Relative reference.
    pub reference: String,
}

/// A FHIR Identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// Namespace.
    pub system: &'static str,
    /// Value.
    pub value: String,
}

/// A FHIR Extension (simple or complex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// What it means.
    pub url: &'static str,
    /// A code value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_code: Option<String>,
    /// A string value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    /// A reference value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_reference: Option<Reference>,
    /// Nested extensions (complex extension).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
}

impl Extension {
    fn new(url: &'static str) -> Self {
        Self {
            url,
            value_code: None,
            value_string: None,
            value_reference: None,
            extension: vec![],
        }
    }
}

/// `Consent.policy`: the notice the patient agreed to (constraint ppc-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The notice URI.
    pub uri: String,
}

/// A FHIR Period with ISO 8601 bounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FhirPeriod {
    /// Start.
    pub start: String,
    /// End, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

impl From<Period> for FhirPeriod {
    fn from(p: Period) -> Self {
        Self {
            start: iso8601(p.start),
            end: p.end.map(iso8601),
        }
    }
}

/// `Consent.provision.actor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// IRCP: information recipient.
    pub role: CodeableConcept,
    /// The recipient.
    pub reference: Reference,
}

/// `Consent.provision`: one permit rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provision {
    /// Always `permit`: grants only ever allow.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Validity.
    pub period: FhirPeriod,
    /// The recipient.
    pub actor: Vec<Actor>,
    /// collect and disclose.
    pub action: Vec<CodeableConcept>,
    /// PurposeOfUse codes.
    pub purpose: Vec<Coding>,
    /// Resource types the data becomes (Observation, Media).
    pub class: Vec<Coding>,
    /// The data categories (and LOINC codes of readings).
    pub code: Vec<CodeableConcept>,
}

/// A FHIR R4 Consent resource for one grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FhirConsent {
    /// Always `Consent`.
    pub resource_type: &'static str,
    /// `<ledger id hex>-<seq>`.
    pub id: String,
    /// Extensions: the notice (version, language, hash), the collection method and, for
    /// verbal consent, the attesting clinician.
    pub extension: Vec<Extension>,
    /// The ledger entry that records the grant.
    pub identifier: Vec<Identifier>,
    /// `active`, or `inactive` once withdrawn, expired or superseded by a new notice.
    pub status: &'static str,
    /// `patient-privacy`.
    pub scope: CodeableConcept,
    /// LOINC 59284-0 (patient consent) and v3 ActCode IDSCL (information disclosure).
    pub category: Vec<CodeableConcept>,
    /// The patient.
    pub patient: Reference,
    /// When the grant was recorded.
    pub date_time: String,
    /// Who agreed: the patient.
    pub performer: Vec<Reference>,
    /// The notice.
    pub policy: Vec<Policy>,
    /// What is permitted.
    pub provision: Provision,
}

fn is_current(state: &ConsentState, r: &GrantRecord) -> bool {
    r.status == GrantStatus::Active && !state.superseded(&r.grant.notice)
}

fn notice_extension(n: &Notice) -> Extension {
    let field = |url, value: &str| Extension {
        value_string: Some(value.to_owned()),
        ..Extension::new(url)
    };
    Extension {
        extension: vec![
            field("version", &n.version),
            field("language", &n.language),
            field("sha256", &hex::encode(&n.sha256)),
        ],
        ..Extension::new(NOTICE_EXTENSION)
    }
}

/// `<ledger id hex><sep><seq>`: what `format!("{id}{sep}{seq}")` wrote, without the
/// `u64` `Display` impl (no other code in the wasm needs it).
fn seq_ref(id: &str, sep: char, seq: u64) -> String {
    let mut out = String::with_capacity(id.len().saturating_add(21));
    out.push_str(id);
    out.push(sep);
    crate::text::push_padded(&mut out, seq, 0);
    out
}

/// The FHIR R4 Consent for grant record `r` of ledger `ledger_id`.
pub fn fhir_consent(ledger_id: &[u8; 16], state: &ConsentState, r: &GrantRecord) -> FhirConsent {
    let g = &r.grant;
    let id = hex::encode(ledger_id);
    let mut class: Vec<Coding> = Vec::new();
    for c in &g.categories {
        // Shared files export as Media (images) or DocumentReference (documents).
        let codes: &[&'static str] = if c.loinc().is_some() {
            &["Observation"]
        } else if *c == DataCategory::ChatHistory {
            &["Communication"]
        } else if *c == DataCategory::Files {
            &["Media", "DocumentReference"]
        } else {
            &["Media"]
        };
        for &code in codes {
            if !class.iter().any(|k| k.code == code) {
                class.push(Coding {
                    system: "http://hl7.org/fhir/resource-types",
                    code,
                });
            }
        }
    }
    let method = |code: &str| Extension {
        value_code: Some(code.to_owned()),
        ..Extension::new(COLLECTION_EXTENSION)
    };
    let mut extension = vec![notice_extension(&g.notice)];
    match &g.collection {
        Collection::PatientAction => extension.push(method("patient-action")),
        Collection::VerbalAttested { clinician } => {
            extension.push(method("verbal-attested"));
            extension.push(Extension {
                value_reference: Some(Reference {
                    reference: format!("Practitioner/{}", clinician.0),
                }),
                ..Extension::new(ATTESTER_EXTENSION)
            });
        }
    }
    let patient = Reference {
        reference: format!("Patient/{}", g.patient.0),
    };
    FhirConsent {
        resource_type: "Consent",
        id: seq_ref(&id, '-', r.seq),
        extension,
        identifier: vec![Identifier {
            system: LEDGER_SYSTEM,
            value: seq_ref(&id, '/', r.seq),
        }],
        status: if is_current(state, r) {
            "active"
        } else {
            "inactive"
        },
        scope: concept(
            "http://terminology.hl7.org/CodeSystem/consentscope",
            "patient-privacy",
        ),
        category: vec![
            concept("http://loinc.org", "59284-0"),
            concept("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IDSCL"),
        ],
        patient: patient.clone(),
        date_time: iso8601(r.granted_at),
        performer: vec![patient],
        policy: vec![Policy {
            uri: g.notice.uri.clone(),
        }],
        provision: Provision {
            kind: "permit",
            period: g.period.into(),
            actor: vec![Actor {
                role: concept(
                    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "IRCP",
                ),
                reference: Reference {
                    reference: format!("{}/{}", g.recipient.kind.code(), g.recipient.id.0),
                },
            }],
            action: ["collect", "disclose"]
                .map(|a| concept("http://terminology.hl7.org/CodeSystem/consentaction", a))
                .into(),
            purpose: g
                .purposes
                .iter()
                .map(|p| Coding {
                    system: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                    code: p.code(),
                })
                .collect(),
            class,
            code: g
                .categories
                .iter()
                .map(|c| {
                    let mut coding = vec![Coding {
                        system: CATEGORY_SYSTEM,
                        code: c.code(),
                    }];
                    coding.extend(c.loinc().map(|code| Coding {
                        system: "http://loinc.org",
                        code,
                    }));
                    CodeableConcept { coding }
                })
                .collect(),
        },
    }
}

/// A FHIR Consent for every grant in the ledger, in ledger order.
pub fn fhir_consents(ledger: &Ledger) -> Vec<FhirConsent> {
    let state = ledger.state();
    state
        .grants
        .iter()
        .map(|r| fhir_consent(&ledger.id(), state, r))
        .collect()
}

/// The data controller named on a receipt (the integrator: clinic, hospital).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    /// Its name.
    pub name: String,
    /// How to contact it (address, email, URL of the privacy office).
    pub contact: String,
}

/// What the integrator adds to a receipt: facts the ledger does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptContext {
    /// The data controller.
    pub controller: Controller,
    /// Jurisdiction whose law applies (e.g. `EU`, `US-CA`).
    pub jurisdiction: String,
    /// How the patient withdraws (shown before consent, GDPR Art. 7(3)).
    pub withdrawal_method: String,
}

/// A data category on a receipt, with its special-category flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PiiCategory {
    /// The category.
    pub category: DataCategory,
    /// Special category (GDPR Art. 9): in a telemedicine consultation every category is
    /// data concerning health, so this is always true.
    pub sensitive: bool,
}

/// One event in a receipt's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEvent {
    /// ISO 8601 time.
    pub time: String,
    /// `given`, `withdrawn` or `expired`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `pii-principal` (the patient) or `system` (an expiry).
    pub actor: &'static str,
}

/// Cryptographic proof that ties a receipt to the signed ledger entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// The ledger id.
    #[serde(with = "hex")]
    pub ledger_id: [u8; 16],
    /// Sequence number of the grant entry.
    pub seq: u64,
    /// Hash of the grant entry.
    #[serde(with = "hex")]
    pub entry_hash: [u8; 32],
    /// The patient device's signature on it.
    #[serde(with = "hex")]
    pub signature: [u8; 64],
    /// The patient device's public key.
    #[serde(with = "hex")]
    pub public_key: [u8; 32],
}

/// An ISO/IEC TS 27560:2023 (and Kantara Consent Receipt 1.1) style record of one grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Schema identifier.
    pub schema_version: &'static str,
    /// `<ledger id hex>-<seq>`.
    pub record_id: String,
    /// The patient's id.
    pub pii_principal_id: String,
    /// Data controllers.
    pub controllers: Vec<Controller>,
    /// Recipients.
    pub recipients: Vec<Recipient>,
    /// Purposes (PurposeOfUse codes).
    pub purposes: Vec<Purpose>,
    /// Data categories.
    pub pii_categories: Vec<PiiCategory>,
    /// Start of validity (ISO 8601).
    pub valid_from: String,
    /// End of validity, if any (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The notice shown.
    pub notice: Notice,
    /// How consent was collected.
    pub collection_method: Collection,
    /// Applicable jurisdiction.
    pub jurisdiction: String,
    /// How to withdraw.
    pub withdrawal_method: String,
    /// `active`, `withdrawn`, `expired` or `superseded` (a new notice version).
    pub state: &'static str,
    /// History.
    pub events: Vec<ReceiptEvent>,
    /// Signature evidence.
    pub proof: Proof,
}

/// The receipt for grant `seq` of `ledger`.
pub fn receipt(ledger: &Ledger, seq: u64, ctx: &ReceiptContext) -> Result<Receipt, LedgerError> {
    let state = ledger.state();
    let r = state
        .grant(seq)
        .ok_or(LedgerError::UnknownGrant { grant: seq })?;
    let entry = ledger
        .entries()
        .find(|e| e.seq == seq)
        .ok_or(LedgerError::UnknownGrant { grant: seq })?;
    let bytes = ledger.entry_bytes(seq).unwrap_or_default();
    let g = &r.grant;
    let ev = |time, kind, actor| ReceiptEvent {
        time: iso8601(time),
        kind,
        actor,
    };
    let mut events = vec![ev(r.granted_at, "given", "pii-principal")];
    let state_name = match r.status {
        GrantStatus::Withdrawn { at } => {
            events.push(ev(at, "withdrawn", "pii-principal"));
            "withdrawn"
        }
        GrantStatus::Expired { at } => {
            events.push(ev(at, "expired", "system"));
            "expired"
        }
        GrantStatus::Active if state.superseded(&g.notice) => "superseded",
        GrantStatus::Active => "active",
    };
    Ok(Receipt {
        schema_version: "ISO/IEC TS 27560:2023 teleconsult-receipt-1",
        record_id: seq_ref(&hex::encode(&ledger.id()), '-', seq),
        pii_principal_id: g.patient.0.clone(),
        controllers: vec![ctx.controller.clone()],
        recipients: vec![g.recipient.clone()],
        purposes: g.purposes.clone(),
        pii_categories: g
            .categories
            .iter()
            .map(|&category| PiiCategory {
                category,
                sensitive: true,
            })
            .collect(),
        valid_from: iso8601(g.period.start),
        valid_until: g.period.end.map(iso8601),
        notice: g.notice.clone(),
        collection_method: g.collection.clone(),
        jurisdiction: ctx.jurisdiction.clone(),
        withdrawal_method: ctx.withdrawal_method.clone(),
        state: state_name,
        events,
        proof: Proof {
            algorithm: "Ed25519",
            ledger_id: ledger.id(),
            seq,
            entry_hash: entry_hash(bytes),
            signature: entry.signature,
            public_key: ledger.patient_public_key(),
        },
    })
}

/// Verifies an exported ledger offline (the JS binding exposes it to Node.js): decodes it,
/// checks every entry against `patient_public_key`, and, if given, a checkpoint with the
/// clinician's public key.
pub fn verify_exported(
    ledger_bytes: &[u8],
    patient_public_key: &[u8; 32],
    checkpoint: Option<(&Checkpoint, &[u8; 32])>,
) -> Result<Summary, LedgerError> {
    let ledger = Ledger::decode(ledger_bytes, patient_public_key)?;
    if let Some((cp, clinician)) = checkpoint {
        ledger.check_checkpoint(cp, clinician)?;
    }
    Ok(ledger.summary(checkpoint.map(|(cp, _)| cp.size)))
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            iso8601(super::super::policy::MAX_TIME),
            "9999-12-31T23:59:59.999Z"
        );
        assert!(iso8601(u64::MAX).len() > 20, "no panic on absurd times");
    }

    /// `iso8601` as it was written with `format!`: the hand-written digits must give the
    /// same text for every time.
    fn iso8601_reference(ms: u64) -> String {
        let (secs, millis) = (ms / 1000, ms % 1000);
        let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    proptest::proptest! {
        #[test]
        fn seq_refs_are_what_format_wrote(id in "[0-9a-f]{0,32}", seq in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(super::seq_ref(&id, '-', seq), format!("{id}-{seq}"));
            proptest::prop_assert_eq!(super::seq_ref(&id, '/', seq), format!("{id}/{seq}"));
        }

        #[test]
        fn iso8601_writes_what_format_wrote(
            ms in proptest::prop_oneof![
                proptest::prelude::any::<u64>(),
                0u64..300_000_000_000_000,
            ]
        ) {
            proptest::prop_assert_eq!(iso8601(ms), iso8601_reference(ms));
        }
    }

    #[test]
    fn extreme_iso8601_times_are_written_as_format_wrote_them() {
        for ms in [0, 1, 999, 1000, u64::MAX, u64::MAX - 1, 253_402_300_799_999] {
            assert_eq!(iso8601(ms), iso8601_reference(ms));
        }
    }
}
