//! lookup: a left outer join that keeps one match per row.

use polars::prelude::{col, lit, JoinArgs, JoinType, LazyFrame, UniqueKeepStrategy};

use super::steps::{Step, LOOKUP_MATCH};
use super::ExecError;
use crate::dataflow::ast::{ExprKind, Lit};

impl Step<'_> {
    /// `lookup(cond, multiple: false, pickup: 'first'|'last'|'any', broadcast: ...)`: every
    /// left row once, with the right columns of one matching row (null without a match).
    /// `multiple: true` keeps every match, as a left join does. Each row carries whether it
    /// matched, for `isMatch()` downstream.
    pub(super) fn lookup(
        &self,
        mut left: LazyFrame,
        right: LazyFrame,
    ) -> Result<LazyFrame, ExecError> {
        let (lon, ron, _, right) = self.join_keys(&mut left, right)?;
        let text = |n: &str| match self.statement.option(n).map(|e| &e.kind) {
            Some(ExprKind::Lit(Lit::Str(s))) => Some(s.to_ascii_lowercase()),
            Some(ExprKind::Lit(Lit::Bool(b))) => Some(b.to_string()),
            _ => None,
        };
        let multiple = text("multiple").as_deref() == Some("true");
        let keep = match text("pickup").as_deref() {
            None | Some("first") | Some("any") => UniqueKeepStrategy::First,
            Some("last") => UniqueKeepStrategy::Last,
            Some(other) => return Err(self.unsupported(format!("pickup '{other}' in lookup"))),
        };

        // The right side's keys become hidden columns so that one row per key is kept.
        let keys: Vec<_> = ron
            .iter()
            .enumerate()
            .map(|(i, e)| e.clone().alias(format!("__mdflow_k{i}")))
            .collect();
        let hidden: Vec<_> = (0..ron.len())
            .map(|i| col(format!("__mdflow_k{i}")))
            .collect();
        let mut right = right
            .with_columns(keys)
            .with_column(lit(true).alias(LOOKUP_MATCH));
        // An earlier lookup's answer gives way to this one's.
        if left
            .collect_schema()
            .map_err(|e| self.engine(e))?
            .get(LOOKUP_MATCH)
            .is_some()
        {
            left = left.drop(polars::prelude::cols([LOOKUP_MATCH]));
        }
        if !multiple {
            right = right.unique_stable_generic(Some(hidden.clone()), keep);
        }
        let rname = self.statement.inputs[1].stream.text.clone();
        let mut args = JoinArgs::new(JoinType::Left);
        args.suffix = Some(format!("_{rname}").into());
        args.coalesce = polars::prelude::JoinCoalesce::KeepColumns;
        let joined = left.join(right, lon, hidden, args);
        let names: Vec<String> = (0..ron.len()).map(|i| format!("__mdflow_k{i}")).collect();
        Ok(joined
            .drop(polars::prelude::cols(names))
            .with_column(col(LOOKUP_MATCH).fill_null(lit(false))))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;

    #[test]
    fn lookup_keeps_every_left_row_once() {
        let orders = df!("id" => [1i32, 2, 3], "cust" => ["c1", "c2", "c9"]).unwrap();
        let customers = df!(
            "cid" => ["c1", "c1", "c2"],
            "name" => ["Ann", "Ann again", "Bob"]
        )
        .unwrap();
        let script = |pickup: &str| {
            format!(
                "source() ~> O
                 source() ~> C
                 O, C lookup(cust == cid, multiple: false, pickup: '{pickup}') ~> L
                 L sink() ~> Out"
            )
        };
        let run = |pickup: &str| {
            flow(
                &script(pickup),
                &[("O", orders.clone()), ("C", customers.clone())],
            )
            .unwrap()
            .sinks["Out"]
                .clone()
        };
        let expected = df!(
            "id" => [1i32, 2, 3],
            "cust" => ["c1", "c2", "c9"],
            "cid" => [Some("c1"), Some("c2"), None],
            "name" => [Some("Ann"), Some("Bob"), None]
        )
        .unwrap();
        let first = run("first");
        assert!(first.equals_missing(&expected), "{first}");
        let matched = flow(
            "source() ~> O
             source() ~> C
             O, C lookup(cust == cid) ~> L
             L filter(!isMatch()) ~> Missing
             Missing select(mapColumn(id)) ~> S
             S sink() ~> Out",
            &[("O", orders.clone()), ("C", customers.clone())],
        )
        .unwrap();
        let expected = df!("id" => [3i32]).unwrap();
        assert!(
            matched.sinks["Out"].equals(&expected),
            "{}",
            matched.sinks["Out"]
        );
        let last = run("last");
        assert_eq!(
            last.column("name").unwrap().str().unwrap().get(0),
            Some("Ann again")
        );
        assert_eq!(last.height(), 3);
    }
}
