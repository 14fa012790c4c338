//! Devices: GATT parsers against the specifications, readings, FHIR, delivery and device state.
//!
//! One test binary per pillar; each module is named after the behaviour it checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests may unwrap: a failure is the test failing"
)]

mod arbitrary_bytes;
mod fhir_observations;
mod float_vectors;
mod glucose_record_download;
mod malformed_payloads;
mod reading_delivery;
mod reading_provenance;
mod reserved_bits;
mod spec_vectors;
mod state;
