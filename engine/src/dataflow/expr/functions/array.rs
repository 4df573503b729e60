//! Arrays: literals, indexing (from 1; out of range is null), set functions, and the
//! functions that take a lambda (`#item`, `#index`, `#acc`, `#item1`/`#item2`).
//!
//! A lambda compiles once to a Polars expression over a frame whose columns are the
//! lambda variables; each array is evaluated as one such frame.

use polars::prelude::{lit, when, DataFrame, DataType, IntoLazy, PlSmallStr, Schema};

use super::arity;
use super::logical::order;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{compile, kernel, CResult, Scope, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::{column_values, values_column, Value};
use crate::dataflow::source::Problem;

/// Functions whose arguments include a lambda.
pub const LAMBDA: &[&str] = &[
    "map", "filter", "find", "contains", "mapIf", "mapIndex", "mapLoop", "reduce", "sort",
];

/// `[a, b, c]`.
pub fn make_array(items: Vec<Typed>) -> CResult<Typed> {
    let item = items
        .iter()
        .fold(DfType::Null, |t, x| DfType::wider(&t, &x.ty));
    let items: Vec<Typed> = items.into_iter().map(|x| x.cast(&item)).collect();
    Ok(kernel(items, DfType::Array(Box::new(item)), false, |v| {
        Value::Array(v.to_vec())
    }))
}

/// `a[i]`: arrays from 1, maps by key; null out of range.
pub fn index(base: Typed, i: Typed, e: &Expr) -> CResult<Typed> {
    if let DfType::Map(..) = base.ty {
        return Ok(super::map::value_of(base, i));
    }
    let DfType::Array(item) = base.ty.clone() else {
        return Err(
            Problem::new(e.span, format!("cannot index a {}", base.ty.name()))
                .help("only arrays and maps take `[index]`"),
        );
    };
    Ok(kernel(vec![base, i], *item, true, |v| {
        match (&v[0], v[1].as_i64()) {
            (Value::Array(items), Some(n)) if n >= 1 => {
                items.get(n as usize - 1).cloned().unwrap_or(Value::Null)
            }
            _ => Value::Null,
        }
    }))
}

fn item_type(t: &Typed) -> DfType {
    match &t.ty {
        DfType::Array(i) => (**i).clone(),
        _ => DfType::Null,
    }
}

pub(super) fn call(name: &str, a: Vec<Typed>, e: &Expr) -> Option<CResult<Typed>> {
    let r = (|| -> CResult<Option<Typed>> {
        Ok(Some(match name {
            "array" => make_array(a.clone())?,
            "at" => {
                arity(name, &a, 2, 2, e)?;
                index(a[0].clone(), a[1].clone(), e)?
            }
            // An array column's lengths come from its offsets, without reading its items.
            "size"
                if matches!(
                    a.first().map(|x| &x.ty),
                    Some(DfType::Array(_) | DfType::Map(..))
                ) =>
            {
                arity(name, &a, 1, 1, e)?;
                let x = a[0].expr.clone();
                Typed::new(
                    when(x.clone().is_null())
                        .then(lit(-1i32))
                        .otherwise(x.list().len().cast(DataType::Int32)),
                    DfType::Integer,
                )
            }
            "size" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::Integer, false, |v| match &v[0] {
                    Value::Array(items) => Value::Int(items.len() as i32),
                    Value::Null => Value::Int(-1),
                    _ => Value::Null,
                })
            }
            "slice" => {
                arity(name, &a, 2, 3, e)?;
                let ty = a[0].ty.clone();
                kernel(a.clone(), ty, true, |v| match &v[0] {
                    Value::Array(items) => {
                        let from = (v[1].as_i64().unwrap_or(1).max(1) - 1) as usize;
                        let n = v
                            .get(2)
                            .and_then(Value::as_i64)
                            .map_or(items.len(), |n| n.max(0) as usize);
                        Value::Array(items.iter().skip(from).take(n).cloned().collect())
                    }
                    _ => Value::Null,
                })
            }
            "in" => {
                arity(name, &a, 2, 2, e)?;
                kernel(a.clone(), DfType::Boolean, true, |v| match &v[0] {
                    Value::Array(items) => Value::Bool(items.iter().any(|x| same(x, &v[1]))),
                    _ => Value::Null,
                })
            }
            "distinct" | "flatten" => {
                arity(name, &a, 1, usize::MAX, e)?;
                let flatten = name == "flatten";
                let ty = if flatten {
                    DfType::Array(Box::new(item_type(&Typed::new(
                        a[0].expr.clone(),
                        item_type(&a[0]),
                    ))))
                } else {
                    a[0].ty.clone()
                };
                kernel(a[..1].to_vec(), ty, true, move |v| match &v[0] {
                    Value::Array(items) if flatten => Value::Array(
                        items
                            .iter()
                            .flat_map(|x| match x {
                                Value::Array(inner) => inner.clone(),
                                other => vec![other.clone()],
                            })
                            .collect(),
                    ),
                    Value::Array(items) => {
                        let mut out: Vec<Value> = Vec::new();
                        for x in items {
                            if !out.iter().any(|o| same(o, x)) {
                                out.push(x.clone());
                            }
                        }
                        Value::Array(out)
                    }
                    _ => Value::Null,
                })
            }
            "except" | "intersect" | "union" => {
                arity(name, &a, 2, 2, e)?;
                let ty = a[0].ty.clone();
                let op = name.to_owned();
                kernel(a.clone(), ty, true, move |v| match (&v[0], &v[1]) {
                    (Value::Array(x), Value::Array(y)) => {
                        let mut out: Vec<Value> = Vec::new();
                        let mut push = |i: &Value| {
                            if !out.iter().any(|o| same(o, i)) {
                                out.push(i.clone());
                            }
                        };
                        match op.as_str() {
                            "except" => x
                                .iter()
                                .filter(|i| !y.iter().any(|j| same(i, j)))
                                .for_each(&mut push),
                            "intersect" => x
                                .iter()
                                .filter(|i| y.iter().any(|j| same(i, j)))
                                .for_each(&mut push),
                            _ => x.iter().chain(y.iter()).for_each(&mut push),
                        }
                        Value::Array(out)
                    }
                    _ => Value::Null,
                })
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

pub(super) fn same(a: &Value, b: &Value) -> bool {
    a == b
        || order(a, b) == std::cmp::Ordering::Equal && a.df_type() == b.df_type()
        || (a.as_f64().is_some() && a.as_f64() == b.as_f64())
}

/// A lambda compiled over a frame of its variables.
#[derive(Clone)]
pub(super) struct Lambda {
    expr: polars::prelude::Expr,
    pub(super) ty: DfType,
}

impl Lambda {
    pub(super) fn compile(body: &Expr, vars: &[(&str, DfType)], scope: &Scope) -> CResult<Lambda> {
        let mut schema = Schema::default();
        for (n, t) in vars {
            schema.insert(PlSmallStr::from(*n), t.to_polars());
        }
        let inner = Scope {
            schema,
            params: scope.params.clone(),
            qualified: Default::default(),
            caches: scope.caches.clone(),
        };
        let t = compile(body, &inner)?;
        Ok(Lambda {
            expr: t.expr.alias("result"),
            ty: t.ty,
        })
    }

    /// Evaluates over columns of values, one per variable.
    pub(super) fn run(&self, vars: &[(&str, DfType, Vec<Value>)]) -> Vec<Value> {
        let columns = vars
            .iter()
            .map(|(n, t, v)| values_column(PlSmallStr::from(*n), v, &t.to_polars()))
            .collect();
        let Ok(frame) = DataFrame::new_infer_height(columns) else {
            return Vec::new();
        };
        let height = frame.height();
        match frame.lazy().select([self.expr.clone()]).collect() {
            Ok(out) => {
                let values = column_values(&out.columns()[0]);
                if values.len() == 1 && height != 1 {
                    vec![values[0].clone(); height]
                } else {
                    values
                }
            }
            Err(_) => vec![Value::Null; height],
        }
    }
}

fn lambda_problem(name: &str, e: &Expr, wanted: usize) -> Problem {
    Problem::new(e.span, format!("`{name}` takes {wanted} arguments"))
}

/// Compiles a function that takes a lambda; `None` for other functions.
pub fn lambda(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let lower = name.to_ascii_lowercase();
    if !LAMBDA.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return None;
    }
    let r = (|| -> CResult<Typed> {
        if lower == "maploop" {
            if args.len() != 2 {
                return Err(lambda_problem(name, e, 2));
            }
            let n = compile(args[0], scope)?;
            let body = Lambda::compile(args[1], &[("#index", DfType::Integer)], scope)?;
            let ty = DfType::Array(Box::new(body.ty.clone()));
            return Ok(kernel(vec![n], ty, true, move |v| {
                let n = v[0].as_i64().unwrap_or(0).max(0) as i32;
                let index: Vec<Value> = (1..=n).map(Value::Int).collect();
                Value::Array(body.run(&[("#index", DfType::Integer, index)]))
            }));
        }
        let array = compile(
            args.first().ok_or_else(|| lambda_problem(name, e, 2))?,
            scope,
        )?;
        let item = item_type(&array);
        let vars = [("#item", item.clone()), ("#index", DfType::Integer)];
        let frame_item = item.clone();
        let frame = move |items: &[Value]| {
            vec![
                ("#item", frame_item.clone(), items.to_vec()),
                (
                    "#index",
                    DfType::Integer,
                    (1..=items.len() as i32).map(Value::Int).collect(),
                ),
            ]
        };
        match lower.as_str() {
            "map" | "mapindex" | "filter" | "find" | "contains" => {
                if args.len() != 2 {
                    return Err(lambda_problem(name, e, 2));
                }
                let body = Lambda::compile(args[1], &vars, scope)?;
                let out = match lower.as_str() {
                    "map" | "mapindex" => DfType::Array(Box::new(body.ty.clone())),
                    "filter" => array.ty.clone(),
                    "find" => item.clone(),
                    _ => DfType::Boolean,
                };
                let (which, item_ty) = (lower.clone(), item.clone());
                Ok(kernel(vec![array], out, true, move |v| {
                    let Value::Array(items) = &v[0] else {
                        return Value::Null;
                    };
                    let f = vec![
                        ("#item", item_ty.clone(), items.clone()),
                        (
                            "#index",
                            DfType::Integer,
                            (1..=items.len() as i32).map(Value::Int).collect(),
                        ),
                    ];
                    let results = body.run(&f);
                    let truthy = |i: usize| results.get(i) == Some(&Value::Bool(true));
                    match which.as_str() {
                        "map" | "mapindex" => Value::Array(results),
                        "filter" => Value::Array(
                            items
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| truthy(*i))
                                .map(|(_, x)| x.clone())
                                .collect(),
                        ),
                        "find" => items
                            .iter()
                            .enumerate()
                            .find(|(i, _)| truthy(*i))
                            .map_or(Value::Null, |(_, x)| x.clone()),
                        _ => Value::Bool((0..items.len()).any(truthy)),
                    }
                }))
            }
            "mapif" => {
                if args.len() != 3 {
                    return Err(lambda_problem(name, e, 3));
                }
                let cond = Lambda::compile(args[1], &vars, scope)?;
                let body = Lambda::compile(args[2], &vars, scope)?;
                let out = DfType::Array(Box::new(body.ty.clone()));
                Ok(kernel(vec![array], out, true, move |v| {
                    let Value::Array(items) = &v[0] else {
                        return Value::Null;
                    };
                    let f = frame(items);
                    let (keep, values) = (cond.run(&f), body.run(&f));
                    Value::Array(
                        values
                            .into_iter()
                            .zip(keep)
                            .filter(|(_, k)| *k == Value::Bool(true))
                            .map(|(x, _)| x)
                            .collect(),
                    )
                }))
            }
            "reduce" => {
                if args.len() != 4 {
                    return Err(lambda_problem(name, e, 4));
                }
                let init = compile(args[1], scope)?;
                let acc_ty = init.ty.clone();
                let step = Lambda::compile(
                    args[2],
                    &[("#acc", acc_ty.clone()), ("#item", item.clone())],
                    scope,
                )?;
                let last = Lambda::compile(args[3], &[("#result", acc_ty.clone())], scope)?;
                let out = last.ty.clone();
                Ok(kernel(vec![array, init], out, true, move |v| {
                    let Value::Array(items) = &v[0] else {
                        return Value::Null;
                    };
                    let mut acc = v[1].clone();
                    for x in items {
                        acc = step
                            .run(&[
                                ("#acc", acc_ty.clone(), vec![acc]),
                                ("#item", item.clone(), vec![x.clone()]),
                            ])
                            .pop()
                            .unwrap_or(Value::Null);
                    }
                    last.run(&[("#result", acc_ty.clone(), vec![acc])])
                        .pop()
                        .unwrap_or(Value::Null)
                }))
            }
            "sort" => {
                if args.len() != 2 {
                    return Err(lambda_problem(name, e, 2));
                }
                let cmp = Lambda::compile(
                    args[1],
                    &[("#item1", item.clone()), ("#item2", item.clone())],
                    scope,
                )?;
                let ty = array.ty.clone();
                Ok(kernel(vec![array], ty, true, move |v| {
                    let Value::Array(items) = &v[0] else {
                        return Value::Null;
                    };
                    let mut items = items.clone();
                    items.sort_by(|x, y| {
                        let r = cmp
                            .run(&[
                                ("#item1", item.clone(), vec![x.clone()]),
                                ("#item2", item.clone(), vec![y.clone()]),
                            ])
                            .pop()
                            .and_then(|r| r.as_i64())
                            .unwrap_or(0);
                        r.cmp(&0)
                    });
                    Value::Array(items)
                }))
            }
            _ => Err(Problem::new(
                e.span,
                format!("`{name}` is not supported yet"),
            )),
        }
    })();
    Some(r)
}
