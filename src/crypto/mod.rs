//! Cryptography for the sealed signaling channel: the AES-256-GCM envelope, the HKDF-SHA256
//! key schedule, the X25519 handshake and the short authentication string.
