//! Known-answer vectors for the consent ledger encoding, checked byte for byte against the
//! code and against docs/CONSENT.md (which publishes them).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on broken fixtures"
)]

use teleconsult::consent::*;

/// Patient seed 00 01 .. 1f; clinician seed 20 21 .. 3f; ledger id "teleconsult-kat1".
fn keys() -> (ConsentKey, ConsentKey) {
    let p: [u8; 32] = core::array::from_fn(|i| i as u8);
    let c: [u8; 32] = core::array::from_fn(|i| 0x20 + i as u8);
    (ConsentKey::from_seed(&p), ConsentKey::from_seed(&c))
}

const LEDGER_ID: [u8; 16] = *b"teleconsult-kat1";
const PATIENT_PK: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
const CLINICIAN_PK: &str = "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7";
const KEY_ID: &str = "7bc325615ddb873a";
const GENESIS: &str = "8a85607b32ebb2a00e05415fc5747fdce7879f558baf4f454329b866e146997e";
const NOTICE_HASH: &str = "292f4eb95045171a44860ee2aa086081b9b86a31fcff18a1926f8e7a388fe7a9";
/// (entry, hash, signature) for each of the three entries.
const ENTRIES: [[&str; 3]; 3] = [
    [
        "0100000000000000008a85607b32ebb2a00e05415fc5747fdce7879f558baf4f454329b866e146997e0000018bcfe568007bc325615ddb873a0100057061742d3101000464722d310101030102050000018bcfe56800010000018bd01c5680001d68747470733a2f2f636c696e69632e6578616d706c652f6e6f746963650001330002656e292f4eb95045171a44860ee2aa086081b9b86a31fcff18a1926f8e7a388fe7a901f7d3481779ae522f757cc87b68803b8802df3f95b9dbe2abc611a860bb1fbead6f85c8d459668cb73046eee75e61bd8a522264113b1366fea6290b5518bb7f08",
        "8bd0ddcb9440aa6607cc777d9d12f3785a2e570a50ee19b6b06b3cb202f86bf2",
        "f7d3481779ae522f757cc87b68803b8802df3f95b9dbe2abc611a860bb1fbead6f85c8d459668cb73046eee75e61bd8a522264113b1366fea6290b5518bb7f08",
    ],
    [
        "0100000000000000018bd0ddcb9440aa6607cc777d9d12f3785a2e570a50ee19b6b06b3cb202f86bf20000018bcfe652607bc325615ddb873a05111111111111111111111111111111111111111111111111111111111111111163e8f61f32ec22d8a959bbf8f477e445114534b29b8d2b09e0bd8c425513058df6d66e50f5867198b4551de52817f3ecfd9c2db7f8cfc7700be3f968e43eea06",
        "a9c035e203c50b1465abde415cc6a3e5e3841a2d1e508178e50ffbaeb7779bff",
        "63e8f61f32ec22d8a959bbf8f477e445114534b29b8d2b09e0bd8c425513058df6d66e50f5867198b4551de52817f3ecfd9c2db7f8cfc7700be3f968e43eea06",
    ],
    [
        "010000000000000002a9c035e203c50b1465abde415cc6a3e5e3841a2d1e508178e50ffbaeb7779bff0000018bcfe73cc07bc325615ddb873a0200000000000000000c2437c2a6934fa1c03696f84a7c1be75a61534326b9b53b882b0b433aac25695abb8cc204538d369bd972e0a514b837bb85121e0f7da1f52291d8cb9335e50c",
        "aa9da6c662d2a5aeffdd3aa93836ab08372eb4edccee6e83c4f6fa52475f991a",
        "0c2437c2a6934fa1c03696f84a7c1be75a61534326b9b53b882b0b433aac25695abb8cc204538d369bd972e0a514b837bb85121e0f7da1f52291d8cb9335e50c",
    ],
];
/// The replica's receive time of entry 2 (250 ms after it was signed).
const CHECKPOINT_TIME: u64 = 1_700_000_120_250;
const CHECKPOINT: &str = "544343500274656c65636f6e73756c742d6b6174310000000000000003aa9da6c662d2a5aeffdd3aa93836ab08372eb4edccee6e83c4f6fa52475f991a0000018bcfe73dbaec741545523fec134b404996dadb68993bd43c4ea556294b4b71f3d16d99f65c5a9bb19281fdd65245aa26c2f31ed573b045af4ac047f1a2317e0c1fcd5cee04";
const LEDGER: &str = "5443434c0174656c65636f6e73756c742d6b61743100000003000000e60100000000000000008a85607b32ebb2a00e05415fc5747fdce7879f558baf4f454329b866e146997e0000018bcfe568007bc325615ddb873a0100057061742d3101000464722d310101030102050000018bcfe56800010000018bd01c5680001d68747470733a2f2f636c696e69632e6578616d706c652f6e6f746963650001330002656e292f4eb95045171a44860ee2aa086081b9b86a31fcff18a1926f8e7a388fe7a901f7d3481779ae522f757cc87b68803b8802df3f95b9dbe2abc611a860bb1fbead6f85c8d459668cb73046eee75e61bd8a522264113b1366fea6290b5518bb7f080000009a0100000000000000018bd0ddcb9440aa6607cc777d9d12f3785a2e570a50ee19b6b06b3cb202f86bf20000018bcfe652607bc325615ddb873a05111111111111111111111111111111111111111111111111111111111111111163e8f61f32ec22d8a959bbf8f477e445114534b29b8d2b09e0bd8c425513058df6d66e50f5867198b4551de52817f3ecfd9c2db7f8cfc7700be3f968e43eea0600000082010000000000000002a9c035e203c50b1465abde415cc6a3e5e3841a2d1e508178e50ffbaeb7779bff0000018bcfe73cc07bc325615ddb873a0200000000000000000c2437c2a6934fa1c03696f84a7c1be75a61534326b9b53b882b0b433aac25695abb8cc204538d369bd972e0a514b837bb85121e0f7da1f52291d8cb9335e50c";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn kat_grant() -> Grant {
    Grant {
        patient: "pat-1".into(),
        recipient: Recipient {
            kind: RecipientKind::Practitioner,
            id: "dr-1".into(),
        },
        purposes: vec![Purpose::Treatment],
        categories: vec![
            DataCategory::Video,
            DataCategory::Audio,
            DataCategory::HeartRate,
        ],
        period: Period {
            start: 1_700_000_000_000,
            end: Some(1_700_003_600_000),
        },
        notice: Notice::for_text(
            "https://clinic.example/notice",
            "3",
            "en",
            b"KAT notice text",
        ),
        collection: Collection::PatientAction,
    }
}

fn kat_ledger() -> Ledger {
    let (p, _) = keys();
    let mut l = Ledger::new(LEDGER_ID, &p.public_key()).unwrap();
    l.append(&p, 1_700_000_000_000, Event::Grant(kat_grant()))
        .unwrap();
    l.append(
        &p,
        1_700_000_060_000,
        Event::SasConfirmed {
            transcript: [0x11; 32],
        },
    )
    .unwrap();
    l.append(&p, 1_700_000_120_000, Event::Withdraw { grant: 0 })
        .unwrap();
    l
}

#[test]
fn keys_and_derived_hashes_match_the_vectors() {
    let (p, c) = keys();
    assert_eq!(hex(&p.public_key()), PATIENT_PK);
    assert_eq!(hex(&c.public_key()), CLINICIAN_PK);
    assert_eq!(hex(&key_id(&p.public_key())), KEY_ID);
    assert_eq!(hex(&genesis_hash(&LEDGER_ID)), GENESIS);
    assert_eq!(hex(&kat_grant().notice.sha256), NOTICE_HASH);
}

#[test]
fn entries_encode_hash_and_sign_byte_for_byte() {
    let l = kat_ledger();
    for (seq, [bytes, hash, sig]) in (0u64..).zip(ENTRIES) {
        let got = l.entry_bytes(seq).unwrap();
        assert_eq!(hex(got), bytes, "entry {seq}");
        assert_eq!(hex(&entry_hash(got)), hash, "hash {seq}");
        assert_eq!(hex(&got[got.len() - 64..]), sig, "signature {seq}");
    }
    assert_eq!(hex(&l.head()), ENTRIES[2][1]);
    assert_eq!(hex(&l.encode()), LEDGER);
    let (_, c) = keys();
    assert_eq!(
        hex(&Checkpoint::sign(LEDGER_ID, 3, l.head(), CHECKPOINT_TIME, &c).encode()),
        CHECKPOINT
    );
}

/// The replica that receives the three entries 250 ms after each was signed answers the
/// last one with exactly the published checkpoint.
#[test]
fn the_replica_countersigns_the_published_checkpoint() {
    let (p, c) = keys();
    let l = kat_ledger();
    let mut replica = LedgerReplica::new(LEDGER_ID, &p.public_key(), c).unwrap();
    let mut last = None;
    for (seq, e) in (0u64..).zip(l.entries()) {
        last = Some(
            replica
                .receive(l.entry_bytes(seq).unwrap(), e.time + 250)
                .unwrap(),
        );
    }
    let cp = last.unwrap();
    assert_eq!(cp.time, CHECKPOINT_TIME);
    assert_eq!(hex(&cp.encode()), CHECKPOINT);
    assert_eq!(cp.encode().len(), CHECKPOINT_LEN);
}

/// A format-1 checkpoint (the 125-byte encoding without a time, signed under the v1
/// context) is refused by the format-2 decoder.
#[test]
fn format_1_checkpoints_are_refused() {
    let mut v1 = unhex(CHECKPOINT);
    v1[4] = 1;
    assert_eq!(Checkpoint::decode(&v1), Err(DecodeError::UnknownTag));
    v1.drain(61..69);
    assert_eq!(Checkpoint::decode(&v1), Err(DecodeError::UnknownTag));
}

#[test]
fn published_vectors_decode_and_verify() {
    let e0 = Entry::decode(&unhex(ENTRIES[0][0])).unwrap();
    assert_eq!(e0.event, Event::Grant(kat_grant()));
    assert_eq!(hex(&e0.prev), GENESIS);
    assert_eq!(e0.time, 1_700_000_000_000);
    let cp = Checkpoint::decode(&unhex(CHECKPOINT)).unwrap();
    assert_eq!(cp.time, CHECKPOINT_TIME);
    let summary = verify_exported(
        &unhex(LEDGER),
        &unhex(PATIENT_PK).try_into().unwrap(),
        Some((&cp, &unhex(CLINICIAN_PK).try_into().unwrap())),
    )
    .unwrap();
    assert_eq!(
        (
            summary.entries,
            summary.withdrawn_grants,
            summary.checkpoint_size
        ),
        (3, 1, Some(3))
    );
}

#[test]
fn docs_publish_exactly_these_vectors() {
    let docs = include_str!("../../docs/CONSENT.md");
    let mut all = vec![
        PATIENT_PK,
        CLINICIAN_PK,
        KEY_ID,
        GENESIS,
        NOTICE_HASH,
        CHECKPOINT,
        LEDGER,
    ];
    all.extend(ENTRIES.iter().flatten());
    for v in all {
        assert!(docs.contains(v), "docs/CONSENT.md lacks {}...", &v[..16]);
    }
    for ctx in [CTX_ENTRY, CTX_HASH, CTX_GENESIS, CTX_CHECKPOINT, CTX_KEY_ID] {
        let shown = String::from_utf8(ctx[..ctx.len() - 1].to_vec()).unwrap();
        assert!(
            docs.contains(&format!("`{shown}\\0`")),
            "docs lack context {shown}"
        );
    }
}
