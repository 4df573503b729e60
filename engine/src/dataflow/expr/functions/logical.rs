//! Logical functions: conditions, comparisons, nulls.

use polars::prelude::{lit, when};

use super::arity;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{comparable, if_else, kernel, null_of, CResult, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;

pub(super) fn call(name: &str, a: Vec<Typed>, e: &Expr) -> Option<CResult<Typed>> {
    compile(name, a, e).transpose()
}

fn compile(name: &str, a: Vec<Typed>, e: &Expr) -> CResult<Option<Typed>> {
    let cmp =
        |a: Vec<Typed>,
         f: fn(polars::prelude::Expr, polars::prelude::Expr) -> polars::prelude::Expr| {
            let mut it = a.into_iter();
            let (l, r) = comparable(it.next().expect("checked"), it.next().expect("checked"));
            Typed::new(f(l, r), DfType::Boolean)
        };
    Ok(Some(match name {
        "true" | "false" => {
            arity(name, &a, 0, 0, e)?;
            Typed::new(lit(name == "true"), DfType::Boolean)
        }
        "null" => {
            arity(name, &a, 0, 0, e)?;
            Typed::new(lit(polars::prelude::NULL), DfType::Null)
        }
        "iif" => {
            arity(name, &a, 2, 3, e)?;
            let mut it = a.into_iter();
            let cond = it.next().expect("checked");
            let yes = it.next().expect("checked");
            let no = it
                .next()
                .unwrap_or_else(|| Typed::new(null_of(&yes.ty), yes.ty.clone()));
            if_else(cond.expr.fill_null(lit(false)), yes, no)
        }
        "case" => {
            arity(name, &a, 2, usize::MAX, e)?;
            // Pairs of condition and value, then an optional default.
            let mut rest: Vec<Typed> = a;
            let default = if rest.len() % 2 == 1 {
                rest.pop()
            } else {
                None
            };
            let mut out = match default {
                Some(d) => d,
                None => {
                    let ty = rest[1].ty.clone();
                    Typed::new(null_of(&ty), ty)
                }
            };
            while rest.len() >= 2 {
                let value = rest.pop().expect("pair");
                let cond = rest.pop().expect("pair");
                out = if_else(cond.expr.fill_null(lit(false)), value, out);
            }
            out
        }
        "coalesce" | "iifnull" => {
            arity(name, &a, 1, usize::MAX, e)?;
            let ty = a.iter().fold(DfType::Null, |t, x| DfType::wider(&t, &x.ty));
            let exprs: Vec<_> = a.into_iter().map(|x| x.cast(&ty).expr).collect();
            Typed::new(polars::prelude::coalesce(&exprs), ty)
        }
        "isnull" => {
            arity(name, &a, 1, 1, e)?;
            Typed::new(a[0].expr.clone().is_null(), DfType::Boolean)
        }
        "not" => {
            arity(name, &a, 1, 1, e)?;
            Typed::new(a[0].expr.clone().not(), DfType::Boolean)
        }
        "and" | "or" | "xor" => {
            arity(name, &a, 2, 2, e)?;
            let (l, r) = (a[0].expr.clone(), a[1].expr.clone());
            let x = match name {
                "and" => l.and(r),
                "or" => l.or(r),
                _ => l.xor(r),
            };
            Typed::new(x, DfType::Boolean)
        }
        "equals" => {
            arity(name, &a, 2, 2, e)?;
            cmp(a, |l, r| l.eq(r))
        }
        "notequals" => {
            arity(name, &a, 2, 2, e)?;
            cmp(a, |l, r| l.neq(r))
        }
        "greater" => {
            arity(name, &a, 2, 2, e)?;
            cmp(a, |l, r| l.gt(r))
        }
        "greaterorequal" => {
            arity(name, &a, 2, 2, e)?;
            cmp(a, |l, r| l.gt_eq(r))
        }
        "lesser" => {
            arity(name, &a, 2, 2, e)?;
            cmp(a, |l, r| l.lt(r))
        }
        "lesserorequal" => {
            arity(name, &a, 2, 2, e)?;
            cmp(a, |l, r| l.lt_eq(r))
        }
        "equalsignorecase" => {
            arity(name, &a, 2, 2, e)?;
            let mut it = a.into_iter();
            let l = it.next().expect("checked").to_string_expr();
            let r = it.next().expect("checked").to_string_expr();
            Typed::new(
                l.str().to_lowercase().eq(r.str().to_lowercase()),
                DfType::Boolean,
            )
        }
        "between" => {
            arity(name, &a, 3, 3, e)?;
            let mut it = a.into_iter();
            let (v, lo, hi) = (
                it.next().expect("3"),
                it.next().expect("3"),
                it.next().expect("3"),
            );
            let (v1, lo) = comparable(v.clone(), lo);
            let (v2, hi) = comparable(v, hi);
            Typed::new(v1.gt_eq(lo).and(v2.lt_eq(hi)), DfType::Boolean)
        }
        "compare" => {
            arity(name, &a, 2, 2, e)?;
            let mut it = a.into_iter();
            let (l, r) = comparable(it.next().expect("2"), it.next().expect("2"));
            let x = when(l.clone().lt(r.clone()))
                .then(lit(-1))
                .when(l.gt(r))
                .then(lit(1))
                .otherwise(lit(0));
            Typed::new(x, DfType::Integer)
        }
        "greatest" | "least" => {
            arity(name, &a, 1, usize::MAX, e)?;
            let greatest = name == "greatest";
            let ty = a.iter().fold(DfType::Null, |t, x| DfType::wider(&t, &x.ty));
            // Nulls are skipped, as in Spark.
            kernel(a, ty.clone(), false, move |v| {
                let mut best: Option<&Value> = None;
                for x in v.iter().filter(|x| **x != Value::Null) {
                    best = match best {
                        None => Some(x),
                        Some(b) => {
                            let ord = order(x, b);
                            if (greatest && ord == std::cmp::Ordering::Greater)
                                || (!greatest && ord == std::cmp::Ordering::Less)
                            {
                                Some(x)
                            } else {
                                Some(b)
                            }
                        }
                    };
                }
                best.cloned().unwrap_or(Value::Null)
            })
        }
        "isnan" => {
            arity(name, &a, 1, 1, e)?;
            let x = a[0].clone().cast(&DfType::Double).expr;
            Typed::new(x.is_nan(), DfType::Boolean)
        }
        _ => return Ok(None),
    }))
}

/// Orders two values of comparable types: numbers by value, others by their natural order.
pub fn order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => match (a, b) {
            (Value::Str(x), Value::Str(y)) => x.cmp(y),
            (Value::Date(x), Value::Date(y)) => x.cmp(y),
            (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => Ordering::Equal,
        },
    }
}
