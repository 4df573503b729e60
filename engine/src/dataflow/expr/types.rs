//! Data flow types and how they map to Polars types.

use polars::prelude::{DataType, Field, TimeUnit};

use crate::dataflow::ast::TypeExpr;

/// A data flow type.
#[derive(Debug, Clone, PartialEq)]
pub enum DfType {
    /// `string`
    String,
    /// `integer` (32 bits)
    Integer,
    /// `long` (64 bits)
    Long,
    /// `short`; held as a 32-bit integer.
    Short,
    /// `byte`; held as a 32-bit integer.
    Byte,
    /// `double`
    Double,
    /// `float`
    Float,
    /// `decimal(p, s)`; held as a double.
    Decimal(u8, u8),
    /// `boolean`
    Boolean,
    /// `date`
    Date,
    /// `timestamp`, without a time zone (UTC)
    Timestamp,
    /// `binary`
    Binary,
    /// `type[]`
    Array(Box<DfType>),
    /// `(a as type, ...)`
    Struct(Vec<(String, DfType)>),
    /// A map of keys to values (`['k' -> 'v']`); held as a list of `{key, value}`
    /// structures, in the order the entries were made.
    Map(Box<DfType>, Box<DfType>),
    /// The type of `null` before it meets another type.
    Null,
}

impl DfType {
    /// The type named in a script (`string`, `decimal(10,2)`, `(a as string)[]`).
    pub fn from_ast(t: &TypeExpr) -> Result<DfType, String> {
        Ok(match t {
            TypeExpr::Named(n, p) => match n.text.to_ascii_lowercase().as_str() {
                "string" => DfType::String,
                "integer" | "int" => DfType::Integer,
                "long" => DfType::Long,
                "short" => DfType::Short,
                "byte" => DfType::Byte,
                "double" => DfType::Double,
                "float" => DfType::Float,
                "decimal" => DfType::Decimal(
                    p.first().copied().unwrap_or(10) as u8,
                    p.get(1).copied().unwrap_or(0) as u8,
                ),
                "boolean" => DfType::Boolean,
                "date" => DfType::Date,
                "timestamp" => DfType::Timestamp,
                "binary" => DfType::Binary,
                other => {
                    return Err(format!(
                        "`{other}` is not a type; use string, integer, long, short, byte, \
                         double, float, decimal(p,s), boolean, date, timestamp or binary"
                    ))
                }
            },
            TypeExpr::Array(inner) => DfType::Array(Box::new(DfType::from_ast(inner)?)),
            TypeExpr::Struct(fields, _) => DfType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| {
                        let name = n
                            .as_name()
                            .ok_or("a field of a structure type must be a name")?;
                        Ok((name.to_owned(), DfType::from_ast(t)?))
                    })
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// The Polars type that holds it.
    pub fn to_polars(&self) -> DataType {
        match self {
            DfType::String => DataType::String,
            DfType::Integer | DfType::Short | DfType::Byte => DataType::Int32,
            DfType::Long => DataType::Int64,
            DfType::Double | DfType::Decimal(..) => DataType::Float64,
            DfType::Float => DataType::Float32,
            DfType::Boolean => DataType::Boolean,
            DfType::Date => DataType::Date,
            DfType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
            DfType::Binary => DataType::Binary,
            DfType::Array(inner) => DataType::List(Box::new(inner.to_polars())),
            DfType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(n, t)| Field::new(n.as_str().into(), t.to_polars()))
                    .collect(),
            ),
            DfType::Map(k, v) => DfType::Array(Box::new(DfType::map_entry(k, v))).to_polars(),
            DfType::Null => DataType::Null,
        }
    }

    /// The structure one entry of a map is held as.
    pub fn map_entry(key: &DfType, value: &DfType) -> DfType {
        DfType::Struct(vec![
            ("key".into(), key.clone()),
            ("value".into(), value.clone()),
        ])
    }

    /// Whether a map is anywhere in the type (values of it need [`Value::conform`]).
    ///
    /// [`Value::conform`]: super::value::Value::conform
    pub fn has_map(&self) -> bool {
        match self {
            DfType::Map(..) => true,
            DfType::Array(t) => t.has_map(),
            DfType::Struct(fields) => fields.iter().any(|(_, t)| t.has_map()),
            _ => false,
        }
    }

    /// The data flow type of a Polars type.
    pub fn from_polars(d: &DataType) -> DfType {
        match d {
            DataType::String => DfType::String,
            DataType::Int8 | DataType::UInt8 => DfType::Byte,
            DataType::Int16 | DataType::UInt16 => DfType::Short,
            DataType::Int32 => DfType::Integer,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => DfType::Long,
            DataType::Float32 => DfType::Float,
            DataType::Float64 => DfType::Double,
            DataType::Boolean => DfType::Boolean,
            DataType::Date => DfType::Date,
            DataType::Datetime(..) => DfType::Timestamp,
            DataType::Binary => DfType::Binary,
            DataType::List(inner) => DfType::Array(Box::new(DfType::from_polars(inner))),
            DataType::Struct(fields) => DfType::Struct(
                fields
                    .iter()
                    .map(|f| (f.name.to_string(), DfType::from_polars(f.dtype())))
                    .collect(),
            ),
            _ => DfType::Null,
        }
    }

    /// A number of any width.
    pub fn is_numeric(&self) -> bool {
        self.rank().is_some()
    }

    /// A whole number.
    pub fn is_integral(&self) -> bool {
        matches!(
            self,
            DfType::Integer | DfType::Long | DfType::Short | DfType::Byte
        )
    }

    fn rank(&self) -> Option<u8> {
        Some(match self {
            DfType::Byte => 1,
            DfType::Short => 2,
            DfType::Integer => 3,
            DfType::Long => 4,
            DfType::Float => 5,
            DfType::Decimal(..) => 6,
            DfType::Double => 7,
            _ => return None,
        })
    }

    /// The wider of two numeric types (for arithmetic), or the non-null one.
    pub fn wider(a: &DfType, b: &DfType) -> DfType {
        match (a.rank(), b.rank()) {
            (Some(x), Some(y)) => {
                if x >= y {
                    a.clone()
                } else {
                    b.clone()
                }
            }
            _ if *a == DfType::Null => b.clone(),
            _ => a.clone(),
        }
    }

    /// The type as a script writes it.
    pub fn name(&self) -> String {
        match self {
            DfType::String => "string".into(),
            DfType::Integer => "integer".into(),
            DfType::Long => "long".into(),
            DfType::Short => "short".into(),
            DfType::Byte => "byte".into(),
            DfType::Double => "double".into(),
            DfType::Float => "float".into(),
            DfType::Decimal(p, s) => format!("decimal({p},{s})"),
            DfType::Boolean => "boolean".into(),
            DfType::Date => "date".into(),
            DfType::Timestamp => "timestamp".into(),
            DfType::Binary => "binary".into(),
            DfType::Array(t) => format!("{}[]", t.name()),
            DfType::Struct(f) => {
                let f: Vec<String> = f
                    .iter()
                    .map(|(n, t)| format!("{n} as {}", t.name()))
                    .collect();
                format!("({})", f.join(", "))
            }
            DfType::Map(k, v) => format!("map<{}, {}>", k.name(), v.name()),
            DfType::Null => "null".into(),
        }
    }
}
