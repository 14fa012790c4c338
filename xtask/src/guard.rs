//! `cargo xtask __guard -- <command>`: runs a `wasm-bindgen-test` command behind a
//! `Connection: close` forwarding proxy and a stall watchdog. `cargo xtask test` runs it
//! inside the loopback-only network namespace of each browser level; it is not meant to be
//! typed by hand.
//!
//! # The start-up stall
//!
//! `wasm-bindgen-test-runner` serves the test page from a `rouille` server over `tiny_http`
//! 0.12. `tiny_http` runs each accepted connection as one task of its `TaskPool`, and that
//! task lives as long as the connection: it reads request after request until the client
//! closes it. A browser keeps connections alive (Chromium about 300 s, Firefox 115 s, WebKit
//! about 60 s when idle), so each open connection pins one pool thread.
//!
//! `TaskPool::spawn` decides between "queue it for an idle thread" and "start a new thread"
//! by reading `waiting_tasks`, a count that a worker decrements only after it has woken up
//! and re-taken the queue lock. When the browser opens two connections at once (the page's
//! module scripts and the `.wasm` are fetched in parallel) and one idle thread is left, both
//! tasks see `waiting_tasks == 1`: both are queued, one `notify_one` wakes the only idle
//! thread, and the second task waits in the queue until some thread finishes its task —
//! that is, until the browser closes one of its keep-alive connections. The page sits at
//! "Loading scripts…" for exactly the browser's idle-connection timeout (or until
//! ChromeDriver's 300 s page-load timeout), which is the symptom in every engine.
//!
//! # The fix
//!
//! The browser is pointed at this proxy (fixed port [`PORT`]; every level runs in its own
//! network namespace, so the port is always free) through its own proxy settings (see
//! `tests/webdriver/*.json`). The proxy takes each request on its own thread (a thread per
//! connection, never a pool), forwards it to the runner's server on a fresh connection with
//! `Connection: close`, returns the answer with `Connection: close`, and closes. Every
//! `tiny_http` task then ends right after its one response, so a queued task waits
//! milliseconds instead of a keep-alive timeout.
//!
//! # The watchdog
//!
//! Any stall that still happens is detected: once the browser asked for the page, the
//! runner must print `test result:` within [`STALL`]; once the runner says it is starting
//! the browser, the page must be requested within [`SESSION`]. Otherwise the whole process
//! group is killed and the guard exits with [`STALLED`] (`cargo xtask test` reports it and
//! runs the level once more). The guard also fails a run in which the browser sent nothing
//! through the proxy (it would mean the proxy settings were ignored).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The proxy's port on 127.0.0.1, inside the level's own network namespace.
pub const PORT: u16 = 18_080;
/// How long the page may take from its first request to the runner's `test result:` line.
pub const STALL: Duration = Duration::from_secs(30);
/// How long the browser may take to start and request the page.
pub const SESSION: Duration = Duration::from_secs(60);
/// The guard's exit code after it killed a stalled run.
pub const STALLED: i32 = 75;
/// What the guard prints when it kills a stalled run (`cargo xtask test` looks for it).
pub const STALL_MARK: &str = "xtask: start-up stall:";

#[derive(Default)]
struct Shared {
    /// When the browser first asked for anything.
    page_started: Mutex<Option<Instant>>,
    /// When the runner said it is starting a browser.
    session_started: Mutex<Option<Instant>>,
    finished: AtomicBool,
    requests: AtomicU64,
    slowest_ms: AtomicU64,
}

/// Runs `command` (everything after `--`) behind the proxy and the watchdog.
pub fn run(command: &[&str]) -> Result<(), String> {
    let (program, args) = command
        .split_first()
        .ok_or("usage: cargo xtask __guard -- <command> [args…]")?;
    let listener = TcpListener::bind(("127.0.0.1", PORT))
        .map_err(|e| format!("proxy: cannot listen on 127.0.0.1:{PORT}: {e}"))?;
    let shared = Arc::new(Shared::default());
    {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let shared = Arc::clone(&shared);
                thread::spawn(move || serve(client, &shared));
            }
        });
    }

    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    let pgid = child.id();
    let stdout = child.stdout.take().ok_or("child has no stdout")?;
    let reader = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if line.contains("Running headless tests in") {
                    *lock(&shared.session_started) = Some(Instant::now());
                }
                if line.contains("test result: ") {
                    shared.finished.store(true, Ordering::SeqCst);
                }
            }
        })
    };

    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        let finished = shared.finished.load(Ordering::SeqCst);
        let page = *lock(&shared.page_started);
        let session = *lock(&shared.session_started);
        let stalled = match (finished, page, session) {
            (true, _, _) => None,
            (false, Some(p), _) if p.elapsed() > STALL => Some(format!(
                "the browser requested the test page {:.0?} ago and no test result came \
                 ({} requests answered through the proxy)",
                p.elapsed(),
                shared.requests.load(Ordering::SeqCst)
            )),
            (false, None, Some(s)) if s.elapsed() > SESSION => Some(format!(
                "the runner started the browser {:.0?} ago and the page was never requested",
                s.elapsed()
            )),
            _ => None,
        };
        if let Some(why) = stalled {
            println!("{STALL_MARK} {why}; killing the run");
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .status();
            let _ = child.wait();
            let _ = reader.join();
            std::process::exit(STALLED);
        }
        thread::sleep(Duration::from_millis(200));
    };
    let _ = reader.join();
    let requests = shared.requests.load(Ordering::SeqCst);
    println!(
        "xtask: proxy answered {requests} requests, slowest {} ms",
        shared.slowest_ms.load(Ordering::SeqCst)
    );
    if !status.success() {
        return Err(format!("`{}` failed ({status})", command.join(" ")));
    }
    if requests == 0 && shared.finished.load(Ordering::SeqCst) {
        return Err(
            "the browser sent no request through the proxy: its proxy settings were ignored \
             (tests/webdriver/*.json)"
                .into(),
        );
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers one request from the browser and closes the connection.
fn serve(mut client: TcpStream, shared: &Shared) {
    let started = Instant::now();
    let _ = client.set_read_timeout(Some(STALL));
    let Ok(head) = read_head(&mut client) else {
        return;
    };
    {
        let mut page = lock(&shared.page_started);
        page.get_or_insert(started);
    }
    let answer = forward(&head, &mut client).unwrap_or_else(|e| {
        let body = format!("xtask proxy: {e}\n");
        format!(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    let _ = client.write_all(&answer);
    let _ = client.flush();
    let _ = client.shutdown(Shutdown::Both);
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    shared.slowest_ms.fetch_max(ms, Ordering::SeqCst);
}

/// Reads up to and including the blank line that ends a request or response head.
fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    }
    Ok(head)
}

/// Headers that describe one hop; the proxy sets its own.
fn hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Sends the request on a fresh `Connection: close` connection and returns the whole answer,
/// its `Connection` header replaced by `close`.
fn forward(head: &[u8], client: &mut TcpStream) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().ok_or("empty request")?;
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().ok_or("no method")?,
        parts.next().ok_or("no target")?,
    );
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    // A proxy request names the origin (`GET http://127.0.0.1:PORT/path`); a direct one
    // does not, and then `Host` does.
    let (authority, path) = match target.strip_prefix("http://") {
        Some(rest) => match rest.find('/') {
            Some(i) => (rest[..i].to_owned(), rest[i..].to_owned()),
            None => (rest.to_owned(), "/".to_owned()),
        },
        None => (
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map(|(_, v)| (*v).to_owned())
                .ok_or("no Host header")?,
            target.to_owned(),
        ),
    };
    if authority.ends_with(&format!(":{PORT}")) {
        return Err("refusing to forward a request to the proxy itself".into());
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    client
        .read_exact(&mut body)
        .map_err(|e| format!("reading the request body: {e}"))?;

    let mut upstream_request = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers.iter().filter(|(k, _)| !hop_by_hop(k)) {
        upstream_request.push_str(&format!("{k}: {v}\r\n"));
    }
    upstream_request.push_str("Connection: close\r\n\r\n");
    let mut upstream =
        TcpStream::connect(&authority).map_err(|e| format!("connecting to {authority}: {e}"))?;
    upstream
        .set_read_timeout(Some(STALL))
        .map_err(|e| e.to_string())?;
    upstream
        .write_all(upstream_request.as_bytes())
        .and_then(|()| upstream.write_all(&body))
        .map_err(|e| format!("sending to {authority}: {e}"))?;
    let response_head =
        read_head(&mut upstream).map_err(|e| format!("reading from {authority}: {e}"))?;
    let mut rest = Vec::new();
    upstream
        .read_to_end(&mut rest)
        .map_err(|e| format!("reading from {authority}: {e}"))?;

    let response_text = String::from_utf8_lossy(&response_head);
    let mut out = String::new();
    for line in response_text.split("\r\n").filter(|l| !l.is_empty()) {
        let name = line.split_once(':').map_or("", |(k, _)| k.trim());
        if !hop_by_hop(name) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut answer = out.into_bytes();
    answer.extend_from_slice(&rest);
    Ok(answer)
}
