//! parse and stringify with `format: 'json'`: text to typed columns and back.

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::LazyFrame;
use serde_json::Value as Json;

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, ExprKind, Lit};
use crate::dataflow::expr::compile::kernel;
use crate::dataflow::expr::value::{date_text, timestamp_text};
use crate::dataflow::expr::{DfType, Value};

impl Step<'_> {
    /// `parse(col = text ? (a as string, b as integer[]), format: 'json')`: each text is
    /// read as one JSON document into the declared type; text that is not JSON, and values
    /// that do not fit their type, are null.
    pub(super) fn parse(&self, frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        self.json_step(frame, true)
    }

    /// `stringify(col = value ? string, format: 'json')`: each value, usually a structure
    /// or an array, written as JSON text.
    pub(super) fn stringify(&self, frame: LazyFrame) -> Result<LazyFrame, ExecError> {
        self.json_step(frame, false)
    }

    fn json_step(&self, mut frame: LazyFrame, parse: bool) -> Result<LazyFrame, ExecError> {
        match self.statement.option("format").map(|e| &e.kind) {
            None => {}
            Some(ExprKind::Lit(Lit::Str(f))) if f.eq_ignore_ascii_case("json") => {}
            Some(_) => return Err(self.unsupported("formats other than 'json'")),
        }
        if let Some(e) = self.statement.option("documentForm") {
            if !matches!(&e.kind, ExprKind::Lit(Lit::Str(f)) if f == "singleDocument") {
                return Err(self.unsupported("documentForm other than 'singleDocument'"));
            }
        }
        let scope = self.scope(&mut frame)?;
        let mut columns = Vec::new();
        for a in &self.statement.args {
            let Arg::Assign(target, value) = a else {
                continue;
            };
            let Some(name) = target.as_name() else {
                return Err(self.unsupported("column patterns"));
            };
            let (source, ty) = match &value.kind {
                ExprKind::Assert(inner, t) => {
                    let ty = DfType::from_ast(t).map_err(|m| self.unsupported(m))?;
                    (inner.as_ref(), ty)
                }
                _ => (value, DfType::String),
            };
            let t = self.compile(source, &scope)?;
            let column = if parse {
                let target = ty.clone();
                kernel(vec![t.cast(&DfType::String)], ty, true, move |v| {
                    match v[0].as_str().map(serde_json::from_str::<Json>) {
                        Some(Ok(json)) => typed(&json, &target),
                        _ => Value::Null,
                    }
                })
            } else {
                kernel(vec![t], DfType::String, true, |v| {
                    Value::Str(to_json(&v[0]).to_string())
                })
            };
            columns.push(column.expr.alias(name));
        }
        Ok(frame.with_columns(columns))
    }
}

/// A JSON value as a value of `ty`; what does not fit is null.
fn typed(json: &Json, ty: &DfType) -> Value {
    match (ty, json) {
        (_, Json::Null) => Value::Null,
        (DfType::String, Json::String(s)) => Value::Str(s.clone()),
        (DfType::String, other) => Value::Str(other.to_string()),
        (DfType::Integer | DfType::Short | DfType::Byte, j) => number(j)
            .and_then(|f| (f.fract() == 0.0).then_some(f as i32))
            .map_or(Value::Null, Value::Int),
        (DfType::Long, j) => number(j)
            .and_then(|f| (f.fract() == 0.0).then_some(f as i64))
            .map_or(Value::Null, Value::Long),
        (DfType::Double | DfType::Decimal(..), j) => number(j).map_or(Value::Null, Value::Double),
        (DfType::Float, j) => number(j).map_or(Value::Null, |f| Value::Float(f as f32)),
        (DfType::Boolean, Json::Bool(b)) => Value::Bool(*b),
        (DfType::Date, Json::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(Value::Null, |d| {
                Value::Date((d.and_utc().timestamp() / 86_400) as i32)
            }),
        (DfType::Timestamp, Json::String(s)) => ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), f).ok())
            .map_or(Value::Null, |t| {
                Value::Timestamp(t.and_utc().timestamp_micros())
            }),
        (DfType::Array(inner), Json::Array(items)) => {
            Value::Array(items.iter().map(|j| typed(j, inner)).collect())
        }
        (DfType::Struct(fields), Json::Object(map)) => Value::Struct(
            fields
                .iter()
                .map(|(n, t)| {
                    let v = map
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map_or(Value::Null, |(_, j)| typed(j, t));
                    (n.clone(), v)
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn number(j: &Json) -> Option<f64> {
    match j {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A value as JSON: dates and timestamps as their text, bytes as an array of numbers.
fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(x) => Json::from(*x),
        Value::Long(x) => Json::from(*x),
        Value::Float(x) => Json::from(*x),
        Value::Double(x) => Json::from(*x),
        Value::Str(s) => Json::String(s.clone()),
        Value::Date(d) => Json::String(date_text(*d)),
        Value::Timestamp(t) => Json::String(timestamp_text(*t)),
        Value::Binary(b) => Json::from(b.clone()),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Struct(fields) => Json::Object(
            fields
                .iter()
                .map(|(n, v)| (n.clone(), to_json(v)))
                .collect(),
        ),
        // An object keyed by the keys' text, as Spark writes a map.
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_text().unwrap_or_default(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::super::tests::flow;

    #[test]
    fn parse_then_stringify_round_trips() {
        let input = df!(
            "id" => [1i32, 2, 3],
            "doc" => [
                Some(r#"{"name": "Ann", "tags": ["x", "y"], "age": 41}"#),
                Some("not json"),
                None,
            ]
        )
        .unwrap();
        let out = flow(
            "source() ~> S
             S parse(p = doc ? (name as string, tags as string[], age as long),
                 format: 'json', documentForm: 'singleDocument') ~> P
             P derive(name = p.name, first = p.tags[1]) ~> D
             D stringify(back = p ? string, format: 'json') ~> J
             J select(mapColumn(id, name, first, back)) ~> Sel
             Sel sink() ~> Out",
            &[("S", input)],
        )
        .unwrap();
        let expected = df!(
            "id" => [1i32, 2, 3],
            "name" => [Some("Ann"), None, None],
            "first" => [Some("x"), None, None],
            "back" => [Some(r#"{"name":"Ann","tags":["x","y"],"age":41}"#), None, None]
        )
        .unwrap();
        assert!(
            out.sinks["Out"].equals_missing(&expected),
            "{}",
            out.sinks["Out"]
        );
    }
}
