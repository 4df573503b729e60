//! pivot: one column per value of the pivot key and aggregate, one row per group.

use polars::prelude::{lit, Expr as PExpr, LazyFrame};

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, ExprKind, Lit};
use crate::dataflow::expr::value::column_values;
use crate::dataflow::expr::Value;

impl Step<'_> {
    /// `pivot(groupBy(k), pivotBy(col[, [values]]), name = agg(...), columnNaming: '$N$V',
    /// lateral: true)`: for each pivot value (those listed, else every non-null value, in
    /// ascending order) and each aggregate, a column `columnNaming` with `$N` the
    /// aggregate's name and `$V` the value. `lateral: true` puts a value's aggregates
    /// side by side; `false` puts an aggregate's values side by side. A group with no row
    /// for a value has nulls in that value's columns.
    pub(super) fn pivot(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let keys = self.group_keys(&scope)?;
        let by = self
            .statement
            .clause("pivotBy")
            .ok_or_else(|| self.unsupported("pivot without pivotBy(...)"))?;
        let Some(Arg::Positional(key)) = by.first() else {
            return Err(self.unsupported("pivot without pivotBy(...)"));
        };
        let key = self.compile(key, &scope)?;

        // The pivot values: listed, or found in the data.
        let values: Vec<Value> =
            match by.get(1) {
                Some(Arg::Positional(e)) => match &e.kind {
                    ExprKind::Array(items) => {
                        let mut out = Vec::new();
                        for item in items {
                            out.push(literal(item).ok_or_else(|| {
                                self.unsupported("pivot values other than literals")
                            })?);
                        }
                        out
                    }
                    _ => return Err(self.unsupported("pivot values other than a [list]")),
                },
                _ => {
                    let found = frame
                        .clone()
                        .select([key.expr.clone().alias("v")])
                        .unique(None, polars::prelude::UniqueKeepStrategy::Any)
                        .drop_nulls(None)
                        .sort(["v"], Default::default())
                        .collect()
                        .map_err(|e| self.engine(e))?;
                    column_values(found.column("v").map_err(|e| self.engine(e))?)
                }
            };
        let naming = match self.statement.option("columnNaming").map(|e| &e.kind) {
            Some(ExprKind::Lit(Lit::Str(s))) => s.clone(),
            None => "$N$V".into(),
            Some(_) => return Err(self.unsupported("a computed columnNaming")),
        };
        let lateral = !matches!(
            self.statement.option("lateral").map(|e| &e.kind),
            Some(ExprKind::Lit(Lit::Bool(false)))
        );

        let aggregates: Vec<_> = self
            .statement
            .args
            .iter()
            .filter_map(|a| match a {
                Arg::Assign(t, v) => Some((t.as_name().unwrap_or_default(), v)),
                _ => None,
            })
            .collect();
        let mut columns: Vec<(usize, usize, PExpr)> = Vec::new();
        for (vi, v) in values.iter().enumerate() {
            let mask = key
                .expr
                .clone()
                .eq(lit_of(v).cast(key.ty.to_polars()))
                .fill_null(lit(false));
            let text = v.to_text().unwrap_or_default();
            for (ai, (name, agg)) in aggregates.iter().enumerate() {
                let column = naming.replace("$N", name).replace("$V", &text);
                // A group without rows for the value has nulls there, counts included.
                let e = self.aggregate_expr(agg, &scope, Some(&mask))?;
                let present = mask.clone().cast(polars::prelude::DataType::Int64).sum();
                let e = polars::prelude::when(present.gt(lit(0)))
                    .then(e)
                    .otherwise(lit(polars::prelude::NULL));
                columns.push((vi, ai, e.alias(column.as_str())));
            }
        }
        if !lateral {
            columns.sort_by_key(|(vi, ai, _)| (*ai, *vi));
        }
        let aggs: Vec<PExpr> = columns.into_iter().map(|(_, _, e)| e).collect();
        if keys.is_empty() {
            return Ok(frame.select(aggs));
        }
        Ok(frame.group_by_stable(keys).agg(aggs))
    }
}

fn literal(e: &crate::dataflow::ast::Expr) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Lit(Lit::Str(s)) => Value::Str(s.clone()),
        ExprKind::Lit(Lit::Int(v, true)) => Value::Long(*v),
        ExprKind::Lit(Lit::Int(v, false)) => Value::Int(*v as i32),
        ExprKind::Lit(Lit::Float(v, _)) => Value::Double(*v),
        ExprKind::Lit(Lit::Bool(b)) => Value::Bool(*b),
        _ => return None,
    })
}

fn lit_of(v: &Value) -> PExpr {
    match v {
        Value::Str(s) => lit(s.clone()),
        Value::Int(x) => lit(*x),
        Value::Long(x) | Value::Timestamp(x) => lit(*x),
        Value::Date(x) => lit(*x),
        Value::Double(x) => lit(*x),
        Value::Float(x) => lit(*x),
        Value::Bool(b) => lit(*b),
        _ => lit(polars::prelude::NULL),
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;

    fn sales() -> DataFrame {
        df!(
            "country" => ["FR", "FR", "DE", "FR"],
            "month" => ["jan", "feb", "jan", "jan"],
            "amount" => [1i64, 2, 3, 4]
        )
        .unwrap()
    }

    #[test]
    fn pivot_found_and_listed_values() {
        let out = flow(
            "source() ~> S
             S pivot(groupBy(country), pivotBy(month), total = sum(amount), n = count(),
                 columnNaming: '$V_$N', lateral: true) ~> P
             P sink() ~> Out
             S pivot(groupBy(country), pivotBy(month, ['jan']), {} = sum(amount),
                 columnNaming: '$V$N') ~> L
             L sink() ~> Listed",
            &[("S", sales())],
        )
        .unwrap();
        let expected = df!(
            "country" => ["FR", "DE"],
            "feb_total" => [Some(2i64), None],
            "feb_n" => [Some(1i64), None],
            "jan_total" => [Some(5i64), Some(3)],
            "jan_n" => [2i64, 1]
        )
        .unwrap();
        assert!(
            out.sinks["Out"].equals_missing(&expected),
            "{}",
            out.sinks["Out"]
        );
        let listed = df!("country" => ["FR", "DE"], "jan" => [5i64, 3]).unwrap();
        assert!(
            out.sinks["Listed"].equals_missing(&listed),
            "{}",
            out.sinks["Listed"]
        );
    }
}
