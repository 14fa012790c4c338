//! The reading messages on a consultation's app-data channel: UTF-8 JSON, one message per
//! `sendData` call.
//!
//! ```text
//! {"type":"teleconsult/reading","id":"<reading id>","raw":{…ReadingRaw…}}
//! {"type":"teleconsult/reading-ack","id":"<reading id>"}
//! ```
//!
//! `ReadingRaw` is `{"uuid":10805,"value":"<base64>","deviceId":"…","receivedAt":<ms>}` plus,
//! when known, `systemId` (the EUI-64 string), `pnpId` (base64), `utcOffsetMinutes`,
//! `weightScaleFeature` (the u32 field) and `glucoseContext` (base64): the public
//! `ReadingRaw` type of the JavaScript API. Other app data (chat, the app's own messages)
//! shares the channel, so a message that is not JSON, or not one of these two types, is
//! [`WireError::NotOurs`] — not an error worth reporting. Everything decoded is hostile input:
//! at most [`MAX_MESSAGE_LEN`] bytes, nesting at most [`MAX_DEPTH`] deep, and no panic.

use super::raw::{
    MAX_DEVICE_ID_LEN, RawRecord, base64_decode, base64_encode, system_id_from_eui64,
};
use super::{CaptureError, ParseError, gatt, uuid16_from_str};

/// The `type` of a reading message.
pub const READING: &str = "teleconsult/reading";
/// The `type` of an acknowledgement.
pub const ACK: &str = "teleconsult/reading-ack";
/// The longest message decoded; anything longer is not ours.
pub const MAX_MESSAGE_LEN: usize = 8192;
/// The largest integer JavaScript numbers hold exactly (2⁵³ − 1).
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;
/// The deepest nesting of arrays and objects decoded.
pub const MAX_DEPTH: usize = 16;

/// A decoded reading message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A reading: its claimed id (absent when missing or not a string) and its raw record.
    Reading {
        /// The id the sender claims; the receiver checks it against the rebuilt reading.
        id: Option<String>,
        /// What to rebuild the reading from.
        raw: RawRecord,
    },
    /// The receiving application has the reading with this id.
    Ack {
        /// The reading's id.
        id: String,
    },
}

/// Why bytes are not a usable reading message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// Not a reading message at all (not UTF-8 JSON, not an object, another `type`, too long,
    /// or an acknowledgement without an id): other app data, to be ignored.
    NotOurs,
    /// A reading message whose raw record is missing or malformed; names what.
    Malformed(&'static str),
    /// A reading message whose raw record holds a System ID, PnP ID or Weight Scale Feature
    /// value the parsers reject.
    Capture(CaptureError),
}

impl From<ParseError> for WireError {
    fn from(e: ParseError) -> Self {
        Self::Capture(CaptureError::Parse { error: e })
    }
}

// ----- encoding ----------------------------------------------------------------------------

/// The reading message carrying `raw`, with `id` (the id of the reading `raw` rebuilds to).
pub fn encode_reading(id: &str, raw: &RawRecord) -> Vec<u8> {
    let mut o = String::with_capacity(160 + raw.value.len() * 4 / 3 + raw.device_id.len());
    o.push_str("{\"type\":");
    push_str(&mut o, READING);
    o.push_str(",\"id\":");
    push_str(&mut o, id);
    o.push_str(",\"raw\":{\"uuid\":");
    push_u64(&mut o, u64::from(raw.uuid));
    o.push_str(",\"value\":");
    push_str(&mut o, &base64_encode(&raw.value));
    o.push_str(",\"deviceId\":");
    push_str(&mut o, &raw.device_id);
    o.push_str(",\"receivedAt\":");
    push_u64(&mut o, raw.received_at);
    if let Some(bytes) = raw.system_id {
        o.push_str(",\"systemId\":");
        push_str(&mut o, &gatt::system_id::SystemId { bytes }.eui64());
    }
    if let Some(p) = &raw.pnp_id {
        o.push_str(",\"pnpId\":");
        push_str(&mut o, &base64_encode(p));
    }
    if let Some(off) = raw.utc_offset {
        o.push_str(",\"utcOffsetMinutes\":");
        crate::text::push_padded_signed(&mut o, i64::from(off), 1);
    }
    if let Some(f) = raw.weight_feature {
        o.push_str(",\"weightScaleFeature\":");
        push_u64(&mut o, u64::from(f));
    }
    if let Some(c) = &raw.glucose_context {
        o.push_str(",\"glucoseContext\":");
        push_str(&mut o, &base64_encode(c));
    }
    o.push_str("}}");
    o.into_bytes()
}

/// The acknowledgement of reading `id`.
pub fn encode_ack(id: &str) -> Vec<u8> {
    let mut o = String::with_capacity(48 + id.len());
    o.push_str("{\"type\":");
    push_str(&mut o, ACK);
    o.push_str(",\"id\":");
    push_str(&mut o, id);
    o.push('}');
    o.into_bytes()
}

fn push_u64(o: &mut String, n: u64) {
    crate::text::push_padded(o, n, 1);
}

/// A JSON string as `JSON.stringify` writes it.
fn push_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                o.push_str("\\u00");
                o.push(char::from(HEX[(c as usize) >> 4]));
                o.push(char::from(HEX[(c as usize) & 15]));
            }
            c => o.push(c),
        }
    }
    o.push('"');
}

// ----- decoding ----------------------------------------------------------------------------

/// Decodes one app-data message.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(WireError::NotOurs);
    }
    let text = core::str::from_utf8(bytes).map_err(|_| WireError::NotOurs)?;
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let value = p.document().ok_or(WireError::NotOurs)?;
    let Json::Obj(fields) = &value else {
        return Err(WireError::NotOurs);
    };
    let id = match field(fields, "id") {
        Some(Json::Str(s)) => Some(s.clone()),
        _ => None,
    };
    match field(fields, "type") {
        Some(Json::Str(t)) if t == ACK => {
            id.map(|id| Message::Ack { id }).ok_or(WireError::NotOurs)
        }
        Some(Json::Str(t)) if t == READING => Ok(Message::Reading {
            id,
            raw: raw_record(field(fields, "raw"))?,
        }),
        _ => Err(WireError::NotOurs),
    }
}

const BAD: WireError = WireError::Malformed("reading.raw: missing or malformed");

/// A `ReadingRaw` object; `null` fields count as absent, as in the JavaScript API.
fn raw_record(v: Option<&Json>) -> Result<RawRecord, WireError> {
    let Some(Json::Obj(o)) = v else {
        return Err(BAD);
    };
    let get = |k: &str| field(o, k).filter(|v| !matches!(v, Json::Null));
    let uuid = match get("uuid") {
        Some(Json::Int(Some(n))) if (0..=65535).contains(n) => *n as u16,
        Some(Json::Str(s)) => uuid16_from_str(s)?,
        _ => return Err(BAD),
    };
    let value = match get("value") {
        Some(Json::Str(s)) => base64_decode(s).ok_or(BAD)?,
        _ => return Err(BAD),
    };
    let utc_offset = match get("utcOffsetMinutes") {
        None => None,
        Some(Json::Int(Some(n))) if (-1_080..=1_080).contains(n) => Some(*n as i16),
        Some(_) => return Err(BAD),
    };
    let weight_feature = match get("weightScaleFeature") {
        None => None,
        Some(Json::Int(Some(n))) if (0..=i64::from(u32::MAX)).contains(n) => {
            let f = *n as u32;
            gatt::weight_scale_feature::parse(&f.to_le_bytes())?;
            Some(f)
        }
        Some(_) => {
            return Err(WireError::Malformed("weightScaleFeature: expected a u32"));
        }
    };
    let system_id = match get("systemId") {
        None => None,
        Some(Json::Str(s)) => match system_id_from_eui64(s) {
            Some(b) => Some(b),
            None => {
                let b = base64_decode(s).ok_or(BAD)?;
                Some(gatt::system_id::parse(&b)?.bytes)
            }
        },
        Some(_) => return Err(BAD),
    };
    let device_id = match get("deviceId") {
        Some(Json::Str(s)) if !s.is_empty() && s.len() <= MAX_DEVICE_ID_LEN => s.clone(),
        Some(Json::Str(_)) => {
            return Err(WireError::Malformed(
                "deviceId: expected 1 to 256 characters",
            ));
        }
        _ => return Err(BAD),
    };
    let bytes = |k: &str| -> Result<Option<Vec<u8>>, WireError> {
        match get(k) {
            None => Ok(None),
            Some(Json::Str(s)) => base64_decode(s).map(Some).ok_or(BAD),
            Some(_) => Err(BAD),
        }
    };
    let pnp_id = bytes("pnpId")?;
    let received_at = match get("receivedAt") {
        Some(Json::Int(Some(n))) if (0..=MAX_SAFE_INTEGER).contains(n) => *n as u64,
        Some(_) => return Err(WireError::Malformed("receivedAt")),
        None => return Err(BAD),
    };
    Ok(RawRecord {
        uuid,
        value,
        device_id,
        system_id,
        pnp_id,
        received_at,
        utc_offset,
        weight_feature,
        glucose_context: bytes("glucoseContext")?,
    })
}

/// A JSON value.
#[derive(Debug)]
enum Json {
    Null,
    Bool,
    /// A number: its value when it is an integer of at most 2⁵³ in magnitude written
    /// without an exponent (`72`, `-300`, `72.0`), else `None` (valid JSON, but never a field
    /// of ours). Integers only: `f64` parsing would add ~20 KB of tables to the wasm.
    Int(Option<i64>),
    Str(String),
    Arr,
    Obj(Vec<(String, Json)>),
}

/// The value of `key`; the last one when repeated, as `JSON.parse` does. Not inlined: one
/// copy for a dozen call sites keeps the wasm smaller.
#[inline(never)]
fn field<'a>(fields: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A strict JSON (RFC 8259) parser over at most [`MAX_MESSAGE_LEN`] bytes. Arrays and
/// booleans are checked and skipped: no reading message holds one.
struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn document(&mut self) -> Option<Json> {
        let v = self.value(0)?;
        self.ws();
        (self.at == self.s.len()).then_some(v)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.peek()? == b).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.s.get(self.at..end)? == word).then(|| self.at = end)
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        Some(match self.peek()? {
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(Json::Obj(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    let v = self.value(depth + 1)?;
                    fields.push((key, v));
                    self.ws();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            break Json::Obj(fields);
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.at += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(Json::Arr);
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            break Json::Arr;
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => Json::Str(self.string()?),
            b't' => self.literal(b"true").map(|()| Json::Bool)?,
            b'f' => self.literal(b"false").map(|()| Json::Bool)?,
            b'n' => self.literal(b"null").map(|()| Json::Null)?,
            _ => Json::Int(self.number()?),
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    /// A number at `self.at`: `None` when it is not JSON, `Some(None)` when it is but not a
    /// safe integer without exponent (see [`Json::Int`]).
    fn number(&mut self) -> Option<Option<i64>> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let mut value = Some(0i64);
        let digit = |v: Option<i64>, d: u8| {
            v.and_then(|v| v.checked_mul(10)?.checked_add(i64::from(d - b'0')))
                .filter(|v| *v <= MAX_SAFE_INTEGER)
        };
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    value = digit(value, d);
                    self.at += 1;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            let start = self.at;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                if d != b'0' {
                    value = None;
                }
                self.at += 1;
            }
            if self.at == start {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
            value = None;
        }
        Some(value.map(|v| if negative { -v } else { v }))
    }

    fn hex4(&mut self) -> Option<u32> {
        let end = self.at.checked_add(4)?;
        let h = self.s.get(self.at..end)?;
        self.at = end;
        h.iter()
            .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?))
    }

    /// A string at `self.at` (which must hold `"`). Lone surrogates are refused.
    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let b = self.peek()?;
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.at += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.literal(b"\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..0x20 => return None,
                _ => out.push(b),
            }
        }
        // The input is UTF-8, and escapes add whole characters.
        String::from_utf8(out).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawRecord {
        RawRecord {
            uuid: 0x2A37,
            value: vec![0x00, 72],
            device_id: "hr \"strap\"\\\n\u{1}é".into(),
            system_id: Some([1, 2, 3, 4, 5, 6, 7, 8]),
            pnp_id: Some(vec![1, 0x0D, 0, 2, 0, 3, 0]),
            received_at: 1_709_624_000_000,
            utc_offset: Some(-300),
            weight_feature: Some(6),
            glucose_context: Some(vec![0, 1, 0]),
        }
    }

    #[test]
    fn reading_messages_round_trip() {
        let r = raw();
        let bytes = encode_reading("abc", &r);
        assert_eq!(
            decode(&bytes),
            Ok(Message::Reading {
                id: Some("abc".into()),
                raw: r
            })
        );
        assert_eq!(
            decode(&encode_ack("x\"y")),
            Ok(Message::Ack { id: "x\"y".into() })
        );
    }

    #[test]
    fn the_encoding_is_what_json_stringify_wrote() {
        let r = RawRecord {
            system_id: None,
            pnp_id: None,
            weight_feature: None,
            glucose_context: None,
            device_id: "hr\u{1}".into(),
            ..raw()
        };
        assert_eq!(
            String::from_utf8(encode_reading("id1", &r)).unwrap(),
            r#"{"type":"teleconsult/reading","id":"id1","raw":{"uuid":10807,"value":"AEg=","deviceId":"hr\u0001","receivedAt":1709624000000,"utcOffsetMinutes":-300}}"#
        );
        assert_eq!(
            String::from_utf8(encode_ack("id1")).unwrap(),
            r#"{"type":"teleconsult/reading-ack","id":"id1"}"#
        );
    }

    #[test]
    fn other_app_data_is_not_ours() {
        for s in [
            &b"hello, this is chat"[..],
            br#"{"type":"chat","text":"hi","n":[1,{"a":null}],"t":true}"#,
            br#"{"type":"teleconsult/reading-ack","id":7}"#,
            b"\xEF\xBB\xBF{\"type\":\"teleconsult/reading-ack\",\"id\":\"a\"}",
            b"\xff",
            br#"{"type":"teleconsult/reading-ack","id":"a"} x"#,
            br#"{"type":"teleconsult/reading-ack","id":"\ud800"}"#,
            br#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]"#,
            br#"{"a":01}"#,
        ] {
            assert_eq!(
                decode(s),
                Err(WireError::NotOurs),
                "{}",
                String::from_utf8_lossy(s)
            );
        }
        assert_eq!(
            decode(&vec![b' '; MAX_MESSAGE_LEN + 1]),
            Err(WireError::NotOurs)
        );
    }

    #[test]
    fn numbers_are_integers_without_exponent() {
        let msg = |uuid: &str| {
            format!(
                r#"{{"type":"teleconsult/reading","id":"a","raw":{{"uuid":{uuid},"value":"AEg=","deviceId":"d","receivedAt":9007199254740991}}}}"#
            )
        };
        for ok in ["10807", "10807.0", "10807.000"] {
            assert!(
                matches!(decode(msg(ok).as_bytes()), Ok(Message::Reading { .. })),
                "{ok}"
            );
        }
        for refused in ["1.0807e4", "10807.5", "-10807", "99999999999999999999"] {
            assert!(
                matches!(
                    decode(msg(refused).as_bytes()),
                    Err(WireError::Malformed(_))
                ),
                "{refused}"
            );
        }
        for not_json in ["+1", "01", "1.", ".5", "1e", "--1"] {
            assert_eq!(
                decode(msg(not_json).as_bytes()),
                Err(WireError::NotOurs),
                "{not_json}"
            );
        }
        let past_2_53 = msg("10807").replace("9007199254740991", "9007199254740992");
        assert!(matches!(
            decode(past_2_53.as_bytes()),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn malformed_raw_records_are_named() {
        for s in [
            r#"{"type":"teleconsult/reading","id":"a"}"#,
            r#"{"type":"teleconsult/reading","raw":{"uuid":10807,"value":"AEg","deviceId":"d"}}"#,
            r#"{"type":"teleconsult/reading","raw":{"uuid":1.5,"value":"AEg=","deviceId":"d","receivedAt":1}}"#,
            r#"{"type":"teleconsult/reading","raw":{"uuid":10807,"value":"AEg=","deviceId":"","receivedAt":1}}"#,
            r#"{"type":"teleconsult/reading","raw":{"uuid":10807,"value":"AEg=","deviceId":"d","receivedAt":-1}}"#,
        ] {
            assert!(
                matches!(decode(s.as_bytes()), Err(WireError::Malformed(_))),
                "{s}"
            );
        }
        let bad_system_id = r#"{"type":"teleconsult/reading","raw":{"uuid":"2a37","value":"AEg=","deviceId":"d","receivedAt":1,"systemId":"AQ=="}}"#;
        assert!(matches!(
            decode(bad_system_id.as_bytes()),
            Err(WireError::Capture(_))
        ));
    }
}
