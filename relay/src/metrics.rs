//! Counters and the Prometheus text exposition at `/metrics`.
//!
//! Plain atomics and a fixed-bucket histogram, written out by hand: no metrics crate needed
//! for a dozen series. Labels never carry room ids, subjects or payload data.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::codes;

/// Upper bounds (seconds) of the forwarding latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Every metric of one relay node.
#[derive(Default)]
pub struct Metrics {
    /// Open WebSocket connections (joined or not).
    pub connections: AtomicI64,
    /// Connections accepted since start.
    pub connections_total: AtomicU64,
    /// Connections that completed a join.
    pub joined: AtomicI64,
    /// Rooms with at least one participant on this node.
    pub rooms: AtomicI64,
    /// Client messages received.
    pub frames_in: AtomicU64,
    /// Bytes received in client messages.
    pub bytes_in: AtomicU64,
    /// Messages written to clients.
    pub frames_out: AtomicU64,
    /// Bytes written to clients.
    pub bytes_out: AtomicU64,
    /// Frames waiting in per-connection queues right now (all connections).
    pub queued: AtomicI64,
    /// Frames dropped because the recipient was unknown (or the sender itself).
    pub undeliverable: AtomicU64,
    /// Frames that could not be published to NATS (backpressure).
    pub nats_dropped: AtomicU64,
    /// HTTP upgrades refused because the node is at its connection limit.
    pub refused_connections: AtomicU64,
    /// Times a sender had to wait because it held its fair share of a recipient's queue.
    pub sender_waits: AtomicU64,
    /// Frames from senders on other nodes dropped because they held their fair share of a
    /// (reading) recipient's queue.
    pub remote_dropped: AtomicU64,
    /// Connections in the HTTP phase (accepted, not upgraded to WebSocket).
    pub http_connections: AtomicI64,
    /// HTTP-phase connections closed at the `--http-timeout` deadline.
    pub http_timeouts: AtomicU64,
    /// HTTP-phase connections closed to make room under `--max-http-connections`.
    pub http_evicted: AtomicU64,
    /// `accept` failures (e.g. out of file descriptors).
    pub accept_errors: AtomicU64,
    /// WebSocket pings received from clients.
    pub pings_in: AtomicU64,
    /// WebSocket pongs received from clients.
    pub pongs_in: AtomicU64,
    /// Connections closed for WebSocket protocol violations (1002).
    pub protocol_errors: AtomicU64,
    /// Connections closed for invalid UTF-8 in a text message (1007).
    pub invalid_utf8: AtomicU64,
    /// Connections closed by the relay, by close code (index = code − 4000).
    pub closes: [AtomicU64; 14],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
}

impl Metrics {
    /// Counts a relay-initiated close.
    pub fn count_close(&self, code: u16) {
        if let Some(c) = codes::index(code).and_then(|i| self.closes.get(i)) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Records one forwarding latency (from receipt of a frame to its write to a recipient).
    pub fn observe_latency(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.latency_buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(4096);
        let g = |s: &mut String, name: &str, help: &str, kind: &str, v: String| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        g(
            &mut s,
            "relay_connections",
            "Open WebSocket connections.",
            "gauge",
            self.connections.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_connections_total",
            "WebSocket connections accepted.",
            "counter",
            self.connections_total.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_participants",
            "Joined participants on this node.",
            "gauge",
            self.joined.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_rooms",
            "Rooms with participants on this node.",
            "gauge",
            self.rooms.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_frames_in_total",
            "Client messages received.",
            "counter",
            self.frames_in.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_bytes_in_total",
            "Bytes received from clients.",
            "counter",
            self.bytes_in.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_frames_out_total",
            "Messages written to clients.",
            "counter",
            self.frames_out.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_bytes_out_total",
            "Bytes written to clients.",
            "counter",
            self.bytes_out.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_queued_frames",
            "Frames waiting in per-connection send queues.",
            "gauge",
            self.queued.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_refused_connections_total",
            "Upgrades refused at the connection limit.",
            "counter",
            self.refused_connections.load(Relaxed).to_string(),
        );
        g(
            &mut s,
            "relay_nats_dropped_total",
            "Frames not published to NATS (backpressure).",
            "counter",
            self.nats_dropped.load(Relaxed).to_string(),
        );
        for (name, help, kind, v) in [
            (
                "relay_http_connections",
                "Connections in the HTTP phase (not upgraded to WebSocket).",
                "gauge",
                self.http_connections.load(Relaxed).to_string(),
            ),
            (
                "relay_http_timeouts_total",
                "HTTP-phase connections closed at the --http-timeout deadline.",
                "counter",
                self.http_timeouts.load(Relaxed).to_string(),
            ),
            (
                "relay_http_evicted_total",
                "Oldest HTTP-phase connections closed to admit new ones (--max-http-connections).",
                "counter",
                self.http_evicted.load(Relaxed).to_string(),
            ),
            (
                "relay_accept_errors_total",
                "Failed accepts (e.g. out of file descriptors).",
                "counter",
                self.accept_errors.load(Relaxed).to_string(),
            ),
            (
                "relay_sender_waits_total",
                "Times a sender waited because it held its fair share of a recipient's queue.",
                "counter",
                self.sender_waits.load(Relaxed).to_string(),
            ),
            (
                "relay_remote_dropped_total",
                "Frames from other nodes dropped: their sender held its share of a recipient's queue.",
                "counter",
                self.remote_dropped.load(Relaxed).to_string(),
            ),
        ] {
            g(&mut s, name, help, kind, v);
        }
        let _ = writeln!(
            s,
            "# HELP relay_control_frames_in_total WebSocket control frames received from clients.\n# TYPE relay_control_frames_in_total counter\nrelay_control_frames_in_total{{kind=\"ping\"}} {}\nrelay_control_frames_in_total{{kind=\"pong\"}} {}",
            self.pings_in.load(Relaxed),
            self.pongs_in.load(Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP relay_drops_total Frames or connections dropped, by reason.\n# TYPE relay_drops_total counter"
        );
        let _ = writeln!(
            s,
            "relay_drops_total{{reason=\"undeliverable\"}} {}",
            self.undeliverable.load(Relaxed)
        );
        for (i, c) in codes::ALL.iter().enumerate() {
            let n = self.closes.get(i).map_or(0, |a| a.load(Relaxed));
            let _ = writeln!(
                s,
                "relay_drops_total{{reason=\"{}\",code=\"{}\"}} {n}",
                slug(c.reason),
                c.code
            );
        }
        let _ = writeln!(
            s,
            "relay_drops_total{{reason=\"protocol_error\",code=\"1002\"}} {}\nrelay_drops_total{{reason=\"invalid_utf8\",code=\"1007\"}} {}",
            self.protocol_errors.load(Relaxed),
            self.invalid_utf8.load(Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP relay_forward_latency_seconds Time from receiving a frame to writing it to a recipient.\n# TYPE relay_forward_latency_seconds histogram"
        );
        let mut cumulative = 0;
        for (b, n) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(
                s,
                "relay_forward_latency_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            s,
            "relay_forward_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "relay_forward_latency_seconds_sum {}",
            self.latency_sum_ns.load(Relaxed) as f64 / 1e9
        );
        let _ = writeln!(s, "relay_forward_latency_seconds_count {count}");
        if let Some(rss) = resident_memory_bytes() {
            g(
                &mut s,
                "process_resident_memory_bytes",
                "Resident memory of the relay process.",
                "gauge",
                rss.to_string(),
            );
        }
        s
    }
}

fn slug(reason: &str) -> String {
    reason
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The process's resident set size from /proc/self/status (Linux), in bytes.
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.frames_in.fetch_add(3, Relaxed);
        m.count_close(4009);
        m.observe_latency(std::time::Duration::from_micros(200));
        m.observe_latency(std::time::Duration::from_millis(3));
        let text = m.render();
        assert!(text.contains("relay_frames_in_total 3\n"));
        assert!(text.contains("relay_drops_total{reason=\"rate_limited\",code=\"4009\"} 1\n"));
        assert!(text.contains("relay_forward_latency_seconds_bucket{le=\"0.00025\"} 1\n"));
        assert!(text.contains("relay_forward_latency_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("relay_forward_latency_seconds_count 2\n"));
    }
}
