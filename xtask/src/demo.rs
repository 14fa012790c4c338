//! `cargo xtask demo`: build the package and serve the demo on 127.0.0.1.

use std::process::Command;

use crate::build::{self, Profile};
use crate::util::{self, root};

/// Where the demo listens.
const LISTEN: &str = "127.0.0.1:8787";

/// Builds and serves until interrupted.
pub fn run() -> Result<(), String> {
    crate::setup::run()?;
    build::run(Profile::Release)?;
    util::run(util::cargo().args([
        "build",
        "--profile",
        "relay",
        "--package",
        "teleconsult-relay",
    ]))?;
    let root = root();
    println!(
        "\nTeleconsult demo (Chromium, Chrome or Edge; Ctrl-C stops it):\n  \
         clinician: http://{LISTEN}/clinician.html, then \"Start a visit\"\n  \
         patient:   open the patient link it shows in a second tab, or scan its QR code\n"
    );
    util::run(
        Command::new(util::target_dir().join("relay/teleconsult-relay"))
            .args(["--listen", LISTEN, "--dev", "--www"])
            .arg(root.join("www"))
            .arg("--pkg")
            .arg(root.join("pkg")),
    )
}
