//! Hashes of values: `md5`, `sha1`, `sha2`, `crc32`, `blake2b` and `blake2bBinary`.
//!
//! The arguments are serialised one after another, with no separator, and the bytes hashed
//! once. The encodings below reproduce ADF's documented examples exactly: an integer is 4
//! bytes of a little-endian `i32`, a double 8 bytes of a little-endian `f64`, a string its
//! UTF-8 bytes, a boolean one byte (1 or 0), a date 4 little-endian bytes of its days since
//! 1970-01-01. The rest are inferred: a long is 8 little-endian bytes, a short 2, a byte 1,
//! a float 4 (`f32`), a timestamp 8 (microseconds since the epoch), a decimal its text with
//! its scale (`8.20` for `decimal(10,2)`), binary its bytes, arrays, maps and structures
//! their items in order; null adds nothing.

use blake2::digest::block_api::{Buffer, UpdateCore, VariableOutputCore};
use blake2::digest::Output;
use blake2::Blake2bVarCore;
use md5::Digest;

use super::arity;
use super::constant::int_arg;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{compile, kernel, CResult, Scope, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::{hex, Value};
use crate::dataflow::source::Problem;

/// A hash function and its output size.
#[derive(Clone, Copy)]
enum Algorithm {
    Md5,
    Sha1,
    /// SHA-2 with a digest of this many bits.
    Sha2(u16),
    /// BLAKE2b with a digest of this many bytes.
    Blake2b(usize),
    Crc32,
}

impl Algorithm {
    /// The hash of `bytes`: lower-case hexadecimal text, or a long for `crc32`.
    fn hash(self, bytes: &[u8]) -> Value {
        match self.digest(bytes) {
            Some(digest) => Value::Str(hex(&digest)),
            None if matches!(self, Algorithm::Crc32) => {
                Value::Long(i64::from(crc32fast::hash(bytes)))
            }
            None => Value::Null,
        }
    }

    /// The digest's bytes; `None` for `crc32`, a number rather than bytes.
    fn digest(self, bytes: &[u8]) -> Option<Vec<u8>> {
        Some(match self {
            Algorithm::Md5 => md5::Md5::digest(bytes).to_vec(),
            Algorithm::Sha1 => sha1::Sha1::digest(bytes).to_vec(),
            Algorithm::Sha2(224) => sha2::Sha224::digest(bytes).to_vec(),
            Algorithm::Sha2(384) => sha2::Sha384::digest(bytes).to_vec(),
            Algorithm::Sha2(512) => sha2::Sha512::digest(bytes).to_vec(),
            Algorithm::Sha2(_) => sha2::Sha256::digest(bytes).to_vec(),
            Algorithm::Blake2b(size) => blake2b(bytes, size)?,
            Algorithm::Crc32 => return None,
        })
    }
}

/// BLAKE2b with a digest of `size` bytes (1 to 64). The crate offers a run-time output
/// size only at the block level: the buffer keeps the last block back for finalisation.
fn blake2b(bytes: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut core = Blake2bVarCore::new(size).ok()?;
    let mut buffer = Buffer::<Blake2bVarCore>::default();
    buffer.digest_blocks(bytes, |blocks| core.update_blocks(blocks));
    let mut full = Output::<Blake2bVarCore>::default();
    core.finalize_variable_core(&mut buffer, &mut full);
    Some(full.get(..size)?.to_vec())
}

/// Appends a value's bytes, as its type serialises it.
fn serialise(v: &Value, ty: &DfType, out: &mut Vec<u8>) {
    match (v, ty) {
        (Value::Null, _) => {}
        (Value::Int(x), DfType::Short) => out.extend_from_slice(&(*x as i16).to_le_bytes()),
        (Value::Int(x), DfType::Byte) => out.push(*x as u8),
        (Value::Int(x) | Value::Date(x), _) => out.extend_from_slice(&x.to_le_bytes()),
        (Value::Long(x) | Value::Timestamp(x), _) => out.extend_from_slice(&x.to_le_bytes()),
        (Value::Float(x), _) => out.extend_from_slice(&x.to_le_bytes()),
        (Value::Double(x), DfType::Decimal(_, scale)) => {
            out.extend_from_slice(format!("{x:.*}", usize::from(*scale)).as_bytes())
        }
        (Value::Double(x), _) => out.extend_from_slice(&x.to_le_bytes()),
        (Value::Bool(b), _) => out.push(u8::from(*b)),
        (Value::Str(s), _) => out.extend_from_slice(s.as_bytes()),
        (Value::Binary(b), _) => out.extend_from_slice(b),
        (Value::Array(items), _) => {
            let item = match ty {
                DfType::Array(t) => t.as_ref().clone(),
                _ => DfType::Null,
            };
            items.iter().for_each(|x| serialise(x, &item, out));
        }
        (Value::Map(entries), _) => {
            let (k, v) = match ty {
                DfType::Map(k, v) => (k.as_ref().clone(), v.as_ref().clone()),
                _ => (DfType::Null, DfType::Null),
            };
            for (key, value) in entries {
                serialise(key, &k, out);
                serialise(value, &v, out);
            }
        }
        (Value::Struct(fields), _) => {
            for (i, (_, x)) in fields.iter().enumerate() {
                let t = match ty {
                    DfType::Struct(types) => types.get(i).map_or(DfType::Null, |(_, t)| t.clone()),
                    _ => DfType::Null,
                };
                serialise(x, &t, out);
            }
        }
    }
}

/// Compiles a hash function; `None` for other names.
pub(super) fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let lower = name.to_ascii_lowercase();
    if !matches!(
        lower.as_str(),
        "md5" | "sha1" | "sha2" | "crc32" | "blake2b" | "blake2bbinary"
    ) {
        return None;
    }
    Some(compile_hash(&lower, name, args, scope, e))
}

fn compile_hash(
    lower: &str,
    name: &str,
    args: &[&Expr],
    scope: &Scope,
    e: &Expr,
) -> CResult<Typed> {
    // sha2 and blake2b take the digest's size first; it is not hashed.
    let sized = matches!(lower, "sha2" | "blake2b" | "blake2bbinary");
    let binary = lower == "blake2bbinary";
    arity(name, args, 1 + usize::from(sized), usize::MAX, e)?;
    let algorithm = match lower {
        "md5" => Algorithm::Md5,
        "sha1" => Algorithm::Sha1,
        "crc32" => Algorithm::Crc32,
        "sha2" => Algorithm::Sha2(sha2_bits(args[0], scope)?),
        _ => Algorithm::Blake2b(blake2b_bytes(args[0], scope)?),
    };
    let hashed = if sized { &args[1..] } else { args };
    let mut typed = Vec::with_capacity(hashed.len());
    for a in hashed {
        typed.push(compile(a, scope)?);
    }
    let types: Vec<DfType> = typed.iter().map(|t| t.ty.clone()).collect();
    let out = match algorithm {
        Algorithm::Crc32 => DfType::Long,
        _ if binary => DfType::Binary,
        _ => DfType::String,
    };
    Ok(kernel(typed, out, false, move |row| {
        let mut bytes = Vec::new();
        for (v, t) in row.iter().zip(&types) {
            serialise(v, t, &mut bytes);
        }
        if binary {
            algorithm.digest(&bytes).map_or(Value::Null, Value::Binary)
        } else {
            algorithm.hash(&bytes)
        }
    }))
}

fn sha2_bits(arg: &Expr, scope: &Scope) -> CResult<u16> {
    match int_arg(arg, scope, "the bit length of `sha2`")? {
        0 => Ok(256),
        bits @ (224 | 256 | 384 | 512) => Ok(bits as u16),
        bits => Err(
            Problem::new(arg.span, format!("`sha2` has no {bits}-bit digest"))
                .help("the bit length is 224, 256, 384 or 512 (0 means 256)"),
        ),
    }
}

fn blake2b_bytes(arg: &Expr, scope: &Scope) -> CResult<usize> {
    match int_arg(arg, scope, "the digest length of `blake2b`")? {
        bits if bits % 8 == 0 && (8..=512).contains(&bits) => Ok(bits as usize / 8),
        bits => Err(
            Problem::new(arg.span, format!("`blake2b` has no {bits}-bit digest"))
                .help("the digest length is in bits: a multiple of 8 from 8 to 512"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use polars::prelude::*;

    use super::super::testing::{eval, problem};
    use super::*;
    use crate::dataflow::expr::value::column_values;
    use crate::dataflow::parser::parse_expression;

    const ROW: &str = "'gunchus', 8.2, 'bojjus', true, toDate('2010-4-4')";

    #[test]
    fn the_documented_examples_give_adf_results() {
        let hashes = [
            ("md5(5, ", "4ce8a880bd621a1ffad0bca905e1bc5a"),
            ("sha1(5, ", "46d3b478e8ec4e1f3b453ac3d8e59d5854e282bb"),
            (
                "sha2(256, ",
                "afe8a553b1761c67d76f8c31ceef7f71b66a1ee6f4e6d3b5478bf68b47d06bd3",
            ),
            (
                "blake2b(256, ",
                "c9521a5080d8da30dffb430c50ce253c345cc4c4effc315dab2162dac974711d",
            ),
        ];
        for (call, want) in hashes {
            let text = format!("{call}{ROW})");
            assert_eq!(eval(&text), Value::Str(want.into()), "{text}");
        }
        assert_eq!(eval(&format!("crc32(256, {ROW})")), Value::Long(3630253689));
        assert_eq!(
            eval(&format!("hex(blake2bBinary(256, {ROW}))")),
            Value::Str(hashes[3].1.into())
        );
    }

    #[test]
    fn sizes_choose_the_digest_and_are_not_hashed() {
        let sha = |bits: u32| match eval(&format!("sha2({bits}, 'abc')")) {
            Value::Str(s) => s.len() * 4,
            other => panic!("{other:?}"),
        };
        assert_eq!([sha(0), sha(224), sha(384), sha(512)], [256, 224, 384, 512]);
        // SHA-256 of "abc" alone: the size is not part of the input.
        assert_eq!(
            eval("sha2(0, 'abc')"),
            Value::Str("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into())
        );
        // BLAKE2b-512 of nothing but a null: the RFC 7693 digest of the empty input.
        match eval("blake2b(512, null)") {
            Value::Str(s) => assert!(s.starts_with("786a02f742015903c6c6fd852552d272"), "{s}"),
            other => panic!("{other:?}"),
        }
        match eval("blake2b(8, 'abc')") {
            Value::Str(s) => assert_eq!(s.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_sizes_and_computed_sizes_are_reported_at_the_argument() {
        let (p, at) = problem("sha2(255, 'a')");
        assert_eq!(at, "255");
        assert!(p.message.contains("no 255-bit digest"), "{p:?}");
        assert!(p.help.contains("224, 256, 384 or 512"), "{p:?}");
        let (p, at) = problem("blake2b(12, 'a')");
        assert_eq!(
            (at.as_str(), p.help.contains("multiple of 8")),
            ("12", true)
        );
        let (p, at) = problem("sha2(toInteger('256'), 'a')");
        assert_eq!(at, "toInteger('256')");
        assert!(p.message.contains("must be a constant") && p.help.contains("$parameter"));
        let (p, at) = problem("sha2('256', 'a')");
        assert_eq!(
            (at.as_str(), p.message.contains("whole number")),
            ("'256'", true)
        );
        let (p, _) = problem("md5()");
        assert!(p.message.contains("at least 1"), "{p:?}");
    }

    /// A frame with a column of each type; the hash of each row is that of its bytes as
    /// `serialise` lays them out, computed here by hand.
    #[test]
    fn rows_of_columns_of_each_type_hash_column_by_column() {
        let date = NaiveDate::from_ymd_opt(2010, 4, 4).unwrap();
        let stamp = date.and_hms_opt(1, 2, 3).unwrap();
        let mut frame = df!(
            "i" => [Some(5i32), None],
            "l" => [7i64, 8],
            "d" => [8.2f64, 1.5],
            "f" => [1.5f32, 2.5],
            "s" => ["gunchus", "é"],
            "b" => [true, false],
            "dt" => [date, date],
            "ts" => [stamp, stamp],
        )
        .unwrap();
        let bin = Series::new("bin".into(), [&b"\x01\x02"[..], &b""[..]]);
        frame.with_column(bin.into()).unwrap();
        let frame = frame
            .lazy()
            .with_column(col("ts").cast(DataType::Datetime(TimeUnit::Microseconds, None)))
            .collect()
            .unwrap();
        let scope = Scope {
            schema: (**frame.schema()).clone(),
            ..Scope::default()
        };
        let expr = parse_expression("crc32(i, l, d, f, s, b, dt, ts, bin)").unwrap();
        let typed = compile(&expr, &scope).unwrap();
        let out = frame.lazy().select([typed.expr]).collect().unwrap();
        let got = column_values(&out.columns()[0]);

        let days = (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32;
        let micros = stamp.and_utc().timestamp_micros();
        let row = |i: Option<i32>, l: i64, d: f64, f: f32, s: &str, b: u8, bin: &[u8]| {
            let mut bytes = Vec::new();
            if let Some(i) = i {
                bytes.extend_from_slice(&i.to_le_bytes());
            }
            bytes.extend_from_slice(&l.to_le_bytes());
            bytes.extend_from_slice(&d.to_le_bytes());
            bytes.extend_from_slice(&f.to_le_bytes());
            bytes.extend_from_slice(s.as_bytes());
            bytes.push(b);
            bytes.extend_from_slice(&days.to_le_bytes());
            bytes.extend_from_slice(&micros.to_le_bytes());
            bytes.extend_from_slice(bin);
            Value::Long(i64::from(crc32fast::hash(&bytes)))
        };
        let want = vec![
            row(Some(5), 7, 8.2, 1.5, "gunchus", 1, b"\x01\x02"),
            row(None, 8, 1.5, 2.5, "é", 0, b""),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn narrow_and_decimal_types_serialise_by_their_type() {
        let short = eval("md5(toShort(1))");
        assert_eq!(short, Algorithm::Md5.hash(&[1, 0]));
        let byte = eval("md5(toByte(1))");
        assert_eq!(byte, Algorithm::Md5.hash(&[1]));
        let decimal = eval("md5(8.2 ? decimal(10,2))");
        assert_eq!(decimal, Algorithm::Md5.hash(b"8.20"));
        let array = eval("md5(['a', 'b'])");
        assert_eq!(array, Algorithm::Md5.hash(b"ab"));
    }
}
