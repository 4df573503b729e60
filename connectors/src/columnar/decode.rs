//! Schema-first decoding of JSON Lines straight into Polars columns.
//!
//! Each line is walked once by serde with the table's types as the guide: values land in
//! Arrow builders of the declared type, keys that are not requested are skipped with
//! `IgnoredAny` (never allocated), and nothing is inferred from the data.

use std::collections::HashMap;
use std::fmt;

use polars::prelude::{Column, CompatLevel, DataFrame, Series};
use polars_arrow::array::{
    Array, BooleanArray, ListArray, MutableBinaryViewArray, MutableBooleanArray,
    MutablePrimitiveArray, PrimitiveArray, StructArray,
};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::OffsetsBuffer;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::check::parse_datetime;
use super::scan::{skip_string, skip_value, skip_whitespace};
use crate::catalog::{FieldType, NamedType, Table};

/// A line that does not fit the table's schema, or a projection naming unknown columns.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A requested column that the table does not have.
    #[error(
        "column `{column}` is not in {table}; `mdflow catalog show {table}` lists its columns"
    )]
    UnknownColumn {
        /// Table name.
        table: String,
        /// The column asked for.
        column: String,
    },
    /// A line that is not JSON, or whose values do not fit the schema.
    #[error("line {line}: {message}")]
    BadRow {
        /// 1-based line number in the input.
        line: usize,
        /// What serde reported, with the column position in the line.
        message: String,
    },
    /// Columns that could not be assembled (an internal invariant broke).
    #[error("could not assemble columns: {0}")]
    Assemble(String),
}

/// Decodes rows of one table into a frame of the table's (or the projected) columns.
pub struct RowDecoder {
    root: StructBuilder,
    rows: usize,
}

impl RowDecoder {
    /// A decoder for `table`, keeping only `projection` (matched ignoring case, in the order
    /// given) when one is given.
    pub fn new(table: &Table, projection: Option<&[String]>) -> Result<Self, DecodeError> {
        let fields: Vec<NamedType> = match projection {
            None => table.columns.clone(),
            Some(names) => names
                .iter()
                .map(|name| {
                    table
                        .column(name)
                        .cloned()
                        .ok_or_else(|| DecodeError::UnknownColumn {
                            table: table.name.clone(),
                            column: name.clone(),
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(RowDecoder {
            root: StructBuilder::new(&fields),
            rows: 0,
        })
    }

    /// A decoder for columns declared outside the catalog, such as a data flow source's
    /// `output(...)`: exactly `fields`, in order, with keys matched exactly. Keys not in
    /// `fields` are skipped without being decoded.
    pub fn from_fields(fields: &[NamedType]) -> Self {
        RowDecoder {
            root: StructBuilder::new(fields),
            rows: 0,
        }
    }

    /// The names of the columns this decoder produces.
    pub fn column_names(&self) -> &[String] {
        &self.root.names
    }

    /// Rows decoded since the last [`RowDecoder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row is waiting.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Decodes every non-blank line of `text`; `first_line` is the number of its first line,
    /// for error messages.
    pub fn push_lines(&mut self, text: &str, first_line: usize) -> Result<usize, DecodeError> {
        let mut count = 0;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            self.push_line(line).map_err(|e| DecodeError::BadRow {
                line: first_line + i,
                message: e.to_string(),
            })?;
            count += 1;
        }
        Ok(count)
    }

    /// Decodes one JSON object. After an error the decoder must be discarded: the row may
    /// have filled some columns and not others.
    pub fn push_line(&mut self, line: &str) -> Result<(), serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(line);
        de.deserialize_map(RowVisitor(&mut self.root))?;
        de.end()?;
        self.rows += 1;
        Ok(())
    }

    /// Decodes every JSON object of `bytes` (JSON Lines, or objects separated by any
    /// whitespace). Requested keys decode as in [`RowDecoder::push_line`]; the others are
    /// skipped by their structure alone (`scan`), finding the end of a long string with
    /// `memchr`, so that leaving out message bodies saves reading them too. Lines are
    /// numbered from 1 for messages. After an error the decoder must be discarded.
    pub fn push_json_lines(&mut self, bytes: &[u8]) -> Result<usize, DecodeError> {
        let (mut at, mut line, mut count) = (0, 1, 0);
        loop {
            while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
                line += usize::from(bytes[at] == b'\n');
                at += 1;
            }
            if at == bytes.len() {
                return Ok(count);
            }
            at = self
                .root
                .fill_bytes(bytes, at)
                .map_err(|message| DecodeError::BadRow { line, message })?;
            self.rows += 1;
            count += 1;
        }
    }

    /// Hands over the decoded rows as a frame and starts empty again.
    pub fn finish(&mut self) -> Result<DataFrame, DecodeError> {
        let rows = std::mem::take(&mut self.rows);
        let mut columns = Vec::with_capacity(self.root.fields.len());
        for (name, builder) in self.root.names.iter().zip(&mut self.root.fields) {
            let array = builder.finish()?;
            let series = Series::from_arrow(name.as_str().into(), array)
                .map_err(|e| DecodeError::Assemble(e.to_string()))?;
            columns.push(Column::from(series));
        }
        self.root.validity = MutableBitmap::new();
        self.root.len = 0;
        DataFrame::new(rows, columns).map_err(|e| DecodeError::Assemble(e.to_string()))
    }
}

/// An Arrow builder for one column or nested field.
enum Builder {
    Utf8(MutableBinaryViewArray<str>),
    /// Values with no known shape, kept as their JSON text.
    Json(MutableBinaryViewArray<str>),
    Bool(MutableBooleanArray),
    I32(MutablePrimitiveArray<i32>),
    I64(MutablePrimitiveArray<i64>),
    F64(MutablePrimitiveArray<f64>),
    Timestamp(MutablePrimitiveArray<i64>, ArrowDataType),
    List(Box<ListBuilder>),
    Struct(Box<StructBuilder>),
}

struct ListBuilder {
    offsets: Vec<i64>,
    validity: MutableBitmap,
    item: Builder,
    dtype: ArrowDataType,
}

struct StructBuilder {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// The keys of the last object, by position, with their fields (see `find_slot`).
    recent: Vec<(String, Option<usize>)>,
    fields: Vec<Builder>,
    seen: Vec<bool>,
    validity: MutableBitmap,
    len: usize,
    dtype: ArrowDataType,
}

fn arrow_type(ty: &FieldType) -> ArrowDataType {
    ty.to_polars().to_arrow(CompatLevel::newest())
}

impl Builder {
    fn new(ty: &FieldType) -> Builder {
        match ty {
            FieldType::String => Builder::Utf8(Default::default()),
            FieldType::Json => Builder::Json(Default::default()),
            FieldType::Boolean => Builder::Bool(Default::default()),
            FieldType::Int32 => Builder::I32(Default::default()),
            FieldType::Int64 => Builder::I64(Default::default()),
            FieldType::Double => Builder::F64(Default::default()),
            FieldType::DateTime => Builder::Timestamp(Default::default(), arrow_type(ty)),
            FieldType::List(item) => Builder::List(Box::new(ListBuilder {
                offsets: vec![0],
                validity: MutableBitmap::new(),
                item: Builder::new(item),
                dtype: arrow_type(ty),
            })),
            FieldType::Struct(fields) => Builder::Struct(Box::new(StructBuilder::new(fields))),
        }
    }

    fn push_null(&mut self) {
        match self {
            Builder::Utf8(b) | Builder::Json(b) => b.push_null(),
            Builder::Bool(b) => b.push(None),
            Builder::I32(b) => b.push(None),
            Builder::I64(b) | Builder::Timestamp(b, _) => b.push(None),
            Builder::F64(b) => b.push(None),
            Builder::List(list) => {
                let last = *list.offsets.last().unwrap_or(&0);
                list.offsets.push(last);
                list.validity.push(false);
            }
            Builder::Struct(s) => {
                s.fields.iter_mut().for_each(Builder::push_null);
                s.validity.push(false);
                s.len += 1;
            }
        }
    }

    /// What a value of this builder looks like, for serde's "expected ..." messages.
    fn expected(&self) -> &'static str {
        match self {
            Builder::Utf8(_) => "a string",
            Builder::Json(_) => "any JSON value",
            Builder::Bool(_) => "a boolean",
            Builder::I32(_) => "a 32-bit integer",
            Builder::I64(_) => "an integer",
            Builder::F64(_) => "a number",
            Builder::Timestamp(..) => "an ISO 8601 date-time string",
            Builder::List(_) => "an array",
            Builder::Struct(_) => "an object",
        }
    }

    /// Takes the built values out, leaving an empty builder of the same type.
    fn finish(&mut self) -> Result<Box<dyn Array>, DecodeError> {
        let assemble = |e: polars::prelude::PolarsError| DecodeError::Assemble(e.to_string());
        Ok(match self {
            Builder::Utf8(b) | Builder::Json(b) => std::mem::take(b).freeze().boxed(),
            Builder::Bool(b) => BooleanArray::from(std::mem::take(b)).boxed(),
            Builder::I32(b) => PrimitiveArray::from(std::mem::take(b)).boxed(),
            Builder::I64(b) => PrimitiveArray::from(std::mem::take(b)).boxed(),
            Builder::F64(b) => PrimitiveArray::from(std::mem::take(b)).boxed(),
            Builder::Timestamp(b, dtype) => {
                PrimitiveArray::from(std::mem::take(b).to(dtype.clone())).boxed()
            }
            Builder::List(list) => {
                let offsets = std::mem::replace(&mut list.offsets, vec![0]);
                let offsets = OffsetsBuffer::try_from(offsets).map_err(assemble)?;
                let validity = std::mem::take(&mut list.validity);
                let values = list.item.finish()?;
                ListArray::<i64>::try_new(list.dtype.clone(), offsets, values, validity.into())
                    .map_err(assemble)?
                    .boxed()
            }
            Builder::Struct(s) => {
                let values = s
                    .fields
                    .iter_mut()
                    .map(Builder::finish)
                    .collect::<Result<Vec<_>, _>>()?;
                let validity = std::mem::take(&mut s.validity);
                let len = std::mem::take(&mut s.len);
                StructArray::try_new(s.dtype.clone(), len, values, validity.into())
                    .map_err(assemble)?
                    .boxed()
            }
        })
    }
}

impl StructBuilder {
    fn new(fields: &[NamedType]) -> StructBuilder {
        let ty = FieldType::Struct(fields.to_vec());
        StructBuilder {
            names: fields.iter().map(|f| f.name.clone()).collect(),
            index: fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect(),
            recent: Vec::new(),
            fields: fields.iter().map(|f| Builder::new(&f.ty)).collect(),
            seen: vec![false; fields.len()],
            validity: MutableBitmap::new(),
            len: 0,
            dtype: arrow_type(&ty),
        }
    }

    fn fill<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        self.seen.fill(false);
        let mut position = 0;
        while let Some(slot) = map.next_key_seed(KeyLookup {
            index: &self.index,
            recent: &mut self.recent,
            position,
        })? {
            position += 1;
            match slot {
                // A repeated key keeps its first value, so every column grows by one.
                Some(i) if !self.seen[i] => {
                    self.seen[i] = true;
                    map.next_value_seed(ValueSeed(&mut self.fields[i]))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (field, seen) in self.fields.iter_mut().zip(&self.seen) {
            if !seen {
                field.push_null();
            }
        }
        self.validity.push(true);
        self.len += 1;
        Ok(())
    }
}

impl StructBuilder {
    /// Decodes the object starting at `at` (a `{`), returning the offset after it. Keys
    /// this struct does not have are skipped by their structure alone.
    fn fill_bytes(&mut self, bytes: &[u8], at: usize) -> Result<usize, String> {
        let column = |i: usize| i - at + 1;
        let expected = |i: usize, what: &str| format!("column {}: expected {what}", column(i));
        if bytes.get(at) != Some(&b'{') {
            return Err(expected(at, "a JSON object"));
        }
        self.seen.fill(false);
        let mut i = skip_whitespace(bytes, at + 1);
        let mut position = 0;
        if bytes.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if bytes.get(i) != Some(&b'"') {
                    return Err(expected(i, "a key in quotes"));
                }
                let (key_end, escaped) =
                    skip_string(bytes, i).map_err(|e| expected(e.at, e.expected))?;
                let raw = &bytes[i + 1..key_end - 1];
                let slot = match self.recent.get(position) {
                    // The same bytes as the last row's key here: no need to check them.
                    Some((known, slot)) if !escaped && known.as_bytes() == raw => *slot,
                    _ => {
                        let unescaped: String;
                        let key = if escaped {
                            unescaped = serde_json::from_slice(&bytes[i..key_end])
                                .map_err(|e| format!("column {}: {e}", column(i)))?;
                            unescaped.as_str()
                        } else {
                            std::str::from_utf8(raw)
                                .map_err(|e| format!("column {}: {e}", column(i)))?
                        };
                        find_slot(&self.index, &mut self.recent, position, key)
                    }
                };
                position += 1;
                i = skip_whitespace(bytes, key_end);
                if bytes.get(i) != Some(&b':') {
                    return Err(expected(i, "`:` after the key"));
                }
                i = skip_whitespace(bytes, i + 1);
                let end = skip_value(bytes, i).map_err(|e| expected(e.at, e.expected))?;
                match slot {
                    // A repeated key keeps its first value, as in `fill`.
                    Some(s) if !self.seen[s] => {
                        self.seen[s] = true;
                        let mut de = serde_json::Deserializer::from_slice(&bytes[i..end]);
                        ValueSeed(&mut self.fields[s])
                            .deserialize(&mut de)
                            .and_then(|()| de.end())
                            .map_err(|e| format!("column {}: {e}", column(i)))?;
                    }
                    _ => {}
                }
                i = skip_whitespace(bytes, end);
                match bytes.get(i) {
                    Some(b',') => i = skip_whitespace(bytes, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return Err(expected(i, "`,` or `}`")),
                }
            }
        }
        for (field, seen) in self.fields.iter_mut().zip(&self.seen) {
            if !seen {
                field.push_null();
            }
        }
        self.validity.push(true);
        self.len += 1;
        Ok(i)
    }
}

/// The field of `key`, trying first the key the last object had at `position`: rows of
/// one table put their keys in the same order, so a key is mostly found by one
/// comparison instead of hashing it.
fn find_slot(
    index: &HashMap<String, usize>,
    recent: &mut Vec<(String, Option<usize>)>,
    position: usize,
    key: &str,
) -> Option<usize> {
    if let Some((known, slot)) = recent.get(position) {
        if known == key {
            return *slot;
        }
    }
    let slot = index.get(key).copied();
    if let Some(entry) = recent.get_mut(position) {
        entry.0.clear();
        entry.0.push_str(key);
        entry.1 = slot;
    } else if recent.len() == position {
        // The first object, or one longer than the last.
        recent.push((key.to_owned(), slot));
    }
    slot
}

/// Finds a key's field without allocating the key, trying first the key the last object
/// had at the same position.
struct KeyLookup<'a> {
    index: &'a HashMap<String, usize>,
    recent: &'a mut Vec<(String, Option<usize>)>,
    position: usize,
}

impl<'de> DeserializeSeed<'de> for KeyLookup<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyLookup<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(find_slot(self.index, self.recent, self.position, key))
    }
}

struct RowVisitor<'a>(&'a mut StructBuilder);

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one JSON object per line")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.fill(map)
    }
}

struct ValueSeed<'a>(&'a mut Builder);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if let Builder::Json(b) = self.0 {
            let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
            match value {
                serde_json::Value::Null => b.push_null(),
                other => b.push_value(other.to_string()),
            }
            return Ok(());
        }
        d.deserialize_any(ValueVisitor(self.0))
    }
}

struct ValueVisitor<'a>(&'a mut Builder);

impl ValueVisitor<'_> {
    fn wrong<E: de::Error>(&self, found: de::Unexpected<'_>) -> Result<(), E> {
        Err(E::invalid_type(found, self))
    }
}

impl<'de> Visitor<'de> for ValueVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.expected())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.push_null();
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        match self.0 {
            Builder::Bool(b) => {
                b.push(Some(v));
                Ok(())
            }
            _ => self.wrong(de::Unexpected::Bool(v)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        match self.0 {
            Builder::I32(b) => match i32::try_from(v) {
                Ok(v) => {
                    b.push(Some(v));
                    Ok(())
                }
                Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
            },
            Builder::I64(b) => {
                b.push(Some(v));
                Ok(())
            }
            Builder::F64(b) => {
                b.push(Some(v as f64));
                Ok(())
            }
            _ => self.wrong(de::Unexpected::Signed(v)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => self.wrong(de::Unexpected::Unsigned(v)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match self.0 {
            Builder::F64(b) => {
                b.push(Some(v));
                Ok(())
            }
            _ => self.wrong(de::Unexpected::Float(v)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        match self.0 {
            Builder::Utf8(b) => {
                b.push_value(v);
                Ok(())
            }
            Builder::Timestamp(b, _) => match parse_datetime(v) {
                Some(micros) => {
                    b.push(Some(micros));
                    Ok(())
                }
                None => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            },
            _ => self.wrong(de::Unexpected::Str(v)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Builder::List(list) = self.0 else {
            return self.wrong(de::Unexpected::Seq);
        };
        let mut count = 0i64;
        while seq.next_element_seed(ValueSeed(&mut list.item))?.is_some() {
            count += 1;
        }
        let last = *list.offsets.last().unwrap_or(&0);
        list.offsets.push(last + count);
        list.validity.push(true);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        match self.0 {
            Builder::Struct(s) => s.fill(map),
            _ => self.wrong(de::Unexpected::Map),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn decodes_typed_nested_columns() {
        let table = Catalog::builtin().table("Message_v1").unwrap();
        let projection = [
            "receivedDateTime".to_owned(),
            "Sender".to_owned(),
            "toRecipients".into(),
        ];
        let mut decoder = RowDecoder::new(table, Some(&projection)).unwrap();
        let text = concat!(
            r#"{"receivedDateTime":"2024-01-02T03:04:05Z","subject":"x","#,
            r#""sender":{"emailAddress":{"name":"A","address":"a@x"}},"toRecipients":[]}"#,
            "\n\n",
            r#"{"sender":null,"toRecipients":[{"emailAddress":{"address":"b@y"}}]}"#,
        );
        assert_eq!(decoder.push_lines(text, 1).unwrap(), 2);
        let frame = decoder.finish().unwrap();
        assert_eq!(frame.height(), 2);
        assert_eq!(frame.width(), 3);
        let names: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, ["receivedDateTime", "sender", "toRecipients"]);
        assert!(frame
            .column("receivedDateTime")
            .unwrap()
            .dtype()
            .is_temporal());
    }

    #[test]
    fn a_wrong_type_names_the_line() {
        let table = Catalog::builtin().table("Message_v1").unwrap();
        let mut decoder = RowDecoder::new(table, None).unwrap();
        let err = decoder
            .push_lines("{\"isRead\":\"yes\"}", 7)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("line 7: invalid type: string \"yes\", expected a boolean"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_projected_column_is_refused() {
        let table = Catalog::builtin().table("Message_v1").unwrap();
        let err = RowDecoder::new(table, Some(&["nope".to_owned()]))
            .err()
            .unwrap();
        assert!(err
            .to_string()
            .contains("`nope` is not in BasicDataSet_v0.Message_v1"));
    }
}
