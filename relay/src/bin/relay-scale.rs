//! relay-scale: many WebSocket connections across a NATS cluster of relay nodes.
//!
//! Starts a `nats-server` on loopback, K relay nodes (this executable re-run with
//! `RELAY_SCALE_ROLE=node`, each its own process with its own descriptor limit) and K
//! load generators (`RELAY_SCALE_ROLE=gen`). Generator g holds the pairs whose clinician
//! sits on node g and whose patient sits on node g+1 (mod K), so every frame crosses nodes
//! through NATS, and both ends of a pair live in one process (one clock for the latency).
//! Every client socket binds a loopback source address of its own (127.<10+g>.x.y), so
//! ephemeral ports never run short and `bind` never searches a crowded port range. After
//! all joined: relay RSS per connection; then a fixed total rate split over all pairs (both
//! directions) for RELAY_SCALE_SECS after 1 s of warm-up, with cross-node latency from a
//! timestamp in each payload, and CPU time from /proc.
//!
//! Children (nodes, generators, nats-server) run under the real-time round-robin policy
//! (`chrt -r 1`) when allowed, so that on a machine shared with builds the run measures the
//! relay and not the builds' time slices (RELAY_SCALE_RT=0 turns it off; `rt=` in the line
//! says which). nats-server gets `GOGC=800` unless GOGC is set (see `support`).
//!
//! Prints one line:
//! `relay-scale: connections=<n> nodes=<k> rate=<frames/s> carried=<frames/s> p50_ms=<x>
//! p99_ms=<x> p999_ms=<x> max_ms=<x> mem_per_conn_kb=<x> cpu_per_node_pct=<a/b/…>
//! cpu_gens_pct=<x> cpu_nats_pct=<x> cpu_machine_pct=<x> load=<before>-><after> rt=<0|1>
//! setup_s=<x> secs=<x> late_or_lost=<frames> join_retries=<n> upgrade_retries=<n>`.
//! Latencies: 10 µs buckets up to 1 s (1000.01 means ≥ 1 s). CPU in % of one core over the
//! measured run: each node, all generators, nats-server, the whole machine (200 = both cores
//! busy); load = /proc/loadavg (1 min) before and after. late_or_lost: frames sent in the
//! measured window and not delivered within 500 ms after it; join_retries: joins refused
//! with 4007 (a node's 300 ms room sync missed the clinician's node) and retried;
//! upgrade_retries: connections or upgrades that failed (a node starved of CPU closes a
//! connection at its HTTP-phase deadline) and were retried.
//! Knobs (env): RELAY_SCALE_CONNECTIONS (10000), RELAY_SCALE_NODES (4), RELAY_SCALE_RATE
//! (20000 frames/s in total), RELAY_SCALE_SECS (10), RELAY_SCALE_DEADLINE (300 s: the
//! whole run is killed after it), RELAY_SCALE_RT (1), RELAY_SCALE_SAME_NODE (0; 1 puts both
//! ends of every pair on one node: no NATS hop, for comparison).
//!
//! Panics: it reads only its own knobs and frames from the relays, generators and nats-server
//! it started on loopback; there is no outside input. Where set-up or one of those processes
//! fails (a port, a pipe, a child, a malformed frame from our own relay), the run aborts with
//! a panic naming what failed: a benchmark cannot go on without it, and a half-run would print
//! misleading figures.
//!
//! Run: `cargo run --profile relay -p teleconsult-relay --bin relay-scale` (needs the
//! Debian package nats-server). 100,000 connections: `RELAY_SCALE_CONNECTIONS=100000
//! RELAY_SCALE_NODES=6` (each process stays under the 20,000-descriptor limit); `cargo
//! xtask bench` runs that.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: failing loudly is right

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use teleconsult::signaling::relay_wire::{ClientMessage, ParticipantId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;

mod support;

/// Why a panic here is not a bug: the benchmark talks only to processes it started on
/// loopback (no outside input), and cannot go on without the operation that failed.
const ABORT: &str =
    "benchmark aborted: a loopback socket, pipe, child process or fixed-layout frame failed";
use support::{Proc, env_num, ws_frame};

const SECRET: &str = "relay-scale-secret-0123456789abcdef";
const PAYLOAD: usize = 64;
/// Latency histogram: 10 µs buckets up to 1 s (the last bucket holds everything slower).
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 100_000;

fn main() {
    match std::env::var("RELAY_SCALE_ROLE").as_deref() {
        Ok("node") => run_node(),
        Ok("gen") => run_gen(),
        _ => run_coordinator(),
    }
}

// ---------------------------------------------------------------- relay node

fn run_node() {
    let nats = std::env::var("RELAY_SCALE_NATS").expect("RELAY_SCALE_NATS");
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
            max_connections: 30_000,
            max_rooms: 100_000,
            idle_timeout: Duration::from_secs(900),
            heartbeat: Duration::from_secs(900),
            handshake_timeout: Duration::from_secs(120),
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

// ---------------------------------------------------------------- load generator

struct Stats {
    joined: AtomicU64,
    delivered: AtomicU64,
    retries: AtomicU64,
    upgrade_retries: AtomicU64,
    record: AtomicBool,
    hist: Vec<AtomicU64>,
    base: Instant,
}

impl Stats {
    fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }
}

fn pid(n: usize) -> ParticipantId {
    ParticipantId((n as u64 + 1).to_be_bytes())
}

/// Reads one connection: the Welcome, then Deliver frames (latency from their timestamp).
async fn reader(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    stats: Arc<Stats>,
    welcomed: tokio::sync::oneshot::Sender<Result<(), u16>>,
) {
    let mut welcomed = Some(welcomed);
    let mut buf = vec![0u8; 2048];
    let mut have = 0usize;
    loop {
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match rd.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        have += n;
        let mut pos = 0;
        loop {
            let b = &buf[pos..have];
            if b.len() < 2 {
                break;
            }
            let (len, hdr) = match b[1] & 0x7f {
                126 if b.len() >= 4 => (usize::from(u16::from_be_bytes([b[2], b[3]])), 4),
                126 | 127 => break,
                l => (usize::from(l), 2),
            };
            if b.len() < hdr + len {
                break;
            }
            let msg = &b[hdr..hdr + len];
            match (b[0] & 0x0f, msg.first()) {
                (2, Some(0x82)) if msg.len() >= 17 => {
                    stats.delivered.fetch_add(1, Relaxed);
                    if stats.record.load(Relaxed) {
                        let sent = u64::from_be_bytes(msg[9..17].try_into().expect(ABORT));
                        let us = stats.now_us().saturating_sub(sent);
                        let i = ((us / BUCKET_US) as usize).min(BUCKETS);
                        stats.hist[i].fetch_add(1, Relaxed);
                    }
                }
                (2, Some(0x81)) => {
                    if let Some(w) = welcomed.take() {
                        let _ = w.send(Ok(()));
                    }
                }
                (2, Some(0x86)) if msg.len() >= 3 => {
                    if let Some(w) = welcomed.take() {
                        let _ = w.send(Err(u16::from_be_bytes([msg[1], msg[2]])));
                    }
                }
                _ => {}
            }
            pos += hdr + len;
        }
        buf.copy_within(pos..have, 0);
        have -= pos;
        if buf.len() > 2048 && have < 1024 {
            buf.truncate(2048);
            buf.shrink_to_fit();
        }
    }
}

/// Not a close code: the TCP connection or the WebSocket upgrade failed (e.g. a node starved
/// of CPU closed the connection at its HTTP-phase deadline).
const UPGRADE_FAILED: u16 = 0;

/// Connects and joins; a join refused with 4007 (the node's room sync missed the
/// clinician, e.g. on an overloaded machine) is retried like the SDK does, and so is a
/// failed connection or upgrade (counted apart).
async fn connect(
    src: std::net::IpAddr,
    addr: SocketAddr,
    id: ParticipantId,
    token: String,
    stats: Arc<Stats>,
) -> OwnedWriteHalf {
    for _ in 0..50 {
        match try_connect(src, addr, id, token.clone(), stats.clone()).await {
            Ok(w) => {
                stats.joined.fetch_add(1, Relaxed);
                return w;
            }
            Err(4007) => {
                stats.retries.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(UPGRADE_FAILED) => {
                stats.upgrade_retries.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(code) => panic!("join refused with {code}"),
        }
    }
    panic!("join refused with 4007, or the upgrade failed, fifty times");
}

async fn try_connect(
    src: std::net::IpAddr,
    addr: SocketAddr,
    id: ParticipantId,
    token: String,
    stats: Arc<Stats>,
) -> Result<OwnedWriteHalf, u16> {
    let sock = tokio::net::TcpSocket::new_v4().expect(ABORT);
    sock.bind(SocketAddr::new(src, 0))
        .expect("bind source address");
    let mut s = sock.connect(addr).await.map_err(|_| UPGRADE_FAILED)?;
    s.set_nodelay(true).expect(ABORT);
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|_| UPGRADE_FAILED)?;
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.map_err(|_| UPGRADE_FAILED)?;
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "upgrade refused: {}",
        String::from_utf8_lossy(&head)
    );
    let (rd, mut wr) = s.into_split();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(reader(rd, stats, tx));
    let join = ClientMessage::Join {
        id,
        token: token.into_bytes(),
    }
    .encode();
    wr.write_all(&ws_frame(&join)).await.expect(ABORT);
    tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("welcome timeout")
        .expect("connection closed before the welcome")?;
    Ok(wr)
}

fn mint(room: &str, role: &str) -> String {
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
}

fn run_gen() {
    let g = env_num("RELAY_SCALE_GEN", 0);
    let pairs = env_num("RELAY_SCALE_PAIRS", 1);
    let rate = env_num("RELAY_SCALE_GEN_RATE", 1000) as f64;
    let secs = env_num("RELAY_SCALE_SECS", 10) as u64;
    let nodes: Vec<SocketAddr> = std::env::var("RELAY_SCALE_NODE_ADDRS")
        .expect(ABORT)
        .split(',')
        .map(|a| a.parse().expect(ABORT))
        .collect();
    // A source address of its own for every connection (127.<10+g>.<i/250>.<1+i%250>): a
    // bind to port 0 on one shared address searches the port range for a free port, and
    // that search took 20 ms per connection once ~15,000 ports were taken.
    let src = move |i: usize| {
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127,
            u8::try_from(10 + g).expect(ABORT),
            u8::try_from(i / 250).expect(ABORT),
            1 + (i % 250) as u8,
        ))
    };
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    // The coordinator's "go" starts the measured run; the end of its input (it ended, or
    // was killed at its deadline) ends this process, in set-up as well.
    let (go_tx, go) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut line = String::new();
        let mut stdin = std::io::stdin().lock();
        if matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {
            let _ = go_tx.send(());
            while matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {}
        }
        std::process::exit(1);
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect(ABORT);
    rt.block_on(async move {
        let stats = Arc::new(Stats {
            joined: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            upgrade_retries: AtomicU64::new(0),
            record: AtomicBool::new(false),
            hist: (0..=BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            base: Instant::now(),
        });
        let home = nodes[g % nodes.len()];
        // RELAY_SCALE_SAME_NODE=1: both ends on the home node (no NATS hop), for comparison.
        let away = if env_num("RELAY_SCALE_SAME_NODE", 0) == 1 {
            home
        } else {
            nodes[(g + 1) % nodes.len()]
        };
        let limit = Arc::new(tokio::sync::Semaphore::new(256));
        // Set-up progress on stderr every 5 s (set-up can take a minute at 100,000).
        let progress = {
            let stats = stats.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    eprintln!(
                        "relay-scale gen {g}: {}/{} joined, join_retries={} upgrade_retries={}",
                        stats.joined.load(Relaxed),
                        2 * pairs,
                        stats.retries.load(Relaxed),
                        stats.upgrade_retries.load(Relaxed)
                    );
                }
            })
        };
        // Clinicians first (they open the rooms), then the patients on the next node.
        let mut writers: Vec<Option<OwnedWriteHalf>> = (0..2 * pairs).map(|_| None).collect();
        for (side, addr, role) in [(0, home, "clinician"), (1, away, "patient")] {
            let mut tasks = tokio::task::JoinSet::new();
            for j in 0..pairs {
                let room = format!("scale-{g}-{j}");
                let token = mint(&room, role);
                let stats = stats.clone();
                let permit = limit.clone().acquire_owned().await.expect(ABORT);
                tasks.spawn(async move {
                    let w = connect(src(2 * j + side), addr, pid(2 * j + side), token, stats).await;
                    drop(permit);
                    (2 * j + side, w)
                });
            }
            while let Some(r) = tasks.join_next().await {
                let (i, w) = r.expect(ABORT);
                writers[i] = Some(w);
            }
        }
        let mut writers: Vec<OwnedWriteHalf> = writers.into_iter().map(Option::unwrap).collect();
        progress.abort();
        // Clinicians see their patient join: not a Deliver, so not counted.
        println!(
            "ready {} {} {}",
            writers.len(),
            stats.retries.load(Relaxed),
            stats.upgrade_retries.load(Relaxed)
        );
        std::io::stdout().flush().expect(ABORT);
        go.await.expect(ABORT);
        // Fixed rate, in 5 ms ticks, round robin over both directions of every pair; the
        // first second warms up and is not recorded.
        let frames: Vec<Vec<u8>> = (0..2 * pairs)
            .map(|i| {
                let to = pid(i ^ 1);
                ws_frame(
                    &ClientMessage::Send {
                        to,
                        payload: vec![0xAB; PAYLOAD],
                    }
                    .encode(),
                )
            })
            .collect();
        const TS: usize = 2 + 4 + 9; // ws header (short form) + mask + relay header
        let tick = Duration::from_millis(5);
        let per_tick = rate * tick.as_secs_f64();
        let mut owed = 0.0;
        let mut next = 0usize;
        let mut sent = 0u64;
        let mut sent_recorded = 0u64;
        let start = tokio::time::Instant::now();
        let warm = start + Duration::from_secs(1);
        let end = warm + Duration::from_secs(secs);
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut delivered_at_warm = 0;
        let mut recording = false;
        while tokio::time::Instant::now() < end {
            interval.tick().await;
            if !recording && tokio::time::Instant::now() >= warm {
                recording = true;
                delivered_at_warm = stats.delivered.load(Relaxed);
                stats.record.store(true, Relaxed);
            }
            owed += per_tick;
            while owed >= 1.0 {
                owed -= 1.0;
                let i = next;
                next = (next + 1) % writers.len();
                let mut f = frames[i].clone();
                f[TS..TS + 8].copy_from_slice(&stats.now_us().to_be_bytes());
                writers[i].write_all(&f).await.expect(ABORT);
                sent += 1;
                if recording {
                    sent_recorded += 1;
                }
            }
        }
        let elapsed = tokio::time::Instant::now() - warm;
        // Let the last frames arrive.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stats.record.store(false, Relaxed);
        let delivered = stats.delivered.load(Relaxed) - delivered_at_warm;
        let hist: Vec<String> = stats
            .hist
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let c = c.load(Relaxed);
                (c > 0).then(|| format!("{i}:{c}"))
            })
            .collect();
        println!(
            "result {sent} {sent_recorded} {delivered} {:.3} {}",
            elapsed.as_secs_f64(),
            hist.join(",")
        );
        std::io::stdout().flush().expect(ABORT);
        drop(writers);
    });
    rt.shutdown_timeout(Duration::from_millis(100));
}

// ---------------------------------------------------------------- coordinator

fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" of the command name: state is field 3; utime 14, stime 15.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    n(14) + n(15)
}

fn rss_bytes(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn percentile_ms(hist: &[u64], p: f64) -> f64 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return f64::NAN;
    }
    let target = (total as f64 * p).ceil() as u64;
    let mut acc = 0;
    for (i, c) in hist.iter().enumerate() {
        acc += c;
        if acc >= target {
            return ((i as u64 + 1) * BUCKET_US) as f64 / 1000.0;
        }
    }
    f64::INFINITY
}

/// The slowest recorded latency (upper edge of its bucket), in ms.
fn max_ms(hist: &[u64]) -> f64 {
    hist.iter()
        .rposition(|c| *c > 0)
        .map_or(f64::NAN, |i| ((i as u64 + 1) * BUCKET_US) as f64 / 1000.0)
}

/// Busy and total jiffies of the whole machine (all cores), from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = f.iter().take(8).sum();
    let idle = f.get(3).copied().unwrap_or(0) + f.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_owned()
}

/// This executable as a child, under the real-time round-robin policy (priority 1) when
/// `realtime`: see [`support::realtime_allowed`].
fn child(exe: &std::path::Path, realtime: bool) -> Command {
    support::command(exe.as_os_str(), realtime)
}

fn run_coordinator() {
    let connections = env_num("RELAY_SCALE_CONNECTIONS", 10_000).max(4);
    let k = env_num("RELAY_SCALE_NODES", 4).max(2);
    let rate = env_num("RELAY_SCALE_RATE", 20_000);
    let secs = env_num("RELAY_SCALE_SECS", 10);
    let deadline = env_num("RELAY_SCALE_DEADLINE", 300) as u64;
    let realtime = env_num("RELAY_SCALE_RT", 1) == 1 && support::realtime_allowed();
    let load0 = loadavg();
    let nats = support::start_nats_with_deadline("relay-scale", deadline, realtime);
    let url = nats.url.clone();
    let exe = std::env::current_exe().expect(ABORT);
    let mut nodes: Vec<Proc> = (0..k)
        .map(|_| {
            let mut c = child(&exe, realtime);
            c.env("RELAY_SCALE_ROLE", "node")
                .env("RELAY_SCALE_NATS", &url);
            Proc::spawn(c)
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter_mut()
        .map(|n| n.line().strip_prefix("listening ").expect(ABORT).to_owned())
        .collect();
    // Let every node hear every other's heartbeat before the first join.
    std::thread::sleep(Duration::from_millis(1200));
    let rss0: Vec<u64> = nodes.iter().map(|n| rss_bytes(n.child.id())).collect();
    let pairs = connections / 2 / k;
    let setup = Instant::now();
    let mut gens: Vec<Proc> = (0..k)
        .map(|g| {
            let mut c = child(&exe, realtime);
            c.env("RELAY_SCALE_ROLE", "gen")
                .env("RELAY_SCALE_GEN", g.to_string())
                .env("RELAY_SCALE_PAIRS", pairs.to_string())
                .env("RELAY_SCALE_GEN_RATE", (rate / k).to_string())
                .env("RELAY_SCALE_SECS", secs.to_string())
                .env("RELAY_SCALE_NODE_ADDRS", addrs.join(","));
            Proc::spawn(c)
        })
        .collect();
    let (mut held, mut retries, mut upgrade_retries) = (0usize, 0u64, 0u64);
    for g in &mut gens {
        let l = g.line();
        let mut f = l.strip_prefix("ready ").expect(ABORT).split(' ');
        held += f.next().expect(ABORT).parse::<usize>().expect(ABORT);
        retries += f.next().expect(ABORT).parse::<u64>().expect(ABORT);
        upgrade_retries += f.next().expect(ABORT).parse::<u64>().expect(ABORT);
    }
    let setup_s = setup.elapsed().as_secs_f64();
    let rss1: Vec<u64> = nodes.iter().map(|n| rss_bytes(n.child.id())).collect();
    let grown: u64 = rss1
        .iter()
        .zip(&rss0)
        .map(|(a, b)| a.saturating_sub(*b))
        .sum();
    let mem_per_conn_kb = grown as f64 / held as f64 / 1024.0;
    let cpu0: Vec<u64> = nodes.iter().map(|n| cpu_ticks(n.child.id())).collect();
    let gen_cpu0: u64 = gens.iter().map(|g| cpu_ticks(g.child.id())).sum();
    let nats_cpu0 = cpu_ticks(nats.child.id());
    let machine0 = machine_ticks();
    let t_run = Instant::now();
    for g in &mut gens {
        let stdin = g.stdin.as_mut().expect(ABORT);
        stdin.write_all(b"go\n").expect(ABORT);
        stdin.flush().expect(ABORT);
    }
    let mut hist = vec![0u64; BUCKETS + 1];
    let (mut sent, mut delivered, mut elapsed) = (0u64, 0u64, 0f64);
    for g in &mut gens {
        let l = g.line();
        let mut f = l.strip_prefix("result ").expect(ABORT).split(' ');
        let _all: u64 = f.next().expect(ABORT).parse().expect(ABORT);
        sent += f.next().expect(ABORT).parse::<u64>().expect(ABORT);
        delivered += f.next().expect(ABORT).parse::<u64>().expect(ABORT);
        elapsed = elapsed.max(f.next().expect(ABORT).parse().expect(ABORT));
        for e in f.next().unwrap_or("").split(',').filter(|e| !e.is_empty()) {
            let (i, c) = e.split_once(':').expect(ABORT);
            hist[i.parse::<usize>().expect(ABORT)] += c.parse::<u64>().expect(ABORT);
        }
    }
    let run_s = t_run.elapsed().as_secs_f64();
    let machine1 = machine_ticks();
    let gen_cpu = gens.iter().map(|g| cpu_ticks(g.child.id())).sum::<u64>() - gen_cpu0;
    let nats_cpu = cpu_ticks(nats.child.id()) - nats_cpu0;
    let ticks_per_s = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    let cpu: Vec<String> = nodes
        .iter()
        .zip(&cpu0)
        .map(|(n, c0)| {
            let d = cpu_ticks(n.child.id()).saturating_sub(*c0) as f64;
            format!("{:.0}", d / ticks_per_s / run_s * 100.0)
        })
        .collect();
    let pct = |ticks: u64| ticks as f64 / ticks_per_s / run_s * 100.0;
    let machine_busy_pct = (machine1.0 - machine0.0) as f64 * 100.0
        / (machine1.1 - machine0.1).max(1) as f64
        * std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    println!(
        "relay-scale: connections={held} nodes={k} rate={:.0} carried={:.0} p50_ms={:.2} p99_ms={:.2} p999_ms={:.2} max_ms={:.2} mem_per_conn_kb={mem_per_conn_kb:.1} cpu_per_node_pct={} cpu_gens_pct={:.0} cpu_nats_pct={:.0} cpu_machine_pct={machine_busy_pct:.0} load={load0}->{} rt={} setup_s={setup_s:.1} secs={secs} late_or_lost={} join_retries={retries} upgrade_retries={upgrade_retries}",
        sent as f64 / elapsed,
        delivered as f64 / elapsed,
        percentile_ms(&hist, 0.50),
        percentile_ms(&hist, 0.99),
        percentile_ms(&hist, 0.999),
        max_ms(&hist),
        cpu.join("/"),
        pct(gen_cpu),
        pct(nats_cpu),
        loadavg(),
        u8::from(realtime),
        sent.saturating_sub(delivered),
    );
    drop(gens);
    drop(nodes);
    drop(nats);
}
