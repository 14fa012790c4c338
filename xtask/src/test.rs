//! `cargo xtask test [--level NAME[,NAME…]] [--list]`: set-up, then every test there is (or
//! the named levels), then a summary with each level's time and counts per browser engine.
//!
//! Levels: formatting and lints (native and wasm32), native `cargo test`, the package build,
//! `wasm-bindgen-test` in Chromium (with and without the Web Bluetooth flag), Firefox and
//! WebKitGTK, the built package in Node.js, end-to-end tests in Chromium and Firefox, mixed
//! Chromium–Firefox calls, a W3C WebDriver level in WebKitGTK, and the examples. Browser
//! levels run in a loopback-only network namespace; the wasm-bindgen levels run behind the
//! stall guard (xtask/src/guard.rs). Every level must run at least one test; any failure
//! makes the command fail.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::build::{self, Profile};
use crate::util::{self, root};

/// Counts from one level.
#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
    skipped: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// The browser engine a level exercises, for the per-engine counts in the summary.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    None,
    Chromium,
    Firefox,
    WebKit,
}

impl Engine {
    fn label(self) -> &'static str {
        match self {
            Engine::None => "no browser",
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox",
            Engine::WebKit => "WebKit",
        }
    }
}

/// What a level needs before it runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    /// The npm package in `pkg/` (built by the `package-build` level).
    Package,
    /// The package and the relay and native-peer binaries.
    PackageAndBinaries,
}

struct Level {
    name: &'static str,
    engine: Engine,
    needs: Needs,
    run: fn() -> Result<Counts, String>,
}

/// Every level, in the order `cargo xtask test` runs them.
const LEVELS: &[Level] = &[
    Level {
        name: "format",
        engine: Engine::None,
        needs: Needs::Nothing,
        run: format,
    },
    Level {
        name: "clippy-native",
        engine: Engine::None,
        needs: Needs::Nothing,
        run: clippy_native,
    },
    Level {
        name: "clippy-wasm32",
        engine: Engine::None,
        needs: Needs::Nothing,
        run: clippy_wasm32,
    },
    Level {
        name: "rustdoc",
        engine: Engine::None,
        needs: Needs::Nothing,
        run: rustdoc,
    },
    Level {
        name: "native",
        engine: Engine::None,
        needs: Needs::Nothing,
        run: native,
    },
    Level {
        name: "package-build",
        engine: Engine::None,
        needs: Needs::Nothing,
        run: package_build,
    },
    Level {
        name: "wasm-chromium",
        engine: Engine::Chromium,
        needs: Needs::Nothing,
        run: wasm_chromium,
    },
    Level {
        name: "wasm-chromium-bluetooth",
        engine: Engine::Chromium,
        needs: Needs::Nothing,
        run: wasm_chromium_bluetooth,
    },
    Level {
        name: "wasm-firefox",
        engine: Engine::Firefox,
        needs: Needs::Nothing,
        run: wasm_firefox,
    },
    Level {
        name: "wasm-webkit",
        engine: Engine::WebKit,
        needs: Needs::Nothing,
        run: wasm_webkit,
    },
    Level {
        name: "api-docs",
        engine: Engine::None,
        needs: Needs::Package,
        run: api_docs,
    },
    Level {
        name: "node",
        engine: Engine::None,
        needs: Needs::Package,
        run: node,
    },
    Level {
        name: "e2e-chromium",
        engine: Engine::Chromium,
        needs: Needs::PackageAndBinaries,
        run: e2e_chromium,
    },
    Level {
        name: "e2e-firefox",
        engine: Engine::Firefox,
        needs: Needs::PackageAndBinaries,
        run: e2e_firefox,
    },
    Level {
        name: "webdriver-webkit",
        engine: Engine::WebKit,
        needs: Needs::PackageAndBinaries,
        run: webdriver_webkit,
    },
    Level {
        name: "examples",
        engine: Engine::Chromium,
        needs: Needs::Package,
        run: examples,
    },
];

/// Runs the levels the arguments select (all by default) and prints the summary.
pub fn run(args: &[&str]) -> Result<(), String> {
    let mut selected: Vec<&Level> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--list" => {
                for l in LEVELS {
                    println!("{:<26} {}", l.name, l.engine.label());
                }
                return Ok(());
            }
            "--level" => {
                let names = args
                    .next()
                    .ok_or("--level needs a level name (see --list)")?;
                for name in names.split(',') {
                    let level = LEVELS.iter().find(|l| l.name == name).ok_or_else(|| {
                        format!("no level named `{name}`; `cargo xtask test --list` names them")
                    })?;
                    selected.push(level);
                }
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`: use --level NAME or --list"
                ));
            }
        }
    }
    let all = selected.is_empty();
    if all {
        selected = LEVELS.iter().collect();
    }

    let started = Instant::now();
    crate::setup::run()?;
    // Everything the namespace-bound steps compile must be fetched while the network is up.
    util::run(util::cargo().args(["fetch"]))?;
    let mut totals: Vec<(Engine, Counts)> = Vec::new();
    let mut times: Vec<(&str, Duration, Counts)> = Vec::new();
    let mut problems = Vec::new();
    let mut package: Option<bool> = None;
    let mut binaries: Option<Result<(), String>> = None;
    for level in selected {
        let level_started = Instant::now();
        let result = if level.name == "package-build" {
            let r = (level.run)();
            package = Some(r.is_ok());
            r
        } else if level.needs != Needs::Nothing
            && !*package.get_or_insert_with(|| {
                println!("== building the package for {}", level.name);
                build::run(Profile::Release).is_ok()
            })
        {
            Err("skipped: the package did not build".into())
        } else if level.needs == Needs::PackageAndBinaries {
            match binaries.get_or_insert_with(build_binaries) {
                Ok(()) => (level.run)(),
                Err(e) => Err(format!("skipped: {e}")),
            }
        } else {
            (level.run)()
        };
        let counts = result.unwrap_or_else(|e| {
            eprintln!("xtask: {}: {e}", level.name);
            Counts {
                failed: 1,
                ..Counts::default()
            }
        });
        if counts.failed > 0 {
            problems.push(format!("{}: {} failed", level.name, counts.failed));
        } else if counts.passed == 0 {
            problems.push(format!("{}: ran no test", level.name));
        }
        let took = level_started.elapsed();
        println!(
            "== {}: {} passed, {} failed, {} skipped in {:.1?} ({:.0?} since start)",
            level.name,
            counts.passed,
            counts.failed,
            counts.skipped,
            took,
            started.elapsed()
        );
        times.push((level.name, took, counts));
        match totals.iter_mut().find(|(e, _)| *e == level.engine) {
            Some((_, c)) => c.add(counts),
            None => totals.push((level.engine, counts)),
        }
    }

    println!("\nlevel times:");
    for (name, took, c) in &times {
        println!(
            "  {name:<26} {:>7.1} s  {} passed, {} failed, {} skipped",
            took.as_secs_f64(),
            c.passed,
            c.failed,
            c.skipped
        );
    }
    let mut total = Counts::default();
    for engine in [
        Engine::Chromium,
        Engine::Firefox,
        Engine::WebKit,
        Engine::None,
    ] {
        if let Some((_, c)) = totals.iter().find(|(e, _)| *e == engine) {
            println!(
                "{:<11} {} passed, {} failed, {} skipped",
                format!("{}:", engine.label()),
                c.passed,
                c.failed,
                c.skipped
            );
            total.add(*c);
        }
    }
    println!(
        "start-up stalls killed by the guard: {}",
        STALLS.load(std::sync::atomic::Ordering::SeqCst)
    );
    println!(
        "\ntest run took {:.0?}{}",
        started.elapsed(),
        if problems.is_empty() {
            String::new()
        } else {
            format!("; problems: {}", problems.join("; "))
        }
    );
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err("tests failed".into())
    }
}

fn one_pass() -> Counts {
    Counts {
        passed: 1,
        ..Counts::default()
    }
}

fn format() -> Result<Counts, String> {
    check(util::cargo().args(["fmt", "--all", "--check"]))
}

fn clippy_native() -> Result<Counts, String> {
    check(util::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// The SDK's API docs, native and wasm32, with every intra-doc link resolved: a broken or
/// private link is an error, as a warning would go unread.
fn rustdoc() -> Result<Counts, String> {
    let doc = |target: &[&str]| {
        let mut cmd = util::cargo();
        cmd.args(["doc", "--package", "teleconsult", "--no-deps"])
            .args(target)
            .env("RUSTDOCFLAGS", "-D warnings");
        cmd
    };
    check(&mut doc(&[]))?;
    check(&mut doc(&["--target", "wasm32-unknown-unknown"]))
}

fn clippy_wasm32() -> Result<Counts, String> {
    let clippy = |what: &[&str]| {
        let mut cmd = util::cargo();
        cmd.args([
            "clippy",
            "--package",
            "teleconsult",
            "--target",
            "wasm32-unknown-unknown",
            "--lib",
        ])
        .args(what)
        .args(["--", "-D", "warnings"]);
        cmd
    };
    check(&mut clippy(&["--test", "web"]))?;
    // Each wasm module the package ships is the crate with one `web-*` feature alone
    // (xtask/src/build.rs): each must be warning-free on its own too.
    for feature in ["web-call", "web-devices"] {
        check(&mut clippy(&[
            "--no-default-features",
            "--features",
            feature,
        ]))?;
    }
    Ok(one_pass())
}

fn native() -> Result<Counts, String> {
    rust_tests(util::cargo().args(["test", "--workspace"]))
}

fn package_build() -> Result<Counts, String> {
    build::run(Profile::Release).map(|_| one_pass())
}

/// The relay and the native peer, which end-to-end tests start themselves.
fn build_binaries() -> Result<(), String> {
    util::run(util::cargo().args([
        "build",
        "--package",
        "teleconsult-relay",
        "--package",
        "teleconsult-native-peer",
    ]))
}

fn api_docs() -> Result<Counts, String> {
    if crate::api_docs::is_current()? {
        Ok(one_pass())
    } else {
        Err("docs/API.md is out of date: run cargo xtask docs".into())
    }
}

fn node() -> Result<Counts, String> {
    node_tests(&["tests/node"], &[], false)
}

fn e2e_chromium() -> Result<Counts, String> {
    node_tests(&["tests/e2e"], &[("E2E_ENGINE", "chromium")], true)
}

fn e2e_firefox() -> Result<Counts, String> {
    node_tests(&["tests/e2e"], &[("E2E_ENGINE", "firefox")], true)
}

/// WebKitGTK needs an X display: the whole `node --test` runs under `xvfb-run`.
fn webdriver_webkit() -> Result<Counts, String> {
    node_tests(&["tests/webdriver/webkit"], &[("XVFB", "1")], true)
}

fn examples() -> Result<Counts, String> {
    node_tests(
        &["examples/vite-app/test", "bench/bundle-race/test"],
        &[],
        true,
    )
}

/// A webdriver configuration file in tests/webdriver.
fn webdriver_json(file: &str) -> PathBuf {
    root().join("tests/webdriver").join(file)
}

fn wasm_chromium() -> Result<Counts, String> {
    wasm_level(
        &[("CHROMEDRIVER", "chromedriver")],
        &webdriver_json("chromium.json"),
        "0",
        false,
        "chromium",
    )
}

fn wasm_chromium_bluetooth() -> Result<Counts, String> {
    wasm_level(
        &[("CHROMEDRIVER", "chromedriver")],
        &webdriver_json("chromium-web-bluetooth.json"),
        "1",
        false,
        "chromium",
    )
}

fn wasm_firefox() -> Result<Counts, String> {
    let gecko = crate::setup::geckodriver_path()
        .ok_or("geckodriver is not installed: run cargo xtask setup")?;
    wasm_level(
        &[("GECKODRIVER", gecko.to_str().unwrap_or("geckodriver"))],
        &webdriver_json("firefox.json"),
        "0",
        false,
        "firefox",
    )
}

/// WebKitGTK through WebKitWebDriver. The runner has no WebKitGTK mode; its geckodriver mode
/// speaks plain W3C WebDriver (it adds `moz:firefoxOptions`, which WebKitWebDriver ignores)
/// and sends webkit.json's `webkitgtk:browserOptions` and `proxy` as they are.
fn wasm_webkit() -> Result<Counts, String> {
    wasm_level(
        &[("GECKODRIVER", "WebKitWebDriver")],
        &webdriver_json("webkit.json"),
        "0",
        true,
        "webkit",
    )
}

/// Start-up stalls the guard killed during this run (each level was run once more).
static STALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One `wasm-bindgen-test` run of tests/web.rs in a browser, inside a loopback-only network
/// namespace, behind the stall guard. The runner prefers whichever driver it finds on PATH,
/// so every other driver variable is removed and the one wanted is set.
fn wasm_level(
    driver: &[(&str, &str)],
    webdriver_json: &std::path::Path,
    expect_web_bluetooth: &str,
    under_xvfb: bool,
    engine: &str,
) -> Result<Counts, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = if under_xvfb {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x800x24"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args(["__guard", "--"])
        .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "--offline",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "web",
        ])
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", webdriver_json)
        .env("TELECONSULT_EXPECT_WEB_BLUETOOTH", expect_web_bluetooth)
        .env("TELECONSULT_TEST_ENGINE", engine);
    for var in [
        "CHROMEDRIVER",
        "GECKODRIVER",
        "SAFARIDRIVER",
        "MSEDGEDRIVER",
    ] {
        cmd.env_remove(var);
        cmd.env_remove(format!("{var}_REMOTE"));
    }
    for (k, v) in driver {
        cmd.env(k, v);
    }
    let mut cmd = util::in_loopback_namespace(&cmd)?;
    let (ok, out) = util::run_capture(&mut cmd)?;
    if out.contains(crate::guard::STALL_MARK) {
        // Never hidden: the summary counts every stall, even when the rerun passes.
        STALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        println!(
            "xtask: start-up stall detected and killed (limit {:?}); running the level once more",
            crate::guard::STALL
        );
        let (ok, out) = util::run_capture(&mut cmd)?;
        return Ok(test_counts(ok, &out));
    }
    Ok(test_counts(ok, &out))
}

/// A check that passes or fails as a whole (formatting, lints).
fn check(cmd: &mut Command) -> Result<Counts, String> {
    util::run(cmd)?;
    Ok(Counts {
        passed: 1,
        ..Counts::default()
    })
}

/// Runs `cargo test`-style output and sums its `test result:` lines.
fn rust_tests(cmd: &mut Command) -> Result<Counts, String> {
    let (ok, out) = util::run_capture(cmd)?;
    Ok(test_counts(ok, &out))
}

/// Sums the `test result:` lines of `cargo test` output; a failed run without any counts as
/// one failure.
fn test_counts(ok: bool, out: &str) -> Counts {
    let mut counts = Counts::default();
    for line in out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("test result: "))
    {
        counts.passed += number_before(line, " passed");
        counts.failed += number_before(line, " failed");
        counts.skipped += number_before(line, " ignored");
    }
    if !ok && counts.failed == 0 {
        counts.failed = 1; // It failed before or outside any test (a compile error, a crash).
    }
    counts
}

/// Runs `node --test` over directories (never the whole tree) and reads its TAP summary.
fn node_tests(dirs: &[&str], env: &[(&str, &str)], in_namespace: bool) -> Result<Counts, String> {
    let xvfb = env.iter().any(|(k, _)| *k == "XVFB");
    let mut cmd = if xvfb {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x800x24", "node"]);
        c
    } else {
        Command::new("node")
    };
    cmd.args(["--test", "--test-concurrency=1"]).args(dirs);
    for (k, v) in env.iter().filter(|(k, _)| *k != "XVFB") {
        cmd.env(k, v);
    }
    let mut cmd = if in_namespace {
        util::in_loopback_namespace(&cmd)?
    } else {
        cmd
    };
    let (ok, out) = util::run_capture(&mut cmd)?;
    let tap = |key: &str| {
        out.lines()
            .rev()
            .filter_map(|l| l.strip_prefix(key))
            .find_map(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut counts = Counts {
        passed: tap("# pass "),
        failed: tap("# fail "),
        skipped: tap("# skipped ") + tap("# todo "),
    };
    if !ok && counts.failed == 0 {
        counts.failed = 1;
    }
    Ok(counts)
}

/// Reads the integer just before `suffix` in `text` (`"12 passed"` → 12).
fn number_before(text: &str, suffix: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(suffix)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::number_before;

    #[test]
    fn reads_counts_from_a_cargo_test_result_line() {
        let line =
            "FAILED. 3 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.02s";
        assert_eq!(number_before(line, " passed"), 3);
        assert_eq!(number_before(line, " failed"), 1);
        assert_eq!(number_before(line, " ignored"), 2);
    }
}
