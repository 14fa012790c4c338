//! The HTTP side: routes, startup, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State, WebSocketUpgrade};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
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
pub async fn start(config: Config) -> Result<Relay, StartError> {
    let secret = load_secret(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let shutdown_tx = Arc::new(shutdown_tx);
    let grace = config.shutdown_grace;
    let metrics = Arc::new(Metrics::default());
    let hub = Arc::new(Hub::new(config.clone(), metrics, secret));
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
    let app = router(shared).into_make_service_with_connect_info::<SocketAddr>();
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let mut rx = shutdown_rx;
    let task = tokio::spawn(async move {
        let signal = async move {
            let _ = rx.wait_for(|down| *down).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
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

async fn ws_handler(
    State(shared): State<Arc<Shared>>,
    ws: WebSocketUpgrade,
    req: Request,
) -> Response {
    let hub = shared.hub.clone();
    let m = &hub.metrics;
    if *shared.shutdown.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
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
    // far larger ones are cut off by the WebSocket layer (and get 4008 best effort).
    let max = shared.config.max_frame.saturating_add(1);
    let write_cap = shared
        .config
        .send_queue_bytes
        .saturating_mul(2)
        .saturating_add(max);
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(4096)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(write_cap)
        .on_upgrade(move |socket| conn::run(socket, hub, expect, shutdown, slot))
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

async fn dev_token_handler(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Response {
    if !shared.config.dev || !peer.ip().is_loopback() {
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
    if ttl.is_zero() || ttl > shared.config.max_token_ttl {
        return bad("ttl out of range");
    }
    let room = req.room.unwrap_or_else(random_id);
    match mint_token(&secret, &room, &req.role, ttl, req.sub, req.reusable) {
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
    sub: Option<String>,
    reusable: bool,
) -> Result<(String, token::Claims), String> {
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
