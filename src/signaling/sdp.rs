//! The one thing the session reads from an SDP: its DTLS fingerprints (`a=fingerprint:`),
//! which the SAS binds so that a verbal check also authenticates the media path.

/// Extracts every `a=fingerprint:<hash> <hex:hex:…>` line; malformed lines are skipped.
/// At most 8 fingerprints are returned.
pub fn fingerprints(sdp: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for line in sdp.lines() {
        let Some(rest) = line.trim_end_matches('\r').strip_prefix("a=fingerprint:") else {
            continue;
        };
        let mut parts = rest.split_ascii_whitespace();
        let (Some(alg), Some(hex), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if alg.len() > 64 || hex.len() > 64 * 3 {
            continue;
        }
        let digest = colon_hex(hex);
        if let Some(d) = digest.filter(|d| !d.is_empty()) {
            out.push((alg.to_ascii_lowercase(), d));
            if out.len() == 8 {
                break;
            }
        }
    }
    out
}

/// `ab:CD:01` as bytes; `None` unless every part is two hex digits. A part may also be `+`
/// and one digit, which `u8::from_str_radix` (what this replaces: its generic parser and
/// the `Option` collect cost more wasm) accepts too.
fn colon_hex(hex: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| char::from(c).to_digit(16);
    let mut out = Vec::new();
    for part in hex.split(':') {
        let v = match *part.as_bytes() {
            [b'+', lo] => digit(lo)?,
            [hi, lo] => digit(hi)? << 4 | digit(lo)?,
            _ => return None,
        };
        // Two hex digits: at most 0xff.
        out.push(v as u8);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The digest parsing `fingerprints` had before `colon_hex`.
    fn colon_hex_reference(hex: &str) -> Option<Vec<u8>> {
        hex.split(':')
            .map(|p| {
                if p.len() == 2 {
                    u8::from_str_radix(p, 16).ok()
                } else {
                    None
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn colon_hex_reads_what_from_str_radix_read(
            hex in prop_oneof![
                "[0-9a-fA-F:+\\-gé ]{0,12}",
                "([0-9a-fA-F+-]{1,3}:){0,4}[0-9a-fA-F+-]{0,3}",
            ]
        ) {
            prop_assert_eq!(colon_hex(&hex), colon_hex_reference(&hex));
        }
    }

    #[test]
    fn a_plus_sign_digit_is_read_as_from_str_radix_did() {
        for hex in ["+f:00", "++", "+", "-f", "+g", "f+", "ab:", ":ab", "AB:cd"] {
            assert_eq!(colon_hex(hex), colon_hex_reference(hex), "{hex}");
        }
    }

    #[test]
    fn fingerprints_are_found_and_junk_is_skipped() {
        let sdp = "v=0\r\na=fingerprint:sha-256 AB:cd:01\r\na=fingerprint:bad\r\na=fingerprint:sha-1 zz:00\r\nm=audio\r\n";
        assert_eq!(
            fingerprints(sdp),
            vec![("sha-256".to_string(), vec![0xab, 0xcd, 0x01])]
        );
        assert!(fingerprints("").is_empty());
    }
}
