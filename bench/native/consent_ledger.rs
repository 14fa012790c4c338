//! Consent ledger costs: signed append, full verification, one enforcement decision, and
//! the encoded size of a typical grant. One line per benchmark on stdout.
#![allow(clippy::unwrap_used, reason = "benchmark fixtures are known valid")]

use std::hint::black_box;
use std::time::Instant;

use teleconsult::consent::*;

const T0: u64 = 1_700_000_000_000;

fn grant(i: u64) -> Grant {
    Grant {
        patient: "pat-1".into(),
        recipient: Recipient {
            kind: RecipientKind::Practitioner,
            id: "dr-1".into(),
        },
        purposes: vec![Purpose::Treatment],
        categories: vec![
            DataCategory::Video,
            DataCategory::Audio,
            DataCategory::HeartRate,
        ],
        period: Period {
            start: T0,
            end: Some(T0 + 1_000_000 + i),
        },
        notice: Notice::for_text("https://clinic.example/privacy", "3", "en", b"notice"),
        collection: Collection::PatientAction,
    }
}

/// A ledger of `n` entries: grants, each withdrawn by the next entry.
fn ledger(n: u64, key: &ConsentKey) -> Ledger {
    let mut l = Ledger::new([1; 16], &key.public_key()).unwrap();
    for i in 0..n {
        let ev = if i % 2 == 0 {
            Event::Grant(grant(i))
        } else {
            Event::Withdraw { grant: i - 1 }
        };
        l.append(key, T0 + i, ev).unwrap();
    }
    l
}

fn time(iters: u32, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn main() {
    let key = ConsentKey::from_seed(&[7; 32]);
    let appends = 200;
    let ns = time(5, || {
        black_box(ledger(appends, &key));
    });
    println!(
        "consent_append: us_per_entry={:.1} entries={appends}",
        ns / appends as f64 / 1e3
    );

    let l = ledger(100, &key);
    let bytes = l.encode();
    let ns = time(20, || {
        black_box(verify_exported(&bytes, &key.public_key(), None).unwrap());
    });
    println!(
        "consent_verify_exported: us_per_ledger={:.0} entries=100 bytes={} us_per_entry={:.1}",
        ns / 1e3,
        bytes.len(),
        ns / 100.0 / 1e3
    );

    let req = Request {
        category: DataCategory::HeartRate,
        recipient: Recipient {
            kind: RecipientKind::Practitioner,
            id: "dr-1".into(),
        },
        purpose: Purpose::Treatment,
        now: T0 + 200,
        notice_version: "3".into(),
    };
    let ns = time(100_000, || {
        black_box(check(black_box(l.state()), black_box(&req)));
    });
    println!(
        "consent_check: ns_per_decision={ns:.0} grants={}",
        l.state().grants.len()
    );

    let one = ledger(1, &key);
    println!(
        "consent_entry_size: grant_bytes={} withdraw_bytes={} checkpoint_bytes={CHECKPOINT_LEN}",
        one.entry_bytes(0).unwrap().len(),
        l.entry_bytes(1).unwrap().len()
    );
}
