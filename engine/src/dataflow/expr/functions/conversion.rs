//! Conversions between types. A value that does not convert gives null, as in ADF.

use super::arity;
use super::date::format as format_date;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{kernel, CResult, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::{hex, Value};

/// `toString(x)` without a format.
pub fn to_string_plain(x: Typed) -> Typed {
    match x.ty {
        DfType::String => x,
        DfType::Integer | DfType::Long | DfType::Short | DfType::Byte | DfType::Boolean => {
            Typed::new(
                x.expr.cast(polars::prelude::DataType::String),
                DfType::String,
            )
        }
        _ => kernel(vec![x], DfType::String, true, |v| {
            v[0].to_text().map_or(Value::Null, Value::Str)
        }),
    }
}

/// A number from text: a Java `DecimalFormat` pattern's literal characters (such as `$`)
/// and grouping commas are removed first.
fn parse_number(text: &str, pattern: Option<&str>) -> Option<f64> {
    let mut t = text.trim().to_owned();
    if let Some(p) = pattern {
        for c in p.chars().filter(|c| !"#0.,E-".contains(*c)) {
            t = t.replace(c, "");
        }
        t = t.replace(',', "");
    }
    t.trim().parse::<f64>().ok()
}

fn parse_integral(text: &str, pattern: Option<&str>) -> Option<i64> {
    let t = text.trim();
    if pattern.is_none() {
        return t.parse::<i64>().ok();
    }
    parse_number(t, pattern)
        .filter(|f| f.fract() == 0.0)
        .map(|f| f as i64)
}

/// Formats a number with a Java `DecimalFormat` pattern: grouping, fraction digits, and
/// literal prefix and suffix characters.
fn format_number(x: f64, pattern: &str) -> Option<String> {
    if pattern.contains('E') {
        return format_scientific(x, pattern);
    }
    let start = pattern.find(['#', '0'])?;
    let end = pattern.rfind(['#', '0'])? + 1;
    let (prefix, body, suffix) = (&pattern[..start], &pattern[start..end], &pattern[end..]);
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    let max_frac = frac_part.len();
    let min_frac = frac_part.chars().filter(|c| *c == '0').count();
    let grouping = int_part.rfind(',').map(|i| int_part.len() - i - 1);
    let mut s = format!("{:.*}", max_frac, x.abs());
    if max_frac > min_frac && s.contains('.') {
        while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) - 1 > min_frac {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    let (i, f) = s.split_once('.').map_or((s.clone(), None), |(i, f)| {
        (i.to_owned(), Some(f.to_owned()))
    });
    let i = match grouping {
        Some(g) if g > 0 => {
            let digits: Vec<char> = i.chars().collect();
            let mut out = String::new();
            for (n, c) in digits.iter().enumerate() {
                if n > 0 && (digits.len() - n) % g == 0 {
                    out.push(',');
                }
                out.push(*c);
            }
            out
        }
        _ => i,
    };
    let sign = if x < 0.0 { "-" } else { "" };
    Some(match f {
        Some(f) => format!("{sign}{prefix}{i}.{f}{suffix}"),
        None => format!("{sign}{prefix}{i}{suffix}"),
    })
}

/// Formats a number with a scientific `DecimalFormat` pattern (`0.###E0`, `##0.#####E0`).
/// As in Java: with more integer places than required ones (`##0`) the exponent is a
/// multiple of the integer places (engineering notation) and the mantissa keeps up to
/// (required integer + fraction places) significant digits; otherwise the mantissa has the
/// required integer digits. The exponent has at least as many digits as the `0`s after `E`.
fn format_scientific(x: f64, pattern: &str) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let (mantissa_pattern, exponent_pattern) = pattern.split_once('E')?;
    let start = mantissa_pattern.find(['#', '0'])?;
    let prefix = &mantissa_pattern[..start];
    let body = &mantissa_pattern[start..];
    let exp_digits = exponent_pattern
        .chars()
        .take_while(|c| *c == '0')
        .count()
        .max(1);
    let suffix = &exponent_pattern
        [exponent_pattern.len() - exponent_pattern.trim_start_matches('0').len()..];
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    let max_int = int_part.chars().filter(|c| matches!(c, '#' | '0')).count() as i32;
    let min_int = int_part.chars().filter(|c| *c == '0').count() as i32;
    let max_frac = frac_part.chars().filter(|c| matches!(c, '#' | '0')).count() as i32;
    let min_frac = frac_part.chars().filter(|c| *c == '0').count() as i32;
    let engineering = max_int > min_int && max_int > 1;
    let magnitude = if x == 0.0 {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    let (exponent, significant) = if engineering {
        (
            magnitude.div_euclid(max_int) * max_int,
            min_int.max(1) + max_frac,
        )
    } else {
        let int_digits = min_int.max(1);
        (magnitude - (int_digits - 1), int_digits + max_frac)
    };
    let mantissa = x.abs() / 10f64.powi(exponent);
    let int_digits = (mantissa.log10().floor() as i32 + 1).max(1);
    let frac = if engineering {
        (significant - int_digits).clamp(0, max_frac)
    } else {
        max_frac
    };
    let mut text = format!("{mantissa:.*}", frac as usize);
    if let Some(dot) = text.find('.') {
        while text.ends_with('0') && (text.len() - dot - 1) as i32 > min_frac {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let exp_sign = if exponent < 0 { "-" } else { "" };
    let exp = exponent.unsigned_abs();
    Some(format!(
        "{sign}{prefix}{text}E{exp_sign}{exp:0width$}{suffix}",
        width = exp_digits
    ))
}

/// A whole number of `bits`. Numbers out of range wrap, as Spark's casts of numbers do
/// (`toByte(0xad)` is -83); text out of range gives null, as Spark's casts of text do.
fn to_int(v: &[Value], bits: u32) -> Value {
    let pattern = v.get(1).and_then(Value::as_str);
    let (n, wraps) = match &v[0] {
        Value::Str(s) => (parse_integral(s, pattern), false),
        Value::Bool(b) => (Some(i64::from(*b)), false),
        other => (other.as_f64().map(|f| f.trunc() as i64), true),
    };
    let Some(n) = n else {
        return Value::Null;
    };
    let narrowed = match bits {
        8 => i64::from(n as i8),
        16 => i64::from(n as i16),
        32 => i64::from(n as i32),
        _ => n,
    };
    match (bits, wraps || narrowed == n) {
        (_, false) => Value::Null,
        (64, true) => Value::Long(narrowed),
        (_, true) => Value::Int(narrowed as i32),
    }
}

fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Some(true),
            "false" | "f" | "no" | "n" | "0" => Some(false),
            _ => None,
        },
        other => other.as_i64().map(|n| n != 0),
    }
}

pub(super) fn call(name: &str, a: Vec<Typed>, e: &Expr) -> Option<CResult<Typed>> {
    let r = (|| -> CResult<Option<Typed>> {
        Ok(Some(match name {
            "tostring" => {
                arity(name, &a, 1, 3, e)?;
                if a.len() == 1 {
                    return Ok(Some(to_string_plain(a[0].clone())));
                }
                kernel(a[..2].to_vec(), DfType::String, true, |v| {
                    let pattern = v[1].as_str().unwrap_or_default();
                    let out = match &v[0] {
                        Value::Date(_) | Value::Timestamp(_) => format_date(&v[0], pattern),
                        Value::Str(_) => v[0].to_text(),
                        other => other.as_f64().and_then(|x| format_number(x, pattern)),
                    };
                    out.map_or(Value::Null, Value::Str)
                })
            }
            "tointeger" | "toshort" | "tobyte" | "tolong" => {
                arity(name, &a, 1, 3, e)?;
                let (bits, ty) = match name {
                    "tobyte" => (8, DfType::Byte),
                    "toshort" => (16, DfType::Short),
                    "tointeger" => (32, DfType::Integer),
                    _ => (64, DfType::Long),
                };
                let n = a.len().min(2);
                kernel(a[..n].to_vec(), ty, true, move |v| to_int(v, bits))
            }
            "todouble" | "tofloat" | "todecimal" => {
                arity(name, &a, 1, 5, e)?;
                let ty = match name {
                    "tofloat" => DfType::Float,
                    "todouble" => DfType::Double,
                    _ => DfType::Decimal(10, 0),
                };
                let decimal = name == "todecimal";
                let float = name == "tofloat";
                kernel(a.clone(), ty, true, move |v| {
                    // toDecimal(value, precision, scale, format); the others (value, format).
                    let (pattern, scale) = if decimal {
                        (
                            v.get(3).and_then(Value::as_str),
                            v.get(2).and_then(Value::as_i64),
                        )
                    } else {
                        (v.get(1).and_then(Value::as_str), None)
                    };
                    let x = match &v[0] {
                        Value::Str(s) => parse_number(s, pattern),
                        other => other.as_f64(),
                    };
                    match (x, scale) {
                        (Some(x), Some(s)) => {
                            let f = 10f64.powi(s as i32);
                            Value::Double((x * f).round() / f)
                        }
                        (Some(x), None) if float => Value::Float(x as f32),
                        (Some(x), None) => Value::Double(x),
                        _ => Value::Null,
                    }
                })
            }
            "toboolean" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::Boolean, true, |v| {
                    to_bool(&v[0]).map_or(Value::Null, Value::Bool)
                })
            }
            "isboolean" | "isinteger" | "islong" | "isshort" | "isbyte" | "isdouble"
            | "isfloat" | "isdecimal" => {
                arity(name, &a, 1, 2, e)?;
                let which = name.to_owned();
                kernel(a.clone(), DfType::Boolean, true, move |v| {
                    let text = v[0].to_text().unwrap_or_default();
                    let s = Value::Str(text.clone());
                    let pattern = v.get(1).cloned();
                    let args = match pattern {
                        Some(p) => vec![s, p],
                        None => vec![s],
                    };
                    Value::Bool(match which.as_str() {
                        "isboolean" => {
                            to_bool(&Value::Str(text.clone())).is_some()
                                && !text.trim().chars().all(|c| c.is_ascii_digit())
                        }
                        "isinteger" => to_int(&args, 32) != Value::Null,
                        "islong" => to_int(&args, 64) != Value::Null,
                        "isshort" => to_int(&args, 16) != Value::Null,
                        "isbyte" => to_int(&args, 8) != Value::Null,
                        _ => parse_number(&text, args.get(1).and_then(Value::as_str)).is_some(),
                    })
                })
            }
            "tobinary" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::Binary, true, |v| match &v[0] {
                    Value::Str(s) => Value::Binary(s.as_bytes().to_vec()),
                    Value::Array(items) => Value::Binary(
                        items
                            .iter()
                            .filter_map(|x| x.as_i64().map(|b| b as u8))
                            .collect(),
                    ),
                    Value::Binary(b) => Value::Binary(b.clone()),
                    _ => Value::Null,
                })
            }
            "hex" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::String, true, |v| match &v[0] {
                    Value::Binary(b) => Value::Str(hex(b)),
                    _ => Value::Null,
                })
            }
            // Bitsets are arrays of longs, bit n (from 0) in long n / 64, as Java's BitSet
            // writes them with toLongArray.
            "tobitset" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), bitset_type(), true, |v| {
                    set_bits(Vec::new(), &v[0]).map_or(Value::Null, bitset_value)
                })
            }
            "setbitset" => {
                arity(name, &a, 2, 2, e)?;
                kernel(a.clone(), bitset_type(), true, |v| {
                    set_bits(bitset_words(&v[0]), &v[1]).map_or(Value::Null, bitset_value)
                })
            }
            "isbitset" => {
                arity(name, &a, 2, 2, e)?;
                kernel(a.clone(), DfType::Boolean, true, |v| {
                    let words = bitset_words(&v[0]);
                    match v[1].as_i64().and_then(|n| u64::try_from(n).ok()) {
                        Some(n) => Value::Bool(
                            words
                                .get((n / 64) as usize)
                                .is_some_and(|w| w & (1 << (n % 64)) != 0),
                        ),
                        None => Value::Null,
                    }
                })
            }
            "unhex" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::Binary, true, |v| {
                    let s = v[0].to_text().unwrap_or_default();
                    let bytes: Option<Vec<u8>> = (0..s.len())
                        .step_by(2)
                        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                        .collect();
                    bytes.map_or(Value::Null, Value::Binary)
                })
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

fn bitset_type() -> DfType {
    DfType::Array(Box::new(DfType::Long))
}

/// A bitset's words; null words count as empty.
fn bitset_words(v: &Value) -> Vec<u64> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|w| w.as_i64().unwrap_or(0) as u64)
            .collect(),
        _ => Vec::new(),
    }
}

/// `words` with the bits at `positions` (an array of whole numbers) set, grown as needed;
/// `None` for a negative position.
fn set_bits(mut words: Vec<u64>, positions: &Value) -> Option<Vec<u64>> {
    let Value::Array(items) = positions else {
        return None;
    };
    for p in items {
        let Some(n) = p.as_i64() else { continue };
        let n = u64::try_from(n).ok()?;
        let word = (n / 64) as usize;
        if words.len() <= word {
            words.resize(word + 1, 0);
        }
        words[word] |= 1 << (n % 64);
    }
    Some(words)
}

fn bitset_value(words: Vec<u64>) -> Value {
    Value::Array(words.into_iter().map(|w| Value::Long(w as i64)).collect())
}

#[cfg(test)]
mod tests {
    use super::format_scientific;

    #[test]
    fn scientific_patterns_follow_java() {
        let f = |x: f64, p: &str| format_scientific(x, p).unwrap();
        assert_eq!(f(12345.0, "##0.#####E0"), "12.345E3");
        assert_eq!(f(123456.0, "##0.#####E0"), "123.456E3");
        // Significant digits: required integer places plus fraction places, here 3.
        assert_eq!(f(123456.0, "##0.##E0"), "123E3");
        assert_eq!(f(0.00123, "##0.###E0"), "1.23E-3");
        assert_eq!(f(1234.0, "0.###E0"), "1.234E3");
        assert_eq!(f(1234.0, "00.###E0"), "12.34E2");
        assert_eq!(f(-0.5, "0.0E00"), "-5.0E-01");
        assert_eq!(f(0.0, "0.#E0"), "0E0");
    }
}
