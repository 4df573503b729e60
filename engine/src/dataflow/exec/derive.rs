//! `derive`: named columns, column patterns, and locals.
//!
//! A local (`:name = expression` among the derive's columns) is a named expression the
//! columns after it may read as `:name`; it is not a column of the output. Locals are
//! substituted into the expressions that read them before those compile, so a local used
//! by several columns is written once in the script and still becomes plain Polars
//! expressions (Polars' common-subexpression elimination shares the work).

use std::collections::HashMap;

use polars::prelude::LazyFrame;

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, Expr, ExprKind};
use crate::dataflow::source::Problem;

impl Step<'_> {
    pub(super) fn derive(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let mut locals: HashMap<String, Expr> = HashMap::new();
        let mut unfold = None;
        for a in &self.statement.args {
            match a {
                Arg::Assign(target, value) => {
                    let value = self.with_locals(value, &locals)?;
                    if let ExprKind::Local(name) = &target.kind {
                        locals.insert(name.to_ascii_lowercase(), value);
                        continue;
                    }
                    let Some(name) = target.as_name() else {
                        return Err(self.invalid(
                            Problem::new(target.span, "a derived column needs a name").help(
                                "write name = expression, :local = expression, or a column \
                                 pattern each(match(...), $$ = expression)",
                            ),
                        ));
                    };
                    let scope = self.scope(&mut frame)?;
                    let v = self.compile_column(&value, name, &scope, &mut unfold)?;
                    frame = frame.with_column(v.expr.alias(name));
                }
                // A pattern's columns are computed from the columns as they were before
                // it, all at once.
                Arg::Positional(e) if e.as_call().is_some_and(|(n, _)| n == "each") => {
                    let e = self.with_locals(e, &locals)?;
                    let scope = self.scope(&mut frame)?;
                    let mut columns = Vec::new();
                    for p in self.expand_each(&e, &scope)? {
                        let v = self.compile(&p.value, &scope)?;
                        columns.push(v.expr.alias(p.name.as_str()));
                    }
                    if !columns.is_empty() {
                        frame = frame.with_columns(columns);
                    }
                }
                _ => {}
            }
        }
        Ok(self.explode_unfolded(frame, unfold))
    }

    /// `e` with every `:local` replaced by its definition; a local not defined before
    /// this point is an error at its reference.
    fn with_locals(&self, e: &Expr, locals: &HashMap<String, Expr>) -> Result<Expr, ExecError> {
        let mut out = e.clone();
        let mut missing = None;
        out.visit_mut(&mut |x| {
            if let ExprKind::Local(name) = &x.kind {
                match locals.get(&name.to_ascii_lowercase()) {
                    Some(definition) => *x = definition.clone(),
                    None if missing.is_none() => missing = Some((name.clone(), x.span)),
                    None => {}
                }
            }
        });
        match missing {
            None => Ok(out),
            Some((name, span)) => Err(self.invalid(
                Problem::new(
                    span,
                    format!("`:{name}` is not a local defined before here"),
                )
                .help(format!(
                    "define it earlier in the same derive: :{name} = expression"
                )),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;
    use super::super::ExecError;

    fn senders() -> DataFrame {
        df!("sender" => ["A@Contoso.com", "b@fabrikam.COM"], "size" => [10i32, 20]).unwrap()
    }

    #[test]
    fn locals_are_read_by_later_columns_and_not_written() {
        let out = flow(
            "source() ~> M
             M derive(:address = lower(sender),
                 :domain = substringIndex(:address, '@', -1),
                 domain = :domain,
                 external = :domain != 'contoso.com',
                 each(match(type == 'integer'), $$ = $$ * 2)) ~> D
             D sink() ~> Out",
            &[("M", senders())],
        )
        .unwrap();
        let expected = df!(
            "sender" => ["A@Contoso.com", "b@fabrikam.COM"],
            "size" => [20i32, 40],
            "domain" => ["contoso.com", "fabrikam.com"],
            "external" => [false, true]
        )
        .unwrap();
        let frame = &out.sinks["Out"];
        assert!(frame.equals_missing(&expected), "{frame}");
    }

    #[test]
    fn a_local_read_before_its_definition_is_named() {
        let err = flow(
            "source() ~> M
             M derive(d = :domain, :domain = lower(sender)) ~> D
             D sink() ~> Out",
            &[("M", senders())],
        )
        .unwrap_err();
        let ExecError::Invalid { problem, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(problem
            .message
            .contains("`:domain` is not a local defined before here"));
        assert!(problem.help.contains(":domain = expression"), "{problem:?}");
    }

    #[test]
    fn generators_give_each_row_its_own_value() {
        let rows = df!("n" => [1i32, 2, 3, 4]).unwrap();
        let script = "source() ~> M
             M derive(r = random(), u = uuid(), s = nextSequence(), p = partitionId(),
                      seeded = random(7)) ~> D
             D sink() ~> Out";
        let run = || flow(script, &[("M", rows.clone())]).unwrap().sinks["Out"].clone();
        let (first, second) = (run(), run());
        let distinct = |c: &str| first.column(c).unwrap().n_unique().unwrap();
        assert_eq!(
            (distinct("r"), distinct("u"), distinct("seeded")),
            (4, 4, 4)
        );
        let sequence: Vec<Option<i64>> = first.column("s").unwrap().i64().unwrap().iter().collect();
        assert_eq!(sequence, [Some(0), Some(1), Some(2), Some(3)]);
        assert_eq!(first.column("p").unwrap().i32().unwrap().max(), Some(0));
        // A seed repeats its numbers; without one, runs differ.
        assert!(first
            .column("seeded")
            .unwrap()
            .equals(second.column("seeded").unwrap()));
        assert!(!first
            .column("r")
            .unwrap()
            .equals(second.column("r").unwrap()));
    }

    #[test]
    fn metafunctions_read_columns_by_name_and_type() {
        let out = flow(
            "source() ~> M
             M derive(each(match(typeMatch(type, 'number')), $$ = $$ * 10),
                      picked = byName('SENDER'),
                      second = byPosition(2),
                      known = hasColumn('size')) ~> D
             D sink() ~> Out",
            &[("M", senders())],
        )
        .unwrap();
        let expected = df!(
            "sender" => ["A@Contoso.com", "b@fabrikam.COM"],
            "size" => [100i32, 200],
            "picked" => ["A@Contoso.com", "b@fabrikam.COM"],
            "second" => [100i32, 200],
            "known" => [true, true]
        )
        .unwrap();
        let frame = &out.sinks["Out"];
        assert!(frame.equals_missing(&expected), "{frame}");
    }

    #[test]
    fn unfold_repeats_the_row_for_each_item() {
        let rows = df!("id" => ["m1", "m2", "m3"], "n" => [2i32, 0, 1]).unwrap();
        let out = flow(
            "source() ~> M
             M derive(tags = mapLoop(n, 'tag' + toString(#index))) ~> T
             T derive(tag = unfold(tags)) ~> U
             U select(mapColumn(id, tag, one = unfold(array(1)))) ~> S
             S sink() ~> Out",
            &[("M", rows)],
        )
        .unwrap();
        let expected = df!(
            "id" => ["m1", "m1", "m3"],
            "tag" => ["tag1", "tag2", "tag1"],
            "one" => [1i32, 1, 1]
        )
        .unwrap();
        let frame = &out.sinks["Out"];
        assert!(frame.equals_missing(&expected), "{frame}");

        let twice = flow(
            "source() ~> M
             M derive(a = unfold(array(1)), b = unfold(array(2))) ~> D
             D sink() ~> Out",
            &[("M", df!("id" => ["m1"]).unwrap())],
        )
        .unwrap_err();
        assert!(twice.to_string().contains("a second unfold"), "{twice}");
        let nested = flow(
            "source() ~> M
             M derive(a = upper(unfold(array('x')))) ~> D
             D sink() ~> Out",
            &[("M", df!("id" => ["m1"]).unwrap())],
        )
        .unwrap_err();
        assert!(
            format!("{nested:?}").contains("must be a whole column"),
            "{nested:?}"
        );
    }
}
