//! `cargo xtask setup`: install what is missing, skip what is present, say what was done.
//!
//! Everything comes from the registries this project allows: rustup for the wasm32 target,
//! crates.io for the wasm-bindgen CLI and geckodriver, Debian for Chromium, ChromeDriver,
//! Firefox ESR, WebKitGTK's WebDriver and MiniBrowser, Xvfb, GStreamer plugins, binaryen, NATS
//! and coturn, and npm (with browser downloads disabled) for the test harness.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, output_of, root};

/// Debian packages the build, the tests and the demo need, with what each is for.
const DEBIAN_PACKAGES: &[(&str, &str)] = &[
    (
        "chromium",
        "headless browser for browser and end-to-end tests",
    ),
    ("chromium-driver", "WebDriver for wasm-bindgen-test"),
    ("binaryen", "wasm-opt for release builds"),
    ("nats-server", "message broker for relay scale-out tests"),
    ("coturn", "TURN server for relay-candidate call tests"),
    (
        "iproute2",
        "loopback-only network namespaces for browser tests",
    ),
    (
        "fonts-noto-color-emoji",
        "the SAS emoji in the demo and its screenshots",
    ),
    (
        "firefox-esr",
        "Firefox for wasm-bindgen-test and end-to-end tests",
    ),
    (
        "webkit2gtk-driver",
        "WebKitWebDriver and MiniBrowser (WebKitGTK) for WebKit tests",
    ),
    ("xvfb", "a virtual X display for WebKitGTK (xvfb-run)"),
    ("xauth", "xvfb-run's display authorisation"),
    (
        "gstreamer1.0-plugins-bad",
        "WebKitGTK MediaRecorder (MP4 muxer)",
    ),
    (
        "gstreamer1.0-libav",
        "WebKitGTK MediaRecorder (H.264/AAC encoders)",
    ),
    (
        "gstreamer1.0-gl",
        "WebKitGTK video frames for MediaRecorder",
    ),
];

/// geckodriver from crates.io: Debian has no package, and npm's downloads a binary.
const GECKODRIVER_VERSION: &str = "0.37.1";

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Folders with a package-lock.json whose packages tests or benchmarks need.
const NPM_PROJECTS: &[&str] = &[
    ".",
    "examples/vite-app",
    "bench/bundle-race",
    "bench/node-relay",
];

/// Runs every set-up step.
pub fn run() -> Result<(), String> {
    check_node()?;
    rust_target()?;
    wasm_bindgen_cli()?;
    debian_packages()?;
    geckodriver()?;
    for dir in NPM_PROJECTS {
        npm_packages(&root().join(dir))?;
    }
    println!("setup: everything is in place");
    Ok(())
}

fn check_node() -> Result<(), String> {
    let version = output_of("node", &["--version"]).ok_or(
        "Node.js 20 or later is required and `node` is not on PATH; install it with \
         `apt-get install nodejs npm` (or from nodejs.org)",
    )?;
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(format!("Node.js 20 or later is required, found {version}"));
    }
    println!("setup: node {version} present");
    Ok(())
}

fn rust_target() -> Result<(), String> {
    let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("setup: rustup target {WASM_TARGET} present");
        return Ok(());
    }
    util::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    println!("setup: installed rustup target {WASM_TARGET}");
    Ok(())
}

/// The wasm-bindgen version pinned in Cargo.toml, as Cargo.lock resolved it: the CLI must
/// match it to the patch version.
pub fn pinned_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn wasm_bindgen_cli() -> Result<(), String> {
    let want = pinned_wasm_bindgen()?;
    let have = output_of("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have == format!("wasm-bindgen {want}") {
        println!("setup: wasm-bindgen CLI {want} present");
        return Ok(());
    }
    // `--locked` fails against this registry mirror (the CLI's lockfile pins a crate version
    // the mirror lacks), so the CLI resolves its own dependencies.
    util::run(util::cargo().args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    println!(
        "setup: installed wasm-bindgen CLI {want} (was: {})",
        if have.is_empty() { "none" } else { &have }
    );
    Ok(())
}

/// Where geckodriver is: on PATH, or in cargo's bin directory (where `cargo install` puts it).
pub fn geckodriver_path() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH")?).collect();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    dirs.extend(cargo_home.map(|h| h.join("bin")));
    dirs.into_iter()
        .map(|d| d.join("geckodriver"))
        .find(|p| p.is_file())
}

fn geckodriver() -> Result<(), String> {
    let have = geckodriver_path()
        .and_then(|p| output_of(p.to_str()?, &["--version"]))
        .and_then(|v| v.lines().next().map(str::to_owned))
        .unwrap_or_default();
    if have.starts_with(&format!("geckodriver {GECKODRIVER_VERSION}")) {
        println!("setup: geckodriver {GECKODRIVER_VERSION} present");
        return Ok(());
    }
    // About 4 minutes on a 2-core machine; `--locked` works for this crate.
    util::run(util::cargo().args([
        "install",
        "--locked",
        "geckodriver",
        "--version",
        GECKODRIVER_VERSION,
    ]))?;
    println!("setup: installed geckodriver {GECKODRIVER_VERSION}");
    Ok(())
}

fn debian_package_installed(name: &str) -> bool {
    output_of("dpkg-query", &["-W", "-f=${Status}", name])
        .is_some_and(|s| s.ends_with("install ok installed"))
}

fn debian_packages() -> Result<(), String> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .filter(|(name, _)| !debian_package_installed(name))
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        println!(
            "setup: Debian packages present ({})",
            DEBIAN_PACKAGES
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(());
    }
    let list = missing.join(" ");
    if !util::is_root() {
        let why: Vec<String> = DEBIAN_PACKAGES
            .iter()
            .filter(|(n, _)| missing.contains(n))
            .map(|(n, w)| format!("  {n}: {w}"))
            .collect();
        return Err(format!(
            "missing Debian packages:\n{}\nrun this, then `cargo xtask setup` again:\n  sudo apt-get update && sudo apt-get install -y {list}",
            why.join("\n")
        ));
    }
    util::run(Command::new("apt-get").arg("update").arg("-qq"))?;
    util::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )?;
    println!("setup: installed Debian packages {list}");
    Ok(())
}

/// `npm ci` in `dir` unless node_modules already matches the committed lockfile. Browser
/// downloads are disabled: tests drive Debian's Chromium.
pub fn npm_packages(dir: &Path) -> Result<(), String> {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("cannot read {}/package-lock.json: {e}", dir.display()))?;
    let stamp = dir.join("node_modules/.teleconsult-lock");
    let fingerprint = format!("{:x}", fnv1a(&lock));
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(fingerprint.as_str()) {
        println!(
            "setup: npm packages in {} match the lockfile",
            dir.display()
        );
        return Ok(());
    }
    util::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(dir)
            .env("PUPPETEER_SKIP_DOWNLOAD", "1")
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )?;
    std::fs::write(&stamp, fingerprint).map_err(|e| e.to_string())?;
    println!(
        "setup: installed npm packages in {} from the lockfile",
        dir.display()
    );
    Ok(())
}

/// A 64-bit FNV-1a hash: enough to notice that a lockfile changed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
