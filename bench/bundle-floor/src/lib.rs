//! The size floor of the Teleconsult wasm: every job of the sans-IO core — the E2EE
//! consultation session, invites, BLE parsing with FHIR mapping, the consent ledger with its
//! policy, exports and sync — reachable from exported functions, behind the cheapest
//! boundary there is (bytes in one shared buffer, numbers out), with no wasm-bindgen, no
//! JavaScript and no browser driver.
//!
//! `cargo xtask bench` builds it with the SDK's release profile and `wasm-opt` flags and
//! prints `bundle-floor: …`: no design of the JS layer can ship the SDK in fewer bytes than
//! this, because everything here is work the product must do. It is never run; the
//! functions only have to keep the core's code alive the way a real boundary would.
//! Values the core returns are passed to [`black_box`] rather than converted for JS, so the
//! floor leaves out the cost of turning events, readings and FHIR resources into JS values.

use std::cell::RefCell;
use std::hint::black_box;

use teleconsult::consent::{
    Checkpoint, ConsentKey, ConsentManager, Controller, DataCategory, Entry, Event, Ledger,
    LedgerReplica, MemoryStore, Party, PartyId, Purpose, ReceiptContext, Recipient, RecipientKind,
    Request, SyncMessage, check_recording, fhir_consents,
};
use teleconsult::crypto::{Authority, RoleSigningKey, RoomId, RoomSecret};
use teleconsult::devices::{CaptureContext, DeviceIdentity, FhirContext, capture, parse, to_fhir};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};
use teleconsult::signaling::{
    Candidate, Config, IceState, Invite, Output, Redacted, SdpKind, Session, Timeouts,
};

thread_local! {
    /// Where JS writes each call's input (the boundary: one buffer, no pointers in Rust).
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Where the core's output bytes go for JS to read.
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    static MANAGER: RefCell<Option<ConsentManager<MemoryStore>>> = const { RefCell::new(None) };
    static REPLICA: RefCell<Option<LedgerReplica>> = const { RefCell::new(None) };
}

/// Makes the input buffer `len` bytes long and returns where JS writes them.
#[unsafe(no_mangle)]
pub extern "C" fn input_buffer(len: usize) -> *mut u8 {
    INPUT.with(|i| {
        let mut i = i.borrow_mut();
        i.clear();
        i.resize(len, 0);
        i.as_mut_ptr()
    })
}

/// Where the output bytes are, and (through [`output_len`]) how many.
#[unsafe(no_mangle)]
pub extern "C" fn output_buffer() -> *const u8 {
    OUTPUT.with(|o| o.borrow().as_ptr())
}

/// How many output bytes there are.
#[unsafe(no_mangle)]
pub extern "C" fn output_len() -> usize {
    OUTPUT.with(|o| o.borrow().len())
}

fn input() -> Vec<u8> {
    INPUT.with(|i| std::mem::take(&mut *i.borrow_mut()))
}

fn emit(bytes: &[u8]) {
    OUTPUT.with(|o| o.borrow_mut().extend_from_slice(bytes));
}

fn ok<T, E>(r: Result<T, E>) -> u32 {
    u32::from(r.is_ok())
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    if let Some(b) = bytes.get(at..at + N) {
        out.copy_from_slice(b);
    }
    out
}

fn peer(bytes: &[u8]) -> ParticipantId {
    ParticipantId(array(bytes, 0))
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Creates the session from the input: room, secret, entropy, id, role, name, token.
#[unsafe(no_mangle)]
pub extern "C" fn session_new() {
    let b = input();
    let role = match b.get(88) {
        Some(0) => Role::Clinician,
        Some(1) => Role::Patient,
        _ => Role::Guest,
    };
    let config = Config {
        room: RoomId(array(&b, 0)),
        secret: RoomSecret::from_bytes(array(&b, 16)),
        entropy: array(&b, 48),
        id: ParticipantId(array(&b, 80)),
        role,
        display_name: Redacted::new(text(b.get(89..100).unwrap_or_default()).to_owned()),
        token: b.get(100..).unwrap_or_default().to_vec().into(),
        capabilities: 0,
        timeouts: Timeouts::default(),
        // The role keys and certificate come from the same input bytes: only the code path
        // matters here, not the values.
        authority: {
            let signing = RoleSigningKey::from_seed(&array(&b, 16));
            Authority {
                clinician: signing.public(),
                patient: array(&b, 48),
                signing: Some(signing),
            }
        },
        certificate: (String::from("sha-256"), array::<32>(&b, 0).to_vec()),
    };
    SESSION.with(|s| *s.borrow_mut() = Some(Session::new(config)));
}

fn with_session(f: impl FnOnce(&mut Session) -> u32) -> u32 {
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let Some(s) = s.as_mut() else { return 0 };
        let result = f(s);
        while let Some(out) = s.poll_output() {
            match out {
                Output::Transmit(bytes) => emit(&bytes),
                Output::Timeout(at) => emit(&at.to_le_bytes()),
                Output::Direct { peer, frame } => {
                    emit(&peer.0);
                    emit(&frame);
                }
                // Never enabled here (`Session::offload_bulk_crypto`).
                Output::OffloadKey { .. }
                | Output::DirectSeal { .. }
                | Output::DirectOpen { .. } => {}
                Output::Event(e) => {
                    black_box(e);
                }
                Output::Media { peer, request } => {
                    emit(&peer.0);
                    black_box(request);
                }
            }
        }
        result
    })
}

/// Feeds one session input; `kind` says which (relay frame, timer, user action, media).
#[unsafe(no_mangle)]
pub extern "C" fn session_handle(kind: u32, now: u64) -> u32 {
    let b = input();
    let p = peer(&b);
    let rest = b.get(8..).unwrap_or_default();
    with_session(|s| match kind {
        0 => ok(s.handle_relay_message(&b, now)),
        1 => ok(s.handle_relay_connected(now)),
        2 => {
            s.handle_relay_disconnected(now);
            1
        }
        3 => {
            s.handle_timeout(now);
            1
        }
        4 => ok(s.admit(p, now)),
        5 => ok(s.deny(p, now)),
        6 => ok(s.confirm_sas(p, now)),
        7 => ok(s.hang_up(now)),
        8 => ok(s.end_consultation(now)),
        9 => ok(s.send_app_data(p, rest, now)),
        10 => ok(s.request_renegotiation(p, now)),
        11 => ok(s.restart_ice(p, now)),
        12 | 13 => {
            let kind = if kind == 12 {
                SdpKind::Offer
            } else {
                SdpKind::Answer
            };
            ok(s.handle_local_description(p, kind, text(rest), now))
        }
        14 => {
            let candidate = Candidate {
                candidate: text(rest).to_owned(),
                sdp_mid: None,
                sdp_mline_index: Some(0),
            };
            ok(s.handle_local_candidate(p, candidate, now))
        }
        15 => ok(s.handle_ice_state(p, IceState::Connected, now)),
        16 => {
            black_box(s.peers());
            black_box(s.next_timeout());
            s.phase() as u32
        }
        _ => {
            s.add_entropy(&b);
            1
        }
    })
}

/// Parses an invite link and writes it back in canonical form.
#[unsafe(no_mangle)]
pub extern "C" fn invite() -> u32 {
    let b = input();
    ok(Invite::parse(text(&b)).map(|i| emit(i.to_url("https://clinic.invalid/").as_bytes())))
}

/// Parses one characteristic value into a reading and maps it to FHIR Observations.
#[unsafe(no_mangle)]
pub extern "C" fn capture_reading(uuid: u32, now: u64) -> u32 {
    let b = input();
    let ctx = CaptureContext {
        device: DeviceIdentity::new("device"),
        now,
        device_utc_offset_minutes: Some(0),
        weight_scale_feature: None,
    };
    let Ok(reading) = capture(&(uuid as u16), &b, &ctx) else {
        return 0;
    };
    let fhir = FhirContext {
        subject: "Patient/1".into(),
        device: "Device/1".into(),
        gateway_device: None,
    };
    let observations = to_fhir(&reading, &fhir);
    let count = observations.len() as u32;
    black_box((reading, observations));
    count
}

/// Parses one characteristic value.
#[unsafe(no_mangle)]
pub extern "C" fn parse_measurement(uuid: u32) -> u32 {
    ok(parse(&(uuid as u16), &input()).map(black_box))
}

/// Opens the patient's consent ledger from the input: a 32-byte seed and a 16-byte id.
#[unsafe(no_mangle)]
pub extern "C" fn consent_open() -> u32 {
    let b = input();
    let opened = ConsentManager::open(&array(&b, 0), array(&b, 32), MemoryStore::default());
    ok(opened.map(|m| MANAGER.with(|x| *x.borrow_mut() = Some(m))))
}

/// One consent operation on the patient's ledger; `kind` says which.
#[unsafe(no_mangle)]
pub extern "C" fn consent_handle(kind: u32, now: u64) -> u32 {
    let b = input();
    MANAGER.with(|m| {
        let mut m = m.borrow_mut();
        let Some(m) = m.as_mut() else { return 0 };
        match kind {
            0 => match Entry::decode(&b) {
                Ok(Entry {
                    event: Event::Grant(grant),
                    ..
                }) => ok(m.grant(grant, &b, now).map(|e| emit(&e))),
                _ => 0,
            },
            1 => ok(m.withdraw(now, now).map(|e| emit(&e))),
            2 => {
                let request = Request {
                    category: DataCategory::Video,
                    recipient: Recipient {
                        kind: RecipientKind::Practitioner,
                        id: PartyId(text(&b).to_owned()),
                    },
                    purpose: Purpose::Treatment,
                    now,
                    notice_version: "1".into(),
                };
                u32::from(black_box(m.check(&request)).allowed)
            }
            3 => {
                black_box(m.to_fhir());
                black_box(m.list());
                ok(m.verify().map(black_box))
            }
            4 => {
                emit(&m.export());
                1
            }
            5 => {
                let ctx = ReceiptContext {
                    controller: Controller {
                        name: "clinic".into(),
                        contact: "contact".into(),
                    },
                    jurisdiction: "EU".into(),
                    withdrawal_method: "button".into(),
                };
                ok(m.receipt(now, &ctx).map(black_box))
            }
            6 => {
                m.expect_clinician(array(&b, 0));
                ok(m.accept_checkpoint(&b, &array(&b, 0)))
            }
            _ => ok(SyncMessage::decode(&b).map(|s| emit(&s.encode()))),
        }
    })
}

/// One operation on the clinician's replica of a patient ledger; `kind` says which.
#[unsafe(no_mangle)]
pub extern "C" fn replica_handle(kind: u32, now: u64) -> u32 {
    let b = input();
    let key = ConsentKey::from_seed(&array(&b, 0));
    REPLICA.with(|r| {
        let mut r = r.borrow_mut();
        if kind == 0 {
            return ok(LedgerReplica::new(array(&b, 0), &array(&b, 16), key).map(|x| *r = Some(x)));
        }
        let Some(r) = r.as_mut() else { return 0 };
        match kind {
            1 => ok(r.receive(&b, now)),
            2 => {
                emit(&r.checkpoint(now).encode());
                1
            }
            3 => ok(Ledger::decode(&b, &array(&b, 0)).map(|l| black_box(fhir_consents(&l)))),
            4 => ok(Checkpoint::decode(&b).map(black_box)),
            _ => {
                let parties = [Party {
                    id: 0u8,
                    consent: None,
                }];
                u32::from(check_recording(&parties, now).allowed())
            }
        }
    })
}
