//! Consent model, signed ledger, policy decisions and exports.
