//! Aggregate functions, as `aggregate` and `pivot` compute them over a group.
//!
//! Spark's definitions are followed where ADF's documentation is silent: nulls are skipped
//! by every function but `countAll` and `countAllDistinct`, standard deviations and
//! variances without `Population` are the sample ones, and `kurtosis` is the excess
//! kurtosis of the population (normal data give 0).

use polars::prelude::{as_struct, lit, DataType, Expr as PExpr, NULL};

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, Expr, ExprKind, Lit};
use crate::dataflow::expr::Scope;
use crate::dataflow::source::Problem;

/// The aggregate functions mdflow computes, for `dataflow check` and the documentation.
pub const AGGREGATE: &[&str] = &[
    "approxDistinctCount",
    "avg",
    "avgIf",
    "collect",
    "collectUnique",
    "count",
    "countAll",
    "countAllDistinct",
    "countDistinct",
    "countIf",
    "covariancePopulation",
    "covariancePopulationIf",
    "covarianceSample",
    "covarianceSampleIf",
    "first",
    "isDistinct",
    "kurtosis",
    "kurtosisIf",
    "last",
    "max",
    "maxIf",
    "mean",
    "meanIf",
    "min",
    "minIf",
    "skewness",
    "skewnessIf",
    "stddev",
    "stddevIf",
    "stddevPopulation",
    "stddevPopulationIf",
    "stddevSample",
    "stddevSampleIf",
    "sum",
    "sumDistinct",
    "sumDistinctIf",
    "sumIf",
    "variance",
    "varianceIf",
    "variancePopulation",
    "variancePopulationIf",
    "varianceSample",
    "varianceSampleIf",
];

/// `x` where `condition` holds, null elsewhere: the `...If` functions then skip the rest as
/// they skip nulls.
fn only_if(condition: PExpr, x: PExpr) -> PExpr {
    polars::prelude::when(condition.fill_null(lit(false)))
        .then(x)
        .otherwise(lit(NULL))
}

/// Deviations from the mean, of the non-null values as doubles.
fn deviation(x: PExpr) -> PExpr {
    let x = x.cast(DataType::Float64);
    x.clone() - x.mean()
}

/// The `k`-th central moment's sum: Σ (x - mean)^k.
fn moment_sum(x: PExpr, k: i32) -> PExpr {
    deviation(x).pow(k).sum()
}

/// `value`, or null when the values do not vary (Σd² = 0), as Spark gives.
fn unless_constant(x: PExpr, value: PExpr) -> PExpr {
    only_if(moment_sum(x, 2).neq(lit(0.0)), value)
}

/// Spark's `kurtosis`: n·Σd⁴ / (Σd²)² - 3.
fn kurtosis(x: PExpr) -> PExpr {
    let n = x.clone().count().cast(DataType::Float64);
    let m2 = moment_sum(x.clone(), 2);
    let value = n * moment_sum(x.clone(), 4) / (m2.clone() * m2) - lit(3.0);
    unless_constant(x, value)
}

/// Spark's `skewness`: √n·Σd³ / (Σd²)^1.5.
fn skewness(x: PExpr) -> PExpr {
    let n = x.clone().count().cast(DataType::Float64);
    let value = n.sqrt() * moment_sum(x.clone(), 3) / moment_sum(x.clone(), 2).pow(1.5);
    unless_constant(x, value)
}

/// Covariance of the rows where both are not null; `ddof` 0 for the population, 1 for a
/// sample.
fn covariance(x: PExpr, y: PExpr, ddof: u8) -> PExpr {
    let both = x.clone().is_not_null().and(y.clone().is_not_null());
    let (x, y) = (only_if(both.clone(), x), only_if(both, y));
    let n = x.clone().count().cast(DataType::Float64);
    let ddof = lit(f64::from(ddof));
    // Without more pairs than `ddof` Spark gives null, not a division by zero.
    only_if(
        n.clone().gt(ddof.clone()),
        (deviation(x) * deviation(y)).sum() / (n - ddof),
    )
}

/// The tuples of several arguments, or the one argument itself.
fn tuple(args: Vec<PExpr>) -> PExpr {
    match <[PExpr; 1]>::try_from(args) {
        Ok([x]) => x,
        Err(args) => as_struct(args),
    }
}

/// Only the rows where every argument is not null.
fn all_present(args: &[PExpr]) -> PExpr {
    args.iter()
        .map(|x| x.clone().is_not_null())
        .reduce(PExpr::and)
        .unwrap_or(lit(true))
}

impl Step<'_> {
    /// An aggregate function over the group: `count()`, `sum(x)`, `countIf(c)`, ...; over
    /// the group's rows where `mask` holds when there is one (pivot).
    pub(super) fn aggregate_expr(
        &self,
        e: &Expr,
        scope: &Scope,
        mask: Option<&PExpr>,
    ) -> Result<PExpr, ExecError> {
        let Some((name, args)) = e.as_call() else {
            return Err(self
                .unsupported("aggregate expressions other than a single aggregate function call"));
        };
        let positional: Vec<&Expr> = args
            .iter()
            .filter_map(|a| match a {
                Arg::Positional(x) => Some(x),
                _ => None,
            })
            .collect();
        let mut compiled = Vec::new();
        for x in &positional {
            let mut t = self.compile(x, scope)?;
            if let Some(m) = mask {
                t.expr = t.expr.filter(m.clone());
            }
            compiled.push(t.expr);
        }
        let arg = |i: usize| compiled.get(i).cloned();
        let need = |i: usize| {
            arg(i).ok_or_else(|| {
                let which = ["an argument", "a second argument", "a third argument"];
                self.invalid(Problem::new(
                    e.span,
                    format!("`{name}` needs {}", which[i.min(2)]),
                ))
            })
        };
        let rows = || match mask {
            Some(m) => m.clone().cast(DataType::Int64).sum(),
            None => polars::prelude::len().cast(DataType::Int64),
        };
        // `first(x, true)` and `last(x, true)` skip nulls.
        let ignore_nulls = matches!(
            positional.get(1).map(|x| &x.kind),
            Some(ExprKind::Lit(Lit::Bool(true)))
        );
        let count = |x: PExpr| x.cast(DataType::Int64);
        Ok(match name.to_ascii_lowercase().as_str() {
            "count" => match arg(0) {
                Some(x) => count(x.count()),
                None => rows(),
            },
            "countall" => rows(),
            "countdistinct" | "approxdistinctcount" => {
                let _ = need(0)?;
                let args = if name.eq_ignore_ascii_case("countDistinct") {
                    compiled.clone()
                } else {
                    // The second argument is the allowed error; an exact count meets it.
                    vec![need(0)?]
                };
                let present = all_present(&args);
                count(tuple(args).filter(present).n_unique())
            }
            "countalldistinct" => {
                let _ = need(0)?;
                count(tuple(compiled.clone()).n_unique())
            }
            "isdistinct" => {
                let _ = need(0)?;
                let present = all_present(&compiled);
                let tuples = tuple(compiled.clone()).filter(present);
                tuples.clone().n_unique().eq(tuples.count())
            }
            "countif" => count(need(0)?.fill_null(lit(false)).cast(DataType::Int64).sum()),
            "sum" => need(0)?.sum(),
            "sumif" => only_if(need(0)?, need(1)?).sum(),
            "sumdistinct" => need(0)?.unique().sum(),
            "sumdistinctif" => only_if(need(0)?, need(1)?).unique().sum(),
            "avg" | "mean" => need(0)?.mean(),
            "avgif" | "meanif" => only_if(need(0)?, need(1)?).mean(),
            "min" => need(0)?.min(),
            "minif" => only_if(need(0)?, need(1)?).min(),
            "max" => need(0)?.max(),
            "maxif" => only_if(need(0)?, need(1)?).max(),
            "first" if ignore_nulls => need(0)?.first_non_null(),
            "first" => need(0)?.first(),
            "last" if ignore_nulls => need(0)?.last_non_null(),
            "last" => need(0)?.last(),
            "collect" => need(0)?.implode(false),
            "collectunique" => need(0)?.drop_nulls().unique_stable().implode(false),
            "stddev" | "stddevsample" => need(0)?.std(1),
            "stddevif" | "stddevsampleif" => only_if(need(0)?, need(1)?).std(1),
            "stddevpopulation" => need(0)?.std(0),
            "stddevpopulationif" => only_if(need(0)?, need(1)?).std(0),
            "variance" | "variancesample" => need(0)?.var(1),
            "varianceif" | "variancesampleif" => only_if(need(0)?, need(1)?).var(1),
            "variancepopulation" => need(0)?.var(0),
            "variancepopulationif" => only_if(need(0)?, need(1)?).var(0),
            "kurtosis" => kurtosis(need(0)?),
            "kurtosisif" => kurtosis(only_if(need(0)?, need(1)?)),
            "skewness" => skewness(need(0)?),
            "skewnessif" => skewness(only_if(need(0)?, need(1)?)),
            "covariancepopulation" => covariance(need(0)?, need(1)?, 0),
            "covariancesample" => covariance(need(0)?, need(1)?, 1),
            "covariancepopulationif" => {
                let c = need(0)?;
                covariance(only_if(c.clone(), need(1)?), only_if(c, need(2)?), 0)
            }
            "covariancesampleif" => {
                let c = need(0)?;
                covariance(only_if(c.clone(), need(1)?), only_if(c, need(2)?), 1)
            }
            other => return Err(self.unsupported(format!("the aggregate function `{other}`"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;
    use super::AGGREGATE;
    use crate::dataflow::expr::value::column_values;
    use crate::dataflow::expr::Value;

    fn numbers() -> DataFrame {
        df!(
            "g" => ["a", "a", "a", "a", "b"],
            "x" => [Some(1i32), Some(2), Some(2), None, Some(5)],
            "y" => [Some(2.0f64), Some(4.0), Some(5.0), Some(9.0), None],
            "c" => [true, true, false, true, true]
        )
        .unwrap()
    }

    /// The aggregate `expr` of each group, `a` then `b`.
    fn per_group(expr: &str) -> Vec<Value> {
        let script = format!(
            "source() ~> N
             N aggregate(groupBy(g), v = {expr}) ~> A
             A sort(asc(g, true)) ~> S
             S sink() ~> Out"
        );
        let out = flow(&script, &[("N", numbers())]).unwrap_or_else(|e| panic!("{expr}: {e}"));
        column_values(out.sinks["Out"].column("v").unwrap())
    }

    fn close(expr: &str, want: [Option<f64>; 2]) {
        let got = per_group(expr);
        for (g, w) in got.iter().zip(want) {
            match (g.as_f64(), w) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{expr}: {g} != {w}"),
                (None, None) => {}
                other => panic!("{expr}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_listed_aggregate_runs() {
        for name in AGGREGATE {
            let args = if name.starts_with("covariance") && name.ends_with("If") {
                "c, x, y"
            } else if name.starts_with("covariance") {
                "x, y"
            } else if name.ends_with("If") && *name != "countIf" {
                "c, x"
            } else if *name == "countIf" {
                "c"
            } else {
                "x"
            };
            assert_eq!(per_group(&format!("{name}({args})")).len(), 2, "{name}");
        }
    }

    #[test]
    fn distinct_counts_and_sums_treat_nulls_as_spark_does() {
        let long = |v: [i64; 2]| v.map(Value::Long).to_vec();
        assert_eq!(per_group("countDistinct(x)"), long([2, 1]));
        assert_eq!(per_group("countAllDistinct(x)"), long([3, 1]));
        assert_eq!(per_group("countDistinct(x, c)"), long([3, 1]));
        assert_eq!(per_group("approxDistinctCount(x, 0.05)"), long([2, 1]));
        assert_eq!(
            per_group("sumDistinct(x)"),
            vec![Value::Int(3), Value::Int(5)]
        );
        assert_eq!(
            per_group("sumDistinctIf(c, x)"),
            vec![Value::Int(3), Value::Int(5)]
        );
        assert_eq!(
            per_group("isDistinct(x)"),
            vec![Value::Bool(false), Value::Bool(true)]
        );
        assert_eq!(
            per_group("isDistinct(x, y)"),
            vec![Value::Bool(true), Value::Bool(true)]
        );
        let ints = |v: &[i32]| Value::Array(v.iter().map(|x| Value::Int(*x)).collect());
        assert_eq!(
            per_group("collectUnique(x)"),
            vec![ints(&[1, 2]), ints(&[5])]
        );
        assert_eq!(per_group("first(x)"), vec![Value::Int(1), Value::Int(5)]);
        assert_eq!(per_group("last(x)"), vec![Value::Null, Value::Int(5)]);
        assert_eq!(
            per_group("last(x, true)"),
            vec![Value::Int(2), Value::Int(5)]
        );
    }

    #[test]
    fn moments_and_covariances_follow_their_textbook_formulas() {
        // Group a: x = 1, 2, 2 (mean 5/3); deviations -2/3, 1/3, 1/3.
        let (d1, d2) = (-2.0 / 3.0, 1.0 / 3.0);
        let m2: f64 = d1 * d1 + 2.0 * d2 * d2;
        let m3: f64 = d1.powi(3) + 2.0 * d2.powi(3);
        let m4: f64 = d1.powi(4) + 2.0 * d2.powi(4);
        close("variancePopulation(x)", [Some(m2 / 3.0), Some(0.0)]);
        close("varianceIf(c, x)", [Some(0.5), None]);
        close("stddevPopulationIf(c, x)", [Some(0.5), Some(0.0)]);
        close("kurtosis(x)", [Some(3.0 * m4 / (m2 * m2) - 3.0), None]);
        close("skewness(x)", [Some(3f64.sqrt() * m3 / m2.powf(1.5)), None]);
        // Pairs of a where both are present: (1, 2), (2, 4), (2, 5).
        let (mx, my) = (5.0 / 3.0, 11.0 / 3.0);
        let sxy: f64 = [(1.0, 2.0), (2.0, 4.0), (2.0, 5.0)]
            .iter()
            .map(|(x, y)| (x - mx) * (y - my))
            .sum();
        close("covariancePopulation(x, y)", [Some(sxy / 3.0), None]);
        close("covarianceSample(x, y)", [Some(sxy / 2.0), None]);
        // With c: (1, 2) and (2, 4).
        close("covarianceSampleIf(c, x, y)", [Some(1.0), None]);
    }
}
