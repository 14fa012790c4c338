//! Step one of the native peer: two webrtc-rs peers in one process connect over loopback
//! (host candidates on 127.0.0.1 only), open a data channel that echoes, and exchange the
//! synthetic VP8 video in both directions. Signaling is a direct hand-off here; the relay
//! and the E2E session are exercised in `tests/relay_call.rs`.

use std::time::{Duration, Instant};

use teleconsult::signaling::certificate_fingerprint;
use teleconsult_native_peer::media::{
    DescriptionKind, LocalCertificate, MediaConfig, MediaEvent, MediaPeer, VP8_KEY_FRAME,
};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_native_peers_connect_echo_and_exchange_video_over_loopback() {
    let started = Instant::now();
    let (a_tx, mut a_rx) = mpsc::unbounded_channel();
    let (b_tx, mut b_rx) = mpsc::unbounded_channel();
    let (a_cert, b_cert) = (
        LocalCertificate::generate().unwrap(),
        LocalCertificate::generate().unwrap(),
    );
    assert_ne!(a_cert.fingerprint(), b_cert.fingerprint());
    let a_cfg = MediaConfig {
        echo: false,
        certificate: Some(a_cert.clone()),
        ..MediaConfig::default()
    };
    let b_cfg = MediaConfig {
        certificate: Some(b_cert.clone()),
        ..MediaConfig::default() // echoes
    };
    let mut a = MediaPeer::new(&a_cfg, move |e| drop(a_tx.send(e)))
        .await
        .unwrap();
    let mut b = MediaPeer::new(&b_cfg, move |e| drop(b_tx.send(e)))
        .await
        .unwrap();
    a.add_local_media(true).await.unwrap();

    let offer = a.create_offer(false).await.unwrap();
    assert!(
        offer.contains("m=video"),
        "the offer carries the video track"
    );
    assert!(
        offer.contains("m=application"),
        "the offer carries the data channel"
    );
    assert_eq!(
        fingerprints(&offer),
        vec![a_cert.fingerprint().clone()],
        "the offer names exactly A's certificate"
    );
    b.set_remote(DescriptionKind::Offer, offer).await.unwrap();
    b.add_local_media(false).await.unwrap(); // takes over the offered video transceiver
    let answer = b.create_answer().await.unwrap();
    assert!(
        answer.contains("a=sendrecv"),
        "B sends video in its first answer"
    );
    assert_eq!(
        fingerprints(&answer),
        vec![b_cert.fingerprint().clone()],
        "the answer names exactly B's certificate"
    );
    a.set_remote(DescriptionKind::Answer, answer).await.unwrap();

    let mut connected_at = None;
    let mut echoed = false;
    let mut probe_sent = false;
    let mut candidates = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let sa = a.stats().snapshot();
        let sb = b.stats().snapshot();
        if echoed && sa.video_rtp_packets >= 10 && sb.video_rtp_packets >= 10 {
            break;
        }
        tokio::select! {
            Some(e) = a_rx.recv() => match e {
                MediaEvent::LocalCandidate(c) => {
                    assert!(c.candidate.contains("127.0.0.1"), "loopback only: {}", c.candidate);
                    candidates.0 += 1;
                    b.add_candidate(c).await.unwrap();
                }
                MediaEvent::DataChannelOpen { .. } if !probe_sent => {
                    probe_sent = a.send_text("probe-1").await == 1;
                    assert!(probe_sent, "the open channel takes the probe");
                }
                MediaEvent::DataChannelMessage { data, echoed: e, .. } => {
                    assert_eq!(data, b"probe-1", "the echo is byte-exact");
                    assert!(!e, "the non-echoing side does not echo back");
                    echoed = true;
                }
                MediaEvent::Connection(s) if s.to_string() == "connected" => {
                    connected_at.get_or_insert(started.elapsed());
                }
                _ => {}
            },
            Some(e) = b_rx.recv() => if let MediaEvent::LocalCandidate(c) = e {
                assert!(c.candidate.contains("127.0.0.1"), "loopback only: {}", c.candidate);
                candidates.1 += 1;
                a.add_candidate(c).await.unwrap();
            },
            () = tokio::time::sleep_until(deadline) => {
                panic!("timed out: echoed={echoed} a={sa:?} b={sb:?}");
            }
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let (sa, sb) = (a.stats().snapshot(), b.stats().snapshot());
    assert!(
        candidates.0 >= 1 && candidates.1 >= 1,
        "both sides trickled"
    );
    assert_eq!(
        sb.dc_messages_echoed, 1,
        "the echoing side echoed the probe once"
    );
    assert_eq!(sa.dc_messages_echoed, 0);
    // Each frame is one key frame of VP8_KEY_FRAME.len() bytes split over >= 2 packets
    // (1200-byte MTU), plus a 1-byte VP8 payload descriptor per packet.
    assert!(sa.video_rtp_bytes >= VP8_KEY_FRAME.len() as u64);
    assert!(sb.video_rtp_bytes >= VP8_KEY_FRAME.len() as u64);
    eprintln!(
        "loopback_media: connected_ms={} total_ms={} a={sa:?} b={sb:?}",
        connected_at.map_or(0, |d| d.as_millis()),
        started.elapsed().as_millis()
    );
    a.close().await;
    b.close().await;
}

/// The distinct `a=fingerprint` values of `sdp`, read as the session reads them.
fn fingerprints(sdp: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for line in sdp.lines() {
        if let Some(rest) = line.trim_end().strip_prefix("a=fingerprint:") {
            let (alg, value) = rest.split_once(' ').expect("algorithm and value");
            let fp = certificate_fingerprint(alg, value).expect("a readable fingerprint");
            if !out.contains(&fp) {
                out.push(fp);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_built_with_one_certificate_presents_it() {
    // What the session requires: one certificate for all of its connections, whatever the
    // peer (here two connections offering, and one answering a foreign offer).
    let cert = LocalCertificate::generate().unwrap();
    let line = cert.fingerprint_line();
    assert!(line.starts_with("sha-256 "), "{line}");
    assert_eq!(cert.fingerprint().1.len(), 32);
    let cfg = MediaConfig {
        certificate: Some(cert.clone()),
        send_video: false,
        ..MediaConfig::default()
    };
    let mut peers = Vec::new();
    for _ in 0..2 {
        let mut p = MediaPeer::new(&cfg, |_| {}).await.unwrap();
        p.add_local_media(true).await.unwrap();
        let offer = p.create_offer(false).await.unwrap();
        assert_eq!(fingerprints(&offer), vec![cert.fingerprint().clone()]);
        peers.push((p, offer));
    }
    let mut other = MediaPeer::new(&MediaConfig::default(), |_| {})
        .await
        .unwrap();
    other.add_local_media(true).await.unwrap();
    let (_, offer) = &peers[0];
    let mut answerer = MediaPeer::new(&cfg, |_| {}).await.unwrap();
    answerer
        .set_remote(DescriptionKind::Offer, offer.clone())
        .await
        .unwrap();
    answerer.add_local_media(false).await.unwrap();
    let answer = answerer.create_answer().await.unwrap();
    assert_eq!(fingerprints(&answer), vec![cert.fingerprint().clone()]);
    // Without a certificate, webrtc-rs makes its own: a different one.
    let own = other.create_offer(false).await.unwrap();
    let own = fingerprints(&own);
    assert_eq!(own.len(), 1);
    assert_ne!(own, vec![cert.fingerprint().clone()]);
    for (p, _) in peers {
        p.close().await;
    }
    answerer.close().await;
    other.close().await;
}
