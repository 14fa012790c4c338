//! The Teleconsult relay.
fn main() {}
