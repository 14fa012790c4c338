//! The `teleconsult-relay` binary: flags and environment in, a running relay out.

use std::io::Write;
use std::process::ExitCode;

use teleconsult_relay::Config;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "token") {
        return token_command(&args[1..]);
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", Config::help());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_args_and_env(&args, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("teleconsult-relay: {e}");
            return ExitCode::from(2);
        }
    };
    // TELECONSULT_RELAY_LOG=error|warn|info|debug (default info); colours only on a terminal.
    let level = match std::env::var("TELECONSULT_RELAY_LOG").as_deref() {
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("teleconsult-relay: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(config));
    // The stdin watcher sits in a blocking read that never returns: don't wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn run(config: Config) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    let exit_on_stdin_close = config.exit_on_stdin_close;
    // Install the signal handlers before announcing readiness, so that a harness that
    // signals right after reading the listen line never hits the default (kill) action.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            eprintln!("teleconsult-relay: cannot install signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let relay = match teleconsult_relay::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("teleconsult-relay: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "teleconsult-relay listening on http://{}",
            relay.local_addr()
        );
        let _ = out.flush();
    }
    let why = tokio::select! {
        why = wait_for_stop(exit_on_stdin_close) => why,
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        () = relay.stopped() => "NATS connection lost",
    };
    tracing::info!(reason = why, "shutting down");
    let failed = relay.failed();
    relay.shutdown().await;
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Usage of the `token` subcommand.
const TOKEN_USAGE: &str = "usage: teleconsult-relay token --room R --role clinician|patient|guest \
[--ttl 15m] [--subject S] [--reusable] [--token-secret-file F] [--max-token-ttl 24h]

Mints a join token with the relay's secret (TELECONSULT_RELAY_TOKEN_SECRET or
--token-secret-file / TELECONSULT_RELAY_TOKEN_SECRET_FILE) and prints it.
  --room R            room id (base64url, 1-128 characters)
  --role ROLE         clinician, patient or guest
  --ttl D             lifetime, e.g. 15m (default 15m); refused beyond --max-token-ttl
  --subject S         your id for the person (alias --sub; default random)
  --reusable          the token may admit several participant ids
  --max-token-ttl D   the relay's limit (default 24h, or TELECONSULT_RELAY_MAX_TOKEN_TTL)
";

/// `teleconsult-relay token …`: mints a join token with the configured secret (for demos,
/// tests and scripts).
fn token_command(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{TOKEN_USAGE}");
        return ExitCode::SUCCESS;
    }
    let mut room = None;
    let mut role = None;
    let mut ttl = std::time::Duration::from_secs(15 * 60);
    let mut sub = None;
    let mut reusable = false;
    let mut secret_file = std::env::var("TELECONSULT_RELAY_TOKEN_SECRET_FILE").ok();
    let mut max_ttl = teleconsult_relay::Config::default().max_token_ttl;
    if let Ok(v) = std::env::var("TELECONSULT_RELAY_MAX_TOKEN_TTL") {
        match teleconsult_relay::config::parse_duration(&v) {
            Some(d) => max_ttl = d,
            None => {
                eprintln!("teleconsult-relay token: bad TELECONSULT_RELAY_MAX_TOKEN_TTL {v:?}");
                return ExitCode::from(2);
            }
        }
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (a.as_str(), None),
        };
        if name == "--reusable" {
            reusable = true;
            continue;
        }
        if !matches!(
            name,
            "--room"
                | "--role"
                | "--sub"
                | "--subject"
                | "--token-secret-file"
                | "--ttl"
                | "--max-token-ttl"
        ) {
            eprintln!("teleconsult-relay token: unknown flag {name}\n\n{TOKEN_USAGE}");
            return ExitCode::from(2);
        }
        let Some(value) = inline.or_else(|| it.next().cloned()) else {
            eprintln!("teleconsult-relay token: {name} needs a value\n\n{TOKEN_USAGE}");
            return ExitCode::from(2);
        };
        let duration = |value: &str| teleconsult_relay::config::parse_duration(value);
        match name {
            "--room" => room = Some(value),
            "--role" => role = Some(value),
            "--sub" | "--subject" => sub = Some(value),
            "--token-secret-file" => secret_file = Some(value),
            "--ttl" | "--max-token-ttl" => match duration(&value) {
                Some(d) if name == "--ttl" => ttl = d,
                Some(d) => max_ttl = d,
                None => {
                    eprintln!("teleconsult-relay token: bad {name} {value:?}");
                    return ExitCode::from(2);
                }
            },
            _ => unreachable!("flag names checked above"),
        }
    }
    let (Some(room), Some(role)) = (room, role) else {
        eprint!("{TOKEN_USAGE}");
        return ExitCode::from(2);
    };
    let secret = match std::env::var("TELECONSULT_RELAY_TOKEN_SECRET") {
        Ok(s) if !s.is_empty() => s.into_bytes(),
        _ => match secret_file.map(std::fs::read) {
            Some(Ok(mut b)) => {
                while b.last().is_some_and(|c| c.is_ascii_whitespace()) {
                    b.pop();
                }
                b
            }
            Some(Err(e)) => {
                eprintln!("teleconsult-relay token: cannot read the secret file: {e}");
                return ExitCode::FAILURE;
            }
            None => {
                eprintln!(
                    "teleconsult-relay token: set TELECONSULT_RELAY_TOKEN_SECRET or \
                     --token-secret-file"
                );
                return ExitCode::from(2);
            }
        },
    };
    match teleconsult_relay::server::mint_token(&secret, &room, &role, ttl, max_ttl, sub, reusable)
    {
        Ok((token, _)) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("teleconsult-relay token: {e}");
            ExitCode::from(2)
        }
    }
}

async fn wait_for_stop(exit_on_stdin_close: bool) -> &'static str {
    if !exit_on_stdin_close {
        return std::future::pending().await;
    }
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 256];
    loop {
        match stdin.read(&mut buf).await {
            Ok(0) | Err(_) => return "stdin closed",
            Ok(_) => {}
        }
    }
}
