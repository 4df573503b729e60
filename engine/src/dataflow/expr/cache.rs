//! Cache sinks and their functions. A sink written with `store: 'cache'` keeps its rows in
//! memory for the rest of the run; other steps read them through
//! `Cache#lookup(key, ...)` (the first row whose `keys` columns equal the arguments, as a
//! structure, or null), `Cache#outputs()` (every row, as an array of structures) and
//! `Cache#output()` (the first row), and `Cache#mlookup(key, ...)` (every matching row, as
//! an array of structures: empty without a match, null for a null key).

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::{
    lit, map_multiple, Column, DataFrame, IdxCa, IdxSize, IntoColumn, IntoSeries, ListChunked,
    LiteralValue, Series, SpecialEq,
};

use super::compile::{compile, CResult, Scope, Typed};
use super::types::DfType;
use super::value::{column_values, field, Value};
use crate::dataflow::ast::Expr;
use crate::dataflow::source::Problem;

/// The rows of one cache sink, indexed by its key columns.
#[derive(Debug)]
pub struct CacheTable {
    name: String,
    rows: DataFrame,
    keys: Vec<String>,
    /// Key text (see [`key_text`]) → the rows with that key, in order.
    index: HashMap<String, Vec<IdxSize>>,
}

impl CacheTable {
    /// Indexes `rows` of the cache sink `name` by the columns `keys` (none when the sink
    /// declares no `keys`; `#lookup` then fails to compile). Fails on a key that is not a
    /// column.
    pub fn new(name: &str, rows: DataFrame, keys: Vec<String>) -> Result<CacheTable, String> {
        let mut key_columns = Vec::new();
        for k in &keys {
            let found = rows
                .get_column_names()
                .into_iter()
                .find(|n| n.eq_ignore_ascii_case(k))
                .ok_or_else(|| {
                    format!(
                        "key `{k}` is not a column of the cache; its columns are: {}",
                        column_list(&rows)
                    )
                })?;
            key_columns.push(column_values(
                rows.column(found).map_err(|e| e.to_string())?,
            ));
        }
        let mut index = HashMap::new();
        if !key_columns.is_empty() {
            let mut row = Vec::with_capacity(key_columns.len());
            for i in 0..rows.height() {
                row.clear();
                row.extend(key_columns.iter().map(|c| c[i].clone()));
                if let Some(key) = key_text(&row) {
                    index.entry(key).or_insert_with(Vec::new).push(i as IdxSize);
                }
            }
        }
        Ok(CacheTable {
            name: name.to_owned(),
            rows,
            keys,
            index,
        })
    }

    /// The structure type of one cached row.
    fn row_type(&self) -> DfType {
        DfType::Struct(
            self.rows
                .schema()
                .iter()
                .map(|(n, d)| (n.to_string(), DfType::from_polars(d)))
                .collect(),
        )
    }

    /// The rows at `positions` (a missing position gives a null row) as one structure
    /// column.
    fn gather(&self, name: &str, positions: &IdxCa) -> polars::prelude::PolarsResult<Series> {
        let picked = self.rows.take(positions)?;
        let mut structs = picked.into_struct(name.into()).into_series();
        // `take` keeps a null position's fields null; the row itself must be null too.
        if positions.null_count() > 0 {
            let valid = positions.is_not_null();
            let nulls = Series::full_null(name.into(), structs.len(), structs.dtype());
            structs = structs.zip_with(&valid, &nulls)?;
        }
        Ok(structs)
    }
}

fn column_list(rows: &DataFrame) -> String {
    rows.get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key's values as one comparable text, numbers by value whatever their type (`1` finds
/// `1L`); `None` when any part is null, since null keys match nothing.
fn key_text(values: &[Value]) -> Option<String> {
    let mut out = String::new();
    for v in values {
        match v {
            Value::Null => return None,
            Value::Int(_) | Value::Long(_) => out.push_str(&v.as_i64()?.to_string()),
            Value::Float(_) | Value::Double(_) => {
                let x = v.as_f64()?;
                if x.fract() == 0.0 && x.abs() < 9.0e15 {
                    out.push_str(&(x as i64).to_string());
                } else {
                    out.push_str(&x.to_string());
                }
            }
            Value::Str(s) => {
                out.push('\'');
                out.push_str(s);
            }
            other => out.push_str(&other.literal()),
        }
        // A separator no key text contains, so ('a', 'bc') and ('ab', 'c') differ.
        out.push('\u{1f}');
    }
    Some(out)
}

/// Compiles `cache#function(args)`.
pub fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> CResult<Typed> {
    let (cache, function) = name.split_once('#').unwrap_or((name, ""));
    let table = scope
        .caches
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(cache))
        .map(|(_, t)| Arc::clone(t))
        .ok_or_else(|| {
            Problem::new(e.span, format!("no cache sink is named `{cache}`"))
                .help("write the rows to a sink with `store: 'cache'` and call it by its name")
        })?;
    match function.to_ascii_lowercase().as_str() {
        "lookup" => lookup(&table, args, scope, e, false),
        "mlookup" => lookup(&table, args, scope, e, true),
        "outputs" | "output" => {
            if !args.is_empty() {
                return Err(Problem::new(e.span, format!("`{name}` takes no arguments")));
            }
            let all = function.eq_ignore_ascii_case("outputs");
            whole(&table, all, e)
        }
        _ => Err(
            Problem::new(e.span, format!("a cache has no function `#{function}`"))
                .help("a cache sink offers #lookup(key, ...), #mlookup(key, ...), #outputs() and #output()"),
        ),
    }
}

/// The functions a cache sink offers, called as `Cache#name(...)`.
pub const METHODS: &[&str] = &["lookup", "mlookup", "output", "outputs"];

/// `Cache#lookup(k1, k2, ...)`: each row's first matching cached row, matched on the
/// sink's `keys` in order; with `every`, `Cache#mlookup`: all of them, as an array.
fn lookup(
    table: &Arc<CacheTable>,
    args: &[&Expr],
    scope: &Scope,
    e: &Expr,
    every: bool,
) -> CResult<Typed> {
    if table.keys.is_empty() {
        return Err(Problem::new(
            e.span,
            format!("cache sink `{}` declares no keys to look up by", table.name),
        )
        .help("add `keys: ['column']` to the cache sink, or read it with #outputs()"));
    }
    if args.len() != table.keys.len() {
        return Err(Problem::new(
            e.span,
            format!(
                "cache sink `{}` is keyed by {} ({}), and {} values are given",
                table.name,
                table.keys.len(),
                table.keys.join(", "),
                args.len()
            ),
        )
        .help("give one value per key column, in the order of the sink's `keys`"));
    }
    let mut exprs = Vec::with_capacity(args.len());
    for a in args {
        exprs.push(compile(a, scope)?.expr);
    }
    let ty = match table.row_type() {
        row if every => DfType::Array(Box::new(row)),
        row => row,
    };
    let dtype = ty.to_polars();
    let list_type = dtype.clone();
    let table = Arc::clone(table);
    let expr = map_multiple(
        move |columns: &mut [Column]| {
            let name = columns[0].name().clone();
            let len = if columns.iter().any(|c| c.is_empty()) {
                0
            } else {
                columns.iter().map(Column::len).max().unwrap_or(0)
            };
            let values: Vec<Vec<Value>> = columns.iter().map(column_values).collect();
            let mut key = Vec::with_capacity(values.len());
            let mut matches = (0..len).map(|i| {
                key.clear();
                key.extend(values.iter().map(|v| {
                    if v.len() == 1 {
                        v[0].clone()
                    } else {
                        v[i].clone()
                    }
                }));
                key_text(&key).map(|k| table.index.get(&k).map_or(&[][..], Vec::as_slice))
            });
            if !every {
                let positions: IdxCa = matches
                    .map(|m| m.and_then(|rows| rows.first().copied()))
                    .collect();
                return Ok(table.gather(&name, &positions)?.into_column());
            }
            let mut lists = Vec::with_capacity(len);
            for m in matches.by_ref() {
                lists.push(match m {
                    Some(rows) => {
                        Some(table.gather(&name, &IdxCa::from_vec(name.clone(), rows.to_vec()))?)
                    }
                    None => None,
                });
            }
            let list: ListChunked = lists.into_iter().collect();
            Ok(list
                .with_name(name)
                .into_series()
                .cast(&list_type)?
                .into_column())
        },
        exprs,
        move |_, fields| Ok(field(fields[0].name(), &dtype)),
    );
    Ok(Typed::new(expr, ty))
}

/// `#outputs()` (every row, as an array) or `#output()` (the first row), the same value on
/// every row.
fn whole(table: &CacheTable, all: bool, e: &Expr) -> CResult<Typed> {
    let engine = |err: polars::prelude::PolarsError| Problem::new(e.span, err.to_string());
    let rows = if all {
        table.rows.clone()
    } else {
        table.rows.head(Some(1))
    };
    let structs = rows.into_struct("cache".into()).into_series();
    let row_type = table.row_type();
    let (value, ty) = if all {
        let list = structs.implode().map_err(engine)?.into_series();
        (list, DfType::Array(Box::new(row_type)))
    } else if structs.is_empty() {
        let null = Series::full_null("cache".into(), 1, &row_type.to_polars());
        (null, row_type)
    } else {
        (structs, row_type)
    };
    Ok(Typed::new(
        lit(LiteralValue::Series(SpecialEq::new(value))).first(),
        ty,
    ))
}
