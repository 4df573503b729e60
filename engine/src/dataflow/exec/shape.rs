//! Steps that reshape rows without looking at other rows: alterRow, keyGenerate, cast,
//! foldDown and unpivot.

use polars::prelude::{
    col, cols, lit, when, DataType, ExplodeOptions, Expr as PExpr, LazyFrame, SortMultipleOptions,
    UnionArgs,
};

use super::steps::{Step, ROW_MARK};
use super::ExecError;
use crate::dataflow::ast::{Arg, ExprKind, Lit};
use crate::dataflow::expr::DfType;

impl Step<'_> {
    /// `alterRow(insertIf(c), updateIf(c), deleteIf(c), upsertIf(c))`: the first matching
    /// condition marks the row; unmatched rows are inserts. The mark is a hidden column.
    pub(super) fn alter_row(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let mut mark: PExpr = lit("insert");
        let mut policies = Vec::new();
        for a in &self.statement.args {
            let Arg::Positional(e) = a else { continue };
            let Some((name, inner)) = e.as_call() else {
                continue;
            };
            let policy = match name.to_ascii_lowercase().as_str() {
                "insertif" => "insert",
                "updateif" => "update",
                "deleteif" => "delete",
                "upsertif" => "upsert",
                other => return Err(self.unsupported(format!("`{other}` in alterRow"))),
            };
            let Some(Arg::Positional(cond)) = inner.first() else {
                return Err(self.unsupported(format!("`{name}` without a condition")));
            };
            policies.push((
                policy,
                self.compile(cond, &scope)?.expr.fill_null(lit(false)),
            ));
        }

        // Built from the last policy back, so the first matching one wins.
        for (policy, cond) in policies.into_iter().rev() {
            mark = when(cond).then(lit(policy)).otherwise(mark);
        }
        Ok(frame.with_column(mark.alias(ROW_MARK)))
    }

    /// `keyGenerate(output(key as long), startAt: 1L, stepValue: 1L)`: a surrogate key,
    /// appended as the last column.
    pub(super) fn key_generate(&self, frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let name = self
            .statement
            .clause("output")
            .and_then(|decls| {
                decls.iter().find_map(|d| match d {
                    Arg::Declare(e, _) => e.as_name().map(str::to_owned),
                    _ => None,
                })
            })
            .ok_or_else(|| self.unsupported("keyGenerate without output(name as long)"))?;
        let number = |n: &str, default: i64| match self.statement.option(n).map(|e| &e.kind) {
            None => Ok(default),
            Some(ExprKind::Lit(Lit::Int(v, _))) => Ok(*v),
            Some(ExprKind::Unary(crate::dataflow::ast::UnOp::Neg, inner)) => match &inner.kind {
                ExprKind::Lit(Lit::Int(v, _)) => Ok(-v),
                _ => Err(self.unsupported(format!("a computed `{n}` in keyGenerate"))),
            },
            Some(_) => Err(self.unsupported(format!("a computed `{n}` in keyGenerate"))),
        };
        let (start, step) = (number("startAt", 1)?, number("stepValue", 1)?);
        let index = "__mdflow_index";
        let key = lit(start) + col(index).cast(DataType::Int64) * lit(step);
        Ok(frame
            .with_row_index(index, None)
            .with_column(key.alias(name.as_str()))
            .drop(cols([index])))
    }

    /// `cast(output(col as type, ...), errors: true)`: each named column converted; values
    /// that do not convert become null.
    pub(super) fn cast(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let Some(decls) = self.statement.clause("output") else {
            return Err(self.unsupported("cast without output(...)"));
        };
        let mut casts = Vec::new();
        for d in decls {
            let Arg::Declare(e, t) = d else { continue };
            let Some(name) = e.as_name() else {
                return Err(self.unsupported("cast of a nested column"));
            };
            let ty = DfType::from_ast(t).map_err(|m| self.unsupported(m))?;
            if matches!(ty, DfType::Struct(_) | DfType::Array(_)) {
                return Err(self.unsupported("cast to a structure or an array"));
            }
            let Some((have, _)) = scope
                .schema
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            casts.push(col(have.clone()).cast(ty.to_polars()));
        }
        Ok(frame.with_columns(casts))
    }

    /// `foldDown(unroll(array), mapColumn(...))`: one row per element of the array, which
    /// takes the array column's place; a null or empty array gives one row with a null.
    pub(super) fn fold_down(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let unroll = self
            .statement
            .clause("unroll")
            .ok_or_else(|| self.unsupported("foldDown without unroll(...)"))?;
        if unroll.len() > 1 {
            return Err(self.unsupported("an unroll root in foldDown"));
        }
        let Some(Arg::Positional(path)) = unroll.first() else {
            return Err(self.unsupported("foldDown without unroll(...)"));
        };
        let Some(name) = path.as_name() else {
            return Err(self.unsupported("unrolling a nested array (a.b) in foldDown"));
        };
        let Some((have, dtype)) = scope
            .schema
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        else {
            return Err(self.unsupported(format!("unroll of unknown column `{name}`")));
        };
        if !matches!(dtype, DataType::List(_)) {
            return Err(self.unsupported(format!("unroll of `{name}`, which is not an array")));
        }
        let options = ExplodeOptions {
            empty_as_null: true,
            keep_nulls: true,
        };
        let exploded = frame.explode(cols([have.clone()]), options);
        if self.statement.clause("mapColumn").is_some() {
            return self.select(exploded);
        }
        Ok(exploded)
    }

    /// `unpivot(output(Name as string, Value as type), ungroupBy(k, ...), lateral: true,
    /// ignoreNullPivots: false)`: every column outside `ungroupBy` becomes a row with its
    /// name and value; rows come out row by row (lateral) or column by column.
    pub(super) fn unpivot(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let decls: Vec<(String, DfType)> = self
            .statement
            .clause("output")
            .unwrap_or(&[])
            .iter()
            .filter_map(|d| match d {
                Arg::Declare(e, t) => Some((e.as_name()?.to_owned(), DfType::from_ast(t).ok()?)),
                _ => None,
            })
            .collect();
        let [(name_col, _), (value_col, value_ty)] = decls.as_slice() else {
            return Err(self.unsupported("unpivot without output(name as string, value as type)"));
        };
        let mut keys = Vec::new();
        for k in self.statement.clause("ungroupBy").unwrap_or(&[]) {
            match k {
                Arg::Positional(e) if e.as_name().is_some() => {
                    keys.push(e.as_name().unwrap_or_default().to_ascii_lowercase())
                }
                _ => return Err(self.unsupported("ungroupBy other than column names")),
            }
        }
        let flag = |n: &str, default: bool| match self.statement.option(n).map(|e| &e.kind) {
            Some(ExprKind::Lit(Lit::Bool(b))) => *b,
            _ => default,
        };
        let (lateral, ignore_nulls) = (flag("lateral", true), flag("ignoreNullPivots", false));
        let names: Vec<String> = scope.schema.iter_names().map(|n| n.to_string()).collect();
        let kept: Vec<&String> = names
            .iter()
            .filter(|n| keys.contains(&n.to_ascii_lowercase()))
            .collect();
        let index = "__mdflow_index";
        let base = frame.with_row_index(index, None);
        let mut parts = Vec::new();
        for (pos, n) in names
            .iter()
            .filter(|n| !keys.contains(&n.to_ascii_lowercase()))
            .enumerate()
        {
            let mut exprs: Vec<PExpr> = vec![col(index), lit(pos as u32).alias("__mdflow_pos")];
            exprs.extend(kept.iter().map(|k| col(k.as_str())));
            exprs.push(lit(n.as_str()).alias(name_col.as_str()));
            exprs.push(
                col(n.as_str())
                    .cast(value_ty.to_polars())
                    .alias(value_col.as_str()),
            );
            parts.push(base.clone().select(exprs));
        }
        if parts.is_empty() {
            return Err(self.unsupported("unpivot with no columns to unpivot"));
        }
        let mut out =
            polars::prelude::concat(parts, UnionArgs::default()).map_err(|e| self.engine(e))?;
        if lateral {
            out = out.sort(
                [index, "__mdflow_pos"],
                SortMultipleOptions::default().with_maintain_order(true),
            );
        }
        if ignore_nulls {
            out = out.filter(col(value_col.as_str()).is_not_null());
        }
        Ok(out.drop(cols([index, "__mdflow_pos"])))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;

    fn items() -> DataFrame {
        df!("id" => ["a", "b", "c"], "qty" => ["1", "x", "30"], "price" => [1.5f64, 2.0, 3.0])
            .unwrap()
    }

    #[test]
    fn alter_row_marks_reach_the_sink() {
        let out = flow(
            "source() ~> S
             S alterRow(deleteIf(id == 'b'), updateIf(price >= 2.0)) ~> A
             A select(mapColumn(id)) ~> P
             P sink(deletable: true, updateable: true) ~> Out",
            &[("S", items())],
        )
        .unwrap();
        assert_eq!(out.row_marks["Out"], ["insert", "delete", "update"]);
        let expected = df!("id" => ["a", "b", "c"]).unwrap();
        assert!(out.sinks["Out"].equals(&expected), "{}", out.sinks["Out"]);
    }

    #[test]
    fn key_generate_starts_at_and_steps() {
        let out = flow(
            "source() ~> S
             S keyGenerate(output(sk as long), startAt: 100L, stepValue: 10L) ~> K
             K sink() ~> Out",
            &[("S", items())],
        )
        .unwrap();
        let frame = &out.sinks["Out"];
        let sk: Vec<Option<i64>> = frame.column("sk").unwrap().i64().unwrap().iter().collect();
        assert_eq!(sk, [Some(100), Some(110), Some(120)]);
        assert_eq!(frame.get_column_names().last().unwrap().as_str(), "sk");
    }

    #[test]
    fn cast_converts_and_nulls_what_does_not_convert() {
        let out = flow(
            "source() ~> S
             S cast(output(qty as integer, price as long), errors: true) ~> C
             C sink() ~> Out",
            &[("S", items())],
        )
        .unwrap();
        let expected = df!(
            "id" => ["a", "b", "c"],
            "qty" => [Some(1i32), None, Some(30)],
            "price" => [1i64, 2, 3]
        )
        .unwrap();
        assert!(
            out.sinks["Out"].equals_missing(&expected),
            "{}",
            out.sinks["Out"]
        );
    }

    #[test]
    fn fold_down_unrolls_an_array() {
        let tags = ListChunked::from_iter([
            Some(Series::new("".into(), ["x", "y"])),
            Some(Series::new_empty("".into(), &DataType::String)),
            None,
        ])
        .with_name("tags".into());
        let input = DataFrame::new(
            3,
            vec![
                Column::new("id".into(), ["a", "b", "c"]),
                tags.into_series().into(),
            ],
        )
        .unwrap();
        let out = flow(
            "source() ~> S
             S foldDown(unroll(tags), mapColumn(id, tag = tags)) ~> F
             F sink() ~> Out",
            &[("S", input)],
        )
        .unwrap();
        let expected = df!(
            "id" => ["a", "a", "b", "c"],
            "tag" => [Some("x"), Some("y"), None, None]
        )
        .unwrap();
        assert!(
            out.sinks["Out"].equals_missing(&expected),
            "{}",
            out.sinks["Out"]
        );
    }

    #[test]
    fn unpivot_turns_columns_into_rows() {
        let sales = df!(
            "country" => ["FR", "DE"],
            "jan" => [Some(1i32), Some(3)],
            "feb" => [Some(2i32), None]
        )
        .unwrap();
        let out = flow(
            "source() ~> S
             S unpivot(output(month as string, sales as long), ungroupBy(country),
                 lateral: true, ignoreNullPivots: true) ~> U
             U sink() ~> Out",
            &[("S", sales)],
        )
        .unwrap();
        let expected = df!(
            "country" => ["FR", "FR", "DE"],
            "month" => ["jan", "feb", "jan"],
            "sales" => [1i64, 2, 3]
        )
        .unwrap();
        assert!(
            out.sinks["Out"].equals_missing(&expected),
            "{}",
            out.sinks["Out"]
        );
    }
}
