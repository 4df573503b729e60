//! Column types of the catalog, written and parsed in a small text form
//! (`list<struct<name: string, address: string>>`) so that `catalog show` prints what the
//! catalog file says.

use std::fmt;

use polars::prelude::{DataType, Field as PolarsField, TimeUnit, TimeZone};

/// The type of one column or nested field, as Microsoft Graph Data Connect delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    String,
    /// `true` / `false`.
    Boolean,
    /// A 32-bit integer.
    Int32,
    /// A 64-bit integer.
    Int64,
    /// A double-precision number.
    Double,
    /// An ISO 8601 instant such as `2021-02-03T00:10:10Z`, held in microseconds UTC.
    DateTime,
    /// A nested value with no documented or observed shape, kept as its JSON text.
    Json,
    /// An array of one element type.
    List(Box<FieldType>),
    /// An object with named fields.
    Struct(Vec<NamedType>),
}

/// A named field of a struct, or a top-level column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedType {
    /// The key as it appears in the delivered JSON.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
}

impl FieldType {
    /// Parses the text form used in the catalog file.
    pub fn parse(text: &str) -> Result<FieldType, String> {
        let mut parser = TypeParser { text, pos: 0 };
        let ty = parser.parse_type()?;
        parser.skip_ws();
        if parser.pos != text.len() {
            return Err(format!(
                "unexpected `{}` at {}",
                &text[parser.pos..],
                parser.pos
            ));
        }
        Ok(ty)
    }

    /// The Polars type a column of this type decodes into.
    pub fn to_polars(&self) -> DataType {
        match self {
            FieldType::String | FieldType::Json => DataType::String,
            FieldType::Boolean => DataType::Boolean,
            FieldType::Int32 => DataType::Int32,
            FieldType::Int64 => DataType::Int64,
            FieldType::Double => DataType::Float64,
            FieldType::DateTime => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            FieldType::List(item) => DataType::List(Box::new(item.to_polars())),
            FieldType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| PolarsField::new(f.name.as_str().into(), f.ty.to_polars()))
                    .collect(),
            ),
        }
    }

    /// Whether a value of this type is an instant that date filters can compare.
    pub fn is_datetime(&self) -> bool {
        matches!(self, FieldType::DateTime)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::String => f.write_str("string"),
            FieldType::Boolean => f.write_str("boolean"),
            FieldType::Int32 => f.write_str("int32"),
            FieldType::Int64 => f.write_str("int64"),
            FieldType::Double => f.write_str("double"),
            FieldType::DateTime => f.write_str("datetime"),
            FieldType::Json => f.write_str("json"),
            FieldType::List(item) => write!(f, "list<{item}>"),
            FieldType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", field.name, field.ty)?;
                }
                f.write_str(">")
            }
        }
    }
}

struct TypeParser<'a> {
    text: &'a str,
    pos: usize,
}

impl TypeParser<'_> {
    fn skip_ws(&mut self) {
        while self.text[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!(
                "expected `{token}` at {} in `{}`",
                self.pos, self.text
            ))
        }
    }

    fn ident(&mut self) -> Result<&str, String> {
        self.skip_ws();
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '@' || c == '.'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(format!(
                "expected a name at {} in `{}`",
                self.pos, self.text
            ));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn parse_type(&mut self) -> Result<FieldType, String> {
        let word = self.ident()?.to_owned();
        match word.as_str() {
            "string" => Ok(FieldType::String),
            "boolean" => Ok(FieldType::Boolean),
            "int32" => Ok(FieldType::Int32),
            "int64" => Ok(FieldType::Int64),
            "double" => Ok(FieldType::Double),
            "datetime" => Ok(FieldType::DateTime),
            "json" => Ok(FieldType::Json),
            "list" => {
                self.expect("<")?;
                let item = self.parse_type()?;
                self.expect(">")?;
                Ok(FieldType::List(Box::new(item)))
            }
            "struct" => {
                self.expect("<")?;
                let mut fields = Vec::new();
                loop {
                    let name = self.ident()?.to_owned();
                    self.expect(":")?;
                    let ty = self.parse_type()?;
                    fields.push(NamedType { name, ty });
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(">")?;
                Ok(FieldType::Struct(fields))
            }
            other => Err(format!("unknown type `{other}` in `{}`", self.text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let text = "list<struct<emailAddress: struct<name: string, address: string>, n: int32>>";
        let ty = FieldType::parse(text).unwrap();
        assert_eq!(ty.to_string(), text);
    }

    #[test]
    fn unknown_type_is_an_error() {
        assert!(FieldType::parse("list<strnig>")
            .unwrap_err()
            .contains("strnig"));
    }
}
