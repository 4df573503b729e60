//! Functions of the expression language, one module per family. Each family answers
//! `call` with `None` when it does not know the name, so the table of names lives with
//! the implementations.

pub mod array;
mod charset;
pub(crate) mod constant;
pub mod conversion;
pub mod date;
mod entities;
mod escape;
mod generate;
mod hash;
pub mod logical;
pub mod map;
pub mod math;
mod meta;
pub mod string;
#[cfg(test)]
mod testing;
mod zone;

use polars::prelude::{col, lit};

use super::compile::{compile, CResult, Scope, Typed};
use super::types::DfType;
use crate::dataflow::ast::Expr;
use crate::dataflow::source::Problem;

/// Every function mdflow compiles, for `dataflow check` and the documentation.
pub fn known(name: &str) -> bool {
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
        || array::LAMBDA.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The names the families implement.
pub const NAMES: &[&str] = &[
    // logical
    "iif",
    "case",
    "coalesce",
    "iifNull",
    "isNull",
    "not",
    "and",
    "or",
    "xor",
    "equals",
    "notEquals",
    "greater",
    "greaterOrEqual",
    "lesser",
    "lesserOrEqual",
    "true",
    "false",
    "null",
    "between",
    "compare",
    "greatest",
    "least",
    "equalsIgnoreCase",
    "isNan",
    // math
    "add",
    "minus",
    "subtract",
    "multiply",
    "divide",
    "mod",
    "pMod",
    "abs",
    "ceil",
    "floor",
    "round",
    "sqrt",
    "cbrt",
    "power",
    "log",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "tanh",
    "degrees",
    "radians",
    "negate",
    "factorial",
    "bitwiseAnd",
    "bitwiseOr",
    "bitwiseXor",
    "random",
    // string
    "upper",
    "lower",
    "length",
    "trim",
    "ltrim",
    "rtrim",
    "left",
    "right",
    "substring",
    "dropLeft",
    "dropRight",
    "concat",
    "concatWS",
    "startsWith",
    "endsWith",
    "instr",
    "locate",
    "replace",
    "reverse",
    "lpad",
    "rpad",
    "initCap",
    "translate",
    "split",
    "regexMatch",
    "rlike",
    "regexExtract",
    "regexReplace",
    "regexSplit",
    "like",
    "soundex",
    "levenshtein",
    "substringIndex",
    "toBase64",
    "fromBase64",
    "ascii",
    "char",
    "uuid",
    "nextSequence",
    "partitionId",
    "normalize",
    "jaroWinkler",
    // date and time
    "toDate",
    "toTimestamp",
    "year",
    "month",
    "dayOfMonth",
    "dayOfWeek",
    "dayOfYear",
    "hour",
    "minute",
    "second",
    "millisecond",
    "weekOfYear",
    "addDays",
    "subDays",
    "addMonths",
    "subMonths",
    "lastDayOfMonth",
    "currentDate",
    "currentTimestamp",
    "currentUTC",
    "fromUTC",
    "toUTC",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "weeks",
    "monthsBetween",
    "isDate",
    "isTimestamp",
    // conversion
    "toString",
    "toInteger",
    "toLong",
    "toShort",
    "toByte",
    "toDouble",
    "toFloat",
    "toDecimal",
    "toBoolean",
    "isBoolean",
    "isInteger",
    "isLong",
    "isShort",
    "isByte",
    "isDouble",
    "isFloat",
    "isDecimal",
    "toBinary",
    "hex",
    "unhex",
    "toBitSet",
    "setBitSet",
    "isBitSet",
    // array
    "array",
    "at",
    "size",
    "slice",
    "in",
    "distinct",
    "except",
    "intersect",
    "union",
    "flatten",
    "unfold",
    // maps
    "associate",
    "keyValues",
    "mapAssociation",
    "reassociate",
    // metafunctions
    "columnNames",
    "columns",
    "hasColumn",
    "byName",
    "byNames",
    "byPosition",
    "byPath",
    "hasPath",
    "byItem",
    "typeMatch",
    "expr",
    // hashes
    "md5",
    "sha1",
    "sha2",
    "crc32",
    "blake2b",
    "blake2bBinary",
    "encode",
    "decode",
    "escape",
    "unescape",
    // row state
    "isMatch",
    "isInsert",
    "isUpdate",
    "isDelete",
    "isUpsert",
];

/// One family's entry point: `None` when it does not know the name.
type Family = fn(&str, Vec<Typed>, &Expr) -> Option<CResult<Typed>>;

/// The entry point of a family that reads its arguments unevaluated (lambdas, constants):
/// `None` when it does not know the name.
type RawFamily = fn(&str, &[&Expr], &Scope, &Expr) -> Option<CResult<Typed>>;

/// Compiles a call.
pub fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> CResult<Typed> {
    if name.contains('#') {
        return super::cache::call(name, args, scope, e);
    }
    let raw: [RawFamily; 9] = [
        array::lambda,
        row_state,
        unfold_inside,
        hash::call,
        escape::call,
        charset::call,
        generate::call,
        map::call,
        meta::call,
    ];
    for family in raw {
        if let Some(r) = family(name, args, scope, e) {
            return r;
        }
    }
    let mut typed = Vec::with_capacity(args.len());
    for a in args {
        typed.push(compile(a, scope)?);
    }
    let lower = name.to_ascii_lowercase();
    let families: [Family; 6] = [
        logical::call,
        math::call,
        string::call,
        date::call,
        conversion::call,
        array::call,
    ];
    for family in families {
        if let Some(r) = family(&lower, typed.clone(), e) {
            return r;
        }
    }
    Err(unknown(name, e))
}

/// `isInsert()`, `isUpdate()`, `isDelete()`, `isUpsert()`: the mark an `alterRow` step
/// upstream gave the row. Without one every row is an insert, ADF's default policy. The
/// optional argument (an input's index, for steps with several) is accepted and ignored:
/// a row carries one mark. `isMatch()` is the mark a `lookup` upstream gave.
fn row_state(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    if name.eq_ignore_ascii_case("isMatch") {
        return Some(is_match(name, args, scope, e));
    }
    let policy = match name.to_ascii_lowercase().as_str() {
        "isinsert" => "insert",
        "isupdate" => "update",
        "isdelete" => "delete",
        "isupsert" => "upsert",
        _ => return None,
    };
    if args.len() > 1 {
        return Some(Err(Problem::new(
            e.span,
            format!("`{name}` takes at most one argument (an input's index)"),
        )));
    }
    let mark = crate::dataflow::exec::ROW_MARK;
    let expr = if scope.schema.get(mark).is_some() {
        col(mark).eq(lit(policy)).fill_null(lit(false))
    } else {
        lit(policy == "insert")
    };
    Some(Ok(Typed::new(expr, DfType::Boolean)))
}

/// `unfold(array)` anywhere but as a whole column: a select or derive compiles that form
/// itself (exec::unfold), since it makes rows rather than a value.
fn unfold_inside(name: &str, _: &[&Expr], _: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    name.eq_ignore_ascii_case("unfold").then(|| {
        Err(Problem::new(
            e.span,
            "`unfold` makes rows, so it must be a whole column of a select or derive",
        )
        .help("write items = unfold(array) as its own column"))
    })
}

/// `isMatch()`: whether the row found a match in the `lookup` upstream.
fn is_match(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> CResult<Typed> {
    arity(name, args, 0, 1, e)?;
    let column = crate::dataflow::exec::LOOKUP_MATCH;
    if scope.schema.get(column).is_none() {
        return Err(Problem::new(
            e.span,
            "`isMatch()` tells whether a lookup found a match, and no lookup comes before here",
        )
        .help("call it in a step after the lookup (a filter, derive or split)"));
    }
    Ok(Typed::new(col(column), DfType::Boolean))
}

fn unknown(name: &str, e: &Expr) -> Problem {
    let close = NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(name))
        .map(|n| format!("did you mean `{n}`? "))
        .unwrap_or_default();
    Problem::new(
        e.span,
        format!("`{name}` is not a function mdflow supports"),
    )
    .help(format!(
        "{close}docs/dataflows.md lists the supported functions"
    ))
}

/// Checks the number of arguments.
pub fn arity<T>(name: &str, args: &[T], min: usize, max: usize, e: &Expr) -> CResult<()> {
    if args.len() < min || args.len() > max {
        let wanted = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(Problem::new(
            e.span,
            format!(
                "`{name}` takes {wanted} arguments, and {} are given",
                args.len()
            ),
        ));
    }
    Ok(())
}

/// A random number from the standard library's randomly keyed hasher.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataflow::parser::parse_expression;

    /// The name lists claim what `call` dispatches: no listed name reaches "unknown",
    /// and no number of arguments makes one panic.
    #[test]
    fn every_listed_name_is_dispatched_whatever_its_arguments() {
        for name in NAMES.iter().chain(array::LAMBDA) {
            for n in 0..5 {
                let args = vec!["1"; n].join(", ");
                let expr = parse_expression(&format!("{name}({args})")).unwrap();
                if let Err(p) = compile(&expr, &Scope::default()) {
                    assert!(!p.message.contains("not a function"), "{name}: {p:?}");
                }
            }
        }
    }
}
