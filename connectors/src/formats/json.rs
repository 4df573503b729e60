//! JSON documents of a file as ADF reads them: one object per line (`setOfObjects`), an
//! array of objects (`arrayOfObjects`), a single object, or objects one after another.

use std::io::Read;

use serde_json::Value;

use super::UnknownSetting;

/// A JSON file's `filePattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonPattern {
    /// One object per line (JSON Lines).
    SetOfObjects,
    /// One array of objects per file.
    ArrayOfObjects,
}

impl JsonPattern {
    /// Parses ADF's `filePattern`, ignoring case.
    pub fn parse(name: &str) -> Result<Self, UnknownSetting> {
        match name.to_ascii_lowercase().as_str() {
            "" | "setofobjects" => Ok(JsonPattern::SetOfObjects),
            "arrayofobjects" => Ok(JsonPattern::ArrayOfObjects),
            _ => Err(UnknownSetting {
                property: "filePattern",
                value: name.to_owned(),
                allowed: "setOfObjects, arrayOfObjects",
            }),
        }
    }
}

/// A document that is not JSON, located in its file.
#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct JsonError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What serde found.
    pub message: String,
}

/// Calls `each` with every row of a UTF-8 JSON stream, whatever its layout: top-level
/// arrays give their elements, other values are rows themselves. Stops at the first error
/// of `each`.
pub fn read_documents<E>(
    input: impl Read,
    mut each: impl FnMut(Value) -> Result<(), E>,
) -> Result<Result<(), E>, JsonError> {
    let reader = std::io::BufReader::with_capacity(1 << 20, input);
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
    for document in stream {
        let document = document.map_err(|e| JsonError {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let rows = match document {
            Value::Array(items) => items,
            other => vec![other],
        };
        for row in rows {
            if let Err(e) = each(row) {
                return Ok(Err(e));
            }
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Value> {
        let mut out = Vec::new();
        read_documents(text.as_bytes(), |v| {
            out.push(v);
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
        out
    }

    #[test]
    fn every_layout_gives_rows() {
        assert_eq!(rows("{\"a\":1}\n{\"a\":2}\n").len(), 2);
        assert_eq!(rows("[{\"a\":1},\n{\"a\":2}]").len(), 2);
        assert_eq!(rows("{\"a\":1}").len(), 1);
        assert_eq!(rows("{\"a\":1}{\"a\":2} {\"a\":3}").len(), 3);
        let err =
            read_documents("{\"a\":1}\n{\"a\" 2}".as_bytes(), |_| Ok::<_, ()>(())).unwrap_err();
        assert_eq!(err.line, 2);
    }
}
