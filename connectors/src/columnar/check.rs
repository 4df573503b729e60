//! Conformance of JSON rows to a catalog table: which fields the table does not know and
//! which values have the wrong type. Used by `mdflow catalog check` and by tests of every
//! generated table.

use std::fmt;

use serde_json::Value;

use crate::catalog::{FieldType, NamedType, Table};

/// One way a row does not conform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A key the table's schema does not have, with its path such as `sender.emailAddress.x`.
    UnknownField(String),
    /// A value whose JSON kind does not fit the column's type.
    TypeMismatch {
        /// Path of the value.
        path: String,
        /// The expected type.
        expected: String,
        /// What was found, such as `string "abc"`.
        found: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownField(path) => write!(f, "unknown field `{path}`"),
            Problem::TypeMismatch {
                path,
                expected,
                found,
            } => {
                write!(f, "`{path}`: expected {expected}, found {found}")
            }
        }
    }
}

/// Checks one row (a JSON object) against a table and returns every problem found.
pub fn check_row(table: &Table, row: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    match row {
        Value::Object(_) => check_fields(&table.columns, row, "", &mut problems),
        other => problems.push(Problem::TypeMismatch {
            path: String::new(),
            expected: "a JSON object per line".into(),
            found: describe(other),
        }),
    }
    problems
}

fn check_fields(fields: &[NamedType], value: &Value, prefix: &str, out: &mut Vec<Problem>) {
    let Value::Object(map) = value else { return };
    for (key, v) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match fields.iter().find(|f| f.name == *key) {
            Some(field) => check_value(&field.ty, v, &path, out),
            None => out.push(Problem::UnknownField(path)),
        }
    }
}

fn check_value(ty: &FieldType, value: &Value, path: &str, out: &mut Vec<Problem>) {
    if value.is_null() {
        return;
    }
    let fits = match (ty, value) {
        (FieldType::Json, _) => true,
        (FieldType::String, Value::String(_)) => true,
        (FieldType::Boolean, Value::Bool(_)) => true,
        (FieldType::Int32, Value::Number(n)) => {
            n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())
        }
        (FieldType::Int64, Value::Number(n)) => n.as_i64().is_some(),
        (FieldType::Double, Value::Number(_)) => true,
        (FieldType::DateTime, Value::String(s)) => parse_datetime(s).is_some(),
        (FieldType::List(item), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                check_value(item, v, &format!("{path}[{i}]"), out);
            }
            true
        }
        (FieldType::Struct(fields), Value::Object(_)) => {
            check_fields(fields, value, path, out);
            true
        }
        _ => false,
    };
    if !fits {
        out.push(Problem::TypeMismatch {
            path: path.to_owned(),
            expected: ty.to_string(),
            found: describe(value),
        });
    }
}

fn describe(value: &Value) -> String {
    let mut text = value.to_string();
    if text.len() > 40 {
        let cut = (0..=40)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    format!("{kind} {text}")
}

/// Parses the instants MGDC writes: RFC 3339 with an offset or `Z`, or a local date-time
/// without one (taken as UTC), with up to nine fractional digits. Returns microseconds
/// since the Unix epoch.
pub fn parse_datetime(text: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn problems_name_their_path() {
        let table = Catalog::builtin().table("Message_v1").unwrap();
        let row = serde_json::json!({
            "subject": 3,
            "sender": {"emailAddress": {"name": "A", "adress": "a@b"}},
            "receivedDateTime": "yesterday",
            "toRecipients": [{"emailAddress": {"name": "B", "address": "b@c"}}]
        });
        let text: Vec<String> = check_row(table, &row)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            text,
            [
                "`subject`: expected string, found number 3",
                "unknown field `sender.emailAddress.adress`",
                "`receivedDateTime`: expected datetime, found string \"yesterday\"",
            ]
        );
    }

    #[test]
    fn instants_parse_in_the_forms_mgdc_writes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(
            parse_datetime("1970-01-01T00:00:01.5000000"),
            Some(1_500_000)
        );
        assert!(parse_datetime("0001-01-01T00:00:00Z").is_some());
        assert_eq!(parse_datetime("01/02/2020"), None);
    }
}
