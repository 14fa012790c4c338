//! The Teleconsult relay: a zero-knowledge signaling service.
//!
//! It forwards the opaque frames of `teleconsult::signaling::relay_wire` between the
//! participants of a room, checks join tokens, enforces limits, and serves the demo's static
//! files. See docs/RELAY.md for operating it.

pub mod cluster;
pub mod codes;
pub mod config;
pub mod conn;
pub mod hub;
pub mod metrics;
pub mod server;
pub mod statics;
pub mod token;

pub use config::Config;
pub use server::{Relay, start};
