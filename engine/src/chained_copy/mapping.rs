//! The `TabularTranslator`: JSON paths to sink columns, `collectionReference`, and the
//! conversion of JSON values to column types.

use chrono::{DateTime, Utc};
use mdflow_connectors::stores::{Cell, Column, ColumnType};
use serde_json::{Map, Value};

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A JSON path as ADF writes them: `$['a']['b']`, `$.a.b`, `['a']` or `a.b` (relative to
/// the collection), `[0]` for array items.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    absolute: bool,
    steps: Vec<Step>,
}

impl JsonPath {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("JSON path `{text}` {why}; write it as $['field']['sub']");
        let mut rest = text.trim();
        let absolute = rest.starts_with('$');
        rest = rest.strip_prefix('$').unwrap_or(rest);
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("['") {
                let end = r.find("']").ok_or_else(|| bad("has an unclosed ['"))?;
                steps.push(Step::Key(r[..end].to_owned()));
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| bad("has an unclosed ["))?;
                let index = r[..end]
                    .trim()
                    .parse()
                    .map_err(|_| bad("has a bad index"))?;
                steps.push(Step::Index(index));
                rest = &r[end + 1..];
            } else {
                let r = rest.strip_prefix('.').unwrap_or(rest);
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return Err(bad("has an empty name"));
                }
                steps.push(Step::Key(r[..end].to_owned()));
                rest = &r[end..];
            }
        }
        Ok(JsonPath { absolute, steps })
    }

    fn get<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for step in &self.steps {
            value = match step {
                Step::Key(k) => value.as_object()?.get(k)?,
                Step::Index(i) => value.as_array()?.get(*i)?,
            };
        }
        Some(value)
    }
}

/// One mapping: a source path (or name) to a sink column, with an optional type.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    source: JsonPath,
    pub(crate) sink: String,
    pub(crate) ty: Option<ColumnType>,
}

/// A copy's translator; without mappings every top-level property is a column.
#[derive(Debug, Clone, Default)]
pub(crate) struct Translator {
    pub(crate) mappings: Vec<Mapping>,
    collection: Option<JsonPath>,
}

/// A column type from ADF's interim type names.
pub(crate) fn column_type(name: &str) -> Result<ColumnType, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "string" | "guid" | "char" | "object" => ColumnType::Text,
        "int16" | "int32" | "int64" | "byte" | "integer" | "long" => ColumnType::Int64,
        "single" | "double" | "decimal" | "float" => ColumnType::Float64,
        "boolean" | "bool" => ColumnType::Boolean,
        "datetime" | "datetimeoffset" | "date" => ColumnType::Timestamp,
        other => {
            return Err(format!(
                "sink type `{other}` is not supported; use String, Int32, Int64, Double, \
                 Decimal, Boolean, DateTime or DateTimeOffset"
            ))
        }
    })
}

impl Translator {
    pub(crate) fn from_json(v: &Value) -> Result<Self, String> {
        if v.is_null() {
            return Ok(Translator::default());
        }
        if v["type"].as_str().is_some_and(|t| t != "TabularTranslator") {
            return Err(format!(
                "translator type `{}` is not supported; use TabularTranslator",
                v["type"]
            ));
        }
        let collection = match v["collectionReference"].as_str() {
            Some(c) if !c.is_empty() => Some(JsonPath::parse(c)?),
            _ => None,
        };
        let mut mappings = Vec::new();
        for (i, m) in v["mappings"].as_array().into_iter().flatten().enumerate() {
            let source = m["source"]["path"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| m["source"]["name"].as_str().map(|n| format!("$['{n}']")))
                .ok_or_else(|| format!("translator mapping {i} has no source path or name"))?;
            let sink = m["sink"]["name"]
                .as_str()
                .ok_or_else(|| format!("translator mapping {i} has no sink name"))?;
            let ty = m["sink"]["type"].as_str().map(column_type).transpose()?;
            let mut source = JsonPath::parse(&source)?;
            // Without a collection, every path is taken from the document.
            if collection.is_none() {
                source.absolute = true;
            }
            mappings.push(Mapping {
                source,
                sink: sink.to_owned(),
                ty,
            });
        }
        Ok(Translator {
            mappings,
            collection,
        })
    }

    /// The rows one document gives: objects keyed by sink column.
    pub(crate) fn rows(&self, document: &Value) -> Vec<Value> {
        if self.mappings.is_empty() {
            return vec![document.clone()];
        }
        let map = |item: Option<&Value>| {
            let mut row = Map::new();
            for m in &self.mappings {
                let from = if m.source.absolute {
                    Some(document)
                } else {
                    item
                };
                let value = from.and_then(|v| m.source.get(v)).cloned();
                row.insert(m.sink.clone(), value.unwrap_or(Value::Null));
            }
            Value::Object(row)
        };
        match &self.collection {
            None => vec![map(None)],
            Some(path) => match path.get(document) {
                Some(Value::Array(items)) => items.iter().map(|i| map(Some(i))).collect(),
                _ => Vec::new(),
            },
        }
    }
}

/// Guesses a column's type from its values: whole numbers, numbers, booleans, else text.
pub(crate) fn infer(rows: &[(String, Value)], name: &str) -> ColumnType {
    let mut ty = None;
    for (_, row) in rows {
        let guess = match &row[name] {
            Value::Null => continue,
            Value::Bool(_) => ColumnType::Boolean,
            Value::Number(n) if n.is_i64() => ColumnType::Int64,
            Value::Number(_) => ColumnType::Float64,
            _ => return ColumnType::Text,
        };
        ty = Some(match (ty, guess) {
            (None, g) => g,
            (Some(a), b) if a == b => a,
            (Some(ColumnType::Int64), ColumnType::Float64)
            | (Some(ColumnType::Float64), ColumnType::Int64) => ColumnType::Float64,
            _ => return ColumnType::Text,
        });
    }
    ty.unwrap_or(ColumnType::Text)
}

/// Converts a row to the columns' types, or says which value does not fit.
pub(crate) fn convert(row: &Value, columns: &[Column]) -> Result<Vec<Cell>, String> {
    columns
        .iter()
        .map(|c| {
            let v = &row[c.name.as_str()];
            cell(v, c.ty).ok_or_else(|| {
                format!(
                    "column `{}`: {} does not convert to {:?}",
                    c.name,
                    shorten(&v.to_string()),
                    c.ty
                )
            })
        })
        .collect()
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text.to_owned()
    }
}

fn cell(v: &Value, ty: ColumnType) -> Option<Cell> {
    if v.is_null() {
        return Some(Cell::Null);
    }
    Some(match ty {
        ColumnType::Text => Cell::Text(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        ColumnType::Int64 => Cell::Int(match v {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })?,
            Value::String(s) => s.trim().parse().ok()?,
            Value::Bool(b) => i64::from(*b),
            _ => return None,
        }),
        ColumnType::Float64 => Cell::Float(match v {
            Value::Number(n) => n.as_f64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        }),
        ColumnType::Boolean => Cell::Bool(match v {
            Value::Bool(b) => *b,
            Value::String(s) if s.eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.eq_ignore_ascii_case("false") => false,
            Value::Number(n) if n.as_i64() == Some(1) => true,
            Value::Number(n) if n.as_i64() == Some(0) => false,
            _ => return None,
        }),
        ColumnType::Timestamp => Cell::Timestamp(match v {
            Value::String(s) => timestamp(s)?,
            _ => return None,
        }),
    })
}

fn timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collections_unroll_with_absolute_and_relative_paths() {
        let t = Translator::from_json(&json!({
            "type": "TabularTranslator",
            "collectionReference": "$['to']",
            "mappings": [
                {"source": {"path": "$['id']"}, "sink": {"name": "id"}},
                {"source": {"path": "['emailAddress']['address']"}, "sink": {"name": "to"}},
            ]
        }))
        .unwrap();
        let doc = json!({"id": "m1", "to": [
            {"emailAddress": {"address": "a@x"}}, {"emailAddress": {"address": "b@x"}}]});
        let rows = t.rows(&doc);
        assert_eq!(
            rows,
            [
                json!({"id": "m1", "to": "a@x"}),
                json!({"id": "m1", "to": "b@x"})
            ]
        );
        assert_eq!(
            JsonPath::parse("$.a[0].b")
                .unwrap()
                .get(&json!({"a": [{"b": 2}]})),
            Some(&json!(2))
        );
    }

    #[test]
    fn values_that_do_not_fit_are_named() {
        let columns = [Column {
            name: "n".into(),
            ty: ColumnType::Int64,
        }];
        assert_eq!(
            convert(&json!({"n": "7"}), &columns).unwrap(),
            [Cell::Int(7)]
        );
        let err = convert(&json!({"n": "seven"}), &columns).unwrap_err();
        assert!(
            err.contains("column `n`") && err.contains("\"seven\""),
            "{err}"
        );
    }
}
