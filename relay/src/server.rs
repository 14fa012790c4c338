//! The HTTP side: routes, startup, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::sync::watch;

use crate::config::Config;
use crate::statics;

/// State shared by every request handler.
pub struct Shared {
    /// The configuration the relay started with.
    pub config: Config,
    /// Flips to `true` when the relay starts shutting down.
    pub shutdown: watch::Receiver<bool>,
}

/// A running relay (in-process); dropping it does not stop it — call [`Relay::shutdown`].
pub struct Relay {
    addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    grace: std::time::Duration,
}

/// Why the relay could not start.
#[derive(Debug)]
pub enum StartError {
    /// Binding the listen address failed.
    Bind(std::io::Error),
    /// The configuration is unusable (e.g. no token secret outside dev mode).
    Config(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bind(e) => write!(f, "cannot listen: {e}"),
            Self::Config(e) => write!(f, "bad configuration: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl Relay {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts a graceful shutdown: WebSocket clients get close 4013 ("shutting down –
    /// reconnect"), then the listener stops. Returns when everything is down or the grace
    /// period is over.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ =
            tokio::time::timeout(self.grace + std::time::Duration::from_secs(1), self.task).await;
    }
}

/// Binds and starts serving in the background of the current tokio runtime.
pub async fn start(config: Config) -> Result<Relay, StartError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let grace = config.shutdown_grace;
    let shared = Arc::new(Shared {
        config,
        shutdown: shutdown_rx.clone(),
    });
    let app = router(shared);
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
    })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback(static_handler)
        .with_state(shared)
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
