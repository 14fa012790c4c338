//! What the NATS-cluster benchmarks (`relay-scale`, `relay-failover`) share: their knobs,
//! their child processes, a nats-server that never outlives the run, and client framing.
//!
//! A benchmark talks only to processes it started on loopback; there is no outside input.
//! Where something here fails (a port, a pipe, a child), the run aborts with a panic that
//! says what failed: a benchmark has no way to continue without it.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A numeric knob from the environment, or its default.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A masked client WebSocket binary frame (mask 0: the relay checks masking, not the key).
pub fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x82];
    if payload.len() < 126 {
        f.push(0x80 | payload.len() as u8);
    } else if payload.len() <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A child process killed on drop, with a line reader on its stdout. Its stdin stays open
/// while this lives: children exit when it closes (the coordinator ended, however).
pub struct Proc {
    pub child: Child,
    #[allow(
        dead_code,
        reason = "relay-failover only holds it open; relay-scale also writes to it"
    )]
    pub stdin: Option<ChildStdin>,
    out: BufReader<ChildStdout>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("benchmark: this executable could not be started as a child");
        let stdin = child.stdin.take();
        let out = BufReader::new(
            child
                .stdout
                .take()
                .expect("invariant: stdout was piped just above"),
        );
        Self { child, stdin, out }
    }

    /// The child's next line (trimmed); panics if it ended instead.
    pub fn line(&mut self) -> String {
        let mut l = String::new();
        self.out
            .read_line(&mut l)
            .expect("benchmark: a child's stdout could not be read");
        assert!(!l.is_empty(), "a child process ended early");
        l.trim().to_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command for `program`, run under the real-time round-robin policy at priority 1
/// (`chrt -r 1`) when `realtime`.
pub fn command(program: &std::ffi::OsStr, realtime: bool) -> Command {
    if realtime {
        let mut c = Command::new("chrt");
        c.args(["-r", "1"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Whether this process may start children under the real-time policy (CAP_SYS_NICE or an
/// RLIMIT_RTPRIO of at least 1, and `chrt` installed). On a machine shared with builds, a
/// real-time benchmark measures the relay instead of the builds' time slices: the kernel's
/// RT throttling still leaves them 5 % of each second, and the run is bounded in time.
#[allow(dead_code, reason = "relay-failover does not use it")]
pub fn realtime_allowed() -> bool {
    Command::new("chrt")
        .args(["-r", "1", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// nats-server, killed when the coordinator returns or panics: never left running.
pub struct Nats {
    /// The nats-server process.
    pub child: Child,
    /// `nats://127.0.0.1:<port>`.
    pub url: String,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The running nats-server's pid, for the deadline thread.
static NATS_PID: AtomicU32 = AtomicU32::new(0);

/// Stops the whole run after `deadline_s` (killing nats-server; every other child exits
/// when its stdin closes with this process), then starts nats-server on a free loopback
/// port and waits until it accepts connections.
///
/// nats-server runs with `GOGC=800` unless `GOGC` is set: with 100,000 room subscriptions
/// its Go heap is large, and at the default (100) its collections held messages for tens
/// of milliseconds on this 2-core machine (docs/RELAY.md, "Scale-out benchmark").
pub fn start_nats_with_deadline(name: &'static str, deadline_s: u64, realtime: bool) -> Nats {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(deadline_s));
        eprintln!("{name}: deadline of {deadline_s} s reached, stopping");
        let nats = NATS_PID.load(Relaxed);
        if nats != 0 {
            let _ = Command::new("kill").arg(nats.to_string()).status();
        }
        std::process::exit(1);
    });
    let nats_bin = ["/usr/bin/nats-server", "/usr/sbin/nats-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nats-server not installed (apt-get install nats-server)");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("benchmark: no free loopback port for nats-server")
        .port();
    let mut cmd = command(nats_bin.as_ref(), realtime);
    if std::env::var_os("GOGC").is_none() {
        cmd.env("GOGC", "800");
    }
    let child = cmd
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server");
    NATS_PID.store(child.id(), Relaxed);
    let nats = Nats {
        child,
        url: format!("nats://127.0.0.1:{port}"),
    };
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "nats-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nats
}
