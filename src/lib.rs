//! # Teleconsult
//!
//! A Rust-to-WebAssembly client SDK for telemedicine: end-to-end encrypted consultation
//! signaling over WebRTC, secure capture of Bluetooth medical device readings, and consent
//! management with a signed, tamper-evident ledger.
//!
//! ## Module map
//!
//! | module | job |
//! | --- | --- |
//! | [`crypto`] | envelope (AES-256-GCM), key schedule (HKDF-SHA256), handshake (X25519), SAS |
//! | [`signaling`] | the sans-IO consultation session: wire format and state machine |
//! | [`devices`] | Bluetooth SIG health characteristic parsers, readings, FHIR mapping |
//! | [`consent`] | consent model, signed ledger, policy decisions, exports |
//! | [`chat`] | end-to-end encrypted chat: frames, conversation, history, FHIR Communication |
//! | [`files`] | photos and documents: chunked, checked, resumable transfers; FHIR Media / DocumentReference |
//! | `web` | wasm32 only: the JS API and the browser drivers |
//!
//! Everything except `web` is plain Rust, compiled and tested natively. Nothing outside
//! `web` reads a clock or a random source: `now` and random bytes are passed in, so every
//! behaviour can be tested in simulated time.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `web` | yes (through the two below) | what both browser modules share (`web`, wasm32 only) |
//! | `web-call` | yes | the JS API a page needs to join: consultation, consent, recording, chat, invites |
//! | `web-devices` | yes | the devices JS API: parsers as JS values, Web Bluetooth, the bridge, reading delivery |
//!
//! `cargo xtask build` builds the crate twice, with `web-call` alone (the package's
//! `teleconsult` module) and with `web-devices` alone (`teleconsult/devices`), so a page that
//! joins without devices does not download them. Without any `web*` feature the crate is the
//! sans-IO core alone; `bench/bundle-floor` builds it that way to measure what the core
//! weighs in wasm. Why the core avoids `format!`, `BTreeMap`,
//! sorting and panicking slices: docs/DEVELOPING.md, "Why size shapes the code".

pub mod capabilities;
pub mod chat;
pub mod consent;
pub mod crypto;
pub mod devices;
mod error;
pub mod files;
pub mod quality;
pub mod reconnect;
pub mod signaling;
mod sorted_map;
mod text;

#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod web;

pub use error::{Error, ErrorCode};

/// The SDK version, as published on npm and crates.io.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
