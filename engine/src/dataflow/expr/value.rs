//! Single values: what vectorised custom functions compute element by element, and how
//! results print back in data flow literal syntax (`'BO'`, `30`, `toDate('2012-12-15')`).

use chrono::{DateTime, NaiveDate};
use polars::prelude::{AnyValue, Column, DataType, Field, PlSmallStr, Series, TimeUnit};

use super::types::DfType;
use crate::dataflow::printer::{double, quote};

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true`, `false`
    Bool(bool),
    /// An integer, short or byte.
    Int(i32),
    /// A long.
    Long(i64),
    /// A float.
    Float(f32),
    /// A double (or decimal).
    Double(f64),
    /// A string.
    Str(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01T00:00:00 UTC.
    Timestamp(i64),
    /// Bytes.
    Binary(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
    /// A structure.
    Struct(Vec<(String, Value)>),
    /// A map's entries, in order.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// From a Polars value.
    pub fn from_any(v: &AnyValue<'_>) -> Value {
        match v {
            AnyValue::Null => Value::Null,
            AnyValue::Boolean(b) => Value::Bool(*b),
            AnyValue::Int8(x) => Value::Int(*x as i32),
            AnyValue::Int16(x) => Value::Int(*x as i32),
            AnyValue::Int32(x) => Value::Int(*x),
            AnyValue::Int64(x) => Value::Long(*x),
            AnyValue::UInt8(x) => Value::Int(*x as i32),
            AnyValue::UInt16(x) => Value::Int(*x as i32),
            AnyValue::UInt32(x) => Value::Long(*x as i64),
            AnyValue::UInt64(x) => Value::Long(*x as i64),
            AnyValue::Float32(x) => Value::Float(*x),
            AnyValue::Float64(x) => Value::Double(*x),
            AnyValue::String(s) => Value::Str((*s).to_owned()),
            AnyValue::StringOwned(s) => Value::Str(s.to_string()),
            AnyValue::Date(d) => Value::Date(*d),
            AnyValue::Datetime(t, unit, _) | AnyValue::DatetimeOwned(t, unit, _) => {
                Value::Timestamp(match unit {
                    TimeUnit::Nanoseconds => t / 1000,
                    TimeUnit::Microseconds => *t,
                    TimeUnit::Milliseconds => t * 1000,
                })
            }
            AnyValue::Binary(b) => Value::Binary(b.to_vec()),
            AnyValue::BinaryOwned(b) => Value::Binary(b.clone()),
            AnyValue::List(s) => Value::Array(s.iter().map(|v| Value::from_any(&v)).collect()),
            AnyValue::Struct(..) | AnyValue::StructOwned(..) => {
                let fields: Vec<(String, Value)> = match v {
                    AnyValue::StructOwned(b) => {
                        b.1.iter()
                            .zip(b.0.iter())
                            .map(|(f, v)| (f.name.to_string(), Value::from_any(v)))
                            .collect()
                    }
                    _ => {
                        let owned = v.clone().into_static();
                        return Value::from_any(&owned);
                    }
                };
                Value::Struct(fields)
            }
            other => Value::Str(other.to_string()),
        }
    }

    /// As a Polars value of `dtype`.
    pub fn to_any(&self, dtype: &DataType) -> AnyValue<'static> {
        match (self, dtype) {
            (Value::Null, _) => AnyValue::Null,
            (Value::Map(entries), DataType::List(_)) => Value::Array(
                entries
                    .iter()
                    .map(|(k, v)| {
                        Value::Struct(vec![("key".into(), k.clone()), ("value".into(), v.clone())])
                    })
                    .collect(),
            )
            .to_any(dtype),
            (Value::Array(items), DataType::List(inner)) => {
                let values: Vec<AnyValue> = items.iter().map(|v| v.to_any(inner)).collect();
                match Series::from_any_values_and_dtype(PlSmallStr::EMPTY, &values, inner, false) {
                    Ok(s) => AnyValue::List(s),
                    Err(_) => AnyValue::Null,
                }
            }
            (Value::Struct(items), DataType::Struct(fields)) => {
                let values = fields
                    .iter()
                    .map(|f| {
                        items
                            .iter()
                            .find(|(n, _)| n.as_str() == f.name.as_str())
                            .map_or(AnyValue::Null, |(_, v)| v.to_any(f.dtype()))
                    })
                    .collect();
                AnyValue::StructOwned(Box::new((values, fields.clone())))
            }
            (Value::Bool(b), _) => AnyValue::Boolean(*b),
            (Value::Int(x), _) => AnyValue::Int32(*x),
            (Value::Long(x), _) => AnyValue::Int64(*x),
            (Value::Float(x), _) => AnyValue::Float32(*x),
            (Value::Double(x), _) => AnyValue::Float64(*x),
            (Value::Str(s), _) => AnyValue::StringOwned(s.as_str().into()),
            (Value::Date(d), _) => AnyValue::Date(*d),
            (Value::Timestamp(t), _) => AnyValue::Datetime(*t, TimeUnit::Microseconds, None),
            (Value::Binary(b), _) => AnyValue::BinaryOwned(b.clone()),
            (Value::Array(_) | Value::Struct(_) | Value::Map(_), _) => AnyValue::Null,
        }
    }

    /// The value's type.
    pub fn df_type(&self) -> DfType {
        match self {
            Value::Null => DfType::Null,
            Value::Bool(_) => DfType::Boolean,
            Value::Int(_) => DfType::Integer,
            Value::Long(_) => DfType::Long,
            Value::Float(_) => DfType::Float,
            Value::Double(_) => DfType::Double,
            Value::Str(_) => DfType::String,
            Value::Date(_) => DfType::Date,
            Value::Timestamp(_) => DfType::Timestamp,
            Value::Binary(_) => DfType::Binary,
            Value::Array(items) => DfType::Array(Box::new(
                items
                    .iter()
                    .map(Value::df_type)
                    .find(|t| *t != DfType::Null)
                    .unwrap_or(DfType::Null),
            )),
            Value::Struct(f) => {
                DfType::Struct(f.iter().map(|(n, v)| (n.clone(), v.df_type())).collect())
            }
            Value::Map(entries) => {
                let first = |pick: fn(&(Value, Value)) -> &Value| {
                    entries
                        .iter()
                        .map(|e| pick(e).df_type())
                        .find(|t| *t != DfType::Null)
                        .unwrap_or(DfType::Null)
                };
                DfType::Map(Box::new(first(|e| &e.0)), Box::new(first(|e| &e.1)))
            }
        }
    }

    /// The value as `ty` holds it: a map arrives from Polars as an array of `{key, value}`
    /// structures, and becomes a [`Value::Map`] again here.
    pub fn conform(self, ty: &DfType) -> Value {
        match (self, ty) {
            (Value::Array(items), DfType::Map(k, v)) => Value::Map(
                items
                    .into_iter()
                    .map(|entry| {
                        let mut fields = match entry {
                            Value::Struct(fields) => fields,
                            _ => Vec::new(),
                        };
                        let mut take = |name: &str| {
                            fields
                                .iter()
                                .position(|(n, _)| n == name)
                                .map_or(Value::Null, |i| fields.swap_remove(i).1)
                        };
                        let key = take("key").conform(k);
                        (key, take("value").conform(v))
                    })
                    .collect(),
            ),
            (Value::Array(items), DfType::Array(t)) if t.has_map() => {
                Value::Array(items.into_iter().map(|x| x.conform(t)).collect())
            }
            (Value::Struct(fields), DfType::Struct(types)) if ty.has_map() => Value::Struct(
                fields
                    .into_iter()
                    .map(|(n, x)| {
                        let t = types.iter().find(|(tn, _)| *tn == n).map(|(_, t)| t);
                        let x = match t {
                            Some(t) => x.conform(t),
                            None => x,
                        };
                        (n, x)
                    })
                    .collect(),
            ),
            (other, _) => other,
        }
    }

    /// A number as a double.
    pub fn as_f64(&self) -> Option<f64> {
        Some(match self {
            Value::Int(x) => *x as f64,
            Value::Long(x) => *x as f64,
            Value::Float(x) => *x as f64,
            Value::Double(x) => *x,
            _ => return None,
        })
    }

    /// A whole number as a long.
    pub fn as_i64(&self) -> Option<i64> {
        Some(match self {
            Value::Int(x) => *x as i64,
            Value::Long(x) => *x,
            Value::Float(x) => *x as i64,
            Value::Double(x) => *x as i64,
            _ => return None,
        })
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a string converts it (`toString` without a format).
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Int(x) => x.to_string(),
            Value::Long(x) => x.to_string(),
            Value::Float(x) => double(*x as f64),
            Value::Double(x) => double(*x),
            Value::Date(d) => date_text(*d),
            Value::Timestamp(t) => timestamp_text(*t),
            Value::Binary(b) => hex(b),
            Value::Array(_) | Value::Struct(_) | Value::Map(_) => self.literal(),
        })
    }

    /// The value in data flow literal syntax.
    pub fn literal(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(x) => x.to_string(),
            Value::Long(x) => format!("{x}L"),
            Value::Float(x) => format!("{}f", double(*x as f64)),
            Value::Double(x) => double(*x),
            Value::Str(s) => quote(s),
            Value::Date(d) => format!("toDate('{}')", date_text(*d)),
            Value::Timestamp(t) => format!(
                "toTimestamp('{}', 'yyyy-MM-dd HH:mm:ss.SSS')",
                timestamp_text(*t)
            ),
            Value::Binary(b) => {
                let bytes: Vec<String> = b.iter().map(|x| format!("toByte({x})")).collect();
                format!("toBinary([{}])", bytes.join(", "))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(Value::literal).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Struct(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("{n} = {}", v.literal()))
                    .collect();
                format!("@({})", fields.join(", "))
            }
            // `[]` would read back as an array.
            Value::Map(entries) if entries.is_empty() => "keyValues([], [])".into(),
            Value::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{} -> {}", k.literal(), v.literal()))
                    .collect();
                format!("[{}]", entries.join(", "))
            }
        }
    }
}

/// Bytes as lower-case hexadecimal digits.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// `yyyy-MM-dd` of days since the epoch.
pub fn date_text(days: i32) -> String {
    epoch_date(days).format("%Y-%m-%d").to_string()
}

/// The date of days since the epoch.
pub fn epoch_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date") + chrono::Duration::days(days as i64)
}

/// `yyyy-MM-dd HH:mm:ss.SSS` of microseconds since the epoch.
pub fn timestamp_text(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// The values of a column, element by element.
pub fn column_values(c: &Column) -> Vec<Value> {
    c.as_materialized_series()
        .iter()
        .map(|v| Value::from_any(&v))
        .collect()
}

/// A column of `dtype` from values; values that do not fit become null.
pub fn values_column(name: PlSmallStr, values: &[Value], dtype: &DataType) -> Column {
    let any: Vec<AnyValue> = values.iter().map(|v| v.to_any(dtype)).collect();
    Series::from_any_values_and_dtype(name.clone(), &any, dtype, false)
        .unwrap_or_else(|_| Series::full_null(name, values.len(), dtype))
        .into()
}

/// The field a custom function produces.
pub fn field(name: &PlSmallStr, dtype: &DataType) -> Field {
    Field::new(name.clone(), dtype.clone())
}
