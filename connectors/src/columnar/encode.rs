//! Encoding Polars frames as JSON rows, in the shape MGDC delivers them: every column
//! written (nulls as `null`), instants as `2021-02-03T00:10:10Z`, and the catalog's `json`
//! fields written back as the JSON they were, not as quoted text.

use polars::prelude::{CompatLevel, DataFrame, DataType, TimeUnit};
use polars_arrow::array::{
    Array, BooleanArray, ListArray, PrimitiveArray, StructArray, Utf8ViewArray,
};

use crate::catalog::{FieldType, Table};

/// A column type the encoder cannot write.
#[derive(Debug, thiserror::Error)]
#[error("column `{column}` has type {dtype}, which cannot be written as JSON; cast it to a string first")]
pub struct EncodeError {
    /// The column.
    pub column: String,
    /// Its Polars type.
    pub dtype: String,
}

/// How rows are laid out in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One object per line (ADF's `setOfObjects`).
    Lines,
    /// Items of a JSON array (ADF's `arrayOfObjects`); the caller writes `[` and `]`, and
    /// says whether these are the first items of the array.
    ArrayItems {
        /// No item has been written before these.
        first: bool,
    },
}

enum Node {
    Str,
    RawJson,
    Bool,
    Number,
    Timestamp(TimeUnit),
    Date,
    List(Box<Node>),
    Struct(Vec<(String, Node)>),
}

fn plan(column: &str, dtype: &DataType, ty: Option<&FieldType>) -> Result<Node, EncodeError> {
    Ok(match dtype {
        DataType::String if matches!(ty, Some(FieldType::Json)) => Node::RawJson,
        DataType::String => Node::Str,
        DataType::Boolean => Node::Bool,
        d if d.is_primitive_numeric() => Node::Number,
        DataType::Datetime(unit, _) => Node::Timestamp(*unit),
        DataType::Date => Node::Date,
        DataType::List(inner) => {
            let item = match ty {
                Some(FieldType::List(item)) => Some(item.as_ref()),
                _ => None,
            };
            Node::List(Box::new(plan(column, inner, item)?))
        }
        DataType::Struct(fields) => Node::Struct(
            fields
                .iter()
                .map(|f| {
                    let sub = match ty {
                        Some(FieldType::Struct(known)) => known
                            .iter()
                            .find(|k| k.name == f.name.as_str())
                            .map(|k| &k.ty),
                        _ => None,
                    };
                    Ok((json_key(f.name.as_str()), plan(column, f.dtype(), sub)?))
                })
                .collect::<Result<_, EncodeError>>()?,
        ),
        DataType::Null => Node::Str,
        other => {
            return Err(EncodeError {
                column: column.to_owned(),
                dtype: other.to_string(),
            })
        }
    })
}

/// A key, quoted and escaped, with its colon: written once per frame, not once per row.
fn json_key(name: &str) -> String {
    let mut key = serde_json::to_string(name).unwrap_or_else(|_| format!("\"{name}\""));
    key.push(':');
    key
}

/// Appends the rows of `frame` to `out`. When `table` is given, its `json` fields are
/// written as raw JSON.
pub fn encode_frame(
    frame: &DataFrame,
    table: Option<&Table>,
    layout: Layout,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let name = column.name().as_str();
        let ty = table.and_then(|t| t.column(name)).map(|c| &c.ty);
        let node = plan(name, column.dtype(), ty)?;
        let array = column
            .as_materialized_series()
            .rechunk()
            .to_arrow(0, CompatLevel::newest());
        columns.push((json_key(name), node, array));
    }
    for row in 0..frame.height() {
        match layout {
            Layout::ArrayItems { first } if !(first && row == 0) => out.extend_from_slice(b",\n"),
            _ => {}
        }
        out.push(b'{');
        for (i, (key, node, array)) in columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key.as_bytes());
            write_value(node, array.as_ref(), row, out);
        }
        out.push(b'}');
        if layout == Layout::Lines {
            out.push(b'\n');
        }
    }
    Ok(())
}

fn write_value(node: &Node, array: &dyn Array, i: usize, out: &mut Vec<u8>) {
    if array.is_null(i) {
        out.extend_from_slice(b"null");
        return;
    }
    let any = array.as_any();
    match node {
        Node::Str | Node::RawJson => {
            let Some(text) = any.downcast_ref::<Utf8ViewArray>().map(|a| a.value(i)) else {
                return out.extend_from_slice(b"null");
            };
            if matches!(node, Node::RawJson) {
                out.extend_from_slice(text.as_bytes());
            } else {
                write_json(out, &text);
            }
        }
        Node::Bool => {
            let value = any
                .downcast_ref::<BooleanArray>()
                .is_some_and(|a| a.value(i));
            out.extend_from_slice(if value { b"true" } else { b"false" });
        }
        Node::Number => write_number(any, i, out),
        Node::Timestamp(unit) => {
            let raw = any
                .downcast_ref::<PrimitiveArray<i64>>()
                .map_or(0, |a| a.value(i));
            let micros = match unit {
                TimeUnit::Nanoseconds => raw.div_euclid(1000),
                TimeUnit::Microseconds => raw,
                TimeUnit::Milliseconds => raw.saturating_mul(1000),
            };
            write_instant(micros, out);
        }
        Node::Date => {
            let days = any
                .downcast_ref::<PrimitiveArray<i32>>()
                .map_or(0, |a| a.value(i));
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163);
            match date {
                Some(d) => write_json(out, &d.format("%Y-%m-%d").to_string()),
                None => out.extend_from_slice(b"null"),
            }
        }
        Node::List(item) => {
            let Some(list) = any.downcast_ref::<ListArray<i64>>() else {
                return out.extend_from_slice(b"null");
            };
            let (start, end) = list.offsets().start_end(i);
            let values = list.values().as_ref();
            out.push(b'[');
            for (n, j) in (start..end).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_value(item, values, j, out);
            }
            out.push(b']');
        }
        Node::Struct(fields) => {
            let Some(array) = any.downcast_ref::<StructArray>() else {
                return out.extend_from_slice(b"null");
            };
            out.push(b'{');
            for (n, ((key, node), values)) in fields.iter().zip(array.values()).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key.as_bytes());
                write_value(node, values.as_ref(), i, out);
            }
            out.push(b'}');
        }
    }
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing into a Vec cannot fail, and strings and numbers always serialise.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn write_number(any: &dyn std::any::Any, i: usize, out: &mut Vec<u8>) {
    macro_rules! try_write {
        ($($t:ty),*) => {
            $(if let Some(a) = any.downcast_ref::<PrimitiveArray<$t>>() {
                return write_json(out, &a.value(i));
            })*
        };
    }
    try_write!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
    out.extend_from_slice(b"null");
}

/// Writes an instant the way MGDC does: whole seconds as `...:SSZ`, otherwise with the
/// fraction it has (milliseconds or microseconds).
pub fn write_instant(micros: i64, out: &mut Vec<u8>) {
    let Some(t) = chrono::DateTime::from_timestamp_micros(micros) else {
        return out.extend_from_slice(b"null");
    };
    let text = match micros.rem_euclid(1_000_000) {
        0 => t.format("\"%Y-%m-%dT%H:%M:%SZ\""),
        f if f % 1000 == 0 => t.format("\"%Y-%m-%dT%H:%M:%S%.3fZ\""),
        _ => t.format("\"%Y-%m-%dT%H:%M:%S%.6fZ\""),
    };
    use std::io::Write;
    let _ = write!(out, "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::columnar::RowDecoder;

    #[test]
    fn rows_come_back_as_they_went_in() {
        let table = Catalog::builtin().table("Event_v1").unwrap();
        let projection = [
            "start".to_owned(),
            "createdDateTime".into(),
            "categories".into(),
        ];
        let mut decoder = RowDecoder::new(table, Some(&projection)).unwrap();
        let line = r#"{"start":{"dateTime":"2024-01-01T10:00:00.0000000","timeZone":"UTC"},"createdDateTime":"2024-01-01T09:00:00.250Z","categories":["a","b"]}"#;
        decoder.push_lines(line, 1).unwrap();
        let frame = decoder.finish().unwrap();
        let mut out = Vec::new();
        encode_frame(&frame, Some(table), Layout::Lines, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{line}\n"));
    }

    #[test]
    fn instants_keep_their_precision() {
        let mut out = Vec::new();
        write_instant(1_500_000, &mut out);
        write_instant(-62_135_596_800_000_000, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"1970-01-01T00:00:01.500Z\"\"0001-01-01T00:00:00Z\""
        );
    }
}
