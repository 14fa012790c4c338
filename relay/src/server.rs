//! The HTTP side: routes, startup, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

use crate::cluster::Cluster;
use crate::config::Config;
use crate::conn::{self, Expect, SlotGuard};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::statics;
use crate::token;

/// State shared by every request handler.
pub struct Shared {
    /// The configuration the relay started with.
    pub config: Config,
    /// Flips to `true` when the relay starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// The room registry.
    pub hub: Arc<Hub>,
}

/// A running relay (in-process); dropping it does not stop it — call [`Relay::shutdown`].
pub struct Relay {
    addr: SocketAddr,
    shutdown_tx: Arc<watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
    grace: Duration,
    hub: Arc<Hub>,
    failed: Arc<AtomicBool>,
}

/// Why the relay could not start.
#[derive(Debug)]
pub enum StartError {
    /// Binding the listen address failed.
    Bind(std::io::Error),
    /// The configuration is unusable (unreadable or too short token secret).
    Config(String),
    /// The NATS cluster could not be joined.
    Cluster(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bind(e) => write!(f, "cannot listen: {e}"),
            Self::Config(e) => write!(f, "bad configuration: {e}"),
            Self::Cluster(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl Relay {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.hub.metrics
    }

    /// The room registry (for tests and embedding).
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Resolves when the relay is asked to stop by something other than
    /// [`Relay::shutdown`] (the NATS link broke).
    pub async fn stopped(&self) {
        let mut rx = self.shutdown_tx.subscribe();
        let _ = rx.wait_for(|d| *d).await;
    }

    /// Whether the relay stopped because of a failure (NATS lost) rather than on request.
    pub fn failed(&self) -> bool {
        self.failed.load(Relaxed)
    }

    /// Starts a graceful shutdown: WebSocket clients get close 4013 ("shutting down –
    /// reconnect"), then the listener stops. Returns when every connection is gone or the
    /// grace period is over.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let deadline = tokio::time::Instant::now() + self.grace;
        while self.hub.metrics.connections.load(Relaxed) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(c) = self.hub.cluster.get() {
            c.say_goodbye();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.task).await;
    }
}

/// Binds and starts serving in the background of the current tokio runtime.
pub async fn start(mut config: Config) -> Result<Relay, StartError> {
    let secret = load_secret(&config)?;
    fit_descriptor_budget(&mut config);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let shutdown_tx = Arc::new(shutdown_tx);
    let grace = config.shutdown_grace;
    let metrics = Arc::new(Metrics::default());
    let hub = Arc::new(Hub::new(config.clone(), metrics, secret).map_err(StartError::Config)?);
    let failed = Arc::new(AtomicBool::new(false));
    if let Some(url) = &config.nats {
        let tx = shutdown_tx.clone();
        let failed2 = failed.clone();
        let on_lost = move || {
            failed2.store(true, Relaxed);
            let _ = tx.send(true);
        };
        let cluster = Cluster::connect(url, hub.clone(), on_lost)
            .await
            .map_err(|e| StartError::Cluster(e.to_string()))?;
        let _ = hub.cluster.set(cluster);
    }
    if config.dev {
        tracing::warn!(
            "DEVELOPMENT MODE: random token secret unless one is given; POST /dev/token mints \
             tokens for loopback callers. Never use in production."
        );
    }
    let shared = Arc::new(Shared {
        config,
        shutdown: shutdown_rx.clone(),
        hub: hub.clone(),
    });
    let app = router(shared.clone());
    let task = tokio::spawn(accept_loop(listener, app, shared, shutdown_rx));
    tracing::info!(%addr, "relay listening");
    Ok(Relay {
        addr,
        shutdown_tx,
        task,
        grace,
        hub,
        failed,
    })
}

/// The token secret: environment, then file, then (dev mode) random; `None` refuses joins.
fn load_secret(config: &Config) -> Result<Option<Arc<[u8]>>, StartError> {
    let secret = if let Some(s) = &config.token_secret {
        Some(s.clone())
    } else if let Some(path) = &config.token_secret_file {
        let mut bytes = std::fs::read(path)
            .map_err(|e| StartError::Config(format!("cannot read --token-secret-file: {e}")))?;
        while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
            bytes.pop();
        }
        Some(bytes)
    } else if config.dev {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).map_err(|e| StartError::Config(format!("no randomness: {e}")))?;
        Some(b.to_vec())
    } else {
        None
    };
    match secret {
        Some(s) if s.len() < 16 => Err(StartError::Config(
            "token secret must be at least 16 bytes".into(),
        )),
        Some(s) => Ok(Some(Arc::from(s))),
        None => {
            tracing::warn!(
                "no token secret configured (--token-secret-file, \
                 TELECONSULT_RELAY_TOKEN_SECRET or --dev): every join will be refused"
            );
            Ok(None)
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics_handler))
        .route("/ws", get(ws_handler))
        .route("/dev/token", post(dev_token_handler))
        .fallback(static_handler)
        .with_state(shared)
}

async fn metrics_handler(State(shared): State<Arc<Shared>>) -> Response {
    let mut resp = shared.hub.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

fn query_params(query: Option<&str>) -> Expect {
    let mut e = Expect::default();
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = statics::percent_decode(v);
        match k {
            "room" => e.room = v,
            "role" => e.role = v,
            _ => {}
        }
    }
    e
}

async fn ws_handler(State(shared): State<Arc<Shared>>, mut req: Request) -> Response {
    let hub = shared.hub.clone();
    let m = &hub.metrics;
    if *shared.shutdown.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    let h = req.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has_token(header::UPGRADE, "websocket") || !has_token(header::CONNECTION, "upgrade") {
        return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade\n").into_response();
    }
    if h.get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut r = (StatusCode::UPGRADE_REQUIRED, "WebSocket version 13 only\n").into_response();
        r.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return r;
    }
    let Some(key) = h.get(header::SEC_WEBSOCKET_KEY) else {
        return (StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key\n").into_response();
    };
    let accept = accept_key(key.as_bytes());
    let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return (StatusCode::BAD_REQUEST, "connection cannot be upgraded\n").into_response();
    };
    let limit = i64::try_from(shared.config.max_connections).unwrap_or(i64::MAX);
    if m.connections.fetch_add(1, Relaxed) >= limit {
        m.connections.fetch_sub(1, Relaxed);
        m.refused_connections.fetch_add(1, Relaxed);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "relay at its connection limit\n",
        )
            .into_response();
    }
    let slot = SlotGuard(hub.clone());
    m.connections_total.fetch_add(1, Relaxed);
    let expect = query_params(req.uri().query());
    let shutdown = shared.shutdown.clone();
    // One byte over the limit is still read whole, so an oversized frame gets its 4008;
    // far larger ones are refused from their header (4008 too).
    let max = shared.config.max_frame.saturating_add(1);
    let write_cap = shared
        .config
        .send_queue_bytes
        .saturating_mul(2)
        .saturating_add(max);
    let ws_config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
        .read_buffer_size(4096)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(write_cap);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return; // the HTTP phase ended first (deadline, eviction, client gone)
        };
        let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tungstenite::protocol::Role::Server,
            Some(ws_config),
        )
        .await;
        conn::run(ws, hub, expect, shutdown, slot).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "upgrade")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .unwrap_or_else(|_| not_found())
}

/// `Sec-WebSocket-Accept` for a client key (RFC 6455 §4.2.2).
fn accept_key(key: &[u8]) -> String {
    use base64::Engine;
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// File descriptors kept free for the listener, NATS, static files, logs and the health
/// and metrics endpoints.
pub const FD_RESERVE: u64 = 64;

/// Raises the soft descriptor limit to the hard one and, if the connection limits would
/// not fit in it, lowers them (with a warning), so that the relay refuses connections
/// before it runs out of descriptors.
fn fit_descriptor_budget(c: &mut Config) {
    let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) else {
        return;
    };
    let budget = usize::try_from(limit.saturating_sub(FD_RESERVE).max(4)).unwrap_or(usize::MAX);
    if c.max_connections.saturating_add(c.max_http_connections) <= budget {
        return;
    }
    let http = c.max_http_connections.min(budget / 4).max(1);
    let ws = c.max_connections.min(budget.saturating_sub(http)).max(1);
    tracing::warn!(
        nofile = limit,
        max_connections = ws,
        max_http_connections = http,
        "file descriptor limit too low for the configured connection limits: lowered them"
    );
    c.max_connections = ws;
    c.max_http_connections = http;
}

/// Connections in the HTTP phase, oldest first, each with the means to close it.
#[derive(Default)]
struct Pending {
    next: u64,
    conns: std::collections::BTreeMap<u64, tokio::sync::oneshot::Sender<()>>,
}

/// Accepts connections and serves each over HTTP/1.1 until it upgrades to WebSocket, ends,
/// reaches the `--http-timeout` deadline, or is evicted as the oldest HTTP-phase
/// connection when `--max-http-connections` is reached.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let pending = Arc::new(std::sync::Mutex::new(Pending::default()));
    let m = shared.hub.metrics.clone();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|d| *d) => break,
            r = listener.accept() => r,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                m.accept_errors.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, "accept failed");
                // Out of descriptors (or similar): back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (cancel_tx, cancel_rx) = tokio::sync::oneshot::channel::<()>();
        let seq = {
            let mut p = crate::hub::lock(&pending);
            if p.conns.len() >= shared.config.max_http_connections {
                if let Some((_, oldest)) = p.conns.pop_first() {
                    let _ = oldest.send(());
                    m.http_evicted.fetch_add(1, Relaxed);
                }
            }
            let seq = p.next;
            p.next += 1;
            p.conns.insert(seq, cancel_tx);
            m.http_connections
                .store(i64::try_from(p.conns.len()).unwrap_or(i64::MAX), Relaxed);
            seq
        };
        let app = app.clone();
        let pending = pending.clone();
        let m = m.clone();
        let deadline = shared.config.http_timeout;
        let mut down = shutdown.clone();
        tasks.spawn(async move {
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    let mut app = app.clone();
                    tower_service::Service::call(&mut app, req)
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::select! {
                _ = conn => {}
                () = tokio::time::sleep(deadline) => {
                    m.http_timeouts.fetch_add(1, Relaxed);
                }
                _ = cancel_rx => {}
                _ = down.wait_for(|d| *d) => {}
            }
            let mut p = crate::hub::lock(&pending);
            p.conns.remove(&seq);
            m.http_connections
                .store(i64::try_from(p.conns.len()).unwrap_or(i64::MAX), Relaxed);
        });
    }
}

#[derive(serde::Deserialize)]
struct DevTokenRequest {
    room: Option<String>,
    role: String,
    ttl: Option<serde_json::Value>,
    sub: Option<String>,
    #[serde(default)]
    reusable: bool,
}

/// Whether a request may use `POST /dev/token`: `--dev`, a loopback peer, no sign of a
/// proxy (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`, `Via`), a `Host` that is a loopback
/// literal or `localhost`, and — when a browser says where the request comes from — a
/// loopback `Origin` and no cross-site `Sec-Fetch-Site`.
pub fn dev_token_allowed(dev: bool, peer: SocketAddr, headers: &axum::http::HeaderMap) -> bool {
    if !dev || !peer.ip().is_loopback() {
        return false;
    }
    let proxied = headers.keys().any(|k| {
        let k = k.as_str();
        k == "forwarded" || k == "via" || k == "x-real-ip" || k.starts_with("x-forwarded-")
    });
    if proxied {
        return false;
    }
    let loopback_host = |authority: &str| {
        let host = match authority.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => authority.rsplit_once(':').map_or(authority, |(h, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    authority
                }
            }),
        };
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let hosts: Vec<&str> = headers
        .get_all(header::HOST)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if hosts.len() != 1 || !loopback_host(hosts[0]) {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(loopback_host);
        if !ok {
            return false;
        }
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return false;
        }
    }
    true
}

async fn dev_token_handler(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !dev_token_allowed(shared.config.dev, peer, &headers) {
        return not_found();
    }
    let Some(secret) = shared.hub.secret.clone() else {
        return not_found();
    };
    let bad = |why: &str| (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
    let Ok(req) = serde_json::from_slice::<DevTokenRequest>(&body) else {
        return bad("expected JSON {\"room\", \"role\", \"ttl\"}");
    };
    let ttl = match &req.ttl {
        None => Duration::from_secs(15 * 60),
        Some(serde_json::Value::Number(n)) => Duration::from_secs(n.as_u64().unwrap_or(0)),
        Some(serde_json::Value::String(s)) => match crate::config::parse_duration(s) {
            Some(d) => d,
            None => return bad("bad ttl"),
        },
        Some(_) => return bad("bad ttl"),
    };
    let room = req.room.unwrap_or_else(random_id);
    let max_ttl = shared.config.max_token_ttl;
    match mint_token(
        &secret,
        &room,
        &req.role,
        ttl,
        max_ttl,
        req.sub,
        req.reusable,
    ) {
        Ok((token, claims)) => {
            tracing::info!(role = %claims.role, "development token minted");
            let body = serde_json::json!({
                "token": token, "room": claims.room, "role": claims.role,
                "exp": claims.exp, "jti": claims.jti,
            });
            let mut resp = body.to_string().into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => bad(&e),
    }
}

/// A random base64url id (16 bytes): room ids, token ids, subjects for demos.
pub fn random_id() -> String {
    use base64::Engine;
    let mut b = [0u8; 16];
    // getrandom only fails without an OS entropy source; the id would then be all zeros,
    // which the token's MAC still protects.
    let _ = getrandom::fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Mints a token as a backend would (used by `teleconsult-relay token` and `/dev/token`).
pub fn mint_token(
    secret: &[u8],
    room: &str,
    role: &str,
    ttl: Duration,
    max_ttl: Duration,
    sub: Option<String>,
    reusable: bool,
) -> Result<(String, token::Claims), String> {
    if ttl.is_zero() || ttl > max_ttl {
        return Err(format!(
            "ttl must be between 1s and the relay's --max-token-ttl ({}s): the relay refuses longer-lived tokens",
            max_ttl.as_secs()
        ));
    }
    if !token::is_room_id(room) {
        return Err("room must be a base64url string of 1-128 characters".into());
    }
    if teleconsult::signaling::relay_wire::Role::parse(role).is_none() {
        return Err("role must be clinician, patient or guest".into());
    }
    let claims = token::Claims {
        room: room.to_owned(),
        role: role.to_owned(),
        sub: sub.unwrap_or_else(random_id),
        exp: crate::hub::unix_now().saturating_add(ttl.as_secs()),
        jti: random_id(),
        reusable,
    };
    Ok((token::mint(secret, &claims), claims))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn static_handler(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").into_response();
    }
    let path = req.uri().path();
    let (root, rest) = if path == "/pkg" {
        return Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, "/pkg/")
            .body(Body::empty())
            .unwrap_or_else(|_| not_found());
    } else if let Some(rest) = path.strip_prefix("/pkg/") {
        (shared.config.pkg.as_ref(), rest)
    } else {
        (
            shared.config.www.as_ref(),
            path.strip_prefix('/').unwrap_or(path),
        )
    };
    let Some(root) = root else { return not_found() };
    let Some(file) = statics::load(root, rest).await else {
        return not_found();
    };
    let len = file.body.len();
    let body = if req.method() == Method::HEAD {
        Body::empty()
    } else {
        Body::from(file.body)
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_token_needs_a_local_caller_without_proxy_headers() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!());
        let remote: SocketAddr = "203.0.113.9:5000"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = axum::http::HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, HeaderValue::from_static(v));
            }
            h
        };
        let ok = |h: &[(&'static str, &'static str)]| dev_token_allowed(true, local, &headers(h));
        assert!(ok(&[("host", "127.0.0.1:8787")]));
        assert!(ok(&[("host", "[::1]:8787")]));
        assert!(ok(&[("host", "localhost")]));
        assert!(ok(&[
            ("host", "127.0.0.1:8787"),
            ("origin", "http://[::1]:8787")
        ]));
        assert!(!ok(&[]));
        assert!(!ok(&[("host", "relay.example")]));
        assert!(!ok(&[("host", "127.0.0.1.nip.io")]));
        assert!(!ok(&[
            ("host", "127.0.0.1:8787"),
            ("host", "127.0.0.1:8787")
        ]));
        assert!(!ok(&[
            ("host", "127.0.0.1"),
            ("x-forwarded-for", "10.0.0.1")
        ]));
        assert!(!ok(&[("host", "127.0.0.1"), ("origin", "null")]));
        assert!(!ok(&[
            ("host", "127.0.0.1"),
            ("origin", "https://127.0.0.1")
        ]));
        let h = headers(&[("host", "127.0.0.1")]);
        assert!(!dev_token_allowed(false, local, &h));
        assert!(!dev_token_allowed(true, remote, &h));
    }

    #[test]
    fn accept_key_matches_rfc_6455_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
