//! Join tokens: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "v1." + claims_b64))>`.
//!
//! The integrator's backend mints them with a secret it shares with the relay; the relay
//! checks the MAC (constant time), expiry, room and role, and remembers single-use token
//! ids so that a token cannot admit two different participants. base64url is unpadded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use teleconsult::signaling::relay_wire::{MAX_TOKEN_LEN, ParticipantId, Role};

use crate::codes::{self, Close};

/// Longest room id, subject and token id accepted in claims.
pub const MAX_CLAIM_LEN: usize = 128;

/// The claims inside a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The room id (base64url string, as the SDK creates it).
    pub room: String,
    /// `clinician`, `patient` or `guest`.
    pub role: String,
    /// The integrator's id for the person (opaque; never logged by the relay).
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Unique token id; single-use tokens are remembered by it.
    pub jti: String,
    /// When true the token may admit several participant ids (e.g. a shared guest link).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reusable: bool,
}

/// A token that passed every check.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The room it admits to.
    pub room: String,
    /// The role it grants.
    pub role: Role,
    /// Who may resume a participant id admitted by this token: SHA-256 over the role,
    /// whether the token is reusable, and the subject (never the subject itself). A
    /// participant id is resumed only by a single-use token with the same binding.
    pub subject: [u8; 32],
    /// Token id.
    pub jti: String,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Whether the token may be used by several participant ids.
    pub reusable: bool,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// Whether `s` is a non-empty base64url string of at most [`MAX_CLAIM_LEN`] characters.
pub fn is_room_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_CLAIM_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Mints a token for `claims` (what a backend does; also `teleconsult-relay token`).
pub fn mint(secret: &[u8], claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let claims_b64 = URL_SAFE_NO_PAD.encode(json);
    let signed = format!("v1.{claims_b64}");
    let mut m = mac(secret);
    m.update(signed.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{signed}.{tag}")
}

/// Checks a token's MAC, encoding, claims and expiry at `now_secs`; `max_ttl_secs` bounds
/// how far in the future `exp` may lie (longer-lived tokens are refused as bad).
pub fn verify(
    secret: &[u8],
    token: &[u8],
    now_secs: u64,
    max_ttl_secs: u64,
) -> Result<Verified, Close> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(codes::BAD_TOKEN);
    }
    let token = std::str::from_utf8(token).map_err(|_| codes::BAD_TOKEN)?;
    let rest = token.strip_prefix("v1.").ok_or(codes::BAD_TOKEN)?;
    let (claims_b64, tag_b64) = rest.split_once('.').ok_or(codes::BAD_TOKEN)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag_b64)
        .map_err(|_| codes::BAD_TOKEN)?;
    let mut m = mac(secret);
    m.update(b"v1.");
    m.update(claims_b64.as_bytes());
    // `verify_slice` compares in constant time.
    m.verify_slice(&tag).map_err(|_| codes::BAD_TOKEN)?;
    let json = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .map_err(|_| codes::BAD_TOKEN)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| codes::BAD_TOKEN)?;
    if claims.jti.is_empty() || claims.jti.len() > MAX_CLAIM_LEN || claims.sub.len() > MAX_CLAIM_LEN
    {
        return Err(codes::BAD_TOKEN);
    }
    if claims.exp <= now_secs {
        return Err(codes::TOKEN_EXPIRED);
    }
    if claims.exp - now_secs > max_ttl_secs.saturating_add(60) {
        return Err(codes::BAD_TOKEN);
    }
    // Malformed claims are a bad token (4001), even correctly signed; 4003 is kept for a
    // well-formed token that does not match the request.
    if !is_room_id(&claims.room) {
        return Err(codes::BAD_TOKEN);
    }
    let role = Role::parse(&claims.role).ok_or(codes::BAD_TOKEN)?;
    let subject = binding(role, claims.reusable, &claims.sub);
    Ok(Verified {
        room: claims.room,
        role,
        subject,
        jti: claims.jti,
        exp: claims.exp,
        reusable: claims.reusable,
    })
}

/// The resume binding of a token: role, reusability and subject, hashed.
pub fn binding(role: Role, reusable: bool, sub: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut h = Sha256::new();
    h.update(b"teleconsult-relay binding v2\0");
    h.update([role as u8, u8::from(reusable)]);
    h.update(sub.as_bytes());
    h.finalize().into()
}

/// Remembers which participant each single-use token admitted, until the token expires;
/// with a state directory, also in an append-only file read back at start.
#[derive(Default)]
pub struct ReplayCache {
    used: HashMap<String, (ParticipantId, u64)>,
    last_prune: u64,
    log: Option<Log>,
}

/// The append-only file of used token ids (`<state-dir>/used-tokens`): one line per use,
/// `exp pid jti` with pid and jti in hex. Compacted at start and whenever it holds more than
/// twice the live entries (plus 1024), so its size stays bounded.
struct Log {
    path: PathBuf,
    file: std::fs::File,
    lines: usize,
}

/// File name of the used-token log inside `--state-dir`.
pub const USED_TOKENS_FILE: &str = "used-tokens";

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_line(line: &str) -> Option<(String, ParticipantId, u64)> {
    let mut it = line.split(' ');
    let exp = it.next()?.parse().ok()?;
    let pid = <[u8; 8]>::try_from(unhex(it.next()?)?).ok()?;
    let jti = String::from_utf8(unhex(it.next()?)?).ok()?;
    Some((jti, ParticipantId(pid), exp))
}

impl ReplayCache {
    /// A cache backed by `<dir>/used-tokens`: loads the unexpired entries, compacts the
    /// file, and appends every new use to it.
    pub fn open(dir: &Path, now_secs: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(USED_TOKENS_FILE);
        let mut used = HashMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for (jti, pid, exp) in text.lines().filter_map(parse_line) {
                    if exp > now_secs && used.len() < MAX_REMEMBERED {
                        used.entry(jti).or_insert((pid, exp));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut cache = Self {
            used,
            last_prune: now_secs,
            log: None,
        };
        cache.log = Some(cache.compact(&path)?);
        Ok(cache)
    }

    /// Rewrites the file with the live entries (write to a temporary file, then rename).
    fn compact(&self, path: &Path) -> std::io::Result<Log> {
        use std::io::Write;
        let tmp = path.with_extension("tmp");
        {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            for (jti, (pid, exp)) in &self.used {
                writeln!(w, "{exp} {} {}", hex(&pid.0), hex(jti.as_bytes()))?;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Log {
            path: path.to_owned(),
            file,
            lines: self.used.len(),
        })
    }

    fn append(&mut self, jti: &str, pid: ParticipantId, exp: u64) {
        use std::io::Write;
        let Some(log) = &mut self.log else { return };
        let line = format!("{exp} {} {}\n", hex(&pid.0), hex(jti.as_bytes()));
        if let Err(e) = log.file.write_all(line.as_bytes()) {
            tracing::error!(error = %e, "cannot record a used token id in --state-dir");
            return;
        }
        log.lines += 1;
        if log.lines > self.used.len().saturating_mul(2).saturating_add(1024) {
            let path = log.path.clone();
            match self.compact(&path) {
                Ok(l) => self.log = Some(l),
                Err(e) => tracing::error!(error = %e, "cannot compact the used-token file"),
            }
        }
    }

    /// The participant id a token id admitted, if remembered.
    pub fn lookup(&self, jti: &str) -> Option<(ParticipantId, u64)> {
        self.used.get(jti).copied()
    }
}

/// Most token ids remembered; beyond this, joins with new single-use tokens are refused
/// until expired entries can be pruned (bounded memory under a token flood).
pub const MAX_REMEMBERED: usize = 1_000_000;

impl ReplayCache {
    /// Records that `jti` admitted `pid`; refuses when it already admitted someone else.
    /// The same token with the same participant id is a resume and is allowed.
    pub fn check_and_record(
        &mut self,
        jti: &str,
        pid: ParticipantId,
        exp: u64,
        now_secs: u64,
    ) -> Result<(), Close> {
        if now_secs >= self.last_prune.saturating_add(60) || self.used.len() >= MAX_REMEMBERED {
            self.used.retain(|_, (_, e)| *e > now_secs);
            self.last_prune = now_secs;
        }
        match self.used.get(jti) {
            Some((p, _)) if *p == pid => Ok(()),
            Some(_) => Err(codes::TOKEN_REUSED),
            None if self.used.len() >= MAX_REMEMBERED => Err(codes::ROOM_FULL),
            None => {
                self.used.insert(jti.to_owned(), (pid, exp));
                self.append(jti, pid, exp);
                Ok(())
            }
        }
    }

    /// Records a use reported by another node (NATS mode); first report wins.
    pub fn remember(&mut self, jti: &str, pid: ParticipantId, exp: u64) {
        if self.used.len() < MAX_REMEMBERED && !self.used.contains_key(jti) {
            self.used.insert(jti.to_owned(), (pid, exp));
            self.append(jti, pid, exp);
        }
    }

    /// Number of remembered token ids.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims() -> Claims {
        Claims {
            room: "cm9vbS0x".into(),
            role: "patient".into(),
            sub: "user-42".into(),
            exp: 2_000,
            jti: "t1".into(),
            reusable: false,
        }
    }

    #[test]
    fn minted_token_verifies() {
        let t = mint(SECRET, &claims());
        let v = verify(SECRET, t.as_bytes(), 1_000, 3_600).unwrap();
        assert_eq!(v.room, "cm9vbS0x");
        assert_eq!(v.role, Role::Patient);
        assert_eq!(v.jti, "t1");
    }

    const KNOWN_TOKEN: &str = "v1.eyJyb29tIjoiY205dmJTMHgiLCJyb2xlIjoicGF0aWVudCIsInN1YiI6InVzZXItNDIiLCJleHAiOjE5MDAwMDAwMDAsImp0aSI6ImFiYyJ9.QTgKfauWLdDOnUThX7ffqGyKC6mD_X1wOw4dM8sD2L8";

    #[test]
    fn known_answer_token() {
        // Fixed vector for implementers in other languages (also in docs/RELAY.md).
        let c = Claims {
            room: "cm9vbS0x".into(),
            role: "patient".into(),
            sub: "user-42".into(),
            exp: 1_900_000_000,
            jti: "abc".into(),
            reusable: false,
        };
        let t = mint(b"demo-secret", &c);
        // Same bytes as Python: base64url(json.dumps(c, separators=(",", ":"))) + HMAC.
        assert_eq!(t, KNOWN_TOKEN);
        assert!(verify(b"demo-secret", t.as_bytes(), 1_899_999_000, 3_600).is_ok());
    }

    #[test]
    fn forged_expired_and_malformed_tokens_are_refused() {
        let t = mint(SECRET, &claims());
        assert_eq!(
            verify(b"other secret", t.as_bytes(), 1_000, 3_600).unwrap_err(),
            codes::BAD_TOKEN
        );
        assert_eq!(
            verify(SECRET, t.as_bytes(), 2_000, 3_600).unwrap_err(),
            codes::TOKEN_EXPIRED
        );
        // Tampered claims with the old MAC.
        let mut c = claims();
        c.role = "clinician".into();
        let forged_claims = mint(SECRET, &c);
        let spliced = format!(
            "v1.{}.{}",
            forged_claims.split('.').nth(1).unwrap(),
            t.split('.').nth(2).unwrap()
        );
        assert_eq!(
            verify(SECRET, spliced.as_bytes(), 1_000, 3_600).unwrap_err(),
            codes::BAD_TOKEN
        );
        for junk in [
            &b""[..],
            b"v1.",
            b"v1..",
            b"v2.a.b",
            b"\xff\xfe",
            b"v1.e30.AAAA",
        ] {
            assert_eq!(
                verify(SECRET, junk, 1_000, 3_600).unwrap_err(),
                codes::BAD_TOKEN
            );
        }
        let mut c = claims();
        c.role = "admin".into();
        assert_eq!(
            verify(SECRET, mint(SECRET, &c).as_bytes(), 1_000, 3_600).unwrap_err(),
            codes::BAD_TOKEN
        );
        let mut c = claims();
        c.room = "no spaces/allowed".into();
        assert_eq!(
            verify(SECRET, mint(SECRET, &c).as_bytes(), 1_000, 3_600).unwrap_err(),
            codes::BAD_TOKEN
        );
        let mut c = claims();
        c.exp = 1_000_000;
        assert_eq!(
            verify(SECRET, mint(SECRET, &c).as_bytes(), 1_000, 3_600).unwrap_err(),
            codes::BAD_TOKEN
        );
    }

    #[test]
    fn single_use_tokens_admit_one_participant_but_allow_resume() {
        let mut cache = ReplayCache::default();
        let a = ParticipantId([1; 8]);
        let b = ParticipantId([2; 8]);
        assert_eq!(cache.check_and_record("t", a, 100, 10), Ok(()));
        assert_eq!(cache.check_and_record("t", a, 100, 11), Ok(()));
        assert_eq!(
            cache.check_and_record("t", b, 100, 12),
            Err(codes::TOKEN_REUSED)
        );
        // Expired entries are forgotten at the next prune.
        assert_eq!(cache.check_and_record("u", b, 200, 150), Ok(()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn used_token_ids_survive_a_reopen_and_expired_ones_are_dropped() {
        let dir = std::env::temp_dir().join(format!("relay-replay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = ParticipantId([1; 8]);
        let b = ParticipantId([2; 8]);
        {
            let mut cache = ReplayCache::open(&dir, 10).unwrap();
            cache.check_and_record("live", a, 100, 10).unwrap();
            cache.check_and_record("old", a, 20, 10).unwrap();
            cache.remember("remote jti", b, 100);
        }
        let mut cache = ReplayCache::open(&dir, 50).unwrap();
        assert_eq!(cache.len(), 2, "the expired id is gone");
        assert_eq!(
            cache.check_and_record("live", b, 100, 50),
            Err(codes::TOKEN_REUSED)
        );
        assert_eq!(cache.check_and_record("remote jti", b, 100, 50), Ok(()));
        let lines = std::fs::read_to_string(dir.join(USED_TOKENS_FILE)).unwrap();
        assert_eq!(lines.lines().count(), 2, "compacted at open: {lines}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
