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
        let digest: Option<Vec<u8>> = hex
            .split(':')
            .map(|p| {
                if p.len() == 2 {
                    u8::from_str_radix(p, 16).ok()
                } else {
                    None
                }
            })
            .collect();
        if let Some(d) = digest.filter(|d| !d.is_empty()) {
            out.push((alg.to_ascii_lowercase(), d));
            if out.len() == 8 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
