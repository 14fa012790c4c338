//! The Teleconsult relay: a zero-knowledge signaling service.
//!
//! It forwards the opaque frames of `teleconsult::signaling::relay_wire` between the
//! participants of a room, checks join tokens, enforces limits, and serves the demo's static
//! files. See docs/RELAY.md for operating it.

pub mod config;
pub mod server;
pub mod statics;

pub use config::Config;
pub use server::{Relay, start};
