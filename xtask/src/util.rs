//! Running commands: echo them, stream their output, and fail with a clear message.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Cargo's target directory (`CARGO_TARGET_DIR` when set, else `<root>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A command line as shown to the user.
pub fn show(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs a command in the repository root, inheriting stdout and stderr.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    println!("$ {}", show(cmd));
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

/// Runs a command, streaming its stdout to ours while collecting it; stderr is inherited.
/// Returns whether it succeeded and what it printed.
pub fn run_capture(cmd: &mut Command) -> Result<(bool, String), String> {
    println!("$ {}", show(cmd));
    let mut child = cmd
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", show(cmd)))?;
    let mut collected = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            collected.push_str(&line);
            collected.push('\n');
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((status.success(), collected))
}

/// The first line a command prints, if it runs at all (used to read versions).
pub fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `cargo`, as the one that runs this xtask.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Whether the current user is root.
pub fn is_root() -> bool {
    output_of("id", &["-u"]).as_deref() == Some("0")
}

/// Wraps a command so that it runs in a new network namespace with only loopback up, so no
/// traffic (WebRTC candidates included) can reach any address but 127.0.0.1 and ::1.
///
/// Root uses `unshare --net`; other users try an unprivileged user namespace
/// (`unshare --map-root-user --net`). If neither works, the error says how to run the tests.
pub fn in_loopback_namespace(inner: &Command) -> Result<Command, String> {
    let base: &[&str] = if is_root() {
        &["--net"]
    } else {
        &["--map-root-user", "--net"]
    };
    let probe = Command::new("unshare")
        .args(base)
        .args(["--", "ip", "link", "set", "lo", "up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(probe, Ok(s) if s.success()) {
        return Err(
            "browser and end-to-end tests run in a loopback-only network namespace, and this user \
             cannot create one (`unshare --net` needs root or unprivileged user namespaces, and \
             `ip` from iproute2). Run `sudo cargo xtask test`, or enable user namespaces with \
             `sudo sysctl -w kernel.unprivileged_userns_clone=1`."
                .into(),
        );
    }
    let mut cmd = Command::new("unshare");
    cmd.args(base)
        .args([
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$@\"",
            "loopback-netns",
        ])
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    Ok(cmd)
}
