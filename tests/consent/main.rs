//! Consent: the signed ledger, enforcement, exports, sync and the attacks on them.
//!
//! One test binary per pillar; each module is named after the behaviour it checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests may unwrap: a failure is the test failing"
)]

#[path = "../consent_fixtures/mod.rs"]
mod consent_fixtures;

mod consent_clinician_key;
mod consent_enforcement_matrix;
mod consent_exports;
mod consent_kat;
mod consent_manager;
mod consent_sync_link;
mod consent_sync_messages;
mod ledger_attacks;
mod ledger_entry_times;
mod ledger_properties;
mod recording_needs_everyone;
