//! One step of a flow as a change to a lazy plan, by transformation family.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::{
    col, lit, DataType, Expr as PExpr, JoinArgs, JoinType, LazyFrame, SortMultipleOptions,
    UnionArgs, NULL,
};

use super::ExecError;
use crate::dataflow::ast::{option, Arg, BinOp, Expr, ExprKind, Lit, Script, Statement};
use crate::dataflow::expr::cache::CacheTable;
use crate::dataflow::expr::{compile, DfType, Scope, Typed, Value};
use crate::dataflow::source::Problem;

pub(super) struct Step<'a> {
    pub statement: &'a Statement,
    pub params: &'a HashMap<String, Value>,
    /// The cache sinks written before this step, for `Cache#lookup(...)`.
    pub caches: &'a HashMap<String, Arc<CacheTable>>,
}

/// The column an `alterRow` step adds: each row's mark (`insert`, `update`, `delete`,
/// `upsert`), carried to the sink, which takes it off the rows it writes.
pub(crate) const ROW_MARK: &str = "__mdflow_row_mark";

/// The column a `lookup` step adds: whether the row found a match, for `isMatch()`; like
/// the row mark it travels with the rows and leaves them at the sink.
pub(crate) const LOOKUP_MATCH: &str = "__mdflow_lookup_match";

/// Whether a column is one of mdflow's own (a row mark, a lookup's match, a placeholder),
/// which patterns and metafunctions do not see and selects carry along.
pub(crate) fn is_hidden(name: &str) -> bool {
    name.starts_with("__mdflow_")
}

impl Step<'_> {
    pub(super) fn name(&self) -> String {
        self.statement.output.name.text.clone()
    }

    pub(super) fn unsupported(&self, feature: impl Into<String>) -> ExecError {
        ExecError::NotSupported {
            step: self.name(),
            feature: feature.into(),
        }
    }

    pub(super) fn invalid(&self, problem: Problem) -> ExecError {
        ExecError::Invalid {
            step: self.name(),
            problem,
        }
    }

    /// A cache sink's rows, indexed by its `keys: ['column', ...]`.
    pub(super) fn cache(&self, rows: polars::prelude::DataFrame) -> Result<CacheTable, ExecError> {
        let keys_option = self.statement.option("keys");
        let wrong = |span| {
            self.invalid(
                Problem::new(span, "`keys` takes a list of column names in quotes")
                    .help("write keys: ['id'] or keys: ['a', 'b']"),
            )
        };
        let keys = match keys_option.map(|e| (&e.kind, e.span)) {
            None => Vec::new(),
            Some((ExprKind::Array(items), _)) => items
                .iter()
                .map(|i| match &i.kind {
                    ExprKind::Lit(Lit::Str(k)) => Ok(k.clone()),
                    _ => Err(wrong(i.span)),
                })
                .collect::<Result<_, _>>()?,
            Some((_, span)) => return Err(wrong(span)),
        };
        CacheTable::new(&self.name(), rows, keys).map_err(|message| {
            let span = keys_option.map_or(self.statement.output.name.span, |e| e.span);
            self.invalid(Problem::new(span, message))
        })
    }

    pub(super) fn engine(&self, e: impl ToString) -> ExecError {
        ExecError::Engine {
            step: self.name(),
            message: e.to_string(),
        }
    }

    pub(super) fn scope(&self, frame: &mut LazyFrame) -> Result<Scope, ExecError> {
        let schema = frame.collect_schema().map_err(|e| self.engine(e))?;
        Ok(Scope {
            schema: (*schema).clone(),
            params: self.params.clone(),
            qualified: HashMap::new(),
            caches: self.caches.clone(),
        })
    }

    pub(super) fn compile(&self, e: &Expr, scope: &Scope) -> Result<Typed, ExecError> {
        compile(e, scope).map_err(|p| self.invalid(p))
    }

    /// A source: timestamps lose their zone, and declared `output(...)` columns are cast
    /// to their types.
    pub fn source(&self, frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let mut frame = self.naive_timestamps(frame)?;
        let Some(decls) = self.statement.clause("output") else {
            return Ok(frame);
        };
        let scope = self.scope(&mut frame)?;
        let mut casts = Vec::new();
        for d in decls {
            if let Arg::Declare(e, t) = d {
                let (Some(name), Ok(ty)) = (e.as_name(), DfType::from_ast(t)) else {
                    continue;
                };
                if let Some((n, dtype)) = scope
                    .schema
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    if matches!(ty, DfType::Struct(_) | DfType::Array(_))
                        || *dtype == ty.to_polars()
                    {
                        continue;
                    }
                    casts.push(col(n.clone()).cast(ty.to_polars()));
                }
            }
        }
        Ok(if casts.is_empty() {
            frame
        } else {
            frame.with_columns(casts)
        })
    }

    /// Data flow timestamps carry no zone (they are UTC), while decoded sources give
    /// UTC-zoned columns, which Polars refuses to compare with zone-less literals such as
    /// `toTimestamp(...)`. The instants are the same, so only the type changes.
    fn naive_timestamps(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let schema = frame.collect_schema().map_err(|e| self.engine(e))?;
        let zoned: Vec<PExpr> = schema
            .iter()
            .filter_map(|(name, dtype)| match dtype {
                DataType::Datetime(unit, Some(_)) => Some(
                    col(name.clone())
                        .cast(DataType::Int64)
                        .cast(DataType::Datetime(*unit, None)),
                ),
                _ => None,
            })
            .collect();
        Ok(if zoned.is_empty() {
            frame
        } else {
            frame.with_columns(zoned)
        })
    }

    pub fn transform(
        &self,
        mut inputs: Vec<LazyFrame>,
        _script: &Script,
    ) -> Result<LazyFrame, ExecError> {
        let kind = self.statement.kind.text.as_str();
        let mut first = inputs.remove(0);
        match kind {
            "filter" => {
                let scope = self.scope(&mut first)?;
                let cond = self.positional(0)?;
                let c = self.compile(cond, &scope)?;
                Ok(first.filter(c.expr.fill_null(lit(false))))
            }
            "derive" => self.derive(first),
            "select" => self.select(first),
            "aggregate" => self.aggregate(first),
            "sort" => self.sort(first),
            "join" | "exists" => {
                let second = inputs.remove(0);
                self.join(first, second)
            }
            "union" => {
                let mut frames = vec![first];
                frames.extend(inputs);
                self.union(frames)
            }
            "lookup" => {
                let second = inputs.remove(0);
                self.lookup(first, second)
            }
            "alterRow" => self.alter_row(first),
            "keyGenerate" | "surrogateKey" => self.key_generate(first),
            "cast" => self.cast(first),
            "foldDown" | "flatten" => self.fold_down(first),
            "unpivot" => self.unpivot(first),
            "window" => self.window(first),
            "rank" => self.rank(first),
            "assert" => self.assert(first),
            "parse" => self.parse(first),
            "stringify" => self.stringify(first),
            "pivot" => self.pivot(first),
            other => Err(self.unsupported(format!("the `{other}` transformation"))),
        }
    }

    pub(super) fn positional(&self, n: usize) -> Result<&Expr, ExecError> {
        self.statement
            .args
            .iter()
            .filter_map(|a| match a {
                Arg::Positional(e) => Some(e),
                _ => None,
            })
            .nth(n)
            .ok_or_else(|| {
                self.invalid(Problem::new(
                    self.statement.kind.span,
                    format!("`{}` needs a condition", self.statement.kind.text),
                ))
            })
    }

    pub(super) fn select(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let Some(mappings) = self.statement.clause("mapColumn") else {
            return Err(self.unsupported("select without mapColumn(...)"));
        };
        let flag = |n: &str| {
            matches!(
                option(&self.statement.args, n).map(|e| &e.kind),
                Some(ExprKind::Lit(Lit::Bool(true)))
            )
        };
        let (skip_inputs, skip_outputs) = (
            flag("skipDuplicateMapInputs"),
            flag("skipDuplicateMapOutputs"),
        );
        let (mut inputs, mut outputs) = (Vec::<String>::new(), Vec::<String>::new());
        let mut exprs = Vec::new();
        let mut unfold = None;
        // Rule-based mappings expand to plain ones, in the order the input has the columns.
        let mut expanded = Vec::new();
        for m in mappings {
            match m {
                Arg::Positional(e) if e.as_call().is_some_and(|(n, _)| n == "each") => {
                    for p in self.expand_each(e, &scope)? {
                        let target = Expr::column(&p.name, e.span);
                        expanded.push((Arg::Assign(target, p.value), Some(p.source)));
                    }
                }
                other => expanded.push((other.clone(), None)),
            }
        }
        for (m, pattern_source) in &expanded {
            let (source, name, t) = match m {
                Arg::Positional(e) if e.as_call().is_none() => {
                    let t = self.compile(e, &scope)?;
                    let name = match &e.kind {
                        ExprKind::Field(_, f) => f.text.clone(),
                        ExprKind::Column { name, .. } => name.clone(),
                        _ => crate::dataflow::printer::print_expr(e),
                    };
                    (crate::dataflow::printer::print_expr(e), name, t)
                }
                Arg::Assign(target, value) if target.as_name().is_some() => {
                    let name = target.as_name().unwrap_or_default().to_owned();
                    let t = self.compile_column(value, &name, &scope, &mut unfold)?;
                    (crate::dataflow::printer::print_expr(value), name, t)
                }
                _ => {
                    return Err(self.unsupported(
                        "this kind of mapping in select; write column, name = expression or \
                         each(match(...), ...)",
                    ))
                }
            };
            let source = pattern_source.clone().unwrap_or(source);

            // The skip options keep the first mapping of a repeated input or output name.
            let seen = |list: &[String], n: &str| list.iter().any(|x| x.eq_ignore_ascii_case(n));
            if (skip_inputs && seen(&inputs, &source)) || (skip_outputs && seen(&outputs, &name)) {
                continue;
            }
            inputs.push(source);
            outputs.push(name.clone());
            exprs.push(t.expr.alias(name.as_str()));
        }

        // Row marks of an earlier alterRow travel with the rows to the sink.
        exprs.extend(
            scope
                .schema
                .iter_names()
                .filter(|n| is_hidden(n))
                .map(|n| col(n.clone())),
        );
        Ok(self.explode_unfolded(frame.select(exprs), unfold))
    }

    fn aggregate(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let keys = self.group_keys(&scope)?;
        let mut aggs = Vec::new();
        for a in &self.statement.args {
            if let Arg::Assign(target, value) = a {
                let Some(name) = target.as_name() else {
                    return Err(self.unsupported("column patterns in aggregate"));
                };
                aggs.push(self.aggregate_expr(value, &scope, None)?.alias(name));
            }
        }
        if keys.is_empty() {
            return Ok(frame.select(aggs));
        }
        Ok(frame.group_by_stable(keys).agg(aggs))
    }

    /// The `groupBy(...)` keys, each named after its column or its assignment.
    pub(super) fn group_keys(&self, scope: &Scope) -> Result<Vec<PExpr>, ExecError> {
        let mut keys = Vec::new();
        for g in self.statement.clause("groupBy").unwrap_or(&[]) {
            match g {
                Arg::Positional(e) => {
                    let t = self.compile(e, scope)?;
                    let name = e
                        .as_name()
                        .map_or_else(|| crate::dataflow::printer::print_expr(e), str::to_owned);
                    keys.push(t.expr.alias(name.as_str()));
                }
                Arg::Assign(target, value) => {
                    let t = self.compile(value, scope)?;
                    keys.push(t.expr.alias(target.as_name().unwrap_or_default()));
                }
                _ => {}
            }
        }
        Ok(keys)
    }

    pub(super) fn sort(&self, mut frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        let scope = self.scope(&mut frame)?;
        let (mut by, mut desc, mut nulls_last) = (Vec::new(), Vec::new(), Vec::new());
        for (key, descending, nulls_first) in self.order(&scope)? {
            by.push(key);
            desc.push(descending);
            nulls_last.push(!nulls_first);
        }
        let options = SortMultipleOptions::default()
            .with_order_descending_multi(desc)
            .with_nulls_last_multi(nulls_last)
            .with_maintain_order(true);
        Ok(frame.sort_by_exprs(by, options))
    }

    /// `split(c1, c2, disjoint: false) ~> S@(a, b, rest)`.
    pub fn split(&self, mut frame: LazyFrame) -> Result<Vec<(String, LazyFrame)>, ExecError> {
        let scope = self.scope(&mut frame)?;
        let disjoint = matches!(
            option(&self.statement.args, "disjoint").map(|e| &e.kind),
            Some(ExprKind::Lit(Lit::Bool(true)))
        );
        let mut conds = Vec::new();
        for a in &self.statement.args {
            if let Arg::Positional(e) = a {
                conds.push(self.compile(e, &scope)?.expr.fill_null(lit(false)));
            }
        }
        let outputs = &self.statement.output.split;
        let mut out = Vec::new();
        let mut earlier: Option<PExpr> = None;
        for (i, o) in outputs.iter().enumerate() {
            let cond = match conds.get(i) {
                Some(c) => match (&earlier, disjoint) {
                    (Some(prev), false) => c.clone().and(prev.clone().not()),
                    _ => c.clone(),
                },
                // The last output takes the rows no condition matched.
                None => earlier.clone().map_or(lit(true), |p| p.not()),
            };
            if let Some(c) = conds.get(i) {
                earlier = Some(match earlier {
                    Some(p) => p.or(c.clone()),
                    None => c.clone(),
                });
            }
            out.push((o.text.clone(), frame.clone().filter(cond)));
        }
        Ok(out)
    }

    /// Equality pairs of a join condition `a == b && c == d`, each as (left, right).
    pub(super) fn equalities<'e>(
        &self,
        e: &'e Expr,
        out: &mut Vec<(&'e Expr, &'e Expr)>,
    ) -> Result<(), ExecError> {
        match &e.kind {
            ExprKind::Binary(BinOp::And, l, r) => {
                self.equalities(l, out)?;
                self.equalities(r, out)
            }
            ExprKind::Binary(BinOp::Eq, l, r) => {
                out.push((l, r));
                Ok(())
            }
            ExprKind::Lit(Lit::Bool(true)) => Ok(()),
            ExprKind::Call(n, a) if n.text == "true" && a.is_empty() => Ok(()),
            _ => Err(self.unsupported("join conditions other than equalities joined by &&")),
        }
    }

    pub(super) fn join(
        &self,
        mut left: LazyFrame,
        right: LazyFrame,
    ) -> Result<LazyFrame, ExecError> {
        let (mut lon, mut ron, names, right) = self.join_keys(&mut left, right)?;
        let rname = self.statement.inputs[1].stream.text.clone();
        let kind = self.statement.kind.text.as_str();
        if kind == "exists" {
            let negate = matches!(
                option(&self.statement.args, "negate").map(|e| &e.kind),
                Some(ExprKind::Lit(Lit::Bool(true)))
            );
            let keys: Vec<PExpr> = ron
                .iter()
                .enumerate()
                .map(|(i, e)| e.clone().alias(format!("__k{i}")))
                .collect();
            let marked = right
                .select(keys)
                .unique_stable(None, polars::prelude::UniqueKeepStrategy::First)
                .with_column(lit(true).alias("__mdflow_match"));
            let rkeys: Vec<PExpr> = (0..ron.len()).map(|i| col(format!("__k{i}"))).collect();
            let joined = left.join(marked, lon, rkeys, JoinArgs::new(JoinType::Left));
            let m = col("__mdflow_match").is_not_null();
            let kept = joined.filter(if negate { m.not() } else { m });
            return Ok(kept.select(names.iter().map(|n| col(n.as_str())).collect::<Vec<_>>()));
        }
        let join_type = option(&self.statement.args, "joinType")
            .and_then(|e| match &e.kind {
                ExprKind::Lit(Lit::Str(s)) => Some(s.to_ascii_lowercase()),
                _ => None,
            })
            .unwrap_or_else(|| "inner".into());
        let how = match join_type.as_str() {
            "inner" => JoinType::Inner,
            "left" | "left_outer" | "leftouter" => JoinType::Left,
            "right" | "right_outer" | "rightouter" => JoinType::Right,
            "outer" | "full" | "full_outer" | "fullouter" => JoinType::Full,
            "cross" => {
                lon = vec![lit(1)];
                ron = vec![lit(1)];
                JoinType::Inner
            }
            other => return Err(self.unsupported(format!("joinType '{other}'"))),
        };
        let mut args = JoinArgs::new(how);
        args.suffix = Some(format!("_{rname}").into());
        // Both sides' key columns stay, as in ADF.
        args.coalesce = polars::prelude::JoinCoalesce::KeepColumns;
        Ok(left.join(right, lon, ron, args))
    }

    /// The key expressions of a join condition, left and right, and the left columns.
    #[allow(clippy::type_complexity)]
    pub(super) fn join_keys(
        &self,
        left: &mut LazyFrame,
        mut right: LazyFrame,
    ) -> Result<(Vec<PExpr>, Vec<PExpr>, Vec<String>, LazyFrame), ExecError> {
        let (lscope, rscope) = (self.scope(left)?, self.scope(&mut right)?);
        let (lname, rname) = (
            self.statement.inputs[0].stream.text.clone(),
            self.statement.inputs[1].stream.text.clone(),
        );
        let cond = self.positional(0)?;
        let mut pairs = Vec::new();
        self.equalities(cond, &mut pairs)?;
        let (mut lon, mut ron) = (Vec::new(), Vec::new());
        for (a, b) in pairs {
            // Each side of an equality belongs to the stream it names, or else to the
            // stream whose columns it compiles against.
            let names_stream = |e: &Expr, stream: &str| matches!(&e.kind, ExprKind::Column { stream: Some(s), .. } if s.eq_ignore_ascii_case(stream));
            let strip = |e: &Expr| match &e.kind {
                ExprKind::Column { name, braced, .. } => Expr::new(
                    ExprKind::Column {
                        stream: None,
                        name: name.clone(),
                        braced: *braced,
                    },
                    e.span,
                ),
                _ => e.clone(),
            };
            let swap = names_stream(a, &rname)
                || names_stream(b, &lname)
                || !(compile(&strip(a), &lscope).is_ok() && compile(&strip(b), &rscope).is_ok());
            let (l, r) = if swap {
                (strip(b), strip(a))
            } else {
                (strip(a), strip(b))
            };
            let lt = self.compile(&l, &lscope)?;
            let rt = self.compile(&r, &rscope)?;
            let (lt, rt) = unify(lt, rt);
            lon.push(lt);
            ron.push(rt);
        }
        let names: Vec<String> = lscope.schema.iter_names().map(|n| n.to_string()).collect();
        Ok((lon, ron, names, right))
    }

    fn union(&self, mut frames: Vec<LazyFrame>) -> Result<LazyFrame, ExecError> {
        let by_name = matches!(
            option(&self.statement.args, "byName").map(|e| &e.kind),
            Some(ExprKind::Lit(Lit::Bool(true)))
        );
        let first_schema = frames[0].collect_schema().map_err(|e| self.engine(e))?;
        let names: Vec<String> = first_schema.iter_names().map(|n| n.to_string()).collect();
        let mut aligned = Vec::new();
        for (i, mut f) in frames.drain(..).enumerate() {
            let schema = f.collect_schema().map_err(|e| self.engine(e))?;
            let exprs: Vec<PExpr> = if by_name || i == 0 {
                names
                    .iter()
                    .map(|n| match schema.get(n.as_str()) {
                        Some(_) => col(n.as_str()).cast(
                            first_schema
                                .get(n.as_str())
                                .cloned()
                                .unwrap_or(DataType::Null),
                        ),
                        None => lit(NULL)
                            .cast(
                                first_schema
                                    .get(n.as_str())
                                    .cloned()
                                    .unwrap_or(DataType::Null),
                            )
                            .alias(n.as_str()),
                    })
                    .collect()
            } else {
                schema
                    .iter_names()
                    .zip(&names)
                    .map(|(have, want)| {
                        col(have.clone())
                            .cast(
                                first_schema
                                    .get(want.as_str())
                                    .cloned()
                                    .unwrap_or(DataType::Null),
                            )
                            .alias(want.as_str())
                    })
                    .collect()
            };
            aligned.push(f.select(exprs));
        }
        polars::prelude::concat(aligned, UnionArgs::default()).map_err(|e| self.engine(e))
    }
}

/// Both join keys in one type.
fn unify(l: Typed, r: Typed) -> (PExpr, PExpr) {
    if l.ty == r.ty {
        return (l.expr, r.expr);
    }
    let ty = DfType::wider(&l.ty, &r.ty);
    (l.cast(&ty).expr, r.cast(&ty).expr)
}
