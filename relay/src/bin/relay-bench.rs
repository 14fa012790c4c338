//! relay-bench: N WebSocket clients in N/2 rooms against teleconsult-relay and against a
//! minimal Node.js relay on the `ws` package (bench/node-relay), same load generator.
//!
//! Per relay: connect and join N clients (memory per connection from the relay's RSS),
//! a saturation phase (a subset of pairs writes bursts as fast as TCP lets them; delivered
//! frames/s), then a fixed-rate phase over all N clients at a load the baseline carries
//! (forwarding latency p50/p99 from timestamps inside the payloads).
//!
//! The generator speaks raw WebSocket over tokio TCP (pre-built frames, zero mask key), so
//! its own cost per frame stays small next to the relay's. The relay runs in a child
//! process (this same executable re-run with RELAY_BENCH_CHILD=1), so its RSS is its own.
//!
//! Prints one line:
//! `relay-bench: teleconsult=<frames/s> baseline=<frames/s> ratio=<r> p99_ms=<x> connections=<n> …`
//! Knobs (env): RELAY_BENCH_CONNECTIONS (10000), RELAY_BENCH_SAT_PAIRS (400),
//! RELAY_BENCH_SECS (4 per phase), RELAY_BENCH_FIXED_RATE (cap, 20000 frames/s).
//!
//! Run: `cargo run --profile relay -p teleconsult-relay --bin relay-bench`.
//!
//! Panics: every `unwrap`/`expect` here is a set-up step of this benchmark (binding a
//! loopback port, starting its own child relay, the Node.js baseline, a runtime) or a frame
//! read back from one of those two relays, which it started itself on 127.0.0.1. No outside
//! input reaches it and nothing ships it; a failure aborts the run, which is the right end
//! for a benchmark whose figures would otherwise be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)] // a benchmark driver: failing loudly is right

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use teleconsult::signaling::relay_wire::{ClientMessage, ParticipantId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

const SECRET: &str = "relay-bench-secret-0123456789abcdef";
const PAYLOAD: usize = 128;
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 20_000; // 200 ms at 10 µs

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------- relay child process

fn run_child() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = teleconsult_relay::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            token_secret: Some(SECRET.as_bytes().to_vec()),
            max_connections: 20_000,
            max_rooms: 20_000,
            msg_rate: 1_000_000,
            msg_burst: 1_000_000,
            byte_rate: u32::MAX,
            byte_burst: u32::MAX,
            send_queue: 8192,
            send_queue_bytes: 8 * 1024 * 1024,
            idle_timeout: Duration::from_secs(600),
            heartbeat: Duration::from_secs(600),
            handshake_timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let relay = teleconsult_relay::start(config).await.unwrap();
        println!(
            "teleconsult-relay listening on http://{}",
            relay.local_addr()
        );
        std::io::stdout().flush().unwrap();
        let mut stdin = tokio::io::stdin();
        let mut b = [0u8; 16];
        while !matches!(stdin.read(&mut b).await, Ok(0) | Err(_)) {}
        relay.shutdown().await;
    });
    rt.shutdown_timeout(Duration::from_millis(100));
}

// ---------------------------------------------------------------- shared stats

struct Stats {
    /// Frames each client received (index = client number), for the senders' windows.
    received: Vec<AtomicU64>,
    wake: Vec<tokio::sync::Notify>,
    delivered: AtomicU64,
    closed: AtomicU64,
    record: AtomicBool,
    hist: Vec<AtomicU64>,
    base: Instant,
}

impl Stats {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Self {
            received: (0..n).map(|_| AtomicU64::new(0)).collect(),
            wake: (0..n).map(|_| tokio::sync::Notify::new()).collect(),
            delivered: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            record: AtomicBool::new(false),
            hist: (0..=BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            base: Instant::now(),
        })
    }
    fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }
    fn reset_hist(&self) {
        for b in &self.hist {
            b.store(0, Relaxed);
        }
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        let counts: Vec<u64> = self.hist.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return f64::NAN;
        }
        let target = (total as f64 * p).ceil() as u64;
        let mut acc = 0;
        for (i, c) in counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return ((i as u64 + 1) * BUCKET_US) as f64 / 1000.0;
            }
        }
        f64::INFINITY
    }
    fn samples(&self) -> u64 {
        self.hist.iter().map(|b| b.load(Relaxed)).sum()
    }
}

// ---------------------------------------------------------------- raw WebSocket client

fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x82];
    if payload.len() < 126 {
        f.push(0x80 | payload.len() as u8);
    } else {
        f.push(0x80 | 126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(&[0, 0, 0, 0]); // zero mask key: payload goes as is
    f.extend_from_slice(payload);
    f
}

/// A pre-built `Send` frame to `to`; the timestamp lives at `TS_OFFSET`.
fn send_frame(to: ParticipantId) -> Vec<u8> {
    ws_frame(
        &ClientMessage::Send {
            to,
            payload: vec![0xAB; PAYLOAD],
        }
        .encode(),
    )
}
const TS_OFFSET: usize = 2 + 2 + 4 + 9; // ws header (126 form) + mask + relay header

fn pid(n: usize) -> ParticipantId {
    let mut b = [0u8; 8];
    b[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    ParticipantId(b)
}

async fn reader(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    me: usize,
    stats: Arc<Stats>,
    welcomed: tokio::sync::oneshot::Sender<()>,
) {
    let mut welcomed = Some(welcomed);
    let mut buf = vec![0u8; 64 * 1024];
    let mut have = 0usize;
    loop {
        let n = match rd.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        have += n;
        let mut pos = 0;
        let mut got = 0;
        loop {
            let b = &buf[pos..have];
            if b.len() < 2 {
                break;
            }
            let (len, hdr) = match b[1] & 0x7f {
                126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 if b.len() >= 10 => (
                    u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                126 | 127 => break,
                l => (l as usize, 2),
            };
            if b.len() < hdr + len {
                break;
            }
            let opcode = b[0] & 0x0f;
            let msg = &b[hdr..hdr + len];
            match (opcode, msg.first()) {
                (2, Some(0x82)) => {
                    got += 1;
                    if stats.record.load(Relaxed) && msg.len() >= 17 {
                        let sent = u64::from_be_bytes(msg[9..17].try_into().unwrap());
                        let us = stats.now_us().saturating_sub(sent);
                        let i = ((us / BUCKET_US) as usize).min(BUCKETS);
                        stats.hist[i].fetch_add(1, Relaxed);
                    }
                }
                (2, Some(0x81)) => {
                    if let Some(w) = welcomed.take() {
                        let _ = w.send(());
                    }
                }
                (2, Some(0x86)) | (8, _) => {
                    stats.closed.fetch_add(1, Relaxed);
                }
                _ => {}
            }
            pos += hdr + len;
        }
        if got > 0 {
            stats.delivered.fetch_add(got, Relaxed);
            stats.received[me].fetch_add(got, Relaxed);
            stats.wake[me].notify_one();
        }
        buf.copy_within(pos..have, 0);
        have -= pos;
        if have == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
    }
}

async fn connect(addr: SocketAddr, me: usize, token: &str, stats: Arc<Stats>) -> OwnedWriteHalf {
    let id = pid(me);
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).unwrap();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.expect("handshake");
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "upgrade refused: {}",
        String::from_utf8_lossy(&head)
    );
    let (rd, mut wr) = s.into_split();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(reader(rd, me, stats, tx));
    let join = ClientMessage::Join {
        id,
        token: token.as_bytes().to_vec(),
    }
    .encode();
    wr.write_all(&ws_frame(&join)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("welcome timeout")
        .expect("welcome");
    wr
}

// ---------------------------------------------------------------- one relay under load

struct Outcome {
    saturated: f64,
    p50_ms: f64,
    p99_ms: f64,
    held: usize,
    mem_per_conn: f64,
    rate: f64,
    carried: f64,
}

fn rss_bytes(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// The fixed-rate phase's offered load: given, or derived from this run's saturation.
#[derive(Clone, Copy)]
enum Fixed {
    Rate(f64),
    /// `min(cap, fraction × saturated)`.
    FromSaturation {
        fraction: f64,
        cap: f64,
    },
}

async fn load(
    addr: SocketAddr,
    relay_pid: u32,
    n: usize,
    sat_pairs: usize,
    secs: u64,
    fixed: Fixed,
) -> Outcome {
    let stats = Stats::new(n);
    let rss0 = rss_bytes(relay_pid);
    let pairs = n / 2;
    let tokens: Vec<(String, String)> = (0..pairs)
        .map(|r| {
            let room = format!("bench-room-{r}");
            let mint = |role| {
                teleconsult_relay::server::mint_token(
                    SECRET.as_bytes(),
                    &room,
                    role,
                    Duration::from_secs(3600),
                    Duration::from_secs(3600),
                    None,
                    false,
                )
                .unwrap()
                .0
            };
            (mint("clinician"), mint("patient"))
        })
        .collect();
    let t = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(128));
    let mut writers: Vec<Option<OwnedWriteHalf>> = (0..n).map(|_| None).collect();
    for side in 0..2 {
        let mut set = tokio::task::JoinSet::new();
        for (r, (doc, pat)) in tokens.iter().enumerate() {
            let i = 2 * r + side;
            let token = if side == 0 { doc.clone() } else { pat.clone() };
            let (stats, sem) = (stats.clone(), sem.clone());
            set.spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                (i, connect(addr, i, &token, stats).await)
            });
        }
        while let Some(res) = set.join_next().await {
            let (i, w) = res.unwrap();
            writers[i] = Some(w);
        }
    }
    let connect_secs = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss1 = rss_bytes(relay_pid);
    let mem_per_conn = rss1.saturating_sub(rss0) as f64 / n as f64;
    eprintln!(
        "  {n} clients joined in {connect_secs:.1}s; relay RSS {:.1} MiB → {:.1} MiB ({:.1} KiB/conn)",
        rss0 as f64 / 1048576.0,
        rss1 as f64 / 1048576.0,
        mem_per_conn / 1024.0
    );

    // Saturation: `sat_pairs` pairs write bursts both ways as fast as TCP allows.
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..(2 * sat_pairs).min(n) {
        let mut w = writers[i].take().unwrap();
        let peer = pid(i ^ 1);
        let (stop, stats) = (stop.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            // Closed loop: at most WINDOW frames in flight towards the peer, written in
            // bursts; the peer's reader wakes us as frames arrive.
            const WINDOW: u64 = 256;
            const BURST: usize = 32;
            let one = send_frame(peer);
            let mut buf: Vec<u8> = one
                .iter()
                .copied()
                .cycle()
                .take(one.len() * BURST)
                .collect();
            let peer_i = i ^ 1;
            let mut sent = 0u64;
            while !stop.load(Relaxed) {
                let inflight = sent - stats.received[peer_i].load(Relaxed);
                if inflight + BURST as u64 > WINDOW {
                    let _ = tokio::time::timeout(
                        Duration::from_millis(20),
                        stats.wake[peer_i].notified(),
                    )
                    .await;
                    continue;
                }
                let now = stats.now_us().to_be_bytes();
                for k in 0..BURST {
                    buf[k * one.len() + TS_OFFSET..k * one.len() + TS_OFFSET + 8]
                        .copy_from_slice(&now);
                }
                if w.write_all(&buf).await.is_err() {
                    break;
                }
                sent += BURST as u64;
            }
            (i, w)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let d0 = stats.delivered.load(Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let saturated = (stats.delivered.load(Relaxed) - d0) as f64 / t0.elapsed().as_secs_f64();
    stop.store(true, Relaxed);
    eprintln!(
        "  (saturation measured at {:.1}s)",
        t.elapsed().as_secs_f64()
    );
    for t in tasks {
        let (i, w) = t.await.unwrap();
        writers[i] = Some(w);
    }
    // Let the backlog drain before measuring latency.
    let mut last = stats.delivered.load(Relaxed);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = stats.delivered.load(Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    eprintln!("  saturation: {saturated:.0} frames/s delivered ({sat_pairs} pairs, both ways)");

    eprintln!("  (drained at {:.1}s)", t.elapsed().as_secs_f64());
    // Fixed rate over all clients.
    let rate = match fixed {
        Fixed::Rate(r) => r,
        Fixed::FromSaturation { fraction, cap } => (saturated * fraction).min(cap),
    };
    let (p50_ms, p99_ms, carried);
    {
        let per_client = rate / n as f64;
        let period = Duration::from_secs_f64(1.0 / per_client);
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (i, slot) in writers.iter_mut().enumerate() {
            let mut w = slot.take().unwrap();
            let (stop, stats) = (stop.clone(), stats.clone());
            let offset = period.mul_f64(i as f64 / n as f64);
            tasks.push(tokio::spawn(async move {
                let mut frame = send_frame(pid(i ^ 1));
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                while !stop.load(Relaxed) {
                    tick.tick().await;
                    frame[TS_OFFSET..TS_OFFSET + 8].copy_from_slice(&stats.now_us().to_be_bytes());
                    if w.write_all(&frame).await.is_err() {
                        break;
                    }
                }
                (i, w)
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        stats.reset_hist();
        stats.record.store(true, Relaxed);
        let d0 = stats.delivered.load(Relaxed);
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stats.record.store(false, Relaxed);
        let got = (stats.delivered.load(Relaxed) - d0) as f64 / t0.elapsed().as_secs_f64();
        carried = got;
        p50_ms = stats.percentile_ms(0.50);
        p99_ms = stats.percentile_ms(0.99);
        eprintln!(
            "  fixed rate {rate:.0}/s offered, {got:.0}/s delivered, p50 {p50_ms:.2} ms, p99 {p99_ms:.2} ms ({} samples)",
            stats.samples()
        );
        stop.store(true, Relaxed);
        for t in tasks {
            let (i, w) = t.await.unwrap();
            writers[i] = Some(w);
        }
    }
    let held = n - stats.closed.load(Relaxed) as usize;
    drop(writers);
    eprintln!("  (done at {:.1}s)", t.elapsed().as_secs_f64());
    Outcome {
        saturated,
        p50_ms,
        p99_ms,
        held,
        mem_per_conn,
        rate,
        carried,
    }
}

// ---------------------------------------------------------------- processes

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().to_owned()
}

fn start_teleconsult() -> (Proc, SocketAddr) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("RELAY_BENCH_CHILD", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let addr = line.rsplit("http://").next().unwrap().parse().unwrap();
    (Proc(child), addr)
}

fn start_node() -> Option<(Proc, SocketAddr)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/node-relay");
    if !dir.join("node_modules/ws").exists() {
        eprintln!("  installing the baseline's dependencies (npm ci)…");
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status();
        if !ok.is_ok_and(|s| s.success()) {
            eprintln!("!!! npm ci failed: baseline skipped");
            return None;
        }
    }
    let mut child = Command::new("node")
        .args(["relay.js", "0", SECRET])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let line = first_line(&mut child);
    let port: u16 = line.strip_prefix("listening ")?.parse().ok()?;
    Some((Proc(child), SocketAddr::from(([127, 0, 0, 1], port))))
}

fn main() {
    if std::env::var("RELAY_BENCH_CHILD").is_ok() {
        return run_child();
    }
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` support
    }
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let n = env_num("RELAY_BENCH_CONNECTIONS", 10_000) / 2 * 2;
    let sat_pairs = env_num("RELAY_BENCH_SAT_PAIRS", 400);
    let secs = env_num("RELAY_BENCH_SECS", 4) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();

    let cap = env_num("RELAY_BENCH_FIXED_RATE", 20_000) as f64;
    eprintln!("relay-bench: baseline (Node.js + ws)");
    let baseline = start_node().map(|(p, addr)| {
        let fixed = Fixed::FromSaturation { fraction: 0.5, cap };
        rt.block_on(load(addr, p.0.id(), n, sat_pairs, secs, fixed))
    });
    // The teleconsult relay's latency is measured at the load the baseline carried.
    let fixed = baseline.as_ref().map_or(cap, |b| b.rate);

    eprintln!("relay-bench: teleconsult-relay");
    let (p, addr) = start_teleconsult();
    let t = rt.block_on(load(addr, p.0.id(), n, sat_pairs, secs, Fixed::Rate(fixed)));
    drop(p);

    let base = baseline.as_ref().map_or(f64::NAN, |b| b.saturated);
    println!(
        "relay-bench: teleconsult={:.0} baseline={:.0} ratio={:.2} p99_ms={:.2} connections={} p50_ms={:.2} fixed_rate={:.0} mem_per_conn_kb={:.1} baseline_p99_ms={:.2} baseline_mem_per_conn_kb={:.1} baseline_carried={:.0} teleconsult_carried={:.0} secs={:.0}",
        t.saturated,
        base,
        t.saturated / base,
        t.p99_ms,
        t.held,
        t.p50_ms,
        fixed,
        t.mem_per_conn / 1024.0,
        baseline.as_ref().map_or(f64::NAN, |b| b.p99_ms),
        baseline
            .as_ref()
            .map_or(f64::NAN, |b| b.mem_per_conn / 1024.0),
        baseline.as_ref().map_or(f64::NAN, |b| b.carried),
        t.carried,
        started.elapsed().as_secs_f64(),
    );
}
