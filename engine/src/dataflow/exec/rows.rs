//! Steps that look at neighbouring rows: window and rank. The frame is collected, sorted
//! by Polars, and each partition is walked once; the workspace's Polars has no rank or
//! cumulative kernels (features `rank`, `cum_agg` are off).

use std::cmp::Ordering;

use polars::prelude::{col, DataFrame, Expr as PExpr, IntoLazy, LazyFrame, SortMultipleOptions};

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, Expr, ExprKind, Lit, UnOp};
use crate::dataflow::expr::value::{column_values, values_column};
use crate::dataflow::expr::{DfType, Scope, Value};
use crate::dataflow::source::Problem;

/// The window functions mdflow computes (the aggregates among them over the row range).
pub const WINDOW: &[&str] = &[
    "rowNumber",
    "rank",
    "denseRank",
    "nTile",
    "cumeDist",
    "lag",
    "lead",
    "count",
    "sum",
    "avg",
    "mean",
    "min",
    "max",
    "first",
    "last",
];

/// One window column: what it computes and over which argument values.
struct Column {
    name: String,
    function: String,
    ty: DfType,
    /// Indices into the sorted frame's argument columns.
    args: Vec<usize>,
}

/// Rows in partition-then-order order, with the values the functions need.
struct Sorted {
    /// Original row of each sorted row.
    index: Vec<usize>,
    partition: Vec<Vec<Value>>,
    order: Vec<Vec<Value>>,
    args: Vec<Vec<Value>>,
}

impl Step<'_> {
    /// `window(over(p, ...), asc(o)/desc(o), startRowOffset: n, endRowOffset: n,
    /// col = f(...))`: `rowNumber`, `rank`, `denseRank`, `cumeDist`, `lag`, `lead`, and
    /// `sum`, `count`, `avg`, `min`, `max`, `first`, `last` over the row range (the whole
    /// partition when no offsets are given). Rows keep their input order.
    pub(super) fn window(&self, frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let mut df = frame.collect().map_err(|e| self.engine(e))?;
        let scope = self.scope(&mut df.clone().lazy())?;
        let partition = match self.statement.clause("over") {
            Some(args) => self.positionals(args, &scope)?,
            None => Vec::new(),
        };
        let order = self.order(&scope)?;
        let (start, end) = (self.offset("startRowOffset")?, self.offset("endRowOffset")?);

        let mut arg_exprs = Vec::new();
        let mut columns = Vec::new();
        // Named columns and the columns of patterns, in the order written.
        let mut wanted: Vec<(String, Expr)> = Vec::new();
        for a in &self.statement.args {
            match a {
                Arg::Assign(target, value) => {
                    let Some(name) = target.as_name() else {
                        return Err(self.invalid(
                            Problem::new(target.span, "a window column needs a name").help(
                                "write name = function(...), or a pattern \
                                 each(match(type == 'integer'), $$ + '_sum' = sum($$))",
                            ),
                        ));
                    };
                    wanted.push((name.to_owned(), value.clone()));
                }
                Arg::Positional(e) if e.as_call().is_some_and(|(n, _)| n == "each") => {
                    for p in self.expand_each(e, &scope)? {
                        wanted.push((p.name, p.value));
                    }
                }
                _ => {}
            }
        }
        for (name, value) in &wanted {
            let name = name.as_str();
            let Some((function, inner)) = value.as_call() else {
                return Err(self.unsupported("window columns other than one window function"));
            };
            let written = function;
            let function = function.to_ascii_lowercase();
            let mut args = Vec::new();
            let mut tys = Vec::new();
            for x in inner {
                let Arg::Positional(x) = x else { continue };
                let t = self.compile(x, &scope)?;
                args.push(arg_exprs.len());
                tys.push(t.ty.clone());
                arg_exprs.push(t.expr);
            }
            let first = tys.first().cloned().unwrap_or(DfType::Null);
            let ty = match function.as_str() {
                "rownumber" | "rank" | "denserank" | "ntile" => DfType::Integer,
                "count" => DfType::Long,
                "cumedist" | "avg" | "mean" => DfType::Double,
                "sum" if first.is_integral() => DfType::Long,
                "sum" => DfType::Double,
                "lag" | "lead" | "min" | "max" | "first" | "last" => first,
                _ => {
                    return Err(self.unsupported(format!("the window function `{written}`")));
                }
            };
            if matches!(function.as_str(), "sum" | "avg" | "mean" | "min" | "max")
                && args.is_empty()
            {
                return Err(self.unsupported(format!("`{function}` without an argument")));
            }
            columns.push(Column {
                name: name.to_owned(),
                function,
                ty,
                args,
            });
        }

        let sorted = self.sorted(&df, partition, order, arg_exprs)?;
        let rows = df.height();
        for c in &columns {
            let mut out = vec![Value::Null; rows];
            for (s, e) in partitions(&sorted.partition) {
                for j in s..e {
                    let (lo, hi) = match (start, end) {
                        (None, None) => (s, e),
                        _ => (
                            start.map_or(s, |o| clamp(j as i64 + o, s, e)),
                            end.map_or(e, |o| clamp(j as i64 + o + 1, s, e)),
                        ),
                    };
                    out[sorted.index[j]] = window_value(c, &sorted, j, s, e, lo, hi.max(lo));
                }
            }
            let column = values_column(c.name.as_str().into(), &out, &c.ty.to_polars());
            df.with_column(column).map_err(|e| self.engine(e))?;
        }
        Ok(df.lazy())
    }

    /// `rank(asc(o)/desc(o), output(name as long), dense: true)`: the rank of each row
    /// in the whole stream; ties share a rank. Rows keep their input order.
    pub(super) fn rank(&self, frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let mut df = frame.collect().map_err(|e| self.engine(e))?;
        let scope = self.scope(&mut df.clone().lazy())?;
        let name = self
            .statement
            .clause("output")
            .and_then(|d| {
                d.iter().find_map(|a| match a {
                    Arg::Declare(e, _) => e.as_name().map(str::to_owned),
                    _ => None,
                })
            })
            .ok_or_else(|| self.unsupported("rank without output(name as long)"))?;
        if matches!(
            self.statement.option("caseInsensitive").map(|e| &e.kind),
            Some(ExprKind::Lit(Lit::Bool(true)))
        ) {
            return Err(self.unsupported("caseInsensitive: true in rank"));
        }
        let dense = matches!(
            self.statement.option("dense").map(|e| &e.kind),
            Some(ExprKind::Lit(Lit::Bool(true)))
        );
        let order = self.order(&scope)?;
        let sorted = self.sorted(&df, Vec::new(), order, Vec::new())?;
        let column = Column {
            name: name.clone(),
            function: if dense { "denserank" } else { "rank" }.into(),
            ty: DfType::Long,
            args: Vec::new(),
        };
        let rows = df.height();
        let mut out = vec![Value::Null; rows];
        for j in 0..rows {
            out[sorted.index[j]] = match window_value(&column, &sorted, j, 0, rows, 0, rows) {
                Value::Int(v) => Value::Long(v.into()),
                v => v,
            };
        }
        let column = values_column(name.as_str().into(), &out, &DfType::Long.to_polars());
        df.with_column(column).map_err(|e| self.engine(e))?;
        Ok(df.lazy())
    }

    fn positionals(&self, args: &[Arg], scope: &Scope) -> Result<Vec<PExpr>, ExecError> {
        let mut out = Vec::new();
        for a in args {
            match a {
                Arg::Positional(e) | Arg::Assign(_, e) => out.push(self.compile(e, scope)?.expr),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The `asc(...)`/`desc(...)` clauses of sort and window: (key, descending, nulls first).
    pub(super) fn order(&self, scope: &Scope) -> Result<Vec<(PExpr, bool, bool)>, ExecError> {
        let mut out = Vec::new();
        for a in &self.statement.args {
            let Arg::Positional(e) = a else { continue };
            let Some((dir, args)) = e.as_call() else {
                continue;
            };
            let descending = match dir {
                "asc" => false,
                "desc" => true,
                _ => continue,
            };
            let Some(Arg::Positional(key)) = args.first() else {
                continue;
            };
            let nulls_first = matches!(
                args.get(1),
                Some(Arg::Positional(Expr {
                    kind: ExprKind::Lit(Lit::Bool(true)),
                    ..
                }))
            );
            out.push((self.compile(key, scope)?.expr, descending, nulls_first));
        }
        Ok(out)
    }

    /// A row offset option: `-1L`, `1`, or absent (unbounded).
    fn offset(&self, name: &str) -> Result<Option<i64>, ExecError> {
        let Some(e) = self.statement.option(name) else {
            return Ok(None);
        };
        match &e.kind {
            ExprKind::Lit(Lit::Int(v, _)) => Ok(Some(*v)),
            ExprKind::Unary(UnOp::Neg, inner) => match &inner.kind {
                ExprKind::Lit(Lit::Int(v, _)) => Ok(Some(-*v)),
                _ => Err(self.unsupported(format!("a computed `{name}`"))),
            },
            _ => Err(self.unsupported(format!("a computed `{name}`"))),
        }
    }

    /// Sorts by partition then order keys (stably) and reads the values out.
    fn sorted(
        &self,
        df: &DataFrame,
        partition: Vec<PExpr>,
        order: Vec<(PExpr, bool, bool)>,
        args: Vec<PExpr>,
    ) -> Result<Sorted, ExecError> {
        let index = "__mdflow_index";
        let mut exprs = vec![col(index)];
        let (mut by, mut desc, mut nulls_last) = (Vec::new(), Vec::new(), Vec::new());
        let (np, no, na) = (partition.len(), order.len(), args.len());
        for (i, p) in partition.into_iter().enumerate() {
            exprs.push(p.alias(format!("__p{i}")));
            by.push(col(format!("__p{i}")));
            desc.push(false);
            nulls_last.push(false);
        }
        for (i, (o, d, nf)) in order.into_iter().enumerate() {
            exprs.push(o.alias(format!("__o{i}")));
            by.push(col(format!("__o{i}")));
            desc.push(d);
            nulls_last.push(!nf);
        }
        for (i, a) in args.into_iter().enumerate() {
            exprs.push(a.alias(format!("__a{i}")));
        }
        let mut plan = df.clone().lazy().with_row_index(index, None).select(exprs);
        if !by.is_empty() {
            let options = SortMultipleOptions::default()
                .with_order_descending_multi(desc)
                .with_nulls_last_multi(nulls_last)
                .with_maintain_order(true);
            plan = plan.sort_by_exprs(by, options);
        }
        let frame = plan.collect().map_err(|e| self.engine(e))?;
        let values = |name: String| -> Result<Vec<Value>, ExecError> {
            Ok(column_values(
                frame.column(&name).map_err(|e| self.engine(e))?,
            ))
        };
        let rows = |prefix: &str, n: usize| -> Result<Vec<Vec<Value>>, ExecError> {
            let cols: Vec<Vec<Value>> = (0..n)
                .map(|i| values(format!("{prefix}{i}")))
                .collect::<Result<_, _>>()?;
            Ok((0..frame.height())
                .map(|r| cols.iter().map(|c| c[r].clone()).collect())
                .collect())
        };
        let index = values(index.into())?
            .iter()
            .map(|v| v.as_i64().unwrap_or(0) as usize)
            .collect();
        let args = (0..na)
            .map(|i| values(format!("__a{i}")))
            .collect::<Result<_, _>>()?;
        Ok(Sorted {
            index,
            partition: rows("__p", np)?,
            order: rows("__o", no)?,
            args,
        })
    }
}

/// Runs of equal partition keys in the sorted rows: (start, end).
fn partitions(keys: &[Vec<Value>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || keys[i] != keys[start] {
            out.push((start, i));
            start = i;
        }
    }
    out
}

fn clamp(v: i64, lo: usize, hi: usize) -> usize {
    v.clamp(lo as i64, hi as i64) as usize
}

/// One window function's value at sorted row `j` of partition `s..e`, range `lo..hi`.
fn window_value(
    c: &Column,
    sorted: &Sorted,
    j: usize,
    s: usize,
    e: usize,
    lo: usize,
    hi: usize,
) -> Value {
    let arg = |k: usize, row: usize| {
        c.args
            .get(k)
            .map_or(Value::Null, |&a| sorted.args[a][row].clone())
    };
    let order = &sorted.order;
    let range = || (lo..hi).map(|r| arg(0, r)).filter(|v| *v != Value::Null);
    match c.function.as_str() {
        "rownumber" => Value::Int((j - s + 1) as i32),
        // Buckets as even as they can be, the first `rows % n` one row larger, as Spark's
        // ntile gives them.
        "ntile" => {
            let n = arg(0, j).as_i64().filter(|&n| n > 0).unwrap_or(1) as usize;
            let (i, rows) = (j - s, e - s);
            let (base, extra) = (rows / n, rows % n);
            let bucket = if i < extra * (base + 1) {
                i / (base + 1)
            } else {
                extra + (i - extra * (base + 1)) / base
            };
            Value::Int(bucket as i32 + 1)
        }
        "rank" => {
            let first = (s..=j).find(|&r| order[r] == order[j]).unwrap_or(j);
            Value::Int((first - s + 1) as i32)
        }
        "denserank" => {
            let changes = (s + 1..=j).filter(|&r| order[r] != order[r - 1]).count();
            Value::Int(changes as i32 + 1)
        }
        "cumedist" => {
            let last = (j..e)
                .take_while(|&r| order[r] == order[j])
                .last()
                .unwrap_or(j);
            Value::Double((last - s + 1) as f64 / (e - s) as f64)
        }
        "lag" | "lead" => {
            let n = arg(1, j).as_i64().unwrap_or(1);
            let at = if c.function == "lag" {
                j as i64 - n
            } else {
                j as i64 + n
            };
            if at >= s as i64 && at < e as i64 {
                arg(0, at as usize)
            } else {
                arg(2, j)
            }
        }
        "count" if c.args.is_empty() => Value::Long((hi - lo) as i64),
        "count" => Value::Long(range().count() as i64),
        "sum" if c.ty == DfType::Long => {
            let mut it = range().peekable();
            match it.peek() {
                None => Value::Null,
                Some(_) => Value::Long(it.filter_map(|v| v.as_i64()).sum()),
            }
        }
        "sum" => {
            let v: Vec<f64> = range().filter_map(|v| v.as_f64()).collect();
            if v.is_empty() {
                Value::Null
            } else {
                Value::Double(v.iter().sum())
            }
        }
        "avg" | "mean" => {
            let v: Vec<f64> = range().filter_map(|v| v.as_f64()).collect();
            if v.is_empty() {
                Value::Null
            } else {
                Value::Double(v.iter().sum::<f64>() / v.len() as f64)
            }
        }
        "min" => range().min_by(compare).unwrap_or(Value::Null),
        "max" => range().max_by(compare).unwrap_or(Value::Null),
        "first" if lo < hi => arg(0, lo),
        "last" if lo < hi => arg(0, hi - 1),
        _ => Value::Null,
    }
}

/// Orders two non-null values of one type.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;

    fn scores() -> DataFrame {
        df!(
            "team" => ["a", "b", "a", "a", "b"],
            "score" => [10i32, 7, 30, 10, 9]
        )
        .unwrap()
    }

    fn ints(f: &DataFrame, name: &str) -> Vec<Option<i64>> {
        let c = f.column(name).unwrap().cast(&DataType::Int64).unwrap();
        c.i64().unwrap().iter().collect()
    }

    #[test]
    fn window_numbers_ranks_lags_and_running_sums() {
        let out = flow(
            "source() ~> S
             S window(over(team), desc(score, true),
                 n = rowNumber(), r = rank(), d = denseRank(),
                 prev = lag(score, 1, 0), next = lead(score)) ~> W
             W window(over(team), asc(score, true), startRowOffset: -1L, endRowOffset: 0L,
                 pair = sum(score)) ~> P
             P sink() ~> Out",
            &[("S", scores())],
        )
        .unwrap();
        let f = &out.sinks["Out"];
        // Rows keep their input order: a10, b7, a30, a10, b9.
        assert_eq!(ints(f, "n"), [2, 2, 1, 3, 1].map(Some));
        assert_eq!(ints(f, "r"), [2, 2, 1, 2, 1].map(Some));
        assert_eq!(ints(f, "d"), [2, 2, 1, 2, 1].map(Some));
        assert_eq!(ints(f, "prev"), [30, 9, 0, 10, 0].map(Some));
        assert_eq!(ints(f, "next"), [Some(10), None, Some(10), None, Some(7)]);
        // Ascending within a team: a10, a10, a30 and b7, b9; each row plus the one before.
        assert_eq!(ints(f, "pair"), [10, 7, 40, 20, 16].map(Some));
    }

    #[test]
    fn window_cumulative_and_whole_partition() {
        let out = flow(
            "source() ~> S
             S window(over(team), asc(score, true),
                 startRowOffset: -9223372036854775807L, endRowOffset: 0L,
                 running = sum(score)) ~> C
             C window(over(team), total = sum(score), most = max(score)) ~> W
             W sink() ~> Out",
            &[("S", scores())],
        )
        .unwrap();
        let f = &out.sinks["Out"];
        assert_eq!(ints(f, "running"), [10, 7, 50, 20, 16].map(Some));
        assert_eq!(ints(f, "total"), [50, 16, 50, 50, 16].map(Some));
        assert_eq!(ints(f, "most"), [30, 9, 30, 30, 9].map(Some));
    }

    #[test]
    fn window_patterns_apply_a_function_to_every_matching_column() {
        let out = flow(
            "source() ~> S
             S derive(bonus = score * 2) ~> B
             B window(over(team), each(match(type == 'integer'), $$ + '_total' = sum($$))) ~> W
             W sink() ~> Out",
            &[("S", scores())],
        )
        .unwrap();
        let f = &out.sinks["Out"];
        assert_eq!(ints(f, "score_total"), [50, 16, 50, 50, 16].map(Some));
        assert_eq!(ints(f, "bonus_total"), [100, 32, 100, 100, 32].map(Some));
        assert!(
            f.column("team_total").is_err(),
            "a string column does not match"
        );
    }

    #[test]
    fn rank_plain_and_dense() {
        let out = flow(
            "source() ~> S
             S rank(desc(score, true), output(r as long)) ~> R
             R rank(desc(score, true), output(d as long), dense: true) ~> D
             D sink() ~> Out",
            &[("S", scores())],
        )
        .unwrap();
        let f = &out.sinks["Out"];
        assert_eq!(ints(f, "r"), [2, 5, 1, 2, 4].map(Some));
        assert_eq!(ints(f, "d"), [2, 4, 1, 2, 3].map(Some));
        assert_eq!(f.column("r").unwrap().dtype(), &DataType::Int64);
    }
}
