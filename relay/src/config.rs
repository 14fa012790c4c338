//! Configuration from command-line flags and environment variables.
//!
//! Every flag `--some-flag` can also be given as the environment variable
//! `TELECONSULT_RELAY_SOME_FLAG`; a flag on the command line wins over the environment.
//! Hand-written rather than clap: the relay has a flat list of options and cold build time
//! on small machines matters.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the relay needs to run; [`Config::default`] gives the documented defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Directory served at `/` (the demo app), if any.
    pub www: Option<PathBuf>,
    /// Directory served at `/pkg/` (the npm package), if any.
    pub pkg: Option<PathBuf>,
    /// Exit when standard input reaches end of file, so a test harness never leaks us.
    pub exit_on_stdin_close: bool,
    /// File holding the join-token secret.
    pub token_secret_file: Option<PathBuf>,
    /// The join-token secret itself (from the environment only; never a flag, so it stays
    /// out of process listings).
    pub token_secret: Option<Vec<u8>>,
    /// Development mode: random secret and `POST /dev/token` on loopback.
    pub dev: bool,
    /// NATS server URL for scale-out (`nats://host:port`); `None` keeps rooms in-process.
    pub nats: Option<String>,
    /// Name of this node in logs and NATS messages; random when not given.
    pub node_name: Option<String>,
    /// Largest WebSocket message accepted from a client, in bytes.
    pub max_frame: usize,
    /// Sustained messages per second per connection.
    pub msg_rate: u32,
    /// Burst of messages a connection may send above the sustained rate.
    pub msg_burst: u32,
    /// Sustained bytes per second per connection.
    pub byte_rate: u32,
    /// Burst of bytes above the sustained byte rate.
    pub byte_burst: u32,
    /// Most simultaneous WebSocket connections on this node.
    pub max_connections: usize,
    /// Most rooms open on this node.
    pub max_rooms: usize,
    /// Most participants in one room (all roles).
    pub max_participants: usize,
    /// Most patients in one room.
    pub max_patients: usize,
    /// Most guests in one room.
    pub max_guests: usize,
    /// Time a new connection has to send its join.
    pub handshake_timeout: Duration,
    /// Time without any message from a client after which it is dropped.
    pub idle_timeout: Duration,
    /// Interval of WebSocket pings the relay sends to keep NATs and proxies awake.
    pub heartbeat: Duration,
    /// Frames queued for one connection before it is dropped as too slow.
    pub send_queue: usize,
    /// Bytes queued for one connection before it is dropped as too slow.
    pub send_queue_bytes: usize,
    /// How long a client that stopped reading may block its writer before it is dropped.
    pub write_timeout: Duration,
    /// How long a recipient may make no progress, with senders waiting on its full queue
    /// share, before it counts as not reading and is dropped (4012).
    pub stall_timeout: Duration,
    /// Deadline of the HTTP phase: a connection not upgraded to WebSocket by then is closed.
    pub http_timeout: Duration,
    /// Most connections in the HTTP phase; at the limit the oldest is closed for a new one.
    pub max_http_connections: usize,
    /// Directory for state kept across restarts (used single-use token ids), if any.
    pub state_dir: Option<PathBuf>,
    /// Time given to connections to receive the 4013 close on shutdown.
    pub shutdown_grace: Duration,
    /// Seconds a used single-use token id is remembered (at least the longest token TTL).
    pub replay_window: Duration,
    /// Longest TTL accepted in a token (and by `POST /dev/token`).
    pub max_token_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            www: None,
            pkg: None,
            exit_on_stdin_close: false,
            token_secret_file: None,
            token_secret: None,
            dev: false,
            nats: None,
            node_name: None,
            max_frame: teleconsult::signaling::relay_wire::MAX_MESSAGE_LEN,
            msg_rate: 200,
            msg_burst: 400,
            byte_rate: 2 * 1024 * 1024,
            byte_burst: 4 * 1024 * 1024,
            max_connections: 20_000,
            max_rooms: 10_000,
            max_participants: teleconsult::signaling::MAX_PARTICIPANTS,
            max_patients: 1,
            max_guests: 4,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            heartbeat: Duration::from_secs(20),
            send_queue: 256,
            send_queue_bytes: 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(2),
            http_timeout: Duration::from_secs(15),
            max_http_connections: 1024,
            state_dir: None,
            shutdown_grace: Duration::from_secs(2),
            replay_window: Duration::from_secs(24 * 3600),
            max_token_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// A configuration error, meant for the operator's terminal.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The environment variable prefix for flags.
pub const ENV_PREFIX: &str = "TELECONSULT_RELAY_";

/// Flags that take no value.
const SWITCHES: &[&str] = &["dev", "exit-on-stdin-close"];

/// Flags that take a value, with their help text.
pub const OPTIONS: &[(&str, &str)] = &[
    (
        "listen",
        "address:port to listen on (default 127.0.0.1:8787; port 0 = any free port)",
    ),
    ("www", "directory served at / (demo app)"),
    ("pkg", "directory served at /pkg/ (npm package)"),
    (
        "token-secret-file",
        "file holding the join-token HMAC secret",
    ),
    (
        "nats",
        "nats://host:port — share rooms with other nodes through NATS",
    ),
    ("node-name", "name of this node in logs (default: random)"),
    (
        "max-frame",
        "largest client message in bytes (default 65536)",
    ),
    (
        "msg-rate",
        "messages per second per connection (default 200)",
    ),
    ("msg-burst", "message burst per connection (default 400)"),
    (
        "byte-rate",
        "bytes per second per connection (default 2097152)",
    ),
    ("byte-burst", "byte burst per connection (default 4194304)"),
    (
        "max-connections",
        "most connections on this node (default 20000)",
    ),
    ("max-rooms", "most rooms on this node (default 10000)"),
    (
        "max-participants",
        "most participants per room (default 6, the SDK's MAX_PARTICIPANTS)",
    ),
    ("max-patients", "most patients per room (default 1)"),
    ("max-guests", "most guests per room (default 4)"),
    (
        "handshake-timeout",
        "time to send the join, e.g. 10s (default 10s)",
    ),
    (
        "idle-timeout",
        "drop a client silent this long (default 60s)",
    ),
    ("heartbeat", "WebSocket ping interval (default 20s)"),
    (
        "send-queue",
        "frames queued per connection before it is dropped (default 256)",
    ),
    (
        "send-queue-bytes",
        "bytes queued per connection (default 1048576)",
    ),
    (
        "write-timeout",
        "drop a client that blocks a write this long (default 10s)",
    ),
    (
        "stall-timeout",
        "drop a recipient that makes no progress this long while senders wait (default 2s)",
    ),
    (
        "http-timeout",
        "close connections not upgraded to WebSocket after this (default 15s)",
    ),
    (
        "max-http-connections",
        "most connections in the HTTP phase; the oldest is closed beyond (default 1024)",
    ),
    (
        "state-dir",
        "directory for state kept across restarts (used single-use token ids)",
    ),
    (
        "shutdown-grace",
        "time to tell clients to reconnect on shutdown (default 2s)",
    ),
    (
        "max-token-ttl",
        "longest accepted token lifetime (default 24h)",
    ),
];

/// Parses a duration such as `250ms`, `10s`, `15m`, `2h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => n,
        "s" => n.checked_mul(1000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        "d" => n.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

fn env_name(flag: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        flag.replace('-', "_").to_ascii_uppercase()
    )
}

/// Splits `args` (without the program name) into `(flag, value)` pairs.
/// Accepts `--flag value`, `--flag=value` and bare switches.
pub fn parse_flags(args: &[String]) -> Result<Vec<(String, Option<String>)>, ConfigError> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(body) = arg.strip_prefix("--") else {
            return Err(ConfigError(format!("unexpected argument {arg:?}")));
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (body.to_owned(), None),
        };
        out.push((name, inline));
        let last = out.len() - 1;
        if out[last].1.is_none()
            && !SWITCHES.contains(&out[last].0.as_str())
            && out[last].0 != "help"
        {
            match it.next() {
                Some(v) => out[last].1 = Some(v.clone()),
                None => return Err(ConfigError(format!("--{} needs a value", out[last].0))),
            }
        }
    }
    Ok(out)
}

impl Config {
    /// Builds the configuration from flags, then the environment (through `env`), then
    /// defaults. `env` is a parameter so tests need not touch the process environment.
    pub fn from_args_and_env(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let flags = parse_flags(args)?;
        let mut c = Config::default();
        let lookup = |name: &str| -> Option<String> {
            flags
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone().unwrap_or_else(|| "1".to_owned()))
                .or_else(|| env(&env_name(name)))
        };
        for (name, _) in &flags {
            if !SWITCHES.contains(&name.as_str()) && !OPTIONS.iter().any(|(o, _)| o == name) {
                return Err(ConfigError(format!("unknown flag --{name} (see --help)")));
            }
        }
        let truthy = |v: Option<String>| matches!(v.as_deref(), Some("1" | "true" | "yes" | "on"));
        c.dev = truthy(lookup("dev"));
        c.exit_on_stdin_close = truthy(lookup("exit-on-stdin-close"));
        if let Some(v) = lookup("listen") {
            c.listen = v
                .parse()
                .map_err(|_| ConfigError(format!("--listen: bad address {v:?}")))?;
        }
        c.www = lookup("www").map(PathBuf::from);
        c.pkg = lookup("pkg").map(PathBuf::from);
        c.token_secret_file = lookup("token-secret-file").map(PathBuf::from);
        c.token_secret = env(&env_name("token-secret"))
            .filter(|s| !s.is_empty())
            .map(String::into_bytes);
        c.nats = lookup("nats");
        c.state_dir = lookup("state-dir").map(PathBuf::from);
        c.node_name = lookup("node-name");
        fn num<T: std::str::FromStr>(
            name: &str,
            v: Option<String>,
            dst: &mut T,
        ) -> Result<(), ConfigError> {
            if let Some(v) = v {
                *dst = v
                    .parse()
                    .map_err(|_| ConfigError(format!("--{name}: bad number {v:?}")))?;
            }
            Ok(())
        }
        fn dur(name: &str, v: Option<String>, dst: &mut Duration) -> Result<(), ConfigError> {
            if let Some(v) = v {
                *dst = parse_duration(&v)
                    .ok_or_else(|| ConfigError(format!("--{name}: bad duration {v:?}")))?;
            }
            Ok(())
        }
        num("max-frame", lookup("max-frame"), &mut c.max_frame)?;
        num("msg-rate", lookup("msg-rate"), &mut c.msg_rate)?;
        num("msg-burst", lookup("msg-burst"), &mut c.msg_burst)?;
        num("byte-rate", lookup("byte-rate"), &mut c.byte_rate)?;
        num("byte-burst", lookup("byte-burst"), &mut c.byte_burst)?;
        num(
            "max-connections",
            lookup("max-connections"),
            &mut c.max_connections,
        )?;
        num("max-rooms", lookup("max-rooms"), &mut c.max_rooms)?;
        num(
            "max-participants",
            lookup("max-participants"),
            &mut c.max_participants,
        )?;
        num("max-patients", lookup("max-patients"), &mut c.max_patients)?;
        num("max-guests", lookup("max-guests"), &mut c.max_guests)?;
        num("send-queue", lookup("send-queue"), &mut c.send_queue)?;
        num(
            "max-http-connections",
            lookup("max-http-connections"),
            &mut c.max_http_connections,
        )?;
        num(
            "send-queue-bytes",
            lookup("send-queue-bytes"),
            &mut c.send_queue_bytes,
        )?;
        c.send_queue_bytes = c.send_queue_bytes.max(c.max_frame.saturating_mul(2));
        dur(
            "handshake-timeout",
            lookup("handshake-timeout"),
            &mut c.handshake_timeout,
        )?;
        dur("idle-timeout", lookup("idle-timeout"), &mut c.idle_timeout)?;
        dur("heartbeat", lookup("heartbeat"), &mut c.heartbeat)?;
        dur(
            "stall-timeout",
            lookup("stall-timeout"),
            &mut c.stall_timeout,
        )?;
        dur("http-timeout", lookup("http-timeout"), &mut c.http_timeout)?;
        dur(
            "write-timeout",
            lookup("write-timeout"),
            &mut c.write_timeout,
        )?;
        dur(
            "shutdown-grace",
            lookup("shutdown-grace"),
            &mut c.shutdown_grace,
        )?;
        dur(
            "max-token-ttl",
            lookup("max-token-ttl"),
            &mut c.max_token_ttl,
        )?;
        if c.max_token_ttl > c.replay_window {
            c.replay_window = c.max_token_ttl;
        }
        if c.max_frame < 16
            || c.send_queue < 2
            || c.msg_rate == 0
            || c.byte_rate == 0
            || c.max_http_connections == 0
        {
            return Err(ConfigError(
                "limits must be positive (max-frame ≥ 16, send-queue ≥ 2)".into(),
            ));
        }
        let most = teleconsult::signaling::relay_wire::MAX_LISTED_PARTICIPANTS;
        if c.max_participants == 0 || c.max_participants > most {
            return Err(ConfigError(format!(
                "--max-participants must be between 1 and {most}"
            )));
        }
        c.msg_burst = c.msg_burst.max(1);
        c.byte_burst = c
            .byte_burst
            .max(u32::try_from(c.max_frame).unwrap_or(u32::MAX));
        Ok(c)
    }

    /// The `--help` text.
    pub fn help() -> String {
        let mut s = String::from(
            "teleconsult-relay — zero-knowledge signaling relay\n\n\
             USAGE:\n  teleconsult-relay [FLAGS]\n  teleconsult-relay token --room R --role clinician|patient|guest [--ttl 15m] [--subject S] [--reusable]\n\n\
             SWITCHES:\n  --dev                    development mode: random secret, POST /dev/token on loopback\n  \
             --exit-on-stdin-close   exit when stdin closes (for test harnesses)\n\nOPTIONS:\n",
        );
        for (name, help) in OPTIONS {
            s.push_str(&format!("  --{name:<20} {help}\n"));
        }
        s.push_str(&format!(
            "\nEvery flag can be set as an environment variable {ENV_PREFIX}<FLAG> (upper case, '-' → '_').\n\
             The token secret may also come from {ENV_PREFIX}TOKEN_SECRET.\n"
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_override_environment_and_defaults() {
        let env = |k: &str| match k {
            "TELECONSULT_RELAY_LISTEN" => Some("127.0.0.1:1".to_owned()),
            "TELECONSULT_RELAY_WWW" => Some("/srv/www".to_owned()),
            "TELECONSULT_RELAY_DEV" => Some("1".to_owned()),
            _ => None,
        };
        let c = Config::from_args_and_env(
            &args(&["--listen", "127.0.0.1:0", "--idle-timeout=5s"]),
            env,
        )
        .unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.www, Some(PathBuf::from("/srv/www")));
        assert!(c.dev);
        assert_eq!(c.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.max_participants, 6);
    }

    #[test]
    fn unknown_flags_and_bad_values_are_refused() {
        assert!(Config::from_args_and_env(&args(&["--nope", "1"]), |_| None).is_err());
        assert!(Config::from_args_and_env(&args(&["--listen", "x"]), |_| None).is_err());
        assert!(Config::from_args_and_env(&args(&["--listen"]), |_| None).is_err());
        assert!(Config::from_args_and_env(&args(&["--idle-timeout", "5y"]), |_| None).is_err());
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("99999999999999999999h"), None);
        assert_eq!(parse_duration(""), None);
    }
}
