//! `encode(text, charset)` and `decode(bytes, charset)`, with the charsets every Java
//! runtime has, and with Java's handling of what does not fit: a character a charset
//! cannot hold encodes as `?`, and bytes that are not valid in it decode as U+FFFD.

use super::arity;
use super::constant::text_arg;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{compile, kernel, CResult, Scope, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;
use crate::dataflow::source::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    Ascii,
    Latin1,
    Utf8,
    /// Big-endian with a byte-order mark when encoding; a mark chooses the order when
    /// decoding (big-endian without one).
    Utf16,
    Utf16Be,
    Utf16Le,
}

/// Java's canonical names and common aliases.
const NAMES: [(&str, Charset); 9] = [
    ("US-ASCII", Charset::Ascii),
    ("ASCII", Charset::Ascii),
    ("ISO-8859-1", Charset::Latin1),
    ("LATIN1", Charset::Latin1),
    ("UTF-8", Charset::Utf8),
    ("UTF8", Charset::Utf8),
    ("UTF-16", Charset::Utf16),
    ("UTF-16BE", Charset::Utf16Be),
    ("UTF-16LE", Charset::Utf16Le),
];

impl Charset {
    fn encode(self, text: &str) -> Vec<u8> {
        let narrow = |limit: u32| {
            text.chars()
                .map(|c| {
                    u8::try_from(u32::from(c))
                        .ok()
                        .filter(|b| u32::from(*b) <= limit)
                })
                .map(|b| b.unwrap_or(b'?'))
                .collect()
        };
        let units = || text.encode_utf16();
        match self {
            Charset::Ascii => narrow(0x7f),
            Charset::Latin1 => narrow(0xff),
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Utf16 => [0xfe, 0xff]
                .into_iter()
                .chain(units().flat_map(u16::to_be_bytes))
                .collect(),
            Charset::Utf16Be => units().flat_map(u16::to_be_bytes).collect(),
            Charset::Utf16Le => units().flat_map(u16::to_le_bytes).collect(),
        }
    }

    fn decode(self, bytes: &[u8]) -> String {
        let utf16 = |bytes: &[u8], big: bool| {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|p| match p {
                    [a, b] if big => u16::from_be_bytes([*a, *b]),
                    [a, b] => u16::from_le_bytes([*a, *b]),
                    _ => 0xfffd,
                })
                .collect();
            String::from_utf16_lossy(&units)
        };
        match self {
            Charset::Ascii => bytes
                .iter()
                .map(|b| {
                    if b.is_ascii() {
                        char::from(*b)
                    } else {
                        '\u{fffd}'
                    }
                })
                .collect(),
            Charset::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Utf16 => match bytes {
                [0xfe, 0xff, rest @ ..] => utf16(rest, true),
                [0xff, 0xfe, rest @ ..] => utf16(rest, false),
                _ => utf16(bytes, true),
            },
            Charset::Utf16Be => utf16(bytes, true),
            Charset::Utf16Le => utf16(bytes, false),
        }
    }
}

/// Bytes of a binary value, or of an array of byte values (ADF's binary is a byte array).
fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Binary(b) => Some(b.clone()),
        Value::Array(items) => items.iter().map(|i| Some(i.as_i64()? as u8)).collect(),
        _ => None,
    }
}

/// Compiles `encode` and `decode`; `None` for other names.
pub(super) fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let encoding = match name.to_ascii_lowercase().as_str() {
        "encode" => true,
        "decode" => false,
        _ => return None,
    };
    let r = (|| {
        arity(name, args, 2, 2, e)?;
        let charset = charset_arg(args[1], scope, name)?;
        let input = compile(args[0], scope)?;
        Ok(if encoding {
            let text = Typed::new(input.to_string_expr(), DfType::String);
            kernel(vec![text], DfType::Binary, true, move |v| {
                Value::Binary(charset.encode(v[0].as_str().unwrap_or_default()))
            })
        } else {
            kernel(vec![input], DfType::String, true, move |v| {
                bytes_of(&v[0]).map_or(Value::Null, |b| Value::Str(charset.decode(&b)))
            })
        })
    })();
    Some(r)
}

fn charset_arg(arg: &Expr, scope: &Scope, name: &str) -> CResult<Charset> {
    let text = text_arg(arg, scope, &format!("the charset of `{name}`"))?;
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(text.trim()))
        .map(|(_, c)| *c)
        .ok_or_else(|| {
            Problem::new(arg.span, format!("`{text}` is not a charset mdflow knows"))
                .help("the charsets are 'US-ASCII', 'ISO-8859-1', 'UTF-8', 'UTF-16', 'UTF-16BE' and 'UTF-16LE'")
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, problem};
    use super::*;

    #[test]
    fn charsets_encode_as_java_does() {
        assert_eq!(
            eval("encode('abc', 'US-ASCII')"),
            Value::Binary(b"abc".to_vec())
        );
        assert_eq!(
            eval("encode('é€', 'US-ASCII')"),
            Value::Binary(b"??".to_vec())
        );
        assert_eq!(
            eval("encode('é€', 'ISO-8859-1')"),
            Value::Binary(vec![0xe9, b'?'])
        );
        assert_eq!(
            eval("encode('é', 'utf-8')"),
            Value::Binary(vec![0xc3, 0xa9])
        );
        assert_eq!(
            eval("encode('a', 'UTF-16')"),
            Value::Binary(vec![0xfe, 0xff, 0, 0x61])
        );
        assert_eq!(
            eval("encode('a', 'UTF-16LE')"),
            Value::Binary(vec![0x61, 0])
        );
        assert_eq!(eval("encode(null, 'UTF-8')"), Value::Null);
    }

    #[test]
    fn decoding_reverses_encoding_and_marks_what_does_not_fit() {
        for charset in [
            "US-ASCII",
            "ISO-8859-1",
            "UTF-8",
            "UTF-16",
            "UTF-16BE",
            "UTF-16LE",
        ] {
            let text = "plain text";
            let round = format!("decode(encode('{text}', '{charset}'), '{charset}')");
            assert_eq!(eval(&round), Value::Str(text.into()), "{charset}");
        }
        assert_eq!(
            eval("decode(encode('é😀', 'UTF-16LE'), 'UTF-16LE')"),
            Value::Str("é😀".into())
        );
        assert_eq!(
            eval("decode(unhex('ff61'), 'US-ASCII')"),
            Value::Str("\u{fffd}a".into())
        );
        assert_eq!(
            eval("decode(unhex('fffe6100'), 'UTF-16')"),
            Value::Str("a".into())
        );
        assert_eq!(
            eval("decode(unhex('c3'), 'UTF-8')"),
            Value::Str("\u{fffd}".into())
        );
    }

    /// The documented examples: bit n (from 0) lives in long n / 64.
    #[test]
    fn bitsets_are_arrays_of_longs() {
        assert_eq!(
            eval("isBitSet(toBitSet([10, 32, 98]), 10)"),
            Value::Bool(true)
        );
        assert_eq!(
            eval("isBitSet(toBitSet([10, 32, 98]), 11)"),
            Value::Bool(false)
        );
        assert_eq!(
            eval("setBitSet(toBitSet([10, 32]), [98])"),
            Value::Array(vec![Value::Long(4294968320), Value::Long(17179869184)])
        );
        assert_eq!(eval("isBitSet([1L], 640)"), Value::Bool(false));
        assert_eq!(eval("toBitSet([-1])"), Value::Null);
    }

    #[test]
    fn unknown_and_computed_charsets_are_reported_at_the_argument() {
        let (p, at) = problem("encode('a', 'EBCDIC')");
        assert_eq!(at, "'EBCDIC'");
        assert!(
            p.message.contains("not a charset") && p.help.contains("UTF-16LE"),
            "{p:?}"
        );
        let (p, _) = problem("decode(unhex('61'), lower('UTF-8'))");
        assert!(p.message.contains("must be a constant"), "{p:?}");
    }
}
