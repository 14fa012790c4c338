//! The sans-IO consultation session: wire format and state machine.

pub mod relay_wire;
