//! Database sinks of the chained copy: SQLite (the embedded default, an mdflow extension)
//! and PostgreSQL. A copy is one transaction: the pre-copy script, the table's creation,
//! and every row commit together or not at all.

pub mod postgres;
pub mod sqlite;

use chrono::{DateTime, Utc};
use sqlparser::dialect::Dialect;

/// The type of a sink column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// 64-bit integer.
    Int64,
    /// Double-precision float.
    Float64,
    /// Boolean.
    Boolean,
    /// An instant, stored in UTC.
    Timestamp,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Instant.
    Timestamp(DateTime<Utc>),
}

/// A column of the sink table.
#[derive(Debug, Clone)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
}

/// What one copy writes into a table.
#[derive(Debug, Clone)]
pub struct TableWrite {
    /// The schema, when the dataset names one.
    pub schema: Option<String>,
    /// The table.
    pub table: String,
    /// The columns written, in row order.
    pub columns: Vec<Column>,
    /// Key columns of an upsert; empty for plain inserts.
    pub upsert_keys: Vec<String>,
    /// Create the table when it does not exist (`tableOption: autoCreate`).
    pub auto_create: bool,
    /// SQL run before the rows, in the same transaction.
    pub pre_copy_script: Option<String>,
}

/// Errors of a database sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A pre-copy script that does not parse.
    #[error("preCopyScript does not parse as {dialect} SQL: {message}")]
    Script {
        /// The SQL dialect.
        dialect: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A missing table without autoCreate.
    #[error(
        "table {0} does not exist; create it or set \"tableOption\": \"autoCreate\" on the sink"
    )]
    NoTable(String),
    /// Anything the database reported; nothing was written.
    #[error("{database}: {message}; nothing was written (the copy's transaction was rolled back)")]
    Database {
        /// `SQLite` or `PostgreSQL`.
        database: &'static str,
        /// What it said.
        message: String,
    },
}

/// Parses a pre-copy script in `dialect`, so that a typo fails before anything is written.
pub fn check_script(
    script: &str,
    dialect: &dyn Dialect,
    name: &'static str,
) -> Result<(), StoreError> {
    sqlparser::parser::Parser::parse_sql(dialect, script)
        .map(|_| ())
        .map_err(|e| StoreError::Script {
            dialect: name,
            message: e.to_string(),
        })
}

/// A name quoted as an SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl TableWrite {
    /// The `CREATE TABLE` statement for `autoCreate`, with the upsert keys as primary key.
    pub fn create_table_sql(&self, sql_type: fn(ColumnType) -> &'static str) -> String {
        let mut columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{} {}", quote(&c.name), sql_type(c.ty)))
            .collect();
        if !self.upsert_keys.is_empty() {
            let keys: Vec<String> = self.upsert_keys.iter().map(|k| quote(k)).collect();
            columns.push(format!("PRIMARY KEY ({})", keys.join(", ")));
        }
        format!("CREATE TABLE {} ({})", self.qualified(), columns.join(", "))
    }

    /// `"schema"."table"`, or `"table"`.
    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(s) if !s.is_empty() => format!("{}.{}", quote(s), quote(&self.table)),
            _ => quote(&self.table),
        }
    }

    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_parsed_in_their_dialect() {
        let pg = sqlparser::dialect::PostgreSqlDialect {};
        assert!(check_script(
            "TRUNCATE TABLE messages; DELETE FROM t WHERE a = 1",
            &pg,
            "PostgreSQL"
        )
        .is_ok());
        let err = check_script("DELET FROM t", &pg, "PostgreSQL").unwrap_err();
        assert!(err.to_string().contains("Line: 1"), "{err}");
    }
}
