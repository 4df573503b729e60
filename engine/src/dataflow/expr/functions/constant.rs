//! Arguments read when a flow compiles rather than per row: a hash's bit length, a
//! charset, an escape format, the column a metafunction names. They must be constants:
//! literals, `$parameters`, or arrays of them.

use crate::dataflow::ast::{Expr, ExprKind, UnOp};
use crate::dataflow::expr::compile::{lit_value, CResult, Scope};
use crate::dataflow::expr::value::Value;
use crate::dataflow::source::Problem;

/// The value of a constant expression; `None` when it depends on the row.
pub(crate) fn constant(e: &Expr, scope: &Scope) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Lit(l) => lit_value(l),
        ExprKind::Dollar(name) => scope.params.get(name)?.clone(),
        ExprKind::Unary(UnOp::Neg, inner) => match constant(inner, scope)? {
            Value::Int(x) => Value::Int(x.checked_neg()?),
            Value::Long(x) => Value::Long(x.checked_neg()?),
            Value::Float(x) => Value::Float(-x),
            Value::Double(x) => Value::Double(-x),
            _ => return None,
        },
        // `true()`, `false()` and `null()` are literals written as calls.
        ExprKind::Call(name, args) if args.is_empty() => {
            match name.text.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => return None,
            }
        }
        ExprKind::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| constant(i, scope))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// A constant argument; `what` names it in the problem ("the charset of `encode`").
pub(crate) fn constant_arg(e: &Expr, scope: &Scope, what: &str) -> CResult<Value> {
    constant(e, scope).ok_or_else(|| {
        Problem::new(e.span, format!("{what} must be a constant"))
            .help("write a literal or a $parameter: it is read when the flow compiles")
    })
}

/// A constant whole-number argument.
pub(crate) fn int_arg(e: &Expr, scope: &Scope, what: &str) -> CResult<i64> {
    match constant_arg(e, scope, what)? {
        v @ (Value::Int(_) | Value::Long(_)) => Ok(v.as_i64().unwrap_or_default()),
        other => Err(Problem::new(
            e.span,
            format!("{what} must be a whole number, not {}", other.literal()),
        )),
    }
}

/// A constant text argument.
pub(crate) fn text_arg(e: &Expr, scope: &Scope, what: &str) -> CResult<String> {
    match constant_arg(e, scope, what)? {
        Value::Str(s) => Ok(s),
        other => Err(Problem::new(
            e.span,
            format!("{what} must be text, not {}", other.literal()),
        )),
    }
}
