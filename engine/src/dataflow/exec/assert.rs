//! assert: checks on the rows that fail the flow, naming the assertion.

use polars::prelude::{col, len, lit, LazyFrame};

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, ExprKind, Lit};

impl Step<'_> {
    /// `assert(expectTrue(cond, false, 'id'), expectUnique(expr, false, 'id'))`: the flow
    /// fails with the first assertion that a row breaks; rows pass through unchanged.
    /// A null condition breaks `expectTrue`; nulls are not duplicates for `expectUnique`.
    pub(super) fn assert(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        for a in &self.statement.args {
            let Arg::Positional(e) = a else { continue };
            let Some((kind, args)) = e.as_call() else {
                continue;
            };
            let positional: Vec<_> = args
                .iter()
                .filter_map(|a| match a {
                    Arg::Positional(x) => Some(x),
                    _ => None,
                })
                .collect();
            let Some(subject) = positional.first() else {
                return Err(self.unsupported(format!("`{kind}` without an expression")));
            };

            // The id is the first string after the expression; ADF writes it third.
            let id = positional
                .iter()
                .skip(1)
                .find_map(|x| match &x.kind {
                    ExprKind::Lit(Lit::Str(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| kind.to_owned());
            let t = self.compile(subject, &scope)?;
            let broken = match kind.to_ascii_lowercase().as_str() {
                "expecttrue" => frame
                    .clone()
                    .filter(t.expr.fill_null(lit(false)).not())
                    .select([len().alias("n")]),
                "expectunique" => frame
                    .clone()
                    .select([t.expr.alias("k")])
                    .filter(col("k").is_not_null())
                    .group_by([col("k")])
                    .agg([len().alias("c")])
                    .filter(col("c").gt(lit(1)))
                    .select([col("c").sum().alias("n")]),
                other => {
                    return Err(self.unsupported(format!("the assertion `{other}`")));
                }
            };
            let n = broken
                .collect()
                .map_err(|e| self.engine(e))?
                .column("n")
                .ok()
                .and_then(|c| c.get(0).ok().and_then(|v| v.extract::<i64>()))
                .unwrap_or(0);
            if n > 0 {
                return Err(ExecError::Assertion {
                    step: self.name(),
                    id,
                    rows: n as usize,
                });
            }
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;
    use super::super::ExecError;

    fn rows() -> DataFrame {
        df!("id" => [1i32, 2, 2], "size" => [Some(5i32), Some(6), None]).unwrap()
    }

    #[test]
    fn passing_assertions_keep_the_rows() {
        let out = flow(
            "source() ~> S
             S assert(expectTrue(id > 0, false, 'positive')) ~> A
             A sink() ~> Out",
            &[("S", rows())],
        )
        .unwrap();
        assert!(out.sinks["Out"].equals_missing(&rows()));
    }

    #[test]
    fn failing_assertions_name_their_id() {
        let run = |check: &str| {
            flow(
                &format!("source() ~> S\nS assert({check}) ~> A\nA sink() ~> Out"),
                &[("S", rows())],
            )
            .unwrap_err()
        };
        match run("expectTrue(id > 0, false, 'positive'), expectUnique(id, false, 'uniqueId')") {
            ExecError::Assertion { step, id, rows } => {
                assert_eq!((step.as_str(), id.as_str(), rows), ("A", "uniqueId", 2));
            }
            other => panic!("{other}"),
        }
        let err = run("expectTrue(size > 1, false, 'hasSize')");
        assert!(
            err.to_string()
                .contains("assertion `hasSize` failed for 1 rows"),
            "{err}"
        );
        let err = run("expectExists(id == 1, false, 'there')");
        assert!(matches!(err, ExecError::NotSupported { .. }), "{err}");
    }
}
