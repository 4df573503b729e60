//! Metafunctions: expressions about the input's columns rather than one column's values.
//! `columnNames()`, `columns()`, `hasColumn('c')`, `byName('c')`, `byNames(['a', 'b'])`,
//! `byPosition(n)`, `byPath('a.b')`, `hasPath('a.b')`, `byItem(parent, 'field')`,
//! `typeMatch(type, 'number')` and `expr('text')`.
//!
//! Names and positions must be constants (literals or `$parameters`): they are resolved
//! against the input's schema when the flow compiles, so the rows run plain column reads.
//! A name that matches no column gives null, as in ADF, rather than an error.

use polars::prelude::{lit, NULL};

use super::arity;
use super::array::make_array;
use super::constant::{constant_arg, int_arg, text_arg};
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{
    compile, find_column, kernel, value_literal, CResult, Scope, Typed,
};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;
use crate::dataflow::source::Problem;

/// The input's columns as a flow sees them: mdflow's own (a row's `alterRow` mark, a
/// lookup's match) are not among them.
fn visible(scope: &Scope) -> Vec<(String, DfType)> {
    scope
        .schema
        .iter()
        .filter(|(n, _)| !crate::dataflow::exec::is_hidden(n))
        .map(|(n, d)| (n.to_string(), DfType::from_polars(d)))
        .collect()
}

fn null() -> Typed {
    Typed::new(lit(NULL), DfType::Null)
}

/// The optional stream name at `args[i]`.
fn stream_arg(args: &[&Expr], i: usize, scope: &Scope, name: &str) -> CResult<Option<String>> {
    args.get(i)
        .map(|a| text_arg(a, scope, &format!("the stream name of `{name}`")))
        .transpose()
}

/// A field path `a.b.c` below a column; `None` where a step is missing.
fn path(dotted: &str, stream: Option<&str>, scope: &Scope) -> Option<Typed> {
    let mut parts = dotted.split('.');
    let mut at = find_column(stream, parts.next()?, scope)?;
    for field in parts {
        let DfType::Struct(fields) = &at.ty else {
            return None;
        };
        let (found, ty) = fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(field))?;
        at = Typed::new(at.expr.struct_().field_by_name(found), ty.clone());
    }
    Some(at)
}

/// The values of several columns as one array: numbers widen, anything else becomes text.
fn values_array(columns: Vec<Typed>) -> CResult<Typed> {
    let numeric = columns
        .iter()
        .all(|c| c.ty.is_numeric() || c.ty == DfType::Null);
    let same = columns.windows(2).all(|w| w[0].ty == w[1].ty);
    let columns = if numeric || same {
        columns
    } else {
        columns
            .into_iter()
            .map(|c| Typed::new(c.to_string_expr(), DfType::String))
            .collect()
    };
    make_array(columns)
}

/// `byItem(parent, field)`: a structure's field, or in an array of structures the field
/// of the first item that has it; null without one.
fn by_item(parent: Typed, field: &str) -> Typed {
    let find = |fields: &[(String, DfType)]| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(field))
            .cloned()
    };
    match parent.ty.clone() {
        DfType::Struct(fields) => match find(&fields) {
            Some((n, t)) => Typed::new(parent.expr.struct_().field_by_name(&n), t),
            None => null(),
        },
        DfType::Array(item) => match item.as_ref() {
            DfType::Struct(fields) => match find(fields) {
                Some((n, t)) => kernel(vec![parent], t, true, move |v| {
                    let Value::Array(items) = &v[0] else {
                        return Value::Null;
                    };
                    items
                        .iter()
                        .find_map(|i| match i {
                            Value::Struct(fs) => {
                                fs.iter().find(|(f, _)| *f == n).map(|(_, x)| x.clone())
                            }
                            _ => None,
                        })
                        .unwrap_or(Value::Null)
                }),
                None => null(),
            },
            _ => null(),
        },
        _ => null(),
    }
}

/// Whether a type name belongs to a base type of `typeMatch`.
fn type_matches(ty: &str, base: &str) -> bool {
    let ty = ty.to_ascii_lowercase();
    let ty = ty.split('(').next().unwrap_or_default();
    let integral = ["short", "integer", "long", "byte"];
    let fractional = ["double", "float", "decimal"];
    match base.to_ascii_lowercase().as_str() {
        "number" => integral.contains(&ty) || fractional.contains(&ty),
        "integral" => integral.contains(&ty),
        "fractional" => fractional.contains(&ty),
        "datetime" => ty == "date" || ty == "timestamp",
        other => ty == other,
    }
}

/// Compiles a metafunction; `None` for other names.
pub(super) fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let lower = name.to_ascii_lowercase();
    let r = (|| -> CResult<Option<Typed>> {
        Ok(Some(match lower.as_str() {
            "columnnames" => {
                arity(name, args, 0, 2, e)?;
                stream_arg(args, 0, scope, name)?;
                let drifted = match args.get(1) {
                    Some(a) => constant_arg(a, scope, "the second argument of `columnNames`")?,
                    None => Value::Bool(false),
                };
                if drifted == Value::Bool(true) {
                    return Err(Problem::new(
                        args[1].span,
                        "mdflow does not track drifted columns, so `columnNames(..., true())` has no answer",
                    )
                    .help("declare the source's columns with output(...) and list them instead"));
                }
                let names = visible(scope).into_iter().map(|(n, _)| Value::Str(n));
                value_literal(&Value::Array(names.collect()))
            }
            "columns" => {
                arity(name, args, 0, 1, e)?;
                let stream = stream_arg(args, 0, scope, name)?;
                let mut columns = Vec::new();
                for (n, _) in visible(scope) {
                    columns.extend(find_column(stream.as_deref(), &n, scope));
                }
                values_array(columns)?
            }
            "hascolumn" => {
                arity(name, args, 1, 2, e)?;
                let column = text_arg(args[0], scope, "the column name of `hasColumn`")?;
                let stream = stream_arg(args, 1, scope, name)?;
                let found = find_column(stream.as_deref(), &column, scope).is_some();
                Typed::new(lit(found), DfType::Boolean)
            }
            "byname" => {
                arity(name, args, 1, 2, e)?;
                let column = text_arg(args[0], scope, "the column name of `byName`")?;
                let stream = stream_arg(args, 1, scope, name)?;
                find_column(stream.as_deref(), &column, scope).unwrap_or_else(null)
            }
            "bynames" => {
                arity(name, args, 1, 2, e)?;
                let what = "the column names of `byNames`";
                let Value::Array(names) = constant_arg(args[0], scope, what)? else {
                    return Err(
                        Problem::new(args[0].span, format!("{what} must be an array"))
                            .help("write byNames(['a', 'b'])"),
                    );
                };
                let stream = stream_arg(args, 1, scope, name)?;
                let mut columns = Vec::new();
                for n in names {
                    let column = n.to_text().unwrap_or_default();
                    columns
                        .push(find_column(stream.as_deref(), &column, scope).unwrap_or_else(null));
                }
                values_array(columns)?
            }
            "byposition" => {
                arity(name, args, 1, 1, e)?;
                let n = int_arg(args[0], scope, "the position of `byPosition`")?;
                let columns = visible(scope);
                match usize::try_from(n)
                    .ok()
                    .and_then(|n| columns.get(n.checked_sub(1)?))
                {
                    Some((column, _)) => find_column(None, column, scope).unwrap_or_else(null),
                    None => null(),
                }
            }
            "bypath" | "haspath" => {
                arity(name, args, 1, 2, e)?;
                let dotted = text_arg(args[0], scope, &format!("the path of `{name}`"))?;
                let stream = stream_arg(args, 1, scope, name)?;
                let found = path(&dotted, stream.as_deref(), scope);
                if lower == "haspath" {
                    Typed::new(lit(found.is_some()), DfType::Boolean)
                } else {
                    found.unwrap_or_else(null)
                }
            }
            "byitem" => {
                arity(name, args, 2, 2, e)?;
                let parent = compile(args[0], scope)?;
                let field = text_arg(args[1], scope, "the item name of `byItem`")?;
                by_item(parent, &field)
            }
            // `expr('a * 2')`: the text compiled as if written in place; the text must be a
            // constant, so it compiles once with the rest of the flow.
            "expr" => {
                arity(name, args, 1, 1, e)?;
                let text = text_arg(args[0], scope, "the text of `expr`")?;
                let parsed = crate::dataflow::parse_expression(&text).map_err(|problems| {
                    let first = problems
                        .first()
                        .map_or(String::new(), |p| p.message.clone());
                    Problem::new(
                        args[0].span,
                        format!("`{text}` is not an expression: {first}"),
                    )
                    .help("the text must be an expression as a derive would take it")
                })?;
                compile(&parsed, scope).map_err(|p| {
                    Problem::new(args[0].span, format!("in `{text}`: {}", p.message)).help(p.help)
                })?
            }
            "typematch" => {
                arity(name, args, 2, 2, e)?;
                let base = text_arg(args[1], scope, "the base type of `typeMatch`")?;
                let ty = compile(args[0], scope)?;
                kernel(vec![ty], DfType::Boolean, true, move |v| {
                    Value::Bool(type_matches(v[0].as_str().unwrap_or_default(), &base))
                })
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::dataflow::expr::{evaluate, Value};

    fn row() -> serde_json::Value {
        json!({"id": "m1", "size": 10, "score": 2.5})
    }

    fn eval(text: &str) -> Value {
        evaluate(text, &row()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn text(items: &[&str]) -> Value {
        Value::Array(items.iter().map(|s| Value::Str(s.to_string())).collect())
    }

    #[test]
    fn names_and_positions_read_columns() {
        assert_eq!(eval("columnNames()"), text(&["id", "size", "score"]));
        assert_eq!(eval("byName('SIZE')"), Value::Int(10));
        assert_eq!(eval("byName('nope')"), Value::Null);
        assert_eq!(eval("byPosition(3)"), Value::Double(2.5));
        assert_eq!(eval("byPosition(4)"), Value::Null);
        assert_eq!(eval("hasColumn('id')"), Value::Bool(true));
        assert_eq!(eval("hasColumn('nope')"), Value::Bool(false));
        // Numbers widen together; mixed with text, everything is text.
        assert_eq!(
            eval("byNames(['size', 'score'])"),
            Value::Array(vec![Value::Double(10.0), Value::Double(2.5)])
        );
        assert_eq!(eval("columns()"), text(&["m1", "10", "2.5"]));
    }

    #[test]
    fn paths_and_items_walk_structures() {
        let nested = "@(a = @(b = 1, c = 'x'))";
        assert_eq!(eval(&format!("byItem({nested}, 'a').b")), Value::Int(1));
        assert_eq!(eval(&format!("byItem({nested}, 'z')")), Value::Null);
        assert_eq!(eval("byItem([@(k = 1), @(k = 2)], 'k')"), Value::Int(1));
        assert_eq!(eval("hasPath('id')"), Value::Bool(true));
        assert_eq!(eval("hasPath('id.x')"), Value::Bool(false));
        assert_eq!(eval("byPath('size')"), Value::Int(10));
    }

    #[test]
    fn type_names_match_their_base_types() {
        for (ty, base, want) in [
            ("integer", "number", true),
            ("decimal(10,2)", "fractional", true),
            ("long", "integral", true),
            ("double", "integral", false),
            ("timestamp", "datetime", true),
            ("string", "string", true),
        ] {
            let got = eval(&format!("typeMatch('{ty}', '{base}')"));
            assert_eq!(got, Value::Bool(want), "{ty} {base}");
        }
    }

    #[test]
    fn computed_names_and_drift_are_refused_with_the_fix() {
        let fail = |t: &str| evaluate(t, &row()).unwrap_err().to_string();
        let m = fail("byName(lower('ID'))");
        assert!(
            m.contains("must be a constant") && m.contains("$parameter"),
            "{m}"
        );
        let m = fail("columnNames('', true())");
        assert!(m.contains("drifted") && m.contains("output(...)"), "{m}");
        assert_eq!(eval("expr('size * 2')"), Value::Int(20));
        let m = fail("expr('size *')");
        assert!(m.contains("is not an expression"), "{m}");
        let m = fail("expr('nope + 1')");
        assert!(
            m.contains("in `nope + 1`") && m.contains("no column `nope`"),
            "{m}"
        );
        let m = fail("byNames('id')");
        assert!(m.contains("must be an array"), "{m}");
    }
}
