//! Set-up refusals of the binary that need no relay: the visit is resolved before anything
//! touches the network, so a wrong link fails fast with exit code 2 and a `fatal` event.

use std::process::Command;

use serde_json::Value;
use teleconsult::crypto::{RoomId, RoomSecret};
use teleconsult::signaling::Invite;
use teleconsult::signaling::invite::base64url_encode;

const PEER: &str = env!("CARGO_BIN_EXE_teleconsult-native-peer");

/// Runs the peer against an unreachable relay; returns its exit code and its `fatal` error.
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(PEER)
        .args(["--relay", "http://127.0.0.1:9", "--dev-mint"])
        .args(args)
        .output()
        .expect("the peer runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fatal = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "fatal")
        .map(|v| v["error"].as_str().unwrap_or_default().to_owned());
    let error = fatal.unwrap_or_else(|| stderr.trim().to_owned());
    (out.status.code().unwrap_or(-1), error)
}

fn links() -> (String, String) {
    let links = Invite::create(
        RoomId([7; 16]),
        RoomSecret::from_bytes([8; 32]),
        &[1; 32],
        &[2; 32],
    );
    (
        links.patient.to_url("http://127.0.0.1:9/"),
        links.guest.to_url("http://127.0.0.1:9/"),
    )
}

#[test]
fn a_link_of_another_role_is_refused_before_joining() {
    let (patient, guest) = links();
    let (code, error) = run(&["--invite", &patient]); // --role defaults to clinician
    assert_eq!(code, 2, "{error}");
    assert!(
        error.contains("patient link") && error.contains("--role patient"),
        "{error}"
    );
    let (code, error) = run(&["--invite", &guest, "--role", "patient"]);
    assert_eq!(code, 2, "{error}");
    assert!(error.contains("guest link"), "{error}");
}

#[test]
fn a_version_one_link_is_refused_clearly() {
    let v1 = format!(
        "http://127.0.0.1:9/#r={}&k={}",
        base64url_encode(&[7; 16]),
        base64url_encode(&[8; 32])
    );
    let (code, error) = run(&["--invite", &v1, "--role", "patient"]);
    assert_eq!(code, 2, "{error}");
    assert!(error.contains("version-1"), "{error}");
}

#[test]
fn room_and_secret_flags_point_to_the_invite_link() {
    let (code, error) = run(&["--room", "AAAA", "--secret", "AAAA"]);
    assert_eq!(code, 2);
    assert!(error.contains("--invite"), "{error}");
}
