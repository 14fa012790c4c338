//! The few number-to-text conversions the core needs, without `format!` (for the wasm's
//! size: docs/DEVELOPING.md, "Why size shapes the code"). Each writes exactly the text
//! `format!` would.

/// Appends `v` in decimal, zero-padded to at least `width` digits: what `{v:0width$}`
/// writes for an unsigned integer.
pub(crate) fn push_padded(out: &mut String, v: u64, width: u32) {
    // Digits are made last-first into the end of a buffer (a u64 has at most 20), dividing
    // by constants only: no indexing and no division that could panic.
    let mut buf = [b'0'; 20];
    let (mut v, mut used) = (v, 0u32);
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
        used += 1;
        if v == 0 {
            break;
        }
    }
    for _ in used..width {
        out.push('0');
    }
    for &d in buf.iter().skip(20 - used as usize) {
        out.push(char::from(d));
    }
}

/// Appends `v` in decimal, as `{v:0width$}` writes a signed integer: a `-` counts towards
/// the width (`-5` at width 4 is `-005`).
pub(crate) fn push_padded_signed(out: &mut String, v: i64, width: u32) {
    if v < 0 {
        out.push('-');
        push_padded(out, v.unsigned_abs(), width.saturating_sub(1));
    } else {
        push_padded(out, v.unsigned_abs(), width);
    }
}

/// Appends `v` as four upper-case hex digits: what `{v:04X}` writes for a `u16`.
pub(crate) fn push_hex4_upper(out: &mut String, v: u16) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for shift in [12u16, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((v >> shift) & 15)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges_match_format() {
        for v in [0, 1, 9, 10, 99, 100, 999, 1000, u64::MAX, 10u64.pow(19)] {
            for w in [0, 1, 2, 3, 4, 6, 25] {
                let mut s = String::new();
                push_padded(&mut s, v, w);
                assert_eq!(s, format!("{v:0w$}", w = w as usize));
            }
        }
        for v in [0, -1, -5, -999, -1000, i64::MIN, i64::MAX] {
            for w in [0, 1, 3, 4, 5, 22] {
                let mut s = String::new();
                push_padded_signed(&mut s, v, w);
                assert_eq!(s, format!("{v:0w$}", w = w as usize));
            }
        }
    }

    proptest! {
        #[test]
        fn hex4_matches_format(v in any::<u16>()) {
            let mut out = String::new();
            push_hex4_upper(&mut out, v);
            prop_assert_eq!(out, format!("{v:04X}"));
        }

        #[test]
        fn padded_decimals_match_format(v in any::<u64>(), s in any::<i64>(), w in 0u32..24) {
            let mut out = String::new();
            push_padded(&mut out, v, w);
            prop_assert_eq!(out, format!("{v:0w$}", w = w as usize));
            let mut out = String::new();
            push_padded_signed(&mut out, s, w);
            prop_assert_eq!(out, format!("{s:0w$}", w = w as usize));
        }
    }
}
