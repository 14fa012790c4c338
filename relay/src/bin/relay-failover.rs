//! relay-failover: kill -9 one relay node in the middle of many calls; measure how long each
//! call takes to resume on another node, and count lost and duplicated control messages.
//!
//! Starts a `nats-server` on loopback and K relay nodes (this executable re-run with
//! `RELAY_FAILOVER_ROLE=node`, separate processes). Each simulated participant is the SDK's
//! own sans-IO [`Session`] (join, sealed handshake, waiting room and admission, negotiation
//! with a fake media engine, resume after a drop, reliable application data), driven over a
//! real WebSocket with the relay wire protocol, and it picks its relay with the SDK's own
//! failover policy ([`Failover`], [`Backoff`]) over a list of the K node URLs. Call i puts its
//! clinician first on node i mod K and its patient on node (i + i/K) mod K, so calls sit on
//! one node or across two.
//!
//! Once every call is established (admitted, keys agreed, media connected), each participant
//! sends its peer one numbered control message (application data: sequence number and send
//! time) every RELAY_FAILOVER_INTERVAL_MS. After 2 s, node 0 gets SIGKILL. A call is
//! *affected* when one of its participants was connected to node 0; it has *recovered* when
//! each side received a message that its peer sent after the kill (so both sides resumed
//! and the sealed channel works both ways again). Sending stops 2 s after the last affected
//! call recovered (or after RELAY_FAILOVER_RECOVERY_S), and every message gets 3 s more to
//! arrive.
//!
//! Prints one line:
//! `relay-failover: calls=<n> nodes=<k> affected=<calls> recovered=<calls> p50_ms=<x>
//! p99_ms=<x> max_ms=<x> sent=<msgs> lost=<msgs> duplicated=<msgs> undelivered=<msgs>
//! readmissions=<n> ended=<participants> setup_s=<x>`: lost = sent and neither delivered nor
//! reported undelivered (`AppDataUndelivered`, which tells the app); duplicated = delivered
//! more than once; readmissions = admission requests after the first one of each patient.
//! Knobs (env): RELAY_FAILOVER_CALLS (1000), RELAY_FAILOVER_NODES (3),
//! RELAY_FAILOVER_INTERVAL_MS (100), RELAY_FAILOVER_RECOVERY_S (30), RELAY_FAILOVER_DEADLINE
//! (120 s: the whole run is killed after it).
//!
//! Panics: it reads only its own knobs and frames from the relays, generators and nats-server
//! it started on loopback; there is no outside input. Where set-up or one of those processes
//! fails (a port, a pipe, a child, a malformed frame from our own relay), the run aborts with
//! a panic naming what failed: a benchmark cannot go on without it, and a half-run would print
//! misleading figures.
//!
//! Run: `cargo run --profile relay -p teleconsult-relay --bin relay-failover` (needs the
//! Debian package nats-server).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: failing loudly is right

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use teleconsult::crypto::{Authority, RoleSigningKey, RoomId, RoomSecret};
use teleconsult::reconnect::{AfterClose, Backoff, Failover};
use teleconsult::signaling::relay_wire::{ParticipantId, Role};
use teleconsult::signaling::{
    Candidate, Config, Event, IceState, MediaRequest, Output, Redacted, SdpKind, Session, Timeouts,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

mod support;

/// Why a panic here is not a bug: the benchmark talks only to processes it started on
/// loopback (no outside input), and cannot go on without the operation that failed.
const ABORT: &str =
    "benchmark aborted: a loopback socket, pipe, child process or fixed-layout frame failed";
use support::{Proc, env_num, ws_frame};

const SECRET: &str = "relay-failover-secret-0123456789abcdef";

fn main() {
    match std::env::var("RELAY_FAILOVER_ROLE").as_deref() {
        Ok("node") => run_node(),
        _ => run_coordinator(),
    }
}

// ---------------------------------------------------------------- relay node

fn run_node() {
    let nats = std::env::var("RELAY_FAILOVER_NATS").expect("RELAY_FAILOVER_NATS");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect(ABORT);
    rt.block_on(async {
        let config = teleconsult_relay::Config {
            listen: "127.0.0.1:0".parse().expect(ABORT),
            token_secret: Some(SECRET.as_bytes().to_vec()),
            nats: Some(nats),
            max_connections: 15_000,
            max_rooms: 100_000,
            handshake_timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let relay = teleconsult_relay::start(config).await.expect(ABORT);
        println!("listening {}", relay.local_addr());
        std::io::stdout().flush().expect(ABORT);
        let mut stdin = tokio::io::stdin();
        let mut b = [0u8; 16];
        while !matches!(stdin.read(&mut b).await, Ok(0) | Err(_)) {}
        relay.shutdown().await;
    });
    rt.shutdown_timeout(Duration::from_millis(100));
}

// ---------------------------------------------------------------- one participant

/// The run's phases, broadcast to every participant.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Phase {
    Setup,
    Sending,
    Draining,
    Done,
}

struct Shared {
    base: Instant,
    epoch_ms: u64,
    /// `now` of the kill, 0 before it.
    kill_at: AtomicU64,
    joined: AtomicUsize,
    established: AtomicUsize,
    /// Participants that received a message their peer sent after the kill.
    recovered: AtomicUsize,
}

impl Shared {
    fn now(&self) -> u64 {
        self.epoch_ms + self.base.elapsed().as_millis() as u64
    }
}

/// What one participant saw.
#[derive(Default)]
struct Report {
    sent: u32,
    /// Sequence number → times delivered, of the peer's messages.
    received: BTreeMap<u32, u32>,
    undelivered: usize,
    admissions: u32,
    ended: bool,
    /// Connected to the killed node when it died.
    affected: bool,
    /// When the first message the peer sent after the kill arrived.
    first_after_kill: Option<u64>,
}

struct Participant {
    session: Session,
    peer: ParticipantId,
    fp: u8,
    pc_local: bool,
    pc_remote: bool,
    pc_candidates: u32,
    pc_connected: bool,
    timer: Option<u64>,
    stalled: bool,
    report: Report,
    established: bool,
}

fn fake_sdp(fp: u8, kind: &str) -> String {
    let digest: Vec<String> = (0..32)
        .map(|i| format!("{:02X}", fp.wrapping_add(i)))
        .collect();
    format!(
        "v=0\r\no=- {fp} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 {}\r\na=ice-ufrag:u{fp}\r\na=x-kind:{kind}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
        digest.join(":")
    )
}

impl Participant {
    /// Carries out the session's outputs; returns the frames to send.
    fn drain(&mut self, shared: &Shared, out: &mut Vec<Vec<u8>>) {
        while let Some(o) = self.session.poll_output() {
            let now = shared.now();
            match o {
                Output::Transmit(bytes) => out.push(bytes),
                Output::Timeout(at) => self.timer = Some(at),
                // No direct path is ever reported here (so nothing is offloaded either).
                Output::Direct { .. }
                | Output::OffloadKey { .. }
                | Output::DirectSeal { .. }
                | Output::DirectOpen { .. } => {}
                Output::Media { peer, request } => self.media(peer, request, now),
                Output::Event(e) => match e {
                    Event::AdmissionRequested { peer, .. } => {
                        self.report.admissions += 1;
                        let _ = self.session.admit(peer, now);
                    }
                    Event::AppData { data, .. } if data.len() == 12 => {
                        let seq = u32::from_be_bytes(data[..4].try_into().expect(ABORT));
                        let sent = u64::from_be_bytes(data[4..].try_into().expect(ABORT));
                        *self.report.received.entry(seq).or_default() += 1;
                        let kill = shared.kill_at.load(Relaxed);
                        if kill != 0 && sent >= kill && self.report.first_after_kill.is_none() {
                            self.report.first_after_kill = Some(now);
                            shared.recovered.fetch_add(1, Relaxed);
                        }
                    }
                    Event::AppDataUndelivered { count, .. } => self.report.undelivered += count,
                    Event::RelayStalled => self.stalled = true,
                    Event::Closed(_) => self.report.ended = true,
                    _ => {}
                },
            }
        }
        if !self.established
            && self
                .session
                .peer(self.peer)
                .is_some_and(|p| p.in_call && p.secured && p.connected)
        {
            self.established = true;
            shared.established.fetch_add(1, Relaxed);
        }
    }

    /// A fake media engine: offers and answers are made at once, ICE connects as soon as a
    /// description each way and a candidate arrived.
    fn media(&mut self, peer: ParticipantId, request: MediaRequest, now: u64) {
        let mut describe = None;
        match request {
            MediaRequest::CreateOffer { ice_restart } => {
                if ice_restart {
                    self.pc_connected = false;
                }
                describe = Some(SdpKind::Offer);
            }
            MediaRequest::CreateAnswer => describe = Some(SdpKind::Answer),
            MediaRequest::SetRemoteDescription { .. } => self.pc_remote = true,
            MediaRequest::AddIceCandidate(_) => self.pc_candidates += 1,
            MediaRequest::Rollback => self.pc_local = false,
            MediaRequest::Prepare => {}
            MediaRequest::ClosePeer => {
                self.pc_local = false;
                self.pc_remote = false;
                self.pc_connected = false;
            }
        }
        if let Some(kind) = describe {
            self.pc_local = true;
            let name = if kind == SdpKind::Offer {
                "offer"
            } else {
                "answer"
            };
            let _ =
                self.session
                    .handle_local_description(peer, kind, &fake_sdp(self.fp, name), now);
            let cand = Candidate {
                candidate: format!(
                    "candidate:{} 1 udp 2122260223 127.0.0.1 {} typ host",
                    self.fp,
                    40000 + u32::from(self.fp)
                ),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            };
            let _ = self.session.handle_local_candidate(peer, cand, now);
        }
        if self.pc_local && self.pc_remote && self.pc_candidates > 0 && !self.pc_connected {
            self.pc_connected = true;
            let _ = self
                .session
                .handle_ice_state(peer, IceState::Connected, now);
        }
    }
}

enum Msg {
    Binary(Vec<u8>),
    Close(u16),
    Other,
}

/// Complete server messages at the front of `buf` (unmasked frames), removed from it.
fn parse(buf: &mut Vec<u8>) -> Vec<Msg> {
    let mut msgs = Vec::new();
    let mut pos = 0;
    loop {
        let b = &buf[pos..];
        if b.len() < 2 {
            break;
        }
        let (len, hdr) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (usize::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (
                u64::from_be_bytes(b[2..10].try_into().expect(ABORT)) as usize,
                10,
            ),
            126 | 127 => break,
            l => (usize::from(l), 2),
        };
        if b.len() < hdr + len {
            break;
        }
        let body = &b[hdr..hdr + len];
        msgs.push(match b[0] & 0x0f {
            2 => Msg::Binary(body.to_vec()),
            8 => Msg::Close(if body.len() >= 2 {
                u16::from_be_bytes([body[0], body[1]])
            } else {
                1005
            }),
            _ => Msg::Other,
        });
        pos += hdr + len;
    }
    buf.drain(..pos);
    msgs
}

async fn ws_connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(std::io::Error::other("upgrade refused"));
    }
    Ok(s)
}

/// Runs one participant until the run is over; `urls` in the order of its list.
async fn participant(
    mut p: Participant,
    urls: Vec<SocketAddr>,
    killed: SocketAddr,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
    rng_seed: u64,
) -> Report {
    let mut failover = Failover::new(urls.len());
    let mut backoff = Backoff::default();
    let mut rng = rng_seed;
    let mut random = move || {
        // xorshift64*: jitter only.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    };
    let mut seq = 0u32;
    let mut counted_join = false;
    let mut tick = tokio::time::interval(Duration::from_millis(env_num(
        "RELAY_FAILOVER_INTERVAL_MS",
        100,
    ) as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    'connections: loop {
        if *phase.borrow() == Phase::Done || p.report.ended {
            break;
        }
        let addr = urls[failover.current()];
        let mut out = Vec::new();
        let (code, was_joined) = match ws_connect(addr).await {
            Err(_) => (1006, false),
            Ok(stream) => {
                let (mut rd, mut wr) = stream.into_split();
                let _ = p.session.handle_relay_connected(shared.now());
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = vec![0u8; 16384];
                let code = loop {
                    p.drain(&shared, &mut out);
                    if p.session.is_relay_joined() {
                        if !counted_join {
                            counted_join = true;
                            shared.joined.fetch_add(1, Relaxed);
                        }
                        failover.handle_joined();
                        backoff.reset();
                    }
                    let mut failed = false;
                    for f in out.drain(..) {
                        failed |= wr.write_all(&ws_frame(&f)).await.is_err();
                    }
                    if failed || std::mem::take(&mut p.stalled) {
                        break 1006;
                    }
                    let timer = p.timer.map(|at| {
                        tokio::time::Instant::now()
                            + Duration::from_millis(at.saturating_sub(shared.now()))
                    });
                    let sleep = tokio::time::sleep_until(timer.unwrap_or_else(|| {
                        tokio::time::Instant::now() + Duration::from_secs(3600)
                    }));
                    tokio::select! {
                        biased;
                        n = rd.read(&mut chunk) => match n {
                            Ok(0) | Err(_) => break 1006,
                            Ok(n) => {
                                buf.extend_from_slice(&chunk[..n]);
                                let mut closed = None;
                                for m in parse(&mut buf) {
                                    match m {
                                        Msg::Binary(b) => {
                                            let _ = p.session.handle_relay_message(&b, shared.now());
                                        }
                                        Msg::Close(c) => closed = Some(c),
                                        Msg::Other => {}
                                    }
                                }
                                if let Some(c) = closed {
                                    break c;
                                }
                            }
                        },
                        _ = sleep, if timer.is_some() => {
                            p.timer = None;
                            p.session.handle_timeout(shared.now());
                        }
                        _ = tick.tick() => {
                            if *phase.borrow() == Phase::Sending && p.established {
                                send_one(&mut p, &mut seq, &shared);
                            }
                        }
                        _ = phase.changed() => {
                            if *phase.borrow() == Phase::Done {
                                break 1000;
                            }
                        }
                    }
                };
                if shared.kill_at.load(Relaxed) != 0 && addr == killed && !p.report.affected {
                    p.report.affected = true;
                }
                (code, p.session.is_relay_joined())
            }
        };
        p.session.handle_relay_disconnected(shared.now());
        p.drain(&shared, &mut out);
        if *phase.borrow() == Phase::Done {
            break;
        }
        match failover.handle_closed(code, was_joined) {
            AfterClose::GiveUp => {
                p.report.ended = true;
                break 'connections;
            }
            AfterClose::Retry => {
                let delay = backoff.next_delay_ms(random());
                // Keep the app sending while the relay is away: the session queues it.
                let until = tokio::time::Instant::now() + Duration::from_millis(delay);
                loop {
                    let timer = p.timer.map(|at| {
                        tokio::time::Instant::now()
                            + Duration::from_millis(at.saturating_sub(shared.now()))
                    });
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => break,
                        _ = tokio::time::sleep_until(timer.unwrap_or(until)), if timer.is_some() => {
                            p.timer = None;
                            p.session.handle_timeout(shared.now());
                            p.drain(&shared, &mut out);
                            out.clear();
                        }
                        _ = tick.tick() => {
                            if *phase.borrow() == Phase::Sending && p.established {
                                send_one(&mut p, &mut seq, &shared);
                                p.drain(&shared, &mut out);
                                out.clear();
                            }
                        }
                    }
                }
            }
        }
    }
    p.report.sent = seq;
    p.report
}

fn send_one(p: &mut Participant, seq: &mut u32, shared: &Shared) {
    let now = shared.now();
    let mut data = Vec::with_capacity(12);
    data.extend_from_slice(&seq.to_be_bytes());
    data.extend_from_slice(&now.to_be_bytes());
    if p.session.send_app_data(p.peer, &data, now).is_ok() {
        *seq += 1;
    }
}

// ---------------------------------------------------------------- coordinator

fn mint(room: &str, role: &str) -> Vec<u8> {
    teleconsult_relay::server::mint_token(
        SECRET.as_bytes(),
        room,
        role,
        Duration::from_secs(3600),
        Duration::from_secs(3600),
        None,
        false,
    )
    .expect(ABORT)
    .0
    .into_bytes()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64
}

fn run_coordinator() {
    let calls = env_num("RELAY_FAILOVER_CALLS", 1000).max(1);
    let k = env_num("RELAY_FAILOVER_NODES", 3).max(2);
    let recovery_s = env_num("RELAY_FAILOVER_RECOVERY_S", 30) as u64;
    let deadline = env_num("RELAY_FAILOVER_DEADLINE", 120) as u64;
    let nats = support::start_nats_with_deadline("relay-failover", deadline, false);
    let url = nats.url.clone();
    let exe = std::env::current_exe().expect(ABORT);
    let mut nodes: Vec<Proc> = (0..k)
        .map(|_| {
            let mut c = Command::new(&exe);
            c.env("RELAY_FAILOVER_ROLE", "node")
                .env("RELAY_FAILOVER_NATS", &url)
                .env("TELECONSULT_RELAY_LOG", "error");
            Proc::spawn(c)
        })
        .collect();
    let addrs: Vec<SocketAddr> = nodes
        .iter_mut()
        .map(|n| {
            n.line()
                .strip_prefix("listening ")
                .expect(ABORT)
                .parse()
                .expect(ABORT)
        })
        .collect();
    // Let every node hear every other's heartbeat before the first join.
    std::thread::sleep(Duration::from_millis(1200));
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect(ABORT);
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect(ABORT);
    let seed = u64::from_le_bytes(seed) | 1;
    let epoch_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect(ABORT)
        .as_millis() as u64;
    let shared = Arc::new(Shared {
        base: Instant::now(),
        epoch_ms,
        kill_at: AtomicU64::new(0),
        joined: AtomicUsize::new(0),
        established: AtomicUsize::new(0),
        recovered: AtomicUsize::new(0),
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);
    let setup = Instant::now();
    let line = rt.block_on(async {
        let killed = addrs[0];
        let mut handles = Vec::new();
        // Clinicians first (a room opens with its clinician), then the patients.
        for (side, role) in [(0usize, Role::Clinician), (1, Role::Patient)] {
            for i in 0..calls {
                let room = RoomId({
                    let mut r = [0u8; 16];
                    r[..8].copy_from_slice(&(i as u64).to_be_bytes());
                    r[8..].copy_from_slice(&seed.to_be_bytes());
                    r
                });
                let room_name = format!("failover-{seed:x}-{i}");
                let clinician_seed = [0xc1 ^ (i as u8); 32];
                let patient_seed = [0xa7 ^ (i as u8); 32];
                let authority = Authority {
                    clinician: RoleSigningKey::from_seed(&clinician_seed).public(),
                    patient: RoleSigningKey::from_seed(&patient_seed).public(),
                    signing: Some(RoleSigningKey::from_seed(if side == 0 {
                        &clinician_seed
                    } else {
                        &patient_seed
                    })),
                };
                let id = |s: usize| ParticipantId(((2 * i + s + 1) as u64 | 1 << 62).to_be_bytes());
                let fp = (2 * i + side) as u8;
                let mut entropy = [0u8; 32];
                getrandom::fill(&mut entropy).expect(ABORT);
                let session = Session::new(Config {
                    room,
                    secret: RoomSecret::from_bytes(secret_for(i, seed)),
                    id: id(side),
                    role,
                    display_name: Redacted::new(format!("p{i}-{side}")),
                    token: mint(&room_name, role.as_str()).into(),
                    entropy,
                    capabilities: 0,
                    timeouts: Timeouts::default(),
                    authority,
                    certificate: ("sha-256".into(), (0..32).map(|j| fp.wrapping_add(j)).collect()),
                });
                let p = Participant {
                    session,
                    peer: id(1 - side),
                    fp,
                    pc_local: false,
                    pc_remote: false,
                    pc_candidates: 0,
                    pc_connected: false,
                    timer: None,
                    stalled: false,
                    report: Report::default(),
                    established: false,
                };
                let start = if side == 0 { i % k } else { (i + i / k) % k };
                let urls: Vec<SocketAddr> = (0..k).map(|j| addrs[(start + j) % k]).collect();
                handles.push(tokio::spawn(participant(
                    p,
                    urls,
                    killed,
                    shared.clone(),
                    phase_rx.clone(),
                    seed.wrapping_mul(2 * i as u64 + side as u64 + 1) | 1,
                )));
            }
            let want = (side + 1) * calls;
            while shared.joined.load(Relaxed) < want {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        while shared.established.load(Relaxed) < 2 * calls {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let setup_s = setup.elapsed().as_secs_f64();
        phase_tx.send(Phase::Sending).expect(ABORT);
        tokio::time::sleep(Duration::from_secs(2)).await;
        shared.kill_at.store(shared.now(), Relaxed);
        nodes[0].child.kill().expect(ABORT); // SIGKILL
        let _ = nodes[0].child.wait();
        // Until every participant heard from its peer after the kill (bounded), then 2 s more.
        let give_up = tokio::time::Instant::now() + Duration::from_secs(recovery_s);
        while shared.recovered.load(Relaxed) < 2 * calls && tokio::time::Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        phase_tx.send(Phase::Draining).expect(ABORT);
        tokio::time::sleep(Duration::from_secs(3)).await;
        phase_tx.send(Phase::Done).expect(ABORT);
        let mut reports = Vec::new();
        for h in handles {
            reports.push(h.await.expect(ABORT));
        }
        let kill = shared.kill_at.load(Relaxed);
        let (clinicians, patients) = reports.split_at(calls);
        let (mut affected, mut recovered, mut times) = (0usize, 0usize, Vec::new());
        let (mut sent, mut lost, mut dup, mut undelivered, mut readmit, mut ended) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0usize);
        for (c, p) in clinicians.iter().zip(patients) {
            for (from, to) in [(c, p), (p, c)] {
                sent += u64::from(from.sent);
                dup += to.received.values().map(|n| u64::from(n - 1)).sum::<u64>();
                // Raised on the sending side: its session gave up on these and told the app.
                undelivered += from.undelivered as u64;
                for s in 0..from.sent {
                    if !to.received.contains_key(&s) {
                        lost += 1;
                    }
                }
            }
            readmit += u64::from(c.admissions.saturating_sub(1));
            ended += usize::from(c.ended) + usize::from(p.ended);
            if c.affected || p.affected {
                affected += 1;
                if let (Some(a), Some(b)) = (c.first_after_kill, p.first_after_kill) {
                    recovered += 1;
                    times.push(a.max(b) - kill);
                }
            }
        }
        let lost = lost.saturating_sub(undelivered);
        times.sort_unstable();
        format!(
            "relay-failover: calls={calls} nodes={k} affected={affected} recovered={recovered} p50_ms={:.0} p99_ms={:.0} max_ms={} sent={sent} lost={lost} duplicated={dup} undelivered={undelivered} readmissions={readmit} ended={ended} setup_s={setup_s:.1}",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(0),
        )
    });
    println!("{line}");
    std::io::stdout().flush().expect(ABORT);
    rt.shutdown_timeout(Duration::from_millis(200));
    drop(nodes);
    drop(nats);
}

/// Both participants of call `i` share its room secret.
fn secret_for(i: usize, seed: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&(i as u64).to_be_bytes());
    s[8..16].copy_from_slice(&seed.to_be_bytes());
    s[16] = 0x5e;
    s
}
