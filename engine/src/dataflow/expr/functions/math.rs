//! Arithmetic and mathematical functions. Division by zero gives null, as in ADF.

use polars::prelude::{lit, when, DataType};

use super::arity;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{kernel, null_of, CResult, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;
use crate::dataflow::source::Problem;

/// Microseconds in a millisecond: timestamps are held in microseconds, durations are
/// written in milliseconds.
const MICROS: i64 = 1000;

/// `+`: numbers add, strings concatenate, a date plus days, a timestamp plus
/// milliseconds, arrays append.
pub fn add(l: Typed, r: Typed, e: &Expr) -> CResult<Typed> {
    Ok(match (&l.ty, &r.ty) {
        (DfType::String, _) | (_, DfType::String) => {
            Typed::new(l.to_string_expr() + r.to_string_expr(), DfType::String)
        }
        (DfType::Date, t) if t.is_integral() => Typed::new(
            (l.expr.cast(DataType::Int32) + r.expr.cast(DataType::Int32)).cast(DataType::Date),
            DfType::Date,
        ),
        (DfType::Timestamp, t) if t.is_integral() => Typed::new(
            (l.expr.cast(DataType::Int64) + r.expr.cast(DataType::Int64) * lit(MICROS))
                .cast(DfType::Timestamp.to_polars()),
            DfType::Timestamp,
        ),
        (DfType::Array(_), DfType::Array(_)) => {
            let ty = l.ty.clone();
            kernel(vec![l, r], ty, true, |v| match (&v[0], &v[1]) {
                (Value::Array(a), Value::Array(b)) => {
                    Value::Array(a.iter().chain(b.iter()).cloned().collect())
                }
                _ => Value::Null,
            })
        }
        (a, b)
            if (a.is_numeric() || *a == DfType::Null) && (b.is_numeric() || *b == DfType::Null) =>
        {
            let ty = DfType::wider(a, b);
            Typed::new(l.expr + r.expr, ty)
        }
        (a, b) => {
            return Err(
                Problem::new(e.span, format!("cannot add {} and {}", a.name(), b.name()))
                    .help("convert one side with toString(), toInteger(), toDate(), ..."),
            )
        }
    })
}

/// `-`: numbers, a date minus days, a timestamp minus milliseconds.
pub fn subtract(l: Typed, r: Typed, e: &Expr) -> CResult<Typed> {
    Ok(match (&l.ty, &r.ty) {
        (DfType::Date, t) if t.is_integral() => Typed::new(
            (l.expr.cast(DataType::Int32) - r.expr.cast(DataType::Int32)).cast(DataType::Date),
            DfType::Date,
        ),
        (DfType::Timestamp, t) if t.is_integral() => Typed::new(
            (l.expr.cast(DataType::Int64) - r.expr.cast(DataType::Int64) * lit(MICROS))
                .cast(DfType::Timestamp.to_polars()),
            DfType::Timestamp,
        ),
        (DfType::Timestamp, DfType::Timestamp) => Typed::new(
            (l.expr.cast(DataType::Int64) - r.expr.cast(DataType::Int64)) / lit(MICROS),
            DfType::Long,
        ),
        (DfType::Date, DfType::Date) => Typed::new(
            l.expr.cast(DataType::Int32) - r.expr.cast(DataType::Int32),
            DfType::Integer,
        ),
        (a, b)
            if (a.is_numeric() || *a == DfType::Null) && (b.is_numeric() || *b == DfType::Null) =>
        {
            let ty = DfType::wider(a, b);
            Typed::new(l.expr - r.expr, ty)
        }
        (a, b) => {
            return Err(Problem::new(
                e.span,
                format!("cannot subtract {} from {}", b.name(), a.name()),
            ))
        }
    })
}

/// `/`: a double; null when dividing by zero.
pub fn divide(l: Typed, r: Typed) -> Typed {
    let ty = if l.ty.is_integral() && r.ty.is_integral() {
        DfType::Double
    } else {
        DfType::wider(&l.ty, &r.ty)
    };
    let (a, b) = (l.cast(&ty).expr, r.cast(&ty).expr);
    Typed::new(
        when(b.clone().eq(lit(0)))
            .then(null_of(&ty))
            .otherwise(a / b),
        ty,
    )
}

/// `%`: the remainder, with the sign of the dividend; null when dividing by zero.
pub fn modulo(l: Typed, r: Typed) -> Typed {
    let ty = DfType::wider(&l.ty, &r.ty);
    kernel(vec![l, r], ty.clone(), true, move |v| {
        rem(&v[0], &v[1], false)
    })
}

fn rem(a: &Value, b: &Value, positive: bool) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) if *y != 0 => {
            let m = x % y;
            Value::Int(if positive && m < 0 { m + y.abs() } else { m })
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) if y != 0.0 => {
                let m = x % y;
                let m = if positive && m < 0.0 { m + y.abs() } else { m };
                match (a, b) {
                    (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
                        Value::Long(m as i64)
                    }
                    _ => Value::Double(m),
                }
            }
            _ => Value::Null,
        },
    }
}

fn float(a: Typed, f: fn(f64) -> f64) -> Typed {
    kernel(vec![a], DfType::Double, true, move |v| {
        v[0].as_f64().map_or(Value::Null, |x| {
            let y = f(x);
            if y.is_nan() {
                Value::Null
            } else {
                Value::Double(y)
            }
        })
    })
}

pub(super) fn call(name: &str, a: Vec<Typed>, e: &Expr) -> Option<CResult<Typed>> {
    let r = (|| -> CResult<Option<Typed>> {
        let mut it = a.clone().into_iter();
        // Arities are checked before arguments are taken; a missing one is still an error,
        // never a panic.
        let mut next = || {
            it.next()
                .ok_or_else(|| Problem::new(e.span, format!("`{name}` needs more arguments")))
        };
        Ok(Some(match name {
            "add" => {
                arity(name, &a, 2, 2, e)?;
                add(next()?, next()?, e)?
            }
            "minus" | "subtract" => {
                arity(name, &a, 2, 2, e)?;
                subtract(next()?, next()?, e)?
            }
            "multiply" => {
                arity(name, &a, 2, 2, e)?;
                let (l, r) = (next()?, next()?);
                let ty = DfType::wider(&l.ty, &r.ty);
                Typed::new(l.expr * r.expr, ty)
            }
            "divide" => {
                arity(name, &a, 2, 2, e)?;
                divide(next()?, next()?)
            }
            "mod" => {
                arity(name, &a, 2, 2, e)?;
                modulo(next()?, next()?)
            }
            "pmod" => {
                arity(name, &a, 2, 2, e)?;
                let (l, r) = (next()?, next()?);
                let ty = DfType::wider(&l.ty, &r.ty);
                kernel(vec![l, r], ty, true, |v| rem(&v[0], &v[1], true))
            }
            "negate" => {
                arity(name, &a, 1, 1, e)?;
                let x = next()?;
                let ty = x.ty.clone();
                Typed::new(lit(0).cast(ty.to_polars()) - x.expr, ty)
            }
            "abs" => {
                arity(name, &a, 1, 1, e)?;
                let x = next()?;
                let ty = x.ty.clone();
                kernel(vec![x], ty, true, |v| match &v[0] {
                    Value::Int(x) => Value::Int(x.abs()),
                    Value::Long(x) => Value::Long(x.abs()),
                    Value::Float(x) => Value::Float(x.abs()),
                    other => other
                        .as_f64()
                        .map_or(Value::Null, |x| Value::Double(x.abs())),
                })
            }
            "ceil" | "floor" => {
                arity(name, &a, 1, 1, e)?;
                let x = next()?;
                if x.ty.is_integral() {
                    x
                } else {
                    let f: fn(f64) -> f64 = if name == "ceil" {
                        f64::ceil
                    } else {
                        f64::floor
                    };
                    kernel(vec![x], DfType::Long, true, move |v| {
                        v[0].as_f64()
                            .map_or(Value::Null, |x| Value::Long(f(x) as i64))
                    })
                }
            }
            "round" => {
                arity(name, &a, 1, 3, e)?;
                let x = next()?.cast(&DfType::Double);
                let mut args = vec![x];
                args.extend(a.iter().skip(1).cloned());
                kernel(args, DfType::Double, true, |v| {
                    let x = v[0].as_f64().unwrap_or(0.0);
                    let scale = v.get(1).and_then(Value::as_i64).unwrap_or(0) as i32;
                    let mode = v.get(2).and_then(Value::as_i64).unwrap_or(4);
                    Value::Double(round(x, scale, mode))
                })
            }
            "sqrt" | "cbrt" | "log10" | "sin" | "cos" | "tan" | "asin" | "acos" | "atan"
            | "sinh" | "cosh" | "tanh" | "degrees" | "radians"
                if a.len() != 1 =>
            {
                return arity(name, &a, 1, 1, e).map(|()| None);
            }
            "sqrt" => float(next()?, f64::sqrt),
            "cbrt" => float(next()?, f64::cbrt),
            "log10" => float(next()?, f64::log10),
            "sin" => float(next()?, f64::sin),
            "cos" => float(next()?, f64::cos),
            "tan" => float(next()?, f64::tan),
            "asin" => float(next()?, f64::asin),
            "acos" => float(next()?, f64::acos),
            "atan" => float(next()?, f64::atan),
            "sinh" => float(next()?, f64::sinh),
            "cosh" => float(next()?, f64::cosh),
            "tanh" => float(next()?, f64::tanh),
            "degrees" => float(next()?, f64::to_degrees),
            "radians" => float(next()?, f64::to_radians),
            "log" => {
                arity(name, &a, 1, 2, e)?;
                kernel(a.clone(), DfType::Double, true, |v| match v {
                    [x] => x.as_f64().map_or(Value::Null, |x| Value::Double(x.ln())),
                    [x, base] => match (x.as_f64(), base.as_f64()) {
                        (Some(x), Some(b)) => Value::Double(b.ln() / x.ln()),
                        _ => Value::Null,
                    },
                    _ => Value::Null,
                })
            }
            "power" | "atan2" => {
                arity(name, &a, 2, 2, e)?;
                let power = name == "power";
                kernel(a.clone(), DfType::Double, true, move |v| {
                    match (v[0].as_f64(), v[1].as_f64()) {
                        (Some(x), Some(y)) => {
                            Value::Double(if power { x.powf(y) } else { x.atan2(y) })
                        }
                        _ => Value::Null,
                    }
                })
            }
            "factorial" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::Long, true, |v| match v[0].as_i64() {
                    Some(n @ 0..=20) => Value::Long((1..=n).product::<i64>().max(1)),
                    _ => Value::Null,
                })
            }
            "bitwiseand" | "bitwiseor" | "bitwisexor" => {
                arity(name, &a, 2, 2, e)?;
                let (l, r) = (next()?, next()?);
                let ty = DfType::wider(&l.ty, &r.ty);
                let op = name.to_owned();
                kernel(vec![l, r], ty, true, move |v| {
                    let (x, y) = (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0));
                    let z = match op.as_str() {
                        "bitwiseand" => x & y,
                        "bitwiseor" => x | y,
                        _ => x ^ y,
                    };
                    match (&v[0], &v[1]) {
                        (Value::Int(_), Value::Int(_)) => Value::Int(z as i32),
                        _ => Value::Long(z),
                    }
                })
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

/// Rounds with Java's `RoundingMode` numbers: 0 up, 1 down, 2 ceiling, 3 floor,
/// 4 half up (the default), 5 half down, 6 half even, 7 unnecessary (as half up).
fn round(x: f64, scale: i32, mode: i64) -> f64 {
    let factor = 10f64.powi(scale);
    let scaled = x * factor;
    // Decimal representation first, so that 5.3999999999999995 rounds as written.
    let scaled = (scaled * 1e6).round() / 1e6;
    let r = match mode {
        0 => scaled.abs().ceil() * scaled.signum(),
        1 => scaled.trunc(),
        2 => scaled.ceil(),
        3 => scaled.floor(),
        5 => {
            let f = scaled.abs().fract();
            let base = scaled.abs().trunc();
            (if f > 0.5 { base + 1.0 } else { base }) * scaled.signum()
        }
        6 => {
            let r = scaled.round();
            if (scaled.abs().fract() - 0.5).abs() < f64::EPSILON && r % 2.0 != 0.0 {
                r - scaled.signum()
            } else {
                r
            }
        }
        _ => scaled.round(),
    };
    r / factor
}
