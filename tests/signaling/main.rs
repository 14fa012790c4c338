//! The call: the sans-IO session, its handshake, envelope, negotiation and the attacks on them, in simulated time.
//!
//! One test binary per pillar; each module is named after the behaviour it checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests may unwrap: a failure is the test failing"
)]

#[path = "../common/mod.rs"]
mod common;

mod arbitrary_input;
mod bulk_offload;
mod consultation_connects;
mod direct_path;
mod early_offer;
mod glare;
mod hang_up;
mod hello_attacks;
mod ice_never_connects;
mod ice_restart;
mod misrouted_frame;
mod protocol_vectors;
mod quality_fallback;
mod relay_drop_mid_negotiation;
mod relay_forced_rekey;
mod replayed_frame;
mod resume_ticket;
mod role_forgery;
mod sas_grinding;
mod screen_share;
mod tampered_frame;
mod waiting_room;
mod wrong_link;
