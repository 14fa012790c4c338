//! Command-line options. Hand-rolled (no clap) to keep the example's build small.

use std::net::SocketAddr;

use teleconsult::signaling::relay_wire::Role;

/// Where the join token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// Given on the command line (or `TELECONSULT_TOKEN`).
    Given(String),
    /// Minted by a `--dev` relay's `POST /dev/token`.
    DevMint,
}

/// Where the visit (room, secret and role keys) comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum RoomSource {
    /// A protocol v2 invite link (or just its `#v=2&r=…` fragment).
    Invite(String),
    /// Create a fresh visit (clinician only) and print its patient and guest links.
    Create,
}

impl std::fmt::Debug for RoomSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The link holds the room secret and a signing key.
        match self {
            Self::Invite(_) => f.write_str("Invite(<redacted>)"),
            Self::Create => f.write_str("Create"),
        }
    }
}

/// Why `--room`/`--secret` are refused.
pub const ROOM_SECRET_GONE: &str = "--room/--secret no longer work: a protocol v2 visit      also needs its role keys, which only the invite link carries; pass the whole link with      --invite";

/// Everything the binary was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The relay's base URL (`http://host:port`, `ws://host:port` or a full `ws://…/ws`).
    pub relay: String,
    /// The join token's source.
    pub token: TokenSource,
    /// The room's source.
    pub room: RoomSource,
    /// The role to join as.
    pub role: Role,
    /// The display name sent in the hello.
    pub name: String,
    /// Admit every waiting participant (clinician).
    pub auto_admit: bool,
    /// Confirm every SAS as soon as it is shown.
    pub auto_confirm_sas: bool,
    /// Echo data-channel messages.
    pub echo: bool,
    /// Send `probe-N` on the data channel every 500 ms and report the echoes.
    pub probe: bool,
    /// Open our own data channel.
    pub data_channel: bool,
    /// Send the synthetic VP8 track.
    pub send_video: bool,
    /// Local UDP addresses for ICE host candidates.
    pub bind: Vec<SocketAddr>,
    /// Interval between statistics lines, milliseconds (0: never).
    pub stats_interval_ms: u64,
    /// Base URL of the invite link printed when a room is created.
    pub invite_base: Option<String>,
    /// Hang up and exit when standard input closes.
    pub exit_on_stdin_close: bool,
    /// Hang up and exit after this many milliseconds.
    pub exit_after_ms: Option<u64>,
    /// Ask the session for an ICE restart with every peer this many milliseconds after the
    /// first media connection comes up (a test hook for the restart path).
    pub restart_ice_after_ms: Option<u64>,
}

/// The `--help` text.
pub const HELP: &str = "\
teleconsult-native-peer: a native (webrtc-rs) Teleconsult participant.

USAGE:
  teleconsult-native-peer --relay URL (--token T | --dev-mint)
                          (--invite LINK | <nothing: create a visit>)
                          [--role clinician|patient|guest] [--name NAME] [options]

OPTIONS:
  --relay URL            relay base URL: http://127.0.0.1:8080, ws://…, or ws://…/ws
  --token T              join token (or env TELECONSULT_TOKEN)
  --dev-mint             mint a token from a --dev relay (POST /dev/token)
  --invite LINK          protocol v2 invite link or its fragment:
                         …#v=2&r=<room>&k=<secret>&c=<key>&p=<key>[&s=<role key>];
                         it must be a link of --role's role (without --invite, a
                         clinician creates a visit and prints its patient and guest links)
  --invite-base URL      base of the printed invite links (default: the relay's URL)
  --role ROLE            clinician (default), patient or guest: the role the link proves
  --name NAME            display name (default: \"Native <role>\")
  --auto-admit           admit every waiting patient/guest (clinician)
  --auto-confirm-sas     confirm the SAS as soon as it is shown
  --echo / --no-echo     echo data-channel messages (default: on for clinician)
  --probe / --no-probe   send probe-N every 500 ms on the data channel (default: on for
                         patient/guest)
  --no-data-channel      do not open our own data channel (still echo the remote's)
  --no-video             do not send the synthetic VP8 track
  --bind ADDR            local UDP address for ICE (repeatable; default 127.0.0.1:0)
  --stats-interval-ms N  statistics every N ms (default 1000; 0: never)
  --exit-on-stdin-close  hang up and exit when stdin closes
  --exit-after-ms N      hang up and exit after N ms
  --restart-ice-after-ms N  restart ICE with every peer N ms after the first
                         connection is up (test hook)
  -h, --help             this text

OUTPUT: one JSON object per line on stdout (see docs/NATIVE_PEER.md); human-readable
lines, including `native-peer: video_rtp_packets=N bytes=M`, on stderr.
";

/// Parses `args` (without the program name). `env` looks up environment variables.
pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Options, String> {
    let mut relay = None;
    let mut token = env("TELECONSULT_TOKEN").filter(|t| !t.is_empty());
    let mut dev_mint = false;
    let mut invite = None;
    let mut role = Role::Clinician;
    let mut name = None;
    let (mut auto_admit, mut auto_confirm_sas) = (false, false);
    let (mut echo, mut probe) = (None, None);
    let (mut data_channel, mut send_video) = (true, true);
    let mut bind = Vec::new();
    let mut stats_interval_ms = 1000;
    let mut invite_base = None;
    let mut exit_on_stdin_close = false;
    let mut exit_after_ms = None;
    let mut restart_ice_after_ms = None;

    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "--relay" => relay = Some(value()?),
            "--token" => token = Some(value()?),
            "--dev-mint" => dev_mint = true,
            "--invite" => invite = Some(value()?),
            "--room" | "--secret" => return Err(ROOM_SECRET_GONE.into()),
            "--invite-base" => invite_base = Some(value()?),
            "--role" => {
                let v = value()?;
                role = Role::parse(&v).ok_or_else(|| format!("unknown role {v:?}"))?;
            }
            "--name" => name = Some(value()?),
            "--auto-admit" => auto_admit = true,
            "--auto-confirm-sas" => auto_confirm_sas = true,
            "--echo" => echo = Some(true),
            "--no-echo" => echo = Some(false),
            "--probe" => probe = Some(true),
            "--no-probe" => probe = Some(false),
            "--no-data-channel" => data_channel = false,
            "--no-video" => send_video = false,
            "--bind" => {
                let v = value()?;
                bind.push(v.parse().map_err(|_| format!("bad --bind address {v:?}"))?);
            }
            "--stats-interval-ms" => {
                let v = value()?;
                stats_interval_ms = v.parse().map_err(|_| format!("bad number {v:?}"))?;
            }
            "--exit-on-stdin-close" => exit_on_stdin_close = true,
            "--exit-after-ms" => {
                let v = value()?;
                exit_after_ms = Some(v.parse().map_err(|_| format!("bad number {v:?}"))?);
            }
            "--restart-ice-after-ms" => {
                let v = value()?;
                restart_ice_after_ms = Some(v.parse().map_err(|_| format!("bad number {v:?}"))?);
            }
            _ => return Err(format!("unknown argument {arg:?} (try --help)")),
        }
    }
    let relay = relay.ok_or("--relay is required")?;
    let token = match (token, dev_mint) {
        (_, true) => TokenSource::DevMint,
        (Some(t), false) => TokenSource::Given(t),
        (None, false) => {
            return Err("--token (or TELECONSULT_TOKEN) or --dev-mint is required".into());
        }
    };
    let room = match invite {
        Some(link) => RoomSource::Invite(link),
        None if role == Role::Clinician => RoomSource::Create,
        None => return Err("a patient or guest needs --invite".into()),
    };
    if room == RoomSource::Create && !matches!(token, TokenSource::DevMint) {
        return Err("creating a visit needs --dev-mint (a given token names its room)".into());
    }
    if bind.is_empty() {
        bind.push(SocketAddr::from(([127, 0, 0, 1], 0)));
    }
    let clinician = role == Role::Clinician;
    Ok(Options {
        relay,
        token,
        room,
        role,
        name: name.unwrap_or_else(|| {
            let r = role.as_str();
            format!("Native {r}")
        }),
        auto_admit,
        auto_confirm_sas,
        echo: echo.unwrap_or(clinician),
        probe: probe.unwrap_or(!clinician),
        data_channel,
        send_video,
        bind,
        stats_interval_ms,
        invite_base,
        exit_on_stdin_close,
        exit_after_ms,
        restart_ice_after_ms,
    })
}

/// The relay's WebSocket URL (`ws://host:port/ws?room=…&role=…`) and its HTTP base
/// (`http://host:port`), from whatever form `--relay` was given in.
pub fn relay_urls(relay: &str, room: &str, role: Role) -> Result<(String, String), String> {
    let (scheme, rest) = relay
        .split_once("://")
        .ok_or_else(|| format!("relay URL {relay:?} has no scheme"))?;
    let (ws_scheme, http_scheme) = match scheme {
        "http" | "ws" => ("ws", "http"),
        "https" | "wss" => ("wss", "https"),
        _ => return Err(format!("unsupported relay URL scheme {scheme:?}")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if authority.is_empty() {
        return Err(format!("relay URL {relay:?} has no host"));
    }
    let path = &rest[authority.len()..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = if path.is_empty() || path == "/" {
        "/ws"
    } else {
        path
    };
    let ws = format!(
        "{ws_scheme}://{authority}{path}?room={room}&role={}",
        role.as_str()
    );
    Ok((ws, format!("{http_scheme}://{authority}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn clinician_defaults_echo_and_patient_defaults_probe() {
        let c = parse(&args("--relay http://x:1 --dev-mint"), |_| None).unwrap();
        assert_eq!((c.role, c.echo, c.probe), (Role::Clinician, true, false));
        assert_eq!(c.room, RoomSource::Create);
        let p = parse(
            &args("--relay http://x:1 --token t --role patient --invite #v=2&r=a&k=b"),
            |_| None,
        )
        .unwrap();
        assert_eq!((p.role, p.echo, p.probe), (Role::Patient, false, true));
        assert_eq!(p.token, TokenSource::Given("t".into()));
        assert_eq!(p.bind, vec![SocketAddr::from(([127, 0, 0, 1], 0))]);
    }

    #[test]
    fn bad_combinations_are_refused() {
        let none = |_: &str| None;
        assert!(parse(&args("--dev-mint"), none).is_err(), "no relay");
        assert!(parse(&args("--relay http://x"), none).is_err(), "no token");
        assert!(
            parse(&args("--relay http://x --token t"), none).is_err(),
            "creating needs dev-mint"
        );
        assert!(
            parse(&args("--relay http://x --dev-mint --role patient"), none).is_err(),
            "patient needs a room"
        );
        for old in ["--room r", "--secret s", "--room r --secret s"] {
            let e = parse(&args(&format!("--relay http://x --dev-mint {old}")), none).unwrap_err();
            assert_eq!(e, ROOM_SECRET_GONE, "{old}");
        }
        assert!(parse(&args("--relay http://x --dev-mint --bogus"), none).is_err());
        assert!(parse(&args("--relay http://x --dev-mint --role nurse"), none).is_err());
        let env = |k: &str| (k == "TELECONSULT_TOKEN").then(|| "tok".to_owned());
        let o = parse(&args("--relay http://x --invite #v=2"), env).unwrap();
        assert_eq!(o.token, TokenSource::Given("tok".into()));
    }

    #[test]
    fn relay_urls_accept_every_spelling() {
        for given in [
            "http://127.0.0.1:9",
            "ws://127.0.0.1:9/",
            "ws://127.0.0.1:9/ws",
        ] {
            let (ws, http) = relay_urls(given, "abc", Role::Patient).unwrap();
            assert_eq!(ws, "ws://127.0.0.1:9/ws?room=abc&role=patient");
            assert_eq!(http, "http://127.0.0.1:9");
        }
        let (ws, _) = relay_urls("https://relay.example/x/ws", "r", Role::Clinician).unwrap();
        assert_eq!(ws, "wss://relay.example/x/ws?room=r&role=clinician");
        assert!(relay_urls("127.0.0.1:9", "r", Role::Patient).is_err());
        assert!(relay_urls("ftp://h", "r", Role::Patient).is_err());
        assert!(relay_urls("http://", "r", Role::Patient).is_err());
    }
}
