//! Checks of a script's expressions that need no data: every function named exists.
//! Column and type checks happen when a flow is compiled against its sources' schemas.

use crate::dataflow::ast::{Arg, Expr, ExprKind, InterpPart, Script};
use crate::dataflow::source::Problem;

use super::functions;

/// Clauses and markers that look like calls in transformation arguments.
const CLAUSES: &[&str] = &[
    "output",
    "input",
    "mapColumn",
    "groupBy",
    "over",
    "asc",
    "desc",
    "each",
    "match",
    "patternMatch",
    "unroll",
    "pivotBy",
    "partitionBy",
    "insertIf",
    "updateIf",
    "deleteIf",
    "upsertIf",
    "ungroupBy",
    "unpivotBy",
    "expectTrue",
    "expectUnique",
    "expectExists",
    "keys",
    "isInsert",
    "isUpdate",
    "isDelete",
    "isUpsert",
    "isError",
    "rowNumber",
    "rank",
    "denseRank",
    "lag",
    "lead",
    "nTile",
    "cumeDist",
    "count",
    "countAll",
    "countDistinct",
    "countAllDistinct",
    "countIf",
    "sum",
    "sumIf",
    "sumDistinct",
    "sumDistinctIf",
    "avg",
    "avgIf",
    "mean",
    "meanIf",
    "min",
    "minIf",
    "max",
    "maxIf",
    "first",
    "last",
    "collect",
    "collectUnique",
    "stddev",
    "stddevIf",
    "stddevPopulation",
    "stddevSample",
    "variance",
    "varianceIf",
    "variancePopulation",
    "varianceSample",
    "kurtosis",
    "skewness",
    "approxDistinctCount",
    "topN",
    "lookup",
    "mlookup",
    "outputs",
    "originColumns",
    "byOrigin",
    "byOrigins",
    "name",
    "type",
    "position",
    "assertErrorMessages",
    "hasError",
    "isIgnore",
    "covariancePopulation",
    "covarianceSample",
];

/// Problems with the expressions of a script.
pub fn check_script(script: &Script) -> Vec<Problem> {
    let mut problems = Vec::new();
    for s in &script.statements {
        for a in &s.args {
            arg(a, &mut problems);
        }
    }
    problems
}

fn arg(a: &Arg, out: &mut Vec<Problem>) {
    match a {
        Arg::Positional(e) | Arg::Opt(_, e) | Arg::Declare(e, _) => expr(e, out),
        Arg::Assign(t, v) => {
            expr(t, out);
            expr(v, out);
        }
    }
}

fn expr(e: &Expr, out: &mut Vec<Problem>) {
    match &e.kind {
        ExprKind::Call(name, args) => {
            let n = name.text.as_str();
            if !n.contains('#')
                && !functions::known(n)
                && !CLAUSES.iter().any(|c| c.eq_ignore_ascii_case(n))
            {
                out.push(
                    Problem::new(name.span, format!("`{n}` is not a function"))
                        .help("check the spelling; docs/dataflows.md lists the functions"),
                );
            }
            for a in args {
                arg(a, out);
            }
        }
        ExprKind::Unary(_, x) | ExprKind::Field(x, _) | ExprKind::Assert(x, _) => expr(x, out),
        ExprKind::Binary(_, l, r) | ExprKind::Index(l, r) => {
            expr(l, out);
            expr(r, out);
        }
        ExprKind::Array(items) => items.iter().for_each(|x| expr(x, out)),
        ExprKind::Map(pairs) => pairs.iter().for_each(|(k, v)| {
            expr(k, out);
            expr(v, out);
        }),
        ExprKind::Struct(fields) => fields.iter().for_each(|(_, v)| expr(v, out)),
        ExprKind::Interp(parts) => parts.iter().for_each(|p| {
            if let InterpPart::Expr(x) = p {
                expr(x, out)
            }
        }),
        _ => {}
    }
}
