//! Shared helpers for writing rows: a streaming JSON writer, the MGDC envelope, hashing and
//! seeding, and the id, GUID and instant formats the rows carry.
//!
//! Rows are written straight into the page buffer with `push_str`: building
//! `serde_json::Value` trees would cost an allocation per field, and a large tenant writes
//! tens of gigabytes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Seconds in a day.
pub(super) const DAY: i64 = 86_400;

/// A 64-bit mixer (splitmix64's finaliser); good enough to derive independent seeds.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a tenant seed and a path of integers (a stream tag, a mailbox, an item...).
pub(super) fn hash(seed: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(mix(seed), |acc, &p| {
        mix(acc ^ p.wrapping_mul(0x2545_f491_4f6c_dd1d))
    })
}

/// A generator for one item, independent of every other item: any mailbox can be generated
/// alone, in any order, on any thread, and still give the same bytes.
pub(super) fn rng(seed: u64, parts: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(hash(seed, parts))
}

/// Stream tags, so that two kinds of item with the same numbers never share a seed.
pub(super) mod stream {
    pub(in crate::tenant::synthetic) const DIRECTORY: u64 = 1;
    pub(in crate::tenant::synthetic) const GROUPS: u64 = 2;
    pub(in crate::tenant::synthetic) const ENVELOPE: u64 = 3;
    pub(in crate::tenant::synthetic) const CONTENT: u64 = 4;
    pub(in crate::tenant::synthetic) const COPY: u64 = 5;
    pub(in crate::tenant::synthetic) const INBOUND: u64 = 6;
    pub(in crate::tenant::synthetic) const EVENT: u64 = 7;
    pub(in crate::tenant::synthetic) const CONTACT: u64 = 8;
    pub(in crate::tenant::synthetic) const CHAT: u64 = 9;
    pub(in crate::tenant::synthetic) const MAILBOX: u64 = 10;
    pub(in crate::tenant::synthetic) const ID: u64 = 11;
}

/// Writes JSON into a string. One flag is enough to place commas: it says whether the
/// next key or value follows another one at the same level.
pub(super) struct JsonOut<'a> {
    pub(super) buf: &'a mut String,
    need_comma: bool,
}

impl<'a> JsonOut<'a> {
    pub(super) fn new(buf: &'a mut String) -> Self {
        JsonOut {
            buf,
            need_comma: false,
        }
    }

    fn pre_value(&mut self) {
        if self.need_comma {
            self.buf.push(',');
        }
        self.need_comma = true;
    }

    /// Starts a key inside an object; the next call writes its value.
    pub(super) fn key(&mut self, k: &str) {
        if self.need_comma {
            self.buf.push(',');
        }
        self.buf.push('"');
        self.buf.push_str(k);
        self.buf.push_str("\":");
        self.need_comma = false;
    }

    pub(super) fn begin_obj(&mut self) {
        self.pre_value();
        self.buf.push('{');
        self.need_comma = false;
    }

    pub(super) fn end_obj(&mut self) {
        self.buf.push('}');
        self.need_comma = true;
    }

    pub(super) fn begin_list(&mut self) {
        self.pre_value();
        self.buf.push('[');
        self.need_comma = false;
    }

    pub(super) fn end_list(&mut self) {
        self.buf.push(']');
        self.need_comma = true;
    }

    pub(super) fn v_str(&mut self, v: &str) {
        self.pre_value();
        push_json_str(self.buf, v);
    }

    pub(super) fn v_raw(&mut self, v: &str) {
        self.pre_value();
        self.buf.push_str(v);
    }

    pub(super) fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.v_str(v);
    }

    pub(super) fn opt_str(&mut self, k: &str, v: Option<&str>) {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    pub(super) fn null(&mut self, k: &str) {
        self.key(k);
        self.v_raw("null");
    }

    pub(super) fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.v_raw(if v { "true" } else { "false" });
    }

    pub(super) fn int(&mut self, k: &str, v: i64) {
        self.key(k);
        self.pre_value();
        push_int(self.buf, v);
    }

    /// An instant as `2024-03-05T10:20:30Z`.
    pub(super) fn datetime(&mut self, k: &str, secs: i64) {
        self.key(k);
        self.pre_value();
        self.buf.push('"');
        push_instant(self.buf, secs);
        self.buf.push_str("Z\"");
    }

    /// A list of strings.
    pub(super) fn strs(&mut self, k: &str, items: &[&str]) {
        self.key(k);
        self.begin_list();
        for item in items {
            self.v_str(item);
        }
        self.end_list();
    }

    /// `{"name": ..., "address": ...}` in the key case the table uses.
    pub(super) fn address(&mut self, case: Case, name: &str, address: &str) {
        self.begin_obj();
        self.str(case.pick("name", "Name"), name);
        self.str(case.pick("address", "Address"), address);
        self.end_obj();
    }

    /// The MGDC bookkeeping every row ends with.
    pub(super) fn envelope(&mut self, env: &Envelope<'_>, odata_type: &str) {
        self.str("ODataType", odata_type);
        self.str("puser", env.owner);
        self.str("ptenant", env.tenant);
        self.null("pAdditionalInfo");
        self.int("datarow", env.datarow as i64);
        self.int("userrow", env.userrow as i64);
        self.int("pagerow", env.pagerow as i64);
        self.key("rowinformation");
        self.begin_obj();
        self.null("errorInformation");
        self.bool("userReturnedNoData", false);
        self.bool("isUserSummaryRow", false);
        self.bool("userHasCompleteData", true);
        self.end_obj();
    }
}

/// Which spelling of keys a table uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    /// `receivedDateTime`, Graph v1 style.
    Camel,
    /// `ReceivedDateTime`, Outlook REST style of older datasets.
    Pascal,
}

impl Case {
    pub(super) fn pick(self, camel: &'static str, pascal: &'static str) -> &'static str {
        match self {
            Case::Camel => camel,
            Case::Pascal => pascal,
        }
    }
}

/// The bookkeeping values of the row being written.
pub(super) struct Envelope<'a> {
    pub(super) owner: &'a str,
    pub(super) tenant: &'a str,
    pub(super) datarow: u64,
    pub(super) userrow: u64,
    pub(super) pagerow: u64,
}

/// Appends `s` as a JSON string literal. Only ASCII bytes need escaping, so runs of other
/// bytes are copied whole.
pub(super) fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        buf.push_str(&s[start..i]);
        match escape {
            Some(e) => buf.push_str(e),
            None => {
                buf.push_str("\\u00");
                buf.push(HEX[(b >> 4) as usize] as char);
                buf.push(HEX[(b & 15) as usize] as char);
            }
        }
        start = i + 1;
    }
    buf.push_str(&s[start..]);
    buf.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends a decimal integer without going through `fmt`.
pub(super) fn push_int(buf: &mut String, v: i64) {
    if v < 0 {
        buf.push('-');
    }
    let mut n = v.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        buf.push(d as char);
    }
}

fn push_2(buf: &mut String, v: u32) {
    buf.push((b'0' + (v / 10) as u8) as char);
    buf.push((b'0' + (v % 10) as u8) as char);
}

/// Appends `YYYY-MM-DDTHH:MM:SS` (no zone) for seconds since the epoch; a civil-from-days
/// conversion, because chrono's formatter is slow enough to show up in profiles.
pub(super) fn push_instant(buf: &mut String, secs: i64) {
    let days = secs.div_euclid(DAY);
    let rem = secs.rem_euclid(DAY) as u32;
    let (y, m, d) = civil_from_days(days);
    push_int(buf, y);
    buf.push('-');
    push_2(buf, m);
    buf.push('-');
    push_2(buf, d);
    buf.push('T');
    push_2(buf, rem / 3600);
    buf.push(':');
    push_2(buf, rem / 60 % 60);
    buf.push(':');
    push_2(buf, rem % 60);
}

/// Year, month, day of a day number (days since 1970-01-01), after Howard Hinnant.
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (era * 400 + yoe + i64::from(m <= 2), m, d)
}

/// Day of the week of a day number, 0 = Sunday.
pub(super) fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

/// A GUID-shaped string from two hashes.
pub(super) fn guid(seed: u64, parts: &[u64]) -> String {
    let a = hash(seed, parts);
    let b = mix(a ^ 0x5151);
    let mut s = String::with_capacity(36);
    let hex = |s: &mut String, v: u64, n: usize| {
        for i in (0..n).rev() {
            s.push(HEX[((v >> (i * 4)) & 15) as usize] as char);
        }
    };
    hex(&mut s, a >> 32, 8);
    s.push('-');
    hex(&mut s, a >> 16, 4);
    s.push('-');
    // Version 4 and the RFC variant, so the ids look like the GUIDs Entra hands out.
    hex(&mut s, 0x4000 | (a & 0x0fff), 4);
    s.push('-');
    hex(&mut s, 0x8000 | (b >> 48 & 0x3fff), 4);
    s.push('-');
    hex(&mut s, b, 12);
    s
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends standard base64 of `bytes`, with padding.
pub(super) fn push_b64(buf: &mut String, bytes: &[u8]) {
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                buf.push(B64[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                buf.push('=');
            }
        }
    }
}

/// An Exchange-style item id (`AAMkAD...`): a fixed store prefix per mailbox and a unique
/// tail per item, the way real ids share their first half within one mailbox.
pub(super) fn push_item_id(buf: &mut String, seed: u64, mailbox: u64, item: &[u64]) {
    buf.push_str("AAMkAD");
    let store = hash(seed, &[stream::ID, mailbox]);
    let mut bytes = [0u8; 33];
    bytes[..8].copy_from_slice(&store.to_le_bytes());
    bytes[8..12].copy_from_slice(b"\0F\0\0");
    let mut tail = hash(seed ^ store, item);
    for chunk in bytes[12..].chunks_mut(8) {
        let n = chunk.len();
        chunk.copy_from_slice(&tail.to_le_bytes()[..n]);
        tail = mix(tail);
    }
    push_b64(buf, &bytes);
}

/// [`push_item_id`] as an owned string.
pub(super) fn item_id(seed: u64, mailbox: u64, item: &[u64]) -> String {
    let mut s = String::with_capacity(52);
    push_item_id(&mut s, seed, mailbox, item);
    s
}
