//! Step two: two native peers — a clinician bot and a patient — call each other through a
//! real relay process: E2E handshake, waiting room and admission, SAS agreement, the
//! echoing data channel and VP8 RTP in both directions. Everything goes through the
//! binaries' command lines and their JSON-lines stdout, as a browser end-to-end test would.
//!
//! The relay binary is `TELECONSULT_RELAY_BIN`, or `teleconsult-relay` next to this test's
//! own target directory (a workspace `cargo test` builds it). Without one that supports
//! `--dev`, the tests print a loud SKIPPED message and pass.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use teleconsult::signaling::relay_wire::Role;

const PEER: &str = env!("CARGO_BIN_EXE_teleconsult-native-peer");

/// A child process whose stdout lines arrive on a channel; killed when dropped.
struct Proc {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl Proc {
    fn spawn(name: &'static str, program: &PathBuf, args: &[&str]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            name,
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next raw stdout line, or `None` after `timeout`.
    fn line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// Reads events until one satisfies `pred` (returns it) or `deadline` passes (panics
    /// with everything seen, which is the useful part of a failure).
    fn wait_for(&mut self, what: &str, deadline: Instant, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(line) = self.line(left) else {
                let seen: Vec<String> = self.seen.iter().map(Value::to_string).collect();
                panic!(
                    "{}: no {what} in time; saw:\n{}",
                    self.name,
                    seen.join("\n")
                );
            };
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|_| panic!("{}: stdout line is not JSON: {line}", self.name));
            assert!(
                v["event"].is_string() && v["t_ms"].is_u64(),
                "every event has event and t_ms"
            );
            self.seen.push(v.clone());
            if pred(&v) {
                return v;
            }
        }
    }

    fn event(&mut self, name: &str, deadline: Instant) -> Value {
        self.wait_for(name, deadline, |v| v["event"] == name)
    }

    /// Closes stdin (the peers run with `--exit-on-stdin-close`) and waits for the exit code.
    fn finish(mut self, deadline: Instant) -> i32 {
        drop(self.stdin.take());
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "{} did not exit", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prints past libtest's output capture (straight to fd 2), so a skip is seen even when
/// the test passes quietly.
fn loud(msg: &str) {
    let _ = std::io::stderr().write_all(msg.as_bytes());
}

/// The relay binary to use, if any.
fn relay_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TELECONSULT_RELAY_BIN") {
        return Some(PathBuf::from(p));
    }
    // <target>/debug/teleconsult-native-peer → <target>/debug/teleconsult-relay
    let sibling = PathBuf::from(PEER).with_file_name("teleconsult-relay");
    sibling.exists().then_some(sibling)
}

/// Starts `teleconsult-relay --listen 127.0.0.1:0 --dev`; `None` (after a loud message) when
/// no relay binary with `/ws` and `--dev` is available.
fn start_relay() -> Option<(Proc, String)> {
    let Some(bin) = relay_bin() else {
        loud(
            "\n*** SKIPPED: no relay binary. Set TELECONSULT_RELAY_BIN to a teleconsult-relay \
             that supports --dev (or build it in this target dir) to run this test. ***\n",
        );
        return None;
    };
    if !bin.exists() {
        loud(&format!(
            "\n*** SKIPPED: relay binary {} does not exist. ***\n",
            bin.display()
        ));
        return None;
    }
    let relay = Proc::spawn("relay", &bin, &["--listen", "127.0.0.1:0", "--dev"]);
    let Some(line) = relay.line(Duration::from_secs(20)) else {
        loud(&format!(
            "\n*** SKIPPED: {} did not announce its address (no --dev support?). ***\n",
            bin.display()
        ));
        return None;
    };
    let url = line
        .strip_prefix("teleconsult-relay listening on ")
        .unwrap_or_else(|| panic!("unexpected relay line: {line}"))
        .trim()
        .to_owned();
    Some((relay, url))
}

/// `link` with its `k=` (room secret) replaced by `secret`.
fn with_secret(link: &str, secret: &str) -> String {
    let (base, fragment) = link.split_once('#').expect("a fragment");
    let params: Vec<String> = fragment
        .split('&')
        .map(|p| match p.strip_prefix("k=") {
            Some(_) => format!("k={secret}"),
            None => p.to_owned(),
        })
        .collect();
    format!("{base}#{}", params.join("&"))
}

fn text_of(v: &Value) -> &str {
    v["text"].as_str().unwrap_or("")
}

#[test]
fn clinician_bot_and_native_patient_complete_a_call_through_the_relay() {
    let Some((_relay, url)) = start_relay() else {
        return;
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(40);
    let mut clinician = Proc::spawn(
        "clinician",
        &PathBuf::from(PEER),
        &[
            "--relay",
            &url,
            "--dev-mint",
            "--auto-admit",
            "--auto-confirm-sas",
            "--exit-on-stdin-close",
            "--stats-interval-ms",
            "250",
            "--name",
            "Dr Bot",
        ],
    );
    let invite = clinician.event("invite", deadline);
    let link = invite["url"].as_str().unwrap().to_owned();
    assert!(
        link.contains("#v=2&r=") && link.contains("&k="),
        "a v2 link: the secret rides in the fragment"
    );
    let parsed = teleconsult::signaling::Invite::parse(&link).expect("a valid v2 link");
    assert_eq!(parsed.role(), Role::Patient, "`url` is the patient's link");
    let guest = teleconsult::signaling::Invite::parse(invite["guestUrl"].as_str().unwrap())
        .expect("a valid guest link");
    assert_eq!(guest.role(), Role::Guest);
    assert_eq!(
        (guest.room, guest.clinician),
        (parsed.room, parsed.clinician)
    );
    clinician.wait_for("in_call", deadline, |v| {
        v["event"] == "phase" && v["phase"] == "in_call"
    });

    let mut patient = Proc::spawn(
        "patient",
        &PathBuf::from(PEER),
        &[
            "--relay",
            &url,
            "--dev-mint",
            "--role",
            "patient",
            "--invite",
            &link,
            "--auto-confirm-sas",
            "--exit-on-stdin-close",
            "--stats-interval-ms",
            "250",
            "--name",
            "Pat Native",
        ],
    );
    let patient_id = patient.event("started", deadline)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    patient.wait_for("waiting", deadline, |v| {
        v["event"] == "phase" && v["phase"] == "waiting"
    });

    // The clinician learns the patient's name only through the E2E handshake, then admits.
    let req = clinician.event("admission_requested", deadline);
    assert_eq!(req["peer"], patient_id.as_str());
    assert_eq!(req["role"], "patient");
    assert_eq!(req["name"], "Pat Native");
    clinician.event("admitted", deadline);
    patient.wait_for("in_call", deadline, |v| {
        v["event"] == "phase" && v["phase"] == "in_call"
    });
    let admitted_ms = started.elapsed().as_millis();

    // Both sides show the same SAS, and each learns that the other confirmed it.
    let c_sas = clinician.event("sas_agreed", deadline);
    let p_sas = patient.event("sas_agreed", deadline);
    assert_eq!(
        c_sas["digits"], p_sas["digits"],
        "both sides agree on one SAS"
    );
    assert_eq!(c_sas["digits"].as_str().unwrap().len(), 6);

    clinician.event("peer_connected", deadline);
    patient.event("peer_connected", deadline);
    let connected_ms = started.elapsed().as_millis();

    // The patient probes; the clinician echoes; the echo comes back byte for byte.
    let echoed = clinician.wait_for("an echoed probe", deadline, |v| {
        v["event"] == "data_channel_message"
            && v["echoed"] == true
            && text_of(v).starts_with("probe-")
    });
    let probe = text_of(&echoed).to_owned();
    patient.wait_for("the probe's echo", deadline, |v| {
        v["event"] == "data_channel_message" && text_of(v) == probe && v["echoed"] == false
    });

    // VP8 RTP flows both ways.
    for p in [&mut clinician, &mut patient] {
        p.event("track", deadline);
        let s = p.wait_for("video RTP", deadline, |v| {
            v["event"] == "stats" && v["video_rtp_packets"].as_u64().unwrap_or(0) >= 20
        });
        assert!(
            s["video_rtp_bytes"].as_u64().unwrap() > 20 * 100,
            "real payloads: {s}"
        );
    }
    let media_ms = started.elapsed().as_millis();

    // One offer/answer exchange set everything up (no redundant renegotiation), and
    // nothing was refused on the way.
    for p in [&clinician, &patient] {
        let offers = p
            .seen
            .iter()
            .filter(|v| v["event"] == "local_description" && v["kind"] == "offer")
            .count();
        let answers = p
            .seen
            .iter()
            .filter(|v| v["event"] == "local_description" && v["kind"] == "answer")
            .count();
        assert_eq!(offers + answers, 1, "{}: one exchange", p.name);
        for bad in [
            "media_error",
            "input_rejected",
            "security",
            "negotiation_needed",
        ] {
            assert!(
                !p.seen.iter().any(|v| v["event"] == bad),
                "{}: unexpected {bad}",
                p.name
            );
        }
    }

    // The patient hangs up; the clinician sees it leave; both exit cleanly.
    let done = Instant::now() + Duration::from_secs(10);
    assert_eq!(
        patient.finish(done),
        0,
        "the patient exits 0 after hanging up"
    );
    let left = clinician.event("peer_left", done);
    assert_eq!(left["peer"], patient_id.as_str());
    assert_eq!(clinician.finish(done), 0);
    eprintln!(
        "relay_call: admitted_ms={admitted_ms} ice_connected_ms={connected_ms} \
         media_flowing_ms={media_ms} total_ms={}",
        started.elapsed().as_millis()
    );
}

#[test]
fn a_patient_with_the_wrong_room_secret_never_reaches_the_clinician() {
    let Some((_relay, url)) = start_relay() else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut clinician = Proc::spawn(
        "clinician",
        &PathBuf::from(PEER),
        &[
            "--relay",
            &url,
            "--dev-mint",
            "--auto-admit",
            "--exit-on-stdin-close",
        ],
    );
    let link = clinician.event("invite", deadline)["url"]
        .as_str()
        .unwrap()
        .to_owned();
    clinician.wait_for("in_call", deadline, |v| {
        v["event"] == "phase" && v["phase"] == "in_call"
    });
    // The patient's own link (right room id, so the relay lets it in; right role keys), with
    // a wrong 32-byte secret.
    let wrong = with_secret(&link, &"A".repeat(43));
    assert_ne!(wrong, link);
    let mut patient = Proc::spawn(
        "patient",
        &PathBuf::from(PEER),
        &[
            "--relay",
            &url,
            "--dev-mint",
            "--role",
            "patient",
            "--invite",
            &wrong,
            "--exit-on-stdin-close",
        ],
    );
    patient.wait_for("waiting", deadline, |v| {
        v["event"] == "phase" && v["phase"] == "waiting"
    });
    // The clinician drops the patient's hellos as unauthenticated …
    let sec = clinician.wait_for("an authentication failure", deadline, |v| {
        v["event"] == "security" && v["kind"] == "AuthenticationFailed"
    });
    assert!(sec["total"].as_u64().unwrap() >= 1);
    // … and so never shows it, never admits it, never negotiates media with it.
    let quiet = Instant::now() + Duration::from_secs(3);
    while Instant::now() < quiet {
        if let Some(line) = clinician.line(Duration::from_millis(100)) {
            let v: Value = serde_json::from_str(&line).unwrap();
            for forbidden in [
                "peer_joined",
                "admission_requested",
                "admitted",
                "peer_connection_created",
            ] {
                assert_ne!(
                    v["event"], forbidden,
                    "the wrong-secret patient got through: {v}"
                );
            }
        }
    }
    assert_eq!(patient.finish(deadline), 0);
    assert_eq!(clinician.finish(deadline), 0);
}

#[test]
fn an_ice_restart_mid_call_keeps_media_flowing() {
    let Some((_relay, url)) = start_relay() else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut clinician = Proc::spawn(
        "clinician",
        &PathBuf::from(PEER),
        &[
            "--relay",
            &url,
            "--dev-mint",
            "--auto-admit",
            "--exit-on-stdin-close",
            "--restart-ice-after-ms",
            "500",
            "--stats-interval-ms",
            "200",
        ],
    );
    let link = clinician.event("invite", deadline)["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut patient = Proc::spawn(
        "patient",
        &PathBuf::from(PEER),
        &[
            "--relay",
            &url,
            "--dev-mint",
            "--role",
            "patient",
            "--invite",
            &link,
            "--exit-on-stdin-close",
            "--stats-interval-ms",
            "200",
        ],
    );
    clinician.event("peer_connected", deadline);
    clinician.event("restarting_ice", deadline);
    // The restart is a new offer with fresh ICE credentials, answered by the patient …
    clinician.wait_for("an ICE-restart offer", deadline, |v| {
        v["event"] == "local_description" && v["kind"] == "offer" && v["ice_restart"] == true
    });
    patient.wait_for("a second answer", deadline, |v| {
        v["event"] == "local_description" && v["kind"] == "answer"
    });
    let restarted_at = clinician.event("restarting_ice", deadline)["t_ms"]
        .as_u64()
        .unwrap();
    // … ICE goes through checking to connected again …
    clinician.wait_for("checking after the restart", deadline, |v| {
        v["event"] == "ice_state"
            && v["state"] == "checking"
            && v["t_ms"].as_u64() > Some(restarted_at)
    });
    clinician.wait_for("connected after the restart", deadline, |v| {
        v["event"] == "ice_state"
            && v["state"] == "connected"
            && v["t_ms"].as_u64() > Some(restarted_at)
    });
    // … and video keeps arriving on the patient's side after it.
    let before = patient.wait_for("video before", deadline, |v| {
        v["event"] == "stats" && v["video_rtp_packets"].as_u64().unwrap_or(0) > 0
    })["video_rtp_packets"]
        .as_u64()
        .unwrap();
    patient.wait_for("more video after the restart", deadline, |v| {
        v["event"] == "stats" && v["video_rtp_packets"].as_u64().unwrap_or(0) >= before + 30
    });
    assert!(!clinician.seen.iter().any(|v| v["event"] == "media_failed"));
    assert_eq!(patient.finish(deadline), 0);
    assert_eq!(clinician.finish(deadline), 0);
}
