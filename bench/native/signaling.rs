//! Signaling benchmarks: the pairwise handshake (two X25519 key agreements and the HKDF
//! key schedule, per side) and seal+open throughput of 1 KiB frames. Prints one line per
//! benchmark: `name: key=value ...`.
use std::hint::black_box;
use std::time::Instant;

use teleconsult::crypto::{
    DirectionKey, Ephemeral, Opener, PeerPublic, RoomId, RoomKeys, RoomSecret, Sealer, derive_pair,
    transcript_hash,
};

fn handshake() {
    let room = [1u8; 16];
    let keys = RoomKeys::derive(&RoomId(room), &RoomSecret::from_bytes([2; 32]));
    let (sa, sb) = (
        Ephemeral::from_random([3; 32]),
        Ephemeral::from_random([4; 32]),
    );
    let peer_static = sb.public();
    let eb_public = Ephemeral::from_random([6; 32]).public();
    let iters = 2_000u32;
    let start = Instant::now();
    for i in 0..iters {
        // What one side does per pair and epoch: a fresh ephemeral, the transcript and
        // both key agreements with the derivations.
        let mut seed = [5u8; 32];
        seed[..4].copy_from_slice(&i.to_be_bytes());
        let ea = Ephemeral::from_random(seed);
        let th = transcript_hash(&room, (&[1; 8], &ea.public()), (&[2; 8], &eb_public));
        let peer = PeerPublic {
            id: &[2; 8],
            static_public: &peer_static,
            ephemeral_public: &eb_public,
        };
        black_box(derive_pair(&room, &keys, &sa, &ea, &[1; 8], peer, &th).expect("valid keys"));
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    println!("handshake: us_per_op={us:.1} iters={iters}");
}

fn envelope_1k() {
    let key = DirectionKey::from_bytes([7; 32], [8; 12]);
    let mut sealer = Sealer::new(&key, [9; 8]);
    let mut opener = Opener::new(&key, [9; 8]);
    let payload = vec![0x5a; 1024];
    let iters = 200_000u32;
    let start = Instant::now();
    for _ in 0..iters {
        let f = sealer
            .seal(2, &[1; 16], &[2; 8], &[3; 8], black_box(&payload))
            .expect("seal");
        black_box(opener.open(&f).expect("open"));
    }
    let secs = start.elapsed().as_secs_f64();
    let per_s = f64::from(iters) / secs;
    let mib = per_s * 1024.0 / (1024.0 * 1024.0);
    println!("envelope-1k: seal_open_per_s={per_s:.0} mib_per_s={mib:.1} iters={iters}");
}

fn main() {
    handshake();
    envelope_1k();
}
