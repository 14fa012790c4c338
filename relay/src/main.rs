//! The `teleconsult-relay` binary: flags and environment in, a running relay out.

use std::io::Write;
use std::process::ExitCode;

use teleconsult_relay::Config;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
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
    let exit_on_stdin_close = config.exit_on_stdin_close;
    // Install the signal handlers before announcing the address: a harness may signal as soon
    // as it reads the "listening" line.
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(term), Ok(int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("teleconsult-relay: cannot install signal handlers");
        return ExitCode::FAILURE;
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
    let why = wait_for_stop(exit_on_stdin_close, term, int).await;
    tracing::info!(reason = why, "shutting down");
    relay.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_stop(
    exit_on_stdin_close: bool,
    mut term: tokio::signal::unix::Signal,
    mut int: tokio::signal::unix::Signal,
) -> &'static str {
    let stdin_closed = async {
        if !exit_on_stdin_close {
            return std::future::pending::<()>().await;
        }
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        () = stdin_closed => "stdin closed",
    }
}
