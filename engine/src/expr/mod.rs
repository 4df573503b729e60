//! ADF's pipeline expression language, as much of it as pipelines that copy Office 365 data
//! use.
//!
//! A JSON string that starts with `@` is an expression (`@@` stands for a literal `@`);
//! `@{...}` inside any other string is replaced by the text of its value; an object
//! `{"value": "...", "type": "Expression"}` is an expression too. [`evaluate`] walks a JSON
//! value, evaluates every expression in it and returns plain JSON.
//!
//! ```
//! use mdflow_engine::expr::{evaluate, ExprContext};
//! let mut ctx = ExprContext::default();
//! ctx.parameters.insert("days".into(), serde_json::json!(7));
//! let v = evaluate(&serde_json::json!("@string(pipeline().parameters.days)"), &ctx).unwrap();
//! assert_eq!(v, serde_json::json!("7"));
//! ```

mod eval;
mod functions;
mod parse;
mod time;

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

pub use time::parse_timestamp;

/// What an expression can see: the values behind `pipeline()`, `dataset()` and
/// `linkedService()`, and the clock behind `utcnow()`.
#[derive(Debug, Clone)]
pub struct ExprContext {
    /// `pipeline().parameters`: the run's parameters, defaults already applied.
    pub parameters: BTreeMap<String, Value>,
    /// `dataset().x`: the parameters of the dataset being resolved.
    pub dataset_parameters: BTreeMap<String, Value>,
    /// `linkedService().x`: the parameters of the linked service being resolved.
    pub linked_service_parameters: BTreeMap<String, Value>,
    /// `pipeline().RunId`.
    pub run_id: String,
    /// `pipeline().Pipeline`: the pipeline's name.
    pub pipeline: String,
    /// `utcnow()` and `pipeline().TriggerTime`; fixed for a whole run so that every
    /// expression of the run sees the same instant.
    pub now: DateTime<Utc>,
}

impl Default for ExprContext {
    fn default() -> Self {
        ExprContext {
            parameters: BTreeMap::new(),
            dataset_parameters: BTreeMap::new(),
            linked_service_parameters: BTreeMap::new(),
            run_id: "00000000-0000-0000-0000-000000000000".to_owned(),
            pipeline: String::new(),
            now: Utc::now(),
        }
    }
}

/// Why an expression failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprErrorKind {
    /// The text is not an expression: ADF rejects it too.
    Syntax,
    /// A function ADF has but mdflow does not support yet, or a wrong argument count.
    Unsupported,
    /// The expression is well formed but its value could not be computed (a missing
    /// parameter, a value of the wrong type).
    Evaluation,
}

/// An expression that could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {} of `{expression}`)", offset + 1)]
pub struct ExprError {
    /// Syntax, unsupported function or evaluation failure.
    pub kind: ExprErrorKind,
    /// What was expected and what was found.
    pub message: String,
    /// The expression text (without the leading `@`).
    pub expression: String,
    /// Byte offset in `expression` where the problem is.
    pub offset: usize,
}

impl ExprError {
    pub(crate) fn new(message: impl Into<String>, expression: &str, offset: usize) -> Self {
        ExprError {
            kind: ExprErrorKind::Syntax,
            message: message.into(),
            expression: expression.to_owned(),
            offset,
        }
    }

    pub(crate) fn with_kind(mut self, kind: ExprErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The expression with a caret under the place of the problem, for terminals.
    pub fn caret(&self) -> String {
        let column = self.expression[..self.offset.min(self.expression.len())]
            .chars()
            .count();
        format!("{}\n{}^", self.expression, " ".repeat(column))
    }
}

/// Evaluates every expression inside a JSON value, recursing into arrays and objects.
pub fn evaluate(value: &Value, ctx: &ExprContext) -> Result<Value, ExprError> {
    match value {
        Value::String(s) => evaluate_string(s, ctx),
        Value::Array(items) => items.iter().map(|v| evaluate(v, ctx)).collect(),
        Value::Object(map) => {
            if let Some(text) = expression_object(value) {
                return evaluate_string(text, ctx);
            }
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), evaluate(v, ctx)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Parses every expression inside a JSON value without evaluating it, checking syntax,
/// function names and argument counts. Returns the JSON pointer (relative to `value`) and
/// error of each broken expression.
pub fn check(value: &Value) -> Vec<(String, ExprError)> {
    let mut out = Vec::new();
    check_into(value, String::new(), &mut out);
    out
}

fn check_into(value: &Value, pointer: String, out: &mut Vec<(String, ExprError)>) {
    match value {
        Value::String(s) => {
            if let Err(e) = for_each_expression(s, |text| {
                let ast = parse::parse(text)?;
                functions::check_calls(&ast, text)
            }) {
                out.push((pointer, e));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_into(v, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            if let Some(text) = expression_object(value) {
                return check_into(
                    &Value::String(text.to_owned()),
                    format!("{pointer}/value"),
                    out,
                );
            }
            for (k, v) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                check_into(v, format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// Whether a JSON value holds an expression anywhere (so its value depends on the run).
pub fn is_dynamic(value: &Value) -> bool {
    match value {
        Value::String(s) => (s.starts_with('@') && !s.starts_with("@@")) || s.contains("@{"),
        Value::Array(items) => items.iter().any(is_dynamic),
        Value::Object(map) => expression_object(value).is_some() || map.values().any(is_dynamic),
        _ => false,
    }
}

/// The text of a `{"value": "...", "type": "Expression"}` object.
fn expression_object(value: &Value) -> Option<&str> {
    let map = value.as_object()?;
    let is_expression = map.get("type").and_then(Value::as_str) == Some("Expression");
    if is_expression && map.len() == 2 {
        map.get("value").and_then(Value::as_str)
    } else {
        None
    }
}

/// Calls `f` with the text of each expression in a string: the whole string after `@`,
/// or each `@{...}` part.
fn for_each_expression(
    s: &str,
    mut f: impl FnMut(&str) -> Result<(), ExprError>,
) -> Result<(), ExprError> {
    if let Some(rest) = s.strip_prefix('@') {
        if !rest.starts_with('@') && !rest.starts_with('{') {
            return f(rest);
        }
    }
    for part in interpolation_parts(s)? {
        if let Part::Expr(text) = part {
            f(text)?;
        }
    }
    Ok(())
}

fn evaluate_string(s: &str, ctx: &ExprContext) -> Result<Value, ExprError> {
    if let Some(rest) = s.strip_prefix('@') {
        if rest.starts_with('@') {
            return Ok(Value::String(rest.to_owned()));
        }
        if !rest.starts_with('{') {
            let ast = parse::parse(rest)?;
            return eval::eval(&ast, rest, ctx);
        }
    }
    if !s.contains("@{") {
        return Ok(Value::String(s.to_owned()));
    }
    let mut out = String::new();
    for part in interpolation_parts(s)? {
        match part {
            Part::Text(t) => out.push_str(&t),
            Part::Expr(text) => {
                let ast = parse::parse(text)?;
                out.push_str(&functions::to_text(&eval::eval(&ast, text, ctx)?));
            }
        }
    }
    Ok(Value::String(out))
}

enum Part<'a> {
    Text(String),
    Expr(&'a str),
}

/// Splits an interpolated string into literal text and `@{...}` expressions; braces inside
/// quoted strings of an expression do not end it.
fn interpolation_parts(s: &str) -> Result<Vec<Part<'_>>, ExprError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('@') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('@') {
            text.push('@');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| {
                ExprError::new(
                    "`@{` is never closed with `}`",
                    s,
                    s.len() - after.len() - 1,
                )
            })?;
            parts.push(Part::Text(std::mem::take(&mut text)));
            parts.push(Part::Expr(&body[..end]));
            rest = &body[end + 1..];
        } else {
            text.push('@');
            rest = after;
        }
    }
    text.push_str(rest);
    parts.push(Part::Text(text));
    Ok(parts)
}

fn closing_brace(body: &str) -> Option<usize> {
    let mut in_string = false;
    for (i, c) in body.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '}' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;
