//! Which relay URLs `Consultation.join` accepts: `wss://` anywhere, `ws://` (no TLS) only to
//! a loopback host — 127.0.0.0/8, `[::1]` or `localhost` — for local development and tests
//! (issue 13, point 8). A plain `ws://` relay elsewhere would let anyone on the path see and
//! drop the (sealed) frames and the join token.

use crate::web::Error;

/// Checks `relayUrl`: `wss://…` or `ws://<loopback>…`; anything else is `InvalidArgument`.
pub(crate) fn check_relay_url(url: &str) -> Result<(), Error> {
    if scheme_rest(url, "wss://").is_some() {
        return Ok(());
    }
    match scheme_rest(url, "ws://") {
        Some(rest) if is_loopback(host(rest)) => Ok(()),
        Some(_) => Err(Error::InvalidArgument(
            "relayUrl: ws:// (no TLS) is only allowed to a loopback host; use wss://",
        )),
        None => Err(Error::InvalidArgument(
            "relayUrl: expected a ws:// or wss:// URL",
        )),
    }
}

/// What follows `scheme` (ASCII case-insensitive), if `url` starts with it.
fn scheme_rest<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let head = url.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| url.get(scheme.len()..))
        .flatten()
}

/// The host of `authority[/path…]`: without userinfo and port; IPv6 without brackets.
fn host(rest: &str) -> &str {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = hostport.strip_prefix('[') {
        return v6.split_once(']').map_or("", |(h, _)| h);
    }
    hostport.split_once(':').map_or(hostport, |(h, _)| h)
}

/// 127.0.0.0/8 (dotted quad), `::1` (any spelling `std` parses) or `localhost`.
fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<std::net::Ipv4Addr>() {
        return v4.is_loopback();
    }
    host.parse::<std::net::Ipv6Addr>()
        .is_ok_and(|v6| v6.is_loopback())
}
