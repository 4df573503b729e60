//! Column patterns: `each(match(condition), name = value)` and
//! `each(patternMatch(`regex`), name = value)` in select and derive, and the hierarchical
//! `each(parent, match(...), ...)` over a structure's fields.
//!
//! Patterns are expanded against the input's schema when the step is planned, so the data
//! itself is never visited row by row: the condition and the name expressions run once
//! over a small frame with one row per candidate column (`name`, `type`, `position`, and
//! `$1`, `$2`, ... for the groups of a regular expression); each matching column then gets
//! its value expression with `$$` standing for that column.

use polars::prelude::{Column, DataFrame, DataType, IntoLazy, NamedFrom, Series};

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, Expr, ExprKind, Lit, Name};
use crate::dataflow::expr::value::column_values;
use crate::dataflow::expr::{compile, DfType, Scope, Value};
use crate::dataflow::source::Problem;

/// One column a pattern produces.
pub(super) struct Produced {
    /// The output column's name.
    pub name: String,
    /// Its value, `$$` replaced by the matched column.
    pub value: Expr,
    /// The matched input column (or `parent.field`), for the skip-duplicate options.
    pub source: String,
}

/// A candidate column: what `$$` reads, its name, and its type.
struct Candidate {
    reads: Expr,
    name: String,
    ty: DfType,
}

/// The type name a condition compares with `type`: the script's type names, with
/// `complex` for structures and arrays.
fn type_name(ty: &DfType) -> String {
    match ty {
        DfType::Decimal(..) => "decimal".into(),
        DfType::Struct(_) | DfType::Array(_) | DfType::Map(..) => "complex".into(),
        other => other.name(),
    }
}

impl Step<'_> {
    /// Expands one `each(...)` of this step against the input `scope`.
    pub(super) fn expand_each(
        &self,
        each: &Expr,
        scope: &Scope,
    ) -> Result<Vec<Produced>, ExecError> {
        let Some((_, args)) = each.as_call() else {
            return Ok(Vec::new());
        };
        let problem = |span, message: String, help: &str| {
            self.invalid(Problem::new(span, message).help(help.to_owned()))
        };
        let mut positional = args.iter().filter_map(|a| match a {
            Arg::Positional(e) => Some(e),
            _ => None,
        });
        let Some(mut first) = positional.next() else {
            return Err(problem(
                each.span,
                "`each` needs a match(...) or patternMatch(...)".into(),
                "write each(match(type == 'string'), $$ = trim($$))",
            ));
        };

        // `each(parent, match(...))` walks the fields of a structure column.
        let candidates = if first.as_call().is_none() {
            let parent = self.compile(first, scope)?;
            let DfType::Struct(fields) = parent.ty else {
                return Err(problem(
                    first.span,
                    "the first argument of `each` must be a structure column or a match".into(),
                    "write each(parent, match(true())) for the fields of a structure",
                ));
            };
            let parent_name = crate::dataflow::printer::print_expr(first);
            let parent_expr = first.clone();
            first = positional.next().ok_or_else(|| {
                problem(
                    each.span,
                    "`each(parent, ...)` needs a match(...) after the structure".into(),
                    "write each(parent, match(true()))",
                )
            })?;
            fields
                .into_iter()
                .map(|(name, ty)| Candidate {
                    reads: Expr::new(
                        ExprKind::Field(
                            Box::new(parent_expr.clone()),
                            Name {
                                text: name.clone(),
                                span: parent_expr.span,
                            },
                        ),
                        parent_expr.span,
                    ),
                    name: format!("{parent_name}.{name}"),
                    ty,
                })
                .collect::<Vec<_>>()
        } else {
            scope
                .schema
                .iter()
                .filter(|(n, _)| !super::is_hidden(n))
                .map(|(n, d)| Candidate {
                    reads: Expr::column(n, each.span),
                    name: n.to_string(),
                    ty: DfType::from_polars(d),
                })
                .collect()
        };
        // The last part of a field's path is its name for conditions and new names.
        let short = |c: &Candidate| c.name.rsplit('.').next().unwrap_or(&c.name).to_owned();

        let (matched, groups) =
            match first.as_call() {
                Some((f, [Arg::Positional(cond)])) if f.eq_ignore_ascii_case("match") => {
                    let all: Vec<&Candidate> = candidates.iter().collect();
                    let meta = self.meta_frame(&all, &short, &[])?;
                    let keep = self.evaluate_over(cond, &meta, scope)?;
                    let matched: Vec<usize> = (0..candidates.len())
                        .filter(|&i| keep[i] == Value::Bool(true))
                        .collect();
                    (matched, vec![Vec::new(); candidates.len()])
                }
                Some((f, [Arg::Positional(pattern)])) if f.eq_ignore_ascii_case("patternMatch") => {
                    let text = match &pattern.kind {
                        ExprKind::Lit(Lit::Str(t) | Lit::Regex(t)) => t.clone(),
                        _ => {
                            return Err(problem(
                                pattern.span,
                                "patternMatch takes a regular expression literal".into(),
                                "write patternMatch(`^amount_(.*)$`)",
                            ))
                        }
                    };
                    let re = regex::Regex::new(&text).map_err(|e| {
                        problem(
                            pattern.span,
                            format!("not a regular expression: {e}"),
                            "patternMatch uses Rust's regex syntax (no look-around)",
                        )
                    })?;
                    let mut matched = Vec::new();
                    let mut groups = vec![Vec::new(); candidates.len()];
                    for (i, c) in candidates.iter().enumerate() {
                        if let Some(caps) = re.captures(&short(c)) {
                            matched.push(i);
                            groups[i] = caps
                                .iter()
                                .skip(1)
                                .map(|g| g.map_or(String::new(), |m| m.as_str().to_owned()))
                                .collect();
                        }
                    }
                    (matched, groups)
                }
                _ => return Err(problem(
                    first.span,
                    "expected match(condition) or patternMatch(`regex`)".into(),
                    "write each(match(type == 'string'), ...) or each(patternMatch(`^a_`), ...)",
                )),
            };

        // Without assignments a pattern passes the matching columns through.
        let assignments: Vec<(Expr, Expr)> = args
            .iter()
            .filter_map(|a| match a {
                Arg::Assign(t, v) => Some((t.clone(), v.clone())),
                _ => None,
            })
            .collect();
        let dollar = |span| Expr::new(ExprKind::Dollar("$".into()), span);
        let assignments = if assignments.is_empty() {
            vec![(dollar(each.span), dollar(each.span))]
        } else {
            assignments
        };

        let picked: Vec<&Candidate> = matched.iter().map(|&i| &candidates[i]).collect();
        let picked_groups: Vec<Vec<String>> = matched.iter().map(|&i| groups[i].clone()).collect();
        let meta = self.meta_frame(&picked, &short, &picked_groups)?;
        let mut out = Vec::new();
        for (target, value) in &assignments {
            let mut name_expr = target.clone();
            substitute(&mut name_expr, &|d| match d {
                "$" => Some(Expr::column("name", target.span)),
                digits => digits
                    .parse::<usize>()
                    .ok()
                    .map(|k| Expr::column(&format!("__group{k}"), target.span)),
            });
            let names = self.evaluate_over(&name_expr, &meta, scope)?;
            for (k, c) in picked.iter().enumerate() {
                let Some(name) = names[k].to_text() else {
                    return Err(problem(
                        target.span,
                        format!("the name of pattern column `{}` is null", c.name),
                        "make the name expression give text for every matching column",
                    ));
                };
                let mut v = value.clone();
                let groups = &picked_groups[k];
                substitute(&mut v, &|d| match d {
                    "$" => Some(c.reads.clone()),
                    digits => digits.parse::<usize>().ok().map(|g| {
                        let text = groups.get(g.wrapping_sub(1)).cloned().unwrap_or_default();
                        Expr::new(ExprKind::Lit(Lit::Str(text)), value.span)
                    }),
                });
                out.push(Produced {
                    name,
                    value: v,
                    source: c.name.clone(),
                });
            }
        }
        Ok(out)
    }

    /// One row per candidate: `name`, `type`, `position` (from 1) and the regex groups as
    /// `__group1`, `__group2`, ...
    fn meta_frame(
        &self,
        candidates: &[&Candidate],
        short: &dyn Fn(&Candidate) -> String,
        groups: &[Vec<String>],
    ) -> Result<DataFrame, ExecError> {
        let names: Vec<String> = candidates.iter().map(|c| short(c)).collect();
        let types: Vec<String> = candidates.iter().map(|c| type_name(&c.ty)).collect();
        let positions: Vec<i32> = (1..=candidates.len() as i32).collect();
        let mut columns: Vec<Column> = vec![
            Series::new("name".into(), names).into(),
            Series::new("type".into(), types).into(),
            Series::new("position".into(), positions).into(),
        ];
        let widest = groups.iter().map(Vec::len).max().unwrap_or(0);
        for g in 0..widest {
            let values: Vec<String> = groups
                .iter()
                .map(|row| row.get(g).cloned().unwrap_or_default())
                .collect();
            columns.push(Series::new(format!("__group{}", g + 1).into(), values).into());
        }
        DataFrame::new(candidates.len(), columns).map_err(|e| self.engine(e))
    }

    /// `e` computed over each row of `meta` (the flow's parameters in reach).
    fn evaluate_over(
        &self,
        e: &Expr,
        meta: &DataFrame,
        flow: &Scope,
    ) -> Result<Vec<Value>, ExecError> {
        let scope = Scope {
            schema: (**meta.schema()).clone(),
            params: flow.params.clone(),
            ..Scope::default()
        };
        let t = compile(e, &scope).map_err(|p| self.invalid(p))?;
        let out = meta
            .clone()
            .lazy()
            .select([t.expr.cast(match t.ty {
                DfType::Boolean => DataType::Boolean,
                _ => DataType::String,
            })])
            .collect()
            .map_err(|err| self.engine(err))?;
        Ok(column_values(&out.columns()[0]))
    }
}

/// Replaces `$$` (`"$"`) and `$1`, `$2`, ... (`"1"`, ...) where `by` gives a replacement.
fn substitute(e: &mut Expr, by: &dyn Fn(&str) -> Option<Expr>) {
    e.visit_mut(&mut |x| {
        if let ExprKind::Dollar(d) = &x.kind {
            if let Some(r) = by(d) {
                *x = r;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;

    fn frame() -> DataFrame {
        let address = df!("city" => ["Oslo", " Rome "], "zip" => ["0150", "00184"])
            .unwrap()
            .into_struct("address".into())
            .into_series();
        df!(
            "id" => [1i32, 2],
            "first_name" => [" ann ", "bo"],
            "last_name" => ["lee ", " kim"],
            "amount_eur" => [1.5f64, 2.0],
            "address" => address
        )
        .unwrap()
    }

    fn strings(f: &DataFrame, name: &str) -> Vec<String> {
        let c = f.column(name).unwrap().cast(&DataType::String).unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("null").to_owned())
            .collect()
    }

    #[test]
    fn derive_patterns_rewrite_every_matching_column() {
        let out = flow(
            "source() ~> S
             S derive(each(match(type == 'string'), $$ = trim($$)),
                      each(match(position == 1), 'row_' + $$ = $$ * 10)) ~> D
             D sink() ~> Out",
            &[("S", frame())],
        )
        .unwrap();
        let f = &out.sinks["Out"];
        assert_eq!(strings(f, "first_name"), ["ann", "bo"]);
        assert_eq!(strings(f, "last_name"), ["lee", "kim"]);
        assert_eq!(strings(f, "row_id"), ["10", "20"]);
        // Numbers and structures did not match `type == 'string'`.
        assert_eq!(strings(f, "amount_eur"), ["1.5", "2.0"]);
    }

    #[test]
    fn select_rules_name_columns_by_pattern_groups_and_walk_structures() {
        let out = flow(
            "source() ~> S
             S select(mapColumn(
                    id,
                    each(patternMatch(`^(.*)_name$`), 'name_' + $1 = upper($$)),
                    each(address, match(name != 'zip'), 'home_' + $$ = trim($$))
                 ),
                 skipDuplicateMapInputs: true) ~> P
             P sink() ~> Out",
            &[("S", frame())],
        )
        .unwrap();
        let f = &out.sinks["Out"];
        let names: Vec<&str> = f.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["id", "name_first", "name_last", "home_city"]);
        assert_eq!(strings(f, "name_first"), [" ANN ", "BO"]);
        assert_eq!(strings(f, "home_city"), ["Oslo", "Rome"]);
    }

    #[test]
    fn pattern_mistakes_name_the_fix() {
        let err = flow(
            "source() ~> S
             S select(mapColumn(each(id, match(true())))) ~> P
             P sink() ~> Out",
            &[("S", frame())],
        )
        .unwrap_err();
        let text = format!("{err:?}");
        assert!(text.contains("must be a structure column"), "{text}");
        let err = flow(
            "source() ~> S
             S derive(each(patternMatch(`(`), $$ = $$)) ~> D
             D sink() ~> Out",
            &[("S", frame())],
        )
        .unwrap_err();
        let text = format!("{err:?}");
        assert!(text.contains("not a regular expression"), "{text}");
    }
}
