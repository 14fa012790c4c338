//! A native Teleconsult participant built on webrtc-rs.
//!
//! It proves the protocol is not browser-bound, and gives tests a second, independent WebRTC
//! stack: the same sans-IO session the browser SDK runs, with webrtc-rs for media, tokio for
//! IO and tokio-tungstenite for the relay connection.
//!
//! | module | job |
//! | --- | --- |
//! | [`media`] | one webrtc-rs peer connection: offers/answers, trickle ICE, echoing data channel, synthetic VP8 track, RTP counters |
//!
//! docs/NATIVE_PEER.md describes the command line and the JSON events it prints.

pub mod media;
