//! What the peer tells its operator: one JSON object per line on stdout (for tests and
//! scripts), human-readable lines on stderr.
//!
//! Every JSON line has `"event"` (a snake_case name) and `"t_ms"` (milliseconds since the
//! process started); the other fields depend on the event (docs/NATIVE_PEER.md lists them).

use std::io::Write;
use std::time::Instant;

use serde_json::{Map, Value};
use teleconsult::signaling::relay_wire::ParticipantId;

/// Writes events.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    start: Instant,
}

impl Out {
    /// Starts the clock `t_ms` counts from.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// Prints `{"event": name, "t_ms": …, …fields}` as one line on stdout and flushes, so a
    /// test reading the pipe sees it at once. `fields` must be a JSON object (or null).
    pub fn event(&self, name: &str, fields: Value) {
        let mut obj = Map::new();
        obj.insert("event".into(), Value::from(name));
        let t = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        obj.insert("t_ms".into(), Value::from(t));
        if let Value::Object(more) = fields {
            obj.extend(more);
        }
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (the test stopped reading) is not a reason to stop the call.
        let _ = writeln!(stdout, "{}", Value::Object(obj));
        let _ = stdout.flush();
    }

    /// A human-readable line on stderr, prefixed `native-peer: `.
    pub fn log(&self, line: &str) {
        eprintln!("native-peer: {line}");
    }
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

/// A participant id as 16 lowercase hex digits (how events name peers).
pub fn hex_id(id: ParticipantId) -> String {
    id.0.iter().map(|b| format!("{b:02x}")).collect()
}
