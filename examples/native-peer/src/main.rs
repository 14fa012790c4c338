//! `teleconsult-native-peer`: joins a Teleconsult room through a relay as a native
//! (webrtc-rs) participant. See `--help` and docs/NATIVE_PEER.md.

use std::process::ExitCode;

use serde_json::json;
use teleconsult::signaling::invite::base64url_encode;
use teleconsult::signaling::relay_wire::ParticipantId;
use teleconsult::signaling::{Config, Redacted, Session, Timeouts};
use teleconsult_native_peer::cli::{self, TokenSource};
use teleconsult_native_peer::driver::Driver;
use teleconsult_native_peer::media::LocalCertificate;
use teleconsult_native_peer::output::{Out, hex_id};
use teleconsult_native_peer::{relay, visit};
use zeroize::Zeroizing;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", cli::HELP);
        return ExitCode::SUCCESS;
    }
    let opts = match cli::parse(&args, |k| std::env::var(k).ok()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("teleconsult-native-peer: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("teleconsult-native-peer: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match setup(opts).await {
            Ok((driver, _)) => driver.run().await.code(),
            Err(e) => {
                eprintln!("teleconsult-native-peer: {e}");
                Out::new().event("fatal", json!({"error": e}));
                2
            }
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

/// Fills `buf` from the OS random source.
fn random(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| format!("no OS random source: {e}"))
}

/// Resolves the visit, the certificate, the token and the session configuration, and
/// builds the driver.
async fn setup(opts: cli::Options) -> Result<(Driver, ()), String> {
    let out = Out::new();
    let visit = visit::resolve(&opts.room, opts.role, random)?;
    // One DTLS certificate for every connection of the session: the session commits to its
    // fingerprint for the SAS and refuses descriptions that name another.
    let certificate = LocalCertificate::generate().map_err(|e| e.to_string())?;
    let room_str = base64url_encode(&visit.room.0);
    let (ws_url, http_base) = cli::relay_urls(&opts.relay, &room_str, opts.role)?;
    let token = match &opts.token {
        TokenSource::Given(t) => t.clone(),
        TokenSource::DevMint => relay::dev_mint(&http_base, &room_str, opts.role.as_str()).await?,
    };
    if let Some(links) = &visit.created {
        let base = opts
            .invite_base
            .clone()
            .unwrap_or_else(|| format!("{http_base}/"));
        // `url` is the patient's link (the field predates guest links).
        out.event(
            "invite",
            json!({
                "url": links.patient.to_url(&base),
                "guestUrl": links.guest.to_url(&base),
                "room": room_str,
            }),
        );
    }
    let mut id = [0u8; 8];
    while id == [0; 8] {
        random(&mut id)?;
    }
    let mut entropy = [0u8; 32];
    random(&mut entropy)?;
    let id = ParticipantId(id);
    out.event(
        "started",
        json!({
            "id": hex_id(id),
            "role": opts.role.as_str(),
            "room": room_str,
            "relay": ws_url,
            "certificate": certificate.fingerprint_line(),
        }),
    );
    let session = Session::new(Config {
        room: visit.room,
        secret: visit.secret,
        id,
        role: opts.role,
        display_name: Redacted::new(opts.name.clone()),
        token: Zeroizing::new(token.into_bytes()),
        entropy,
        capabilities: 0,
        timeouts: Timeouts::default(),
        authority: visit.authority,
        certificate: certificate.fingerprint().clone(),
    });
    Ok((Driver::new(opts, out, session, ws_url, certificate), ()))
}
