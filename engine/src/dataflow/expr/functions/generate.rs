//! Functions that make a value for every row from no column: `random`, `uuid`,
//! `nextSequence` and `partitionId`.
//!
//! A custom function needs an input as long as the frame to be called once per row, and a
//! literal is one value that Polars broadcasts: a generator fed by a literal would give
//! every row the same value. These functions therefore read (and ignore) the first column
//! of their step's input.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use polars::prelude::{col, lit};

use super::arity;
use super::constant::int_arg;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{kernel, CResult, Scope, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::{hex, Value};

/// An input with one value per row of the step's input.
fn per_row(scope: &Scope) -> Typed {
    let expr = match scope.schema.iter_names().next() {
        Some(first) => col(first.clone()),
        None => lit(0),
    };
    Typed::new(expr, DfType::Null)
}

/// SplitMix64: a well-mixed 64-bit value of `x`, for seeded random numbers.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Compiles a generator; `None` for other names.
pub(super) fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let lower = name.to_ascii_lowercase();
    let r = match lower.as_str() {
        "random" => random(name, args, scope, e),
        "uuid" => arity(name, args, 0, 0, e).map(|()| {
            kernel(vec![per_row(scope)], DfType::String, false, |_| {
                let bytes: Vec<u8> = [super::random_u64(), super::random_u64()]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect();
                let h = hex(&bytes);
                // Version 4 (random) and the RFC 4122 variant.
                Value::Str(format!(
                    "{}-{}-4{}-a{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[13..16],
                    &h[17..20],
                    &h[20..32]
                ))
            })
        }),
        // Spark's monotonically increasing id in the only partition mdflow has: 0, 1, 2, ...
        // in row order. A step calling it runs on the whole stream, never batch by batch,
        // so that one counter numbers every row (exec::is_row_local).
        "nextsequence" => arity(name, args, 0, 0, e).map(|()| {
            let next = Arc::new(AtomicI64::new(0));
            kernel(vec![per_row(scope)], DfType::Long, false, move |_| {
                Value::Long(next.fetch_add(1, Ordering::Relaxed))
            })
        }),
        // mdflow runs a flow as one partition (docs/limitations.md).
        "partitionid" => {
            arity(name, args, 0, 0, e).map(|()| Typed::new(lit(0i32), DfType::Integer))
        }
        _ => return None,
    };
    Some(r)
}

/// `random()`: a random long per row; `random(seed)`: the same longs for the same seed and
/// row order, as ADF's seeded `random` repeats within a partition.
fn random(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> CResult<Typed> {
    arity(name, args, 0, 1, e)?;
    let seed = match args.first() {
        Some(a) => Some(int_arg(a, scope, "the seed of `random`")? as u64),
        None => None,
    };
    let row = Arc::new(AtomicI64::new(0));
    Ok(kernel(
        vec![per_row(scope)],
        DfType::Long,
        false,
        move |_| {
            let value = match seed {
                Some(seed) => mix(seed ^ mix(row.fetch_add(1, Ordering::Relaxed) as u64)),
                None => super::random_u64(),
            };
            Value::Long(value as i64)
        },
    ))
}
