//! Evaluates one expression, optionally against one row given as JSON: the expression is
//! compiled and run by Polars on a one-row frame, like any other.

use polars::prelude::{Column, DataFrame, IntoLazy, NamedFrom, Series};
use serde_json::Value as Json;

use super::compile::{compile, Scope};
use super::value::{column_values, Value};
use crate::dataflow::parser::parse_expression;
use crate::dataflow::source::{Problem, SourceText};

/// Why an expression could not be evaluated.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EvalError {
    /// The expression does not parse or type-check; rendered with the place.
    #[error("{0}")]
    Invalid(String),
    /// Polars failed while computing it.
    #[error("the expression failed: {0}")]
    Failed(String),
}

/// Evaluates `text` against `row` (a JSON object of column values, or null).
pub fn evaluate(text: &str, row: &Json) -> Result<Value, EvalError> {
    let source = SourceText::new("<expression>", text);
    let render = |ps: Vec<Problem>| {
        EvalError::Invalid(
            ps.iter()
                .map(|p| p.render(&source).to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let expr = parse_expression(text).map_err(render)?;
    let frame = row_frame(row).map_err(EvalError::Invalid)?;
    let scope = Scope {
        schema: (**frame.schema()).clone(),
        ..Scope::default()
    };
    let typed = compile(&expr, &scope).map_err(|p| render(vec![p]))?;
    let ty = typed.ty.clone();
    let out = frame
        .lazy()
        .select([typed.expr.alias("value")])
        .collect()
        .map_err(|e| EvalError::Failed(e.to_string()))?;
    let values = column_values(&out.columns()[0]);
    let value = values.into_iter().next().unwrap_or(Value::Null);
    Ok(value.conform(&ty))
}

/// The column of a one-row frame without columns of its own (hidden from metafunctions).
const PLACEHOLDER: &str = "__mdflow_row";

/// A one-row frame from a JSON object: strings, whole numbers (integer, or long when
/// wider), decimals (double), booleans; nested values are kept as JSON text.
fn row_frame(row: &Json) -> Result<DataFrame, String> {
    let mut columns: Vec<Column> = Vec::new();
    match row {
        Json::Null => {
            columns.push(Series::new(PLACEHOLDER.into(), &[0i32]).into());
        }
        Json::Object(map) => {
            for (k, v) in map {
                let name = k.as_str().into();
                let s = match v {
                    Json::String(s) => Series::new(name, &[s.as_str()]),
                    Json::Bool(b) => Series::new(name, &[*b]),
                    Json::Number(n) => match n.as_i64() {
                        Some(i) if i32::try_from(i).is_ok() => Series::new(name, &[i as i32]),
                        Some(i) => Series::new(name, &[i]),
                        None => Series::new(name, &[n.as_f64().unwrap_or(f64::NAN)]),
                    },
                    Json::Null => Series::new(name, &[Option::<&str>::None]),
                    other => Series::new(name, &[other.to_string()]),
                };
                columns.push(s.into());
            }
            if columns.is_empty() {
                columns.push(Series::new(PLACEHOLDER.into(), &[0i32]).into());
            }
        }
        _ => return Err("--row must be a JSON object such as {\"a\": 1}".into()),
    }
    DataFrame::new_infer_height(columns).map_err(|e| e.to_string())
}
