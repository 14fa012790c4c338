//! A native Teleconsult participant built on webrtc-rs.
//!
//! It proves the protocol is not browser-bound, and gives tests a second, independent WebRTC
//! stack: the same sans-IO session the browser SDK runs, with webrtc-rs for media, tokio for
//! IO and tokio-tungstenite for the relay connection.
//!
//! | module | job |
//! | --- | --- |
//! | [`driver`] | the drive loop: one task owning the session; relay, webrtc-rs callbacks and timers in, outputs executed in order |
//! | [`media`] | one webrtc-rs peer connection: offers/answers, trickle ICE, echoing data channel, synthetic VP8 track, RTP counters; the session's one DTLS certificate |
//! | [`relay`] | the relay WebSocket and the `--dev` token request |
//! | [`visit`] | the visit joined: a v2 invite link checked against `--role`, or a new visit's links |
//! | [`cli`] | command-line options |
//! | [`output`] | JSON-lines events on stdout, human lines on stderr |
//!
//! docs/NATIVE_PEER.md describes the command line and the JSON events it prints.

pub mod cli;
pub mod driver;
pub mod media;
pub mod output;
pub mod relay;
pub mod visit;
