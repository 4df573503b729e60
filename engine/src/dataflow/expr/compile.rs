//! Compiles typed expressions to Polars expressions. Operators and most functions map to
//! Polars' own kernels; functions Polars lacks run as vectorised custom functions
//! (`kernel`) over whole columns. Nothing is interpreted row by row from the tree.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::{
    col, lit, map_multiple, when, Column, DataType, Expr as PExpr, LiteralValue, PlSmallStr,
    Schema, NULL,
};

use super::functions;
use super::types::DfType;
use super::value::{column_values, field, values_column, Value};
use crate::dataflow::ast::{Arg, BinOp, Expr, ExprKind, InterpPart, Lit, UnOp};
use crate::dataflow::source::Problem;

/// What an expression can see.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The columns of the input stream.
    pub schema: Schema,
    /// Data flow parameters (`$name`), as values.
    pub params: HashMap<String, Value>,
    /// `Stream@column` → the column's name in the input (after a join).
    pub qualified: HashMap<(String, String), String>,
    /// The cache sinks written so far, by name, for `Cache#lookup(...)`.
    pub caches: HashMap<String, Arc<super::cache::CacheTable>>,
}

/// A compiled expression and its type.
#[derive(Clone)]
pub struct Typed {
    /// The Polars expression.
    pub expr: PExpr,
    /// Its data flow type.
    pub ty: DfType,
}

impl Typed {
    /// A compiled expression.
    pub fn new(expr: PExpr, ty: DfType) -> Typed {
        Typed { expr, ty }
    }

    /// Cast to `ty` (a no-op when it already is).
    pub fn cast(self, ty: &DfType) -> Typed {
        if self.ty == *ty {
            return self;
        }
        Typed::new(self.expr.cast(ty.to_polars()), ty.clone())
    }

    /// As a string, for concatenation.
    pub fn to_string_expr(self) -> PExpr {
        match self.ty {
            DfType::String => self.expr,
            _ => functions::conversion::to_string_plain(self).expr,
        }
    }
}

/// A compile failure: where and why.
pub type CResult<T> = Result<T, Problem>;

/// Compiles an expression against a scope.
pub fn compile(e: &Expr, scope: &Scope) -> CResult<Typed> {
    match &e.kind {
        ExprKind::Lit(l) => Ok(literal(l)),
        ExprKind::Interp(parts) => {
            let mut out: Option<PExpr> = None;
            for p in parts {
                let piece = match p {
                    InterpPart::Text(t) => lit(t.as_str()),
                    InterpPart::Expr(e) => compile(e, scope)?.to_string_expr(),
                };
                out = Some(match out {
                    Some(acc) => acc + piece,
                    None => piece,
                });
            }
            Ok(Typed::new(out.unwrap_or_else(|| lit("")), DfType::String))
        }
        ExprKind::Column {
            stream,
            name,
            braced: _,
        } => column(stream.as_deref(), name, scope, e),
        ExprKind::Dollar(name) => match scope.params.get(name) {
            Some(v) => Ok(value_literal(v)),
            None => {
                let known: Vec<&str> = scope.params.keys().map(String::as_str).collect();
                Err(
                    Problem::new(e.span, format!("no parameter `${name}`")).help(
                        if known.is_empty() {
                            "declare it in the script's parameters{...} block".to_owned()
                        } else {
                            format!("the parameters are: ${}", known.join(", $"))
                        },
                    ),
                )
            }
        },
        ExprKind::Hash(name) => column(None, &format!("#{name}"), scope, e).map_err(|_| {
            Problem::new(
                e.span,
                format!("`#{name}` is only defined inside a function that takes a lambda"),
            )
            .help("use #item in map(), filter(), reduce(), ... ")
        }),
        ExprKind::Local(name) => Err(Problem::new(
            e.span,
            format!("`:{name}` is a local, and locals belong to a derive"),
        )
        .help(format!(
            "define it in a derive (:{name} = expression) and read it in that derive's columns"
        ))),
        ExprKind::Unary(op, inner) => {
            let t = compile(inner, scope)?;
            Ok(match op {
                UnOp::Not => Typed::new(t.expr.not(), DfType::Boolean),
                UnOp::Neg => {
                    let ty = t.ty.clone();
                    Typed::new(lit(0).cast(ty.to_polars()) - t.expr, ty)
                }
            })
        }
        ExprKind::Binary(op, l, r) => {
            let (l, r) = (compile(l, scope)?, compile(r, scope)?);
            binary(*op, l, r, e)
        }
        ExprKind::Call(name, args) => {
            let mut exprs = Vec::with_capacity(args.len());
            for a in args {
                match a {
                    Arg::Positional(x) => exprs.push(x),
                    _ => {
                        return Err(Problem::new(
                            name.span,
                            format!("`{}` takes plain arguments", name.text),
                        )
                        .help("remove `name =`, `name:` or `as type` from its arguments"))
                    }
                }
            }
            functions::call(&name.text, &exprs, scope, e)
        }
        ExprKind::Index(base, index) => {
            let b = compile(base, scope)?;
            let i = compile(index, scope)?;
            functions::array::index(b, i, e)
        }
        ExprKind::Field(base, f) => {
            // `a.b` may be a column named with a dot.
            if let ExprKind::Column {
                stream: None, name, ..
            } = &base.kind
            {
                let dotted = format!("{name}.{}", f.text);
                if scope.schema.contains(dotted.as_str()) {
                    return column(None, &dotted, scope, e);
                }
            }
            let b = compile(base, scope)?;
            let DfType::Struct(fields) = &b.ty else {
                return Err(Problem::new(
                    f.span,
                    format!(
                        "`{}` is not a structure, so it has no field `{}`",
                        crate::dataflow::printer::print_expr(base),
                        f.text
                    ),
                ));
            };
            let Some((fname, fty)) = fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(&f.text))
            else {
                let known: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Problem::new(f.span, format!("no field `{}`", f.text))
                    .help(format!("the fields are: {}", known.join(", "))));
            };
            Ok(Typed::new(
                b.expr.struct_().field_by_name(fname),
                fty.clone(),
            ))
        }
        ExprKind::Assert(inner, t) => {
            let target = DfType::from_ast(t).map_err(|m| Problem::new(e.span, m))?;
            Ok(compile(inner, scope)?.cast(&target))
        }
        ExprKind::Array(items) => {
            let mut typed = Vec::new();
            for i in items {
                typed.push(compile(i, scope)?);
            }
            functions::array::make_array(typed)
        }
        ExprKind::Map(pairs) => {
            let mut typed = Vec::new();
            for (k, v) in pairs {
                typed.push((compile(k, scope)?, compile(v, scope)?));
            }
            Ok(functions::map::make_map(typed))
        }
        ExprKind::Struct(fields) => {
            let mut exprs = Vec::new();
            let mut types = Vec::new();
            for (n, v) in fields {
                let t = compile(v, scope)?;
                exprs.push(t.expr.alias(n.text.as_str()));
                types.push((n.text.clone(), t.ty));
            }
            Ok(Typed::new(
                polars::prelude::as_struct(exprs),
                DfType::Struct(types),
            ))
        }
    }
}

/// The column `name` (of `stream`, in a step with several inputs), matched ignoring case
/// as in ADF when no column has exactly that name; `None` when there is none.
pub(crate) fn find_column(stream: Option<&str>, name: &str, scope: &Scope) -> Option<Typed> {
    let resolved = match stream {
        Some(s) => scope
            .qualified
            .iter()
            .find(|((qs, qc), _)| qs.eq_ignore_ascii_case(s) && qc.eq_ignore_ascii_case(name))
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| name.to_owned()),
        None => name.to_owned(),
    };
    let found = scope
        .schema
        .iter()
        .find(|(n, _)| n.as_str() == resolved)
        .or_else(|| {
            scope
                .schema
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&resolved))
        })?;
    let (n, d) = found;
    Some(Typed::new(col(n.clone()), DfType::from_polars(d)))
}

fn column(stream: Option<&str>, name: &str, scope: &Scope, e: &Expr) -> CResult<Typed> {
    find_column(stream, name, scope).ok_or_else(|| {
        let known: Vec<&str> = scope.schema.iter_names().map(|n| n.as_str()).collect();
        Problem::new(e.span, format!("no column `{name}` in the input")).help(if known.is_empty() {
            "the input has no columns".to_owned()
        } else {
            format!("the columns are: {}", known.join(", "))
        })
    })
}

/// A literal's expression and type.
pub fn literal(l: &Lit) -> Typed {
    value_literal(&lit_value(l))
}

/// A literal's value: whole numbers that fit are integers, others longs.
pub fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Str(s) | Lit::Regex(s) => Value::Str(s.clone()),
        Lit::Int(v, false) if i32::try_from(*v).is_ok() => Value::Int(*v as i32),
        Lit::Int(v, _) => Value::Long(*v),
        Lit::Float(v, false) => Value::Double(*v),
        Lit::Float(v, true) => Value::Float(*v as f32),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Null => Value::Null,
    }
}

/// A value as a literal expression.
pub fn value_literal(v: &Value) -> Typed {
    let ty = v.df_type();
    let dtype = ty.to_polars();
    let expr = match v {
        Value::Null => lit(NULL),
        Value::Bool(b) => lit(*b),
        Value::Int(x) => lit(*x),
        Value::Long(x) => lit(*x),
        Value::Float(x) => lit(*x),
        Value::Double(x) => lit(*x),
        Value::Str(s) => lit(s.as_str()),
        Value::Date(d) => lit(*d).cast(DataType::Date),
        Value::Timestamp(t) => lit(*t).cast(dtype.clone()),
        _ => {
            let series = values_column(
                PlSmallStr::from_static("literal"),
                std::slice::from_ref(v),
                &dtype,
            )
            .take_materialized_series();
            lit(LiteralValue::Series(polars::prelude::SpecialEq::new(
                series,
            )))
            .first()
        }
    };
    Typed::new(expr, ty)
}

/// A vectorised custom function: `f` runs over the values of whole columns (scalars
/// broadcast), giving a column of `out`. `strict` functions give null when any argument
/// is null, without calling `f`.
pub fn kernel<F>(args: Vec<Typed>, out: DfType, strict: bool, f: F) -> Typed
where
    F: Fn(&[Value]) -> Value + Send + Sync + 'static,
{
    let dtype = out.to_polars();
    let result_type = dtype.clone();
    let f = Arc::new(f);
    // Maps arrive as lists of entries; the function sees them as maps.
    let shapes: Vec<Option<DfType>> = args
        .iter()
        .map(|a| a.ty.has_map().then(|| a.ty.clone()))
        .collect();
    let mut exprs: Vec<PExpr> = args.into_iter().map(|a| a.expr).collect();
    if exprs.is_empty() {
        exprs.push(lit(0));
    }
    let expr = map_multiple(
        move |columns: &mut [Column]| {
            let name = columns[0].name().clone();
            // Literals come as one value and broadcast; an empty column (a frame with no
            // rows) makes the result empty, whatever the literals.
            let len = if columns.iter().any(|c| c.is_empty()) {
                0
            } else {
                columns.iter().map(Column::len).max().unwrap_or(0)
            };
            let values: Vec<Vec<Value>> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| match shapes.get(i) {
                    Some(Some(ty)) => column_values(c)
                        .into_iter()
                        .map(|v| v.conform(ty))
                        .collect(),
                    _ => column_values(c),
                })
                .collect();
            let mut out = Vec::with_capacity(len);
            let mut row = Vec::with_capacity(values.len());
            for i in 0..len {
                row.clear();
                for v in &values {
                    row.push(if v.len() == 1 {
                        v[0].clone()
                    } else {
                        v.get(i).cloned().unwrap_or(Value::Null)
                    });
                }
                if strict && row.contains(&Value::Null) {
                    out.push(Value::Null);
                } else {
                    out.push(f(&row));
                }
            }
            Ok(values_column(name, &out, &dtype))
        },
        exprs,
        move |_, fields| Ok(field(fields[0].name(), &result_type)),
    );
    Typed::new(expr, out)
}

fn binary(op: BinOp, l: Typed, r: Typed, e: &Expr) -> CResult<Typed> {
    use BinOp::*;
    let numeric = |l: &Typed, r: &Typed| DfType::wider(&l.ty, &r.ty);
    Ok(match op {
        Add => return functions::math::add(l, r, e),
        Sub => return functions::math::subtract(l, r, e),
        Mul => {
            let ty = numeric(&l, &r);
            Typed::new(l.expr * r.expr, ty)
        }
        Div => functions::math::divide(l, r),
        Rem => functions::math::modulo(l, r),
        And => Typed::new(l.expr.and(r.expr), DfType::Boolean),
        Or => Typed::new(l.expr.or(r.expr), DfType::Boolean),
        Xor => {
            let ty = if l.ty == DfType::Boolean {
                DfType::Boolean
            } else {
                numeric(&l, &r)
            };
            Typed::new(l.expr.xor(r.expr), ty)
        }
        BitAnd => {
            let ty = numeric(&l, &r);
            Typed::new(l.expr.and(r.expr), ty)
        }
        BitOr => {
            let ty = numeric(&l, &r);
            Typed::new(l.expr.or(r.expr), ty)
        }
        EqIgnoreCase => {
            let (a, b) = (l.to_string_expr(), r.to_string_expr());
            Typed::new(
                a.str().to_lowercase().eq(b.str().to_lowercase()),
                DfType::Boolean,
            )
        }
        Eq | Ne | Lt | Le | Gt | Ge => {
            let (a, b) = comparable(l, r);
            let expr = match op {
                Eq => a.eq(b),
                Ne => a.neq(b),
                Lt => a.lt(b),
                Le => a.lt_eq(b),
                Gt => a.gt(b),
                _ => a.gt_eq(b),
            };
            Typed::new(expr, DfType::Boolean)
        }
    })
}

/// Two operands brought to one type for comparison: numbers widen, a string compared with
/// a number or date converts to it.
pub fn comparable(l: Typed, r: Typed) -> (PExpr, PExpr) {
    if l.ty == r.ty || l.ty == DfType::Null || r.ty == DfType::Null {
        return (l.expr, r.expr);
    }
    if l.ty.is_numeric() && r.ty.is_numeric() {
        let ty = DfType::wider(&l.ty, &r.ty);
        return (l.cast(&ty).expr, r.cast(&ty).expr);
    }
    match (&l.ty, &r.ty) {
        (DfType::String, t) if t.is_numeric() => (
            l.expr.cast(DataType::Float64),
            r.expr.cast(DataType::Float64),
        ),
        (t, DfType::String) if t.is_numeric() => (
            l.expr.cast(DataType::Float64),
            r.expr.cast(DataType::Float64),
        ),
        (DfType::Date, DfType::Timestamp) => (l.cast(&DfType::Timestamp).expr, r.expr),
        (DfType::Timestamp, DfType::Date) => (l.expr, r.cast(&DfType::Timestamp).expr),
        (DfType::String, t) | (t, DfType::String) => {
            let t = t.clone();
            (l.cast(&t).expr, r.cast(&t).expr)
        }
        _ => (l.expr, r.expr),
    }
}

/// `when(cond).then(a).otherwise(b)` typed as the wider branch.
pub fn if_else(cond: PExpr, a: Typed, b: Typed) -> Typed {
    let ty = if a.ty == DfType::Null {
        b.ty.clone()
    } else {
        DfType::wider(&a.ty, &b.ty)
    };
    let (a, b) = (a.cast(&ty), b.cast(&ty));
    Typed::new(when(cond).then(a.expr).otherwise(b.expr), ty)
}

/// A null of a type.
pub fn null_of(ty: &DfType) -> PExpr {
    lit(NULL).cast(ty.to_polars())
}
