//! Shared harness for the signaling integration tests: sessions wired together through an
//! in-memory relay that speaks relay_wire, in simulated time, with a fake media engine.
//! The relay can drop, delay, duplicate, reorder and tamper with sealed frames. Sessions
//! are driven only through their public API.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::collections::BTreeMap;

use teleconsult::crypto::{Authority, RoleSigningKey, RoomId, RoomSecret};
use teleconsult::signaling::SessionError;
use teleconsult::signaling::relay_wire::{
    ClientMessage, LeftReason, ParticipantId, Role, ServerMessage,
};
use teleconsult::signaling::{
    Candidate, Config, Event, IceState, MediaRequest, Output, Phase, Redacted, SdpKind, Session,
    Timeouts,
};
use zeroize::Zeroizing;

pub const ROOM: RoomId = RoomId([0x52; 16]);
pub const SECRET: [u8; 32] = [0x53; 32];

/// Participant ids order like their number: `pid(1) < pid(2)`.
pub fn pid(n: u8) -> ParticipantId {
    ParticipantId([n; 8])
}

/// The visit's clinician and patient role keys (what `createInvite` makes).
pub const CLINICIAN_SEED: [u8; 32] = [0xc1; 32];
pub const PATIENT_SEED: [u8; 32] = [0xa7; 32];

/// The role keys a link for `role` carries.
pub fn authority(role: Role) -> Authority {
    let key = |seed: &[u8; 32]| RoleSigningKey::from_seed(seed);
    Authority {
        clinician: key(&CLINICIAN_SEED).public(),
        patient: key(&PATIENT_SEED).public(),
        signing: match role {
            Role::Clinician => Some(key(&CLINICIAN_SEED)),
            Role::Patient => Some(key(&PATIENT_SEED)),
            Role::Guest => None,
        },
    }
}

/// The DTLS certificate fingerprint of participant `n` (what its fake SDPs carry).
pub fn certificate(n: u8) -> (String, Vec<u8>) {
    let fp = n.wrapping_mul(16);
    (
        "sha-256".into(),
        (0..32).map(|i| fp.wrapping_add(i)).collect(),
    )
}

pub fn config(n: u8, role: Role, secret: [u8; 32]) -> Config {
    Config {
        authority: authority(role),
        certificate: certificate(n),
        room: ROOM,
        secret: RoomSecret::from_bytes(secret),
        id: pid(n),
        role,
        display_name: Redacted::new(format!("participant {n}")),
        token: Zeroizing::new(role.as_str().as_bytes().to_vec()),
        entropy: [n; 32],
        capabilities: teleconsult::signaling::message::CAP_RESUME,
        timeouts: Timeouts::default(),
    }
}

/// A fake RTCPeerConnection: records what the session asked for.
#[derive(Default, Debug)]
pub struct FakePc {
    pub local: Option<SdpKind>,
    pub remote: bool,
    pub remote_candidates: usize,
    pub connected: bool,
    pub offers_created: u32,
    pub answers_created: u32,
    pub ice_restarts: u32,
    pub remote_descriptions: Vec<(SdpKind, String)>,
    pub rollbacks: u32,
    pub closed: u32,
    pub generation: u32,
    /// `MediaRequest::Prepare` requests seen.
    pub prepared: u32,
}

pub struct Node {
    pub session: Session,
    pub id: ParticipantId,
    pub token_role: Role,
    pub online: bool,
    pub events: Vec<Event>,
    pub errors: Vec<SessionError>,
    pub pcs: BTreeMap<ParticipantId, FakePc>,
    pub timer: Option<u64>,
    /// When false, media requests wait in `held` until [`Net::release_media`].
    pub auto_media: bool,
    pub held: Vec<(ParticipantId, MediaRequest)>,
    pub fp: u8,
    /// When true, ICE never connects (no network path between the browsers).
    pub no_path: bool,
    /// Envelopes sent on a direct path ([`Output::Direct`]), not delivered: tests carry them.
    /// With bulk crypto offloaded, the frames this node's "driver" sealed go here too.
    pub direct: Vec<(ParticipantId, Vec<u8>)>,
    /// Keys handed over by [`Output::OffloadKey`]: (peer, key id, send, key).
    pub offload_keys: Vec<(ParticipantId, [u8; 8], bool, [u8; 32])>,
    /// Decryptions asked for by [`Output::DirectOpen`], not done: tests do them
    /// ([`Node::offloaded_key`], then `handle_direct_opened` or `handle_direct_open_failed`).
    pub opens: Vec<DirectOpen>,
}

/// One [`Output::DirectOpen`]: (peer, key id, seq, nonce, frame).
pub type DirectOpen = (ParticipantId, [u8; 8], u64, [u8; 12], Vec<u8>);

impl Node {
    /// The key this node's driver holds for `(peer, key_id, send)`, if it was handed over.
    pub fn offloaded_key(
        &self,
        peer: ParticipantId,
        key_id: [u8; 8],
        send: bool,
    ) -> Option<[u8; 32]> {
        self.offload_keys
            .iter()
            .rev()
            .find(|k| (k.0, k.1, k.2) == (peer, key_id, send))
            .map(|k| k.3)
    }

    pub fn pc(&self, peer: ParticipantId) -> &FakePc {
        self.pcs
            .get(&peer)
            .expect("no peer connection for that peer")
    }
    pub fn count(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }
    pub fn app_data(&self, from: ParticipantId) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::AppData { peer, data } if *peer == from => Some(data.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Rewrites a frame in flight.
pub type Tamperer = Box<dyn Fn(&mut Vec<u8>)>;

pub enum Fault {
    Pass,
    Drop,
    Duplicate,
    Delay(u64),
    Tamper(Tamperer),
}

pub type Rule = Box<dyn FnMut(ParticipantId, ParticipantId, &[u8]) -> Fault>;

#[derive(Default)]
pub struct Relay {
    /// (id, role, node index) of connected members.
    members: Vec<(ParticipantId, Role, usize)>,
    queue: Vec<(u64, u64, usize, Vec<u8>)>,
    seq: u64,
    pub latency: u64,
    /// Every sealed frame a client sent: (from, to, payload).
    pub log: Vec<(ParticipantId, ParticipantId, Vec<u8>)>,
    pub rule: Option<Rule>,
    /// Every Transmit any session produced (raw client messages).
    pub transmitted: Vec<Vec<u8>>,
    /// Each member's latest broadcast, handed to newcomers after their Welcome as the real
    /// relay does (`MAX_KEPT_BROADCAST`).
    pub kept: Vec<(ParticipantId, Vec<u8>)>,
    /// Behave like a relay that keeps no broadcasts (newcomers get only the Welcome).
    pub keeps_no_broadcasts: bool,
}

impl Relay {
    fn push(&mut self, at: u64, to: usize, msg: ServerMessage) {
        self.seq += 1;
        self.queue.push((at, self.seq, to, msg.encode()));
    }

    /// Delivers `payload` from `from` to member `tid` (node `tidx`), through the fault rule.
    fn deliver(
        &mut self,
        at: u64,
        from: ParticipantId,
        tid: ParticipantId,
        tidx: usize,
        mut p: Vec<u8>,
    ) {
        let fault = match self.rule.as_mut() {
            Some(r) => r(from, tid, &p),
            None => Fault::Pass,
        };
        match fault {
            Fault::Pass => self.push(at, tidx, ServerMessage::Deliver { from, payload: p }),
            Fault::Drop => {}
            Fault::Duplicate => {
                self.push(
                    at,
                    tidx,
                    ServerMessage::Deliver {
                        from,
                        payload: p.clone(),
                    },
                );
                self.push(at + 1, tidx, ServerMessage::Deliver { from, payload: p });
            }
            Fault::Delay(d) => self.push(at + d, tidx, ServerMessage::Deliver { from, payload: p }),
            Fault::Tamper(f) => {
                f(&mut p);
                self.push(at, tidx, ServerMessage::Deliver { from, payload: p });
            }
        }
    }

    fn on_client(&mut self, from_idx: usize, bytes: &[u8], now: u64) {
        self.transmitted.push(bytes.to_vec());
        let at = now + self.latency;
        let msg = ClientMessage::decode(bytes).expect("sessions send valid relay framing");
        match msg {
            ClientMessage::Join { id, token } => {
                let role = Role::parse(std::str::from_utf8(&token).unwrap()).unwrap();
                let present: Vec<_> = self.members.iter().map(|m| (m.0, m.1)).collect();
                let others: Vec<usize> = self.members.iter().map(|m| m.2).collect();
                self.members.push((id, role, from_idx));
                self.kept.retain(|k| k.0 != id);
                self.push(at, from_idx, ServerMessage::Welcome { role, present });
                for o in others {
                    self.push(at, o, ServerMessage::Joined { id, role });
                }
                if !self.keeps_no_broadcasts {
                    for (from, payload) in self.kept.clone() {
                        self.deliver(at, from, id, from_idx, payload);
                    }
                }
            }
            ClientMessage::Send { to, payload } => {
                let Some(&(from, _, _)) = self.members.iter().find(|m| m.2 == from_idx) else {
                    return;
                };
                self.log.push((from, to, payload.clone()));
                if to.is_broadcast() {
                    self.kept.retain(|k| k.0 != from);
                    self.kept.push((from, payload.clone()));
                }
                let targets: Vec<(ParticipantId, usize)> = self
                    .members
                    .iter()
                    .filter(|m| m.0 != from && (to.is_broadcast() || m.0 == to))
                    .map(|m| (m.0, m.2))
                    .collect();
                for (tid, tidx) in targets {
                    self.deliver(at, from, tid, tidx, payload.clone());
                }
            }
            ClientMessage::Ping { nonce } => self.push(at, from_idx, ServerMessage::Pong { nonce }),
        }
    }

    fn leave(&mut self, idx: usize, now: u64, reason: LeftReason) {
        let Some(pos) = self.members.iter().position(|m| m.2 == idx) else {
            return;
        };
        let (id, _, _) = self.members.remove(pos);
        self.kept.retain(|k| k.0 != id);
        self.queue.retain(|q| q.2 != idx);
        let others: Vec<usize> = self.members.iter().map(|m| m.2).collect();
        for o in others {
            self.push(now + self.latency, o, ServerMessage::Left { id, reason });
        }
    }
}

pub struct Net {
    pub now: u64,
    pub nodes: Vec<Node>,
    pub relay: Relay,
}

fn fake_sdp(fp: u8, generation: u32, kind: &str) -> String {
    let digest: Vec<String> = (0..32)
        .map(|i| format!("{:02X}", fp.wrapping_add(i)))
        .collect();
    format!(
        "v=0\r\no=- {fp} {generation} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 {}\r\na=ice-ufrag:u{fp}g{generation}\r\na=x-kind:{kind}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        digest.join(":")
    )
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

impl Net {
    pub fn new() -> Self {
        Self {
            now: 1_700_000_000_000,
            nodes: Vec::new(),
            relay: Relay {
                latency: 5,
                ..Relay::default()
            },
        }
    }

    pub fn add(&mut self, n: u8, role: Role) -> usize {
        self.add_config(config(n, role, SECRET))
    }

    pub fn add_config(&mut self, cfg: Config) -> usize {
        let id = cfg.id;
        let token_role = Role::parse(std::str::from_utf8(&cfg.token).unwrap()).unwrap();
        self.nodes.push(Node {
            session: Session::new(cfg),
            id,
            token_role,
            online: false,
            events: Vec::new(),
            errors: Vec::new(),
            pcs: BTreeMap::new(),
            timer: None,
            auto_media: true,
            held: Vec::new(),
            fp: id.0[0].wrapping_mul(16),
            no_path: false,
            direct: Vec::new(),
            offload_keys: Vec::new(),
            opens: Vec::new(),
        });
        self.nodes.len() - 1
    }

    pub fn idx(&self, id: ParticipantId) -> usize {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .expect("unknown id")
    }

    pub fn connect(&mut self, i: usize) {
        self.nodes[i].online = true;
        let now = self.now;
        self.nodes[i]
            .session
            .handle_relay_connected(now)
            .expect("connect");
        self.flush(i);
    }

    /// Node `i`'s page is closed or reloaded: its socket closes (the relay tells the others
    /// `Left { Closed }`) and its session is gone, never to send anything again.
    pub fn close_tab(&mut self, i: usize) {
        let now = self.now;
        self.relay.leave(i, now, LeftReason::Closed);
        self.nodes[i].online = false;
        self.nodes[i].timer = None;
    }

    /// The relay drops node `i` from the room without telling anyone (a lying relay): its
    /// frames go nowhere from now on.
    pub fn relay_forget(&mut self, i: usize) {
        self.relay.members.retain(|m| m.2 != i);
        self.relay.queue.retain(|q| q.2 != i);
    }

    pub fn disconnect(&mut self, i: usize) {
        let now = self.now;
        self.relay.leave(i, now, LeftReason::Lost);
        self.nodes[i].online = false;
        self.nodes[i].session.handle_relay_disconnected(now);
        self.flush(i);
    }

    /// Delivers a relay message to node `i` right now, returning the session's verdict.
    pub fn inject(&mut self, i: usize, msg: &ServerMessage) -> Result<(), SessionError> {
        let now = self.now;
        let r = self.nodes[i]
            .session
            .handle_relay_message(&msg.encode(), now);
        self.flush(i);
        r
    }

    pub fn inject_frame(
        &mut self,
        i: usize,
        from: ParticipantId,
        payload: Vec<u8>,
    ) -> Result<(), SessionError> {
        self.inject(i, &ServerMessage::Deliver { from, payload })
    }

    /// Processes node `i`'s outputs until it has nothing more to say.
    pub fn flush(&mut self, i: usize) {
        let now = self.now;
        while let Some(out) = self.nodes[i].session.poll_output() {
            match out {
                Output::Transmit(bytes) => {
                    if self.nodes[i].online {
                        self.relay.on_client(i, &bytes, now);
                    }
                }
                Output::Timeout(t) => self.nodes[i].timer = Some(t),
                Output::Direct { peer, frame } => self.nodes[i].direct.push((peer, frame)),
                Output::OffloadKey {
                    peer,
                    key_id,
                    send,
                    key,
                } => {
                    self.nodes[i]
                        .offload_keys
                        .push((peer, key_id, send, *key.0));
                }
                Output::DirectSeal {
                    peer,
                    key_id,
                    aad,
                    nonce,
                    plaintext,
                } => {
                    // What a browser driver does with WebCrypto: the key must have come first.
                    let key = self.nodes[i]
                        .offloaded_key(peer, key_id, true)
                        .expect("DirectSeal before its OffloadKey");
                    let frame = aes_gcm_seal(&key, &nonce, &aad, &plaintext);
                    self.nodes[i].direct.push((peer, frame));
                }
                Output::DirectOpen {
                    peer,
                    key_id,
                    seq,
                    nonce,
                    frame,
                } => {
                    self.nodes[i].opens.push((peer, key_id, seq, nonce, frame));
                }
                Output::Event(e) => self.nodes[i].events.push(e),
                Output::Media { peer, request } => {
                    if self.nodes[i].auto_media {
                        self.media(i, peer, request);
                    } else {
                        self.nodes[i].held.push((peer, request));
                    }
                }
            }
        }
    }

    pub fn release_media(&mut self, i: usize) {
        let held = std::mem::take(&mut self.nodes[i].held);
        for (peer, req) in held {
            self.media(i, peer, req);
        }
        self.flush(i);
    }

    fn media(&mut self, i: usize, peer: ParticipantId, req: MediaRequest) {
        let now = self.now;
        let node = &mut self.nodes[i];
        let fp = node.fp;
        let pc = node.pcs.entry(peer).or_default();
        let mut describe = None;
        match req {
            MediaRequest::CreateOffer { ice_restart } => {
                pc.offers_created += 1;
                if ice_restart {
                    pc.ice_restarts += 1;
                    pc.generation += 1;
                    pc.connected = false;
                }
                describe = Some(SdpKind::Offer);
            }
            MediaRequest::CreateAnswer => {
                pc.answers_created += 1;
                describe = Some(SdpKind::Answer);
            }
            MediaRequest::SetRemoteDescription { kind, sdp } => {
                pc.remote = true;
                pc.remote_descriptions.push((kind, sdp));
            }
            MediaRequest::AddIceCandidate(_) => pc.remote_candidates += 1,
            MediaRequest::Rollback => {
                pc.rollbacks += 1;
                pc.local = None;
            }
            MediaRequest::Prepare => pc.prepared += 1,
            MediaRequest::ClosePeer => {
                pc.closed += 1;
                pc.local = None;
                pc.remote = false;
                pc.connected = false;
            }
        }
        if let Some(kind) = describe {
            pc.local = Some(kind);
            let sdp = fake_sdp(
                fp,
                pc.generation,
                if kind == SdpKind::Offer {
                    "offer"
                } else {
                    "answer"
                },
            );
            let cand = Candidate {
                candidate: format!(
                    "candidate:{fp} 1 udp 2122260223 127.0.0.1 {} typ host",
                    40000 + u32::from(fp)
                ),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            };
            if let Err(e) = node.session.handle_local_description(peer, kind, &sdp, now) {
                node.errors.push(e);
            }
            if node.session.peer(peer).is_some() {
                let _ = node.session.handle_local_candidate(peer, cand, now);
            }
        }
        let no_path = node.no_path;
        let pc = node.pcs.entry(peer).or_default();
        if pc.local.is_some() && pc.remote && pc.remote_candidates > 0 && !pc.connected && !no_path
        {
            pc.connected = true;
            let _ = node
                .session
                .handle_ice_state(peer, IceState::Connected, now);
        }
    }

    fn next_time(&self) -> Option<u64> {
        let q = self.relay.queue.iter().map(|q| q.0).min();
        let t = self.nodes.iter().filter_map(|n| n.timer).min();
        match (q, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances simulated time by up to `ms`, delivering messages and firing timers.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now + ms;
        for i in 0..self.nodes.len() {
            self.flush(i);
        }
        while let Some(t) = self.next_time() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            let now = self.now;
            // Deliver every due message, in order.
            loop {
                let due = self
                    .relay
                    .queue
                    .iter()
                    .enumerate()
                    .filter(|(_, q)| q.0 <= now)
                    .min_by_key(|(_, q)| (q.0, q.1))
                    .map(|(k, _)| k);
                let Some(k) = due else { break };
                let (_, _, to, bytes) = self.relay.queue.remove(k);
                if self.nodes[to].online {
                    if let Err(e) = self.nodes[to].session.handle_relay_message(&bytes, now) {
                        self.nodes[to].errors.push(e);
                    }
                    self.flush(to);
                }
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i].timer.is_some_and(|t| t <= now) {
                    self.nodes[i].timer = None;
                    self.nodes[i].session.handle_timeout(now);
                    self.flush(i);
                }
            }
        }
        self.now = end;
    }

    /// Connects the given nodes, clinicians admitting everyone who waits, and runs until
    /// the calls settle.
    pub fn admit_all(&mut self) {
        for c in 0..self.nodes.len() {
            if self.nodes[c].token_role != Role::Clinician {
                continue;
            }
            let waiting: Vec<ParticipantId> = self.nodes[c]
                .session
                .peers()
                .iter()
                .filter(|p| !p.in_call && p.name.is_some())
                .map(|p| p.id)
                .collect();
            for w in waiting {
                let now = self.now;
                self.nodes[c].session.admit(w, now).expect("admit");
                self.flush(c);
            }
        }
    }

    pub fn phase(&self, i: usize) -> Phase {
        self.nodes[i].session.phase()
    }

    /// Whether every pair among `idx` has a connected media path and equal SAS.
    pub fn all_connected(&self, idx: &[usize]) -> bool {
        idx.iter().all(|&a| {
            idx.iter().filter(|&&b| b != a).all(|&b| {
                let pa = self.nodes[a].session.peer(self.nodes[b].id);
                let pb = self.nodes[b].session.peer(self.nodes[a].id);
                match (pa, pb) {
                    (Some(pa), Some(pb)) => {
                        pa.connected && pb.connected && pa.sas.is_some() && pa.sas == pb.sas
                    }
                    _ => false,
                }
            })
        })
    }
}

/// A clinician (id 1) and a patient (id 2), connected, admitted and in a call.
pub fn two_party_call() -> Net {
    let mut net = Net::new();
    let c = net.add(1, Role::Clinician);
    let p = net.add(2, Role::Patient);
    net.connect(c);
    net.run_for(100);
    net.connect(p);
    net.run_for(500);
    net.admit_all();
    net.run_for(2_000);
    assert!(net.all_connected(&[c, p]), "two-party call did not connect");
    net
}

/// Everything observable about a session's state (for "no state change" assertions).
pub fn snapshot(s: &Session) -> String {
    format!(
        "{:?} {:?} {:?} {}",
        s.phase(),
        s.peers(),
        s.next_timeout(),
        s.is_relay_joined()
    )
}

/// Drains a node's pending outputs and returns those that are not security events or
/// timer updates (a rejected input must produce nothing else).
pub fn non_security_outputs(net: &mut Net, i: usize) -> Vec<Output> {
    let mut v = Vec::new();
    while let Some(o) = net.nodes[i].session.poll_output() {
        match o {
            Output::Event(Event::Security(_)) | Output::Timeout(_) => {}
            other => v.push(other),
        }
    }
    v
}

/// Reports an ICE state to node `i` for `peer`, keeping the fake connection in step.
pub fn report_ice(net: &mut Net, i: usize, peer: ParticipantId, state: IceState) {
    let now = net.now;
    net.nodes[i].pcs.entry(peer).or_default().connected = state == IceState::Connected;
    net.nodes[i]
        .session
        .handle_ice_state(peer, state, now)
        .expect("ice state");
    net.flush(i);
}

/// Sealed frames logged from `from` to `to` of header kind `kind`.
pub fn frames(net: &Net, from: ParticipantId, to: ParticipantId, kind: u8) -> Vec<Vec<u8>> {
    net.relay
        .log
        .iter()
        .filter(|(f, t, p)| *f == from && *t == to && p.get(1) == Some(&kind))
        .map(|(_, _, p)| p.clone())
        .collect()
}

/// `aad || AES-256-GCM(key, nonce, aad, plaintext)`: a driver's own sealing of an offloaded
/// frame (the same crate here, WebCrypto in a browser).
pub fn aes_gcm_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    let ct = cipher
        .encrypt(
            aes_gcm::Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("encrypt");
    [aad, &ct].concat()
}

/// A driver's own opening of an offloaded frame: its body, or `None` when the tag fails.
pub fn aes_gcm_open(key: &[u8; 32], nonce: &[u8; 12], frame: &[u8]) -> Option<Vec<u8>> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    let (aad, ct) = frame.split_at(teleconsult::crypto::HEADER_LEN.min(frame.len()));
    cipher
        .decrypt(aes_gcm::Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

/// Carries every envelope the nodes put on their direct paths to its recipient (as that
/// recipient's driver would hand it from the data channel) and does every decryption a
/// node's session asked its driver for (bulk crypto offload), until nothing moves. `keep`
/// decides, per envelope, whether the channel delivers it; `tamper` may change a frame before
/// it is decrypted. Returns the sessions' verdicts that were errors.
pub fn carry_direct(
    net: &mut Net,
    mut keep: impl FnMut(&[u8]) -> bool,
    tamper: impl Fn(&mut Vec<u8>),
) -> Vec<SessionError> {
    let mut errors = Vec::new();
    loop {
        let mut moved = false;
        for i in 0..net.nodes.len() {
            let from = net.nodes[i].id;
            for (to, frame) in std::mem::take(&mut net.nodes[i].direct) {
                moved = true;
                if !keep(&frame) {
                    continue;
                }
                let j = net.idx(to);
                let now = net.now;
                errors.extend(
                    net.nodes[j]
                        .session
                        .handle_direct_frame(from, &frame, now)
                        .err(),
                );
                net.flush(j);
            }
            for (peer, key_id, seq, nonce, mut frame) in std::mem::take(&mut net.nodes[i].opens) {
                moved = true;
                tamper(&mut frame);
                errors.extend(report_open(net, i, (peer, key_id, seq, nonce, frame)).err());
            }
        }
        if !moved {
            return errors;
        }
    }
}

/// Node `i`'s driver decrypts one frame its session asked it to and reports the outcome.
pub fn report_open(net: &mut Net, i: usize, open: DirectOpen) -> Result<(), SessionError> {
    let (peer, key_id, seq, nonce, frame) = open;
    let key = net.nodes[i]
        .offloaded_key(peer, key_id, false)
        .expect("DirectOpen before its OffloadKey");
    let now = net.now;
    let r = match aes_gcm_open(&key, &nonce, &frame) {
        Some(body) => net.nodes[i]
            .session
            .handle_direct_opened(peer, key_id, seq, &body, now),
        None => net.nodes[i]
            .session
            .handle_direct_open_failed(peer, key_id, seq, now),
    };
    net.flush(i);
    r
}
