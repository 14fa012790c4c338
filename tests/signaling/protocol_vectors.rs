//! Known-answer vectors of docs/PROTOCOL.md ("Test vectors"): fixed secrets and
//! randomness give exactly these keys, frames and SAS, byte for byte.
#![allow(clippy::unwrap_used, reason = "tests may unwrap")]
use teleconsult::crypto::{
    Authority, Ephemeral, PeerPublic, RoleSigningKey, RoomId, RoomKeys, RoomSecret, Sas, SasInput,
    Sealer, derive_pair, encode_fingerprints, sas_binding, sas_commitment, transcript_hash,
};
use teleconsult::signaling::relay_wire::{ParticipantId, Role, ServerMessage};
use teleconsult::signaling::{Config, Output, Redacted, Session, Timeouts};

const ROOM: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
];
const SECRET: [u8; 32] = [0x42; 32];
const A: [u8; 8] = [0x0a; 8];
const B: [u8; 8] = [0x0b; 8];
const HELLO_SALT: [u8; 8] = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7];

const V_HELLO_FRAME: &str = "0201000102030405060708090a0b0c0d0e0f0a0a0a0a0a0a0a0a0000000000000000a0a1a2a3a4a5a6a700000000000000007e666eb01ba79b2157de876074b10611f7d329d918";
const V_TRANSCRIPT: &str = "db13f896cee8a2625397008091390735217a31a63ee05fa80988a44a77c58340";
const V_SESSION_ID: &str = "860733053f8c7f4d";
const V_FRAME_A_TO_B: &str = "0202000102030405060708090a0b0c0d0e0f0a0a0a0a0a0a0a0a0b0b0b0b0b0b0b0b860733053f8c7f4d000000000000000092d724fb3e176995d856e67efb036dbf89835f6dbb";
const V_FRAME_B_TO_A: &str = "0202000102030405060708090a0b0c0d0e0f0b0b0b0b0b0b0b0b0a0a0a0a0a0a0a0a860733053f8c7f4d000000000000000092cbd70c4654d515bc5d02ae5f6d20728803bf4e4372";
const V_SAS_DIGITS: &str = "620799";
const V_SAS_EMOJI: [u8; 7] = [42, 62, 46, 58, 23, 21, 58];
const V_SAS_COMMIT_A: &str = "593cd6f05109a6db2c9a9210a201988e9f2cc6ed1aecae1fa836259ae768abf1";
const V_SAS_BINDING: &str = "4571b85ef3b1322ee0c24b4867da1cb0689d73affe75126c0368070b36b103fa";
const V_ROLE_PROOF: &str = "38176020cabb2383c57608f92fd71f82277a2cc8865f8b44f3885ff09205b2a1cebf9a089ccdc86b0425b41b4033086c6407e28fe9db6a34bf8c149bdda48f0c";
const V_CONFIRM_TAG_A: &str = "c2fe213a0f5081873e6420052aec8772";
const V_SESSION_JOIN: &str = "01010a0a0a0a0a0a0a0a0005746f6b656e";
const V_SESSION_HELLO: &str = "0200000000000000000201000102030405060708090a0b0c0d0e0f0a0a0a0a0a0a0a0a00000000000000002d9f62438f72dd4f000000000000000093dd7fb86bd7daf019887e24e43ff5f88bc5c99e1a0ec210dc2807c94dc0d45bba6e8619304613316a202d82bf0638f3eb46fe7e9a8393aec8974a63eb9bbe53dc080c34a6b24edce5a3502cdab8df74a3f37abeacc581ec0a1668e12c2d4bbecf4397ef2a2218c04bfe8094dee1b6a3f82c2f0a80e47c72b0938b82a4034a00cb0f90da4e171aff355c4a22bc32c5877993399b331c26ad48b9264a3acb48a8db272e3647613336d2495904";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check(name: &str, got: &str, want: &str) {
    if want.is_empty() {
        println!("const {name}: &str = \"{got}\";");
    } else {
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn hello_key_and_envelope_vector() {
    let keys = RoomKeys::derive(&RoomId(ROOM), &RoomSecret::from_bytes(SECRET));
    let mut s = Sealer::new(&keys.hello_key(&A, &HELLO_SALT), HELLO_SALT);
    let f = s.seal(0x01, &ROOM, &A, &[0; 8], b"hello").unwrap();
    check("V_HELLO_FRAME", &hex(&f), V_HELLO_FRAME);
}

#[test]
fn handshake_envelope_and_sas_vectors() {
    let keys = RoomKeys::derive(&RoomId(ROOM), &RoomSecret::from_bytes(SECRET));
    let (sa, ea) = (
        Ephemeral::from_random([0x11; 32]),
        Ephemeral::from_random([0x12; 32]),
    );
    let (sb, eb) = (
        Ephemeral::from_random([0x21; 32]),
        Ephemeral::from_random([0x22; 32]),
    );
    let th = transcript_hash(&ROOM, (&A, b"core-a"), (&B, b"core-b"));
    check("V_TRANSCRIPT", &hex(&th), V_TRANSCRIPT);
    let pa = derive_pair(
        &ROOM,
        &keys,
        &sa,
        &ea,
        &A,
        PeerPublic {
            id: &B,
            static_public: &sb.public(),
            ephemeral_public: &eb.public(),
        },
        &th,
    )
    .unwrap();
    let pb = derive_pair(
        &ROOM,
        &keys,
        &sb,
        &eb,
        &B,
        PeerPublic {
            id: &A,
            static_public: &sa.public(),
            ephemeral_public: &ea.public(),
        },
        &th,
    )
    .unwrap();
    assert_eq!(pa.session_id, pb.session_id);
    check("V_SESSION_ID", &hex(&pa.session_id), V_SESSION_ID);
    let fa = Sealer::new(&pa.send, pa.session_id)
        .seal(0x02, &ROOM, &A, &B, b"offer")
        .unwrap();
    let fb = Sealer::new(&pb.send, pb.session_id)
        .seal(0x02, &ROOM, &B, &A, b"answer")
        .unwrap();
    check("V_FRAME_A_TO_B", &hex(&fa), V_FRAME_A_TO_B);
    check("V_FRAME_B_TO_A", &hex(&fb), V_FRAME_B_TO_A);
    let fp_a = encode_fingerprints(&[("sha-256".into(), vec![0xaa; 32])]);
    let fp_b = encode_fingerprints(&[("sha-256".into(), vec![0xbb; 32])]);
    let (na, nb) = ([0xa5; 32], [0xb5; 32]);
    let a = SasInput {
        fingerprint: &fp_a,
        nonce: &na,
    };
    let b = SasInput {
        fingerprint: &fp_b,
        nonce: &nb,
    };
    check("V_SAS_COMMIT_A", &hex(&sas_commitment(a)), V_SAS_COMMIT_A);
    let sas = Sas::derive(&pa.sas_prk, a, b);
    assert_eq!(sas, Sas::derive(&pb.sas_prk, a, b));
    assert_eq!(pa.identity, pb.identity);
    check(
        "V_SAS_BINDING",
        &hex(&sas_binding(&pa.identity, a, b)),
        V_SAS_BINDING,
    );
    check("V_SAS_DIGITS", &sas.digits(), V_SAS_DIGITS);
    if V_SAS_EMOJI == [0; 7] {
        println!("const V_SAS_EMOJI: [u8; 7] = {:?};", sas.emoji_indices());
    } else {
        assert_eq!(sas.emoji_indices(), V_SAS_EMOJI);
    }
    let tag = Sas::confirm_tag(&pa.sas_prk, &A, a, b);
    check("V_CONFIRM_TAG_A", &hex(&tag), V_CONFIRM_TAG_A);
}

#[test]
fn session_join_and_first_hello_vector() {
    let mut s = Session::new(Config {
        room: RoomId(ROOM),
        secret: RoomSecret::from_bytes(SECRET),
        id: ParticipantId(A),
        role: Role::Clinician,
        display_name: Redacted::new("Dr A".into()),
        token: zeroize::Zeroizing::new(b"token".to_vec()),
        entropy: [0x07; 32],
        capabilities: 0,
        timeouts: Timeouts::default(),
        authority: clinician_authority(),
        certificate: ("sha-256".into(), vec![0xaa; 32]),
    });
    s.handle_relay_connected(1_000).unwrap();
    let join = std::iter::from_fn(|| s.poll_output())
        .find_map(|o| match o {
            Output::Transmit(t) => Some(t),
            _ => None,
        })
        .unwrap();
    check("V_SESSION_JOIN", &hex(&join), V_SESSION_JOIN);
    let welcome = ServerMessage::Welcome {
        role: Role::Clinician,
        present: vec![],
    }
    .encode();
    s.handle_relay_message(&welcome, 2_000).unwrap();
    let hello = std::iter::from_fn(|| s.poll_output())
        .find_map(|o| match o {
            Output::Transmit(t) => Some(t),
            _ => None,
        })
        .unwrap();
    check("V_SESSION_HELLO", &hex(&hello), V_SESSION_HELLO);
}

/// The role keys of the vectors: clinician seed 0xc1 × 32, patient seed 0xa7 × 32.
fn clinician_authority() -> Authority {
    let c = RoleSigningKey::from_seed(&[0xc1; 32]);
    let p = RoleSigningKey::from_seed(&[0xa7; 32]);
    Authority {
        clinician: c.public(),
        patient: p.public(),
        signing: Some(c),
    }
}

#[test]
fn role_proof_vector() {
    let auth = clinician_authority();
    let proof = auth.prove(&ROOM, &A, b"core").unwrap();
    check("V_ROLE_PROOF", &hex(&proof), V_ROLE_PROOF);
    assert!(auth.verify(Role::Clinician, &ROOM, &A, b"core", Some(&proof)));
}
