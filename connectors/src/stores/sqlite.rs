//! SQLite sink: one database file, one transaction per copy.

use std::path::Path;

use rusqlite::types::Value as SqlValue;

use super::{quote, Cell, ColumnType, StoreError, TableWrite};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database {
        database: "SQLite",
        message: e.to_string(),
    }
}

fn sql_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text | ColumnType::Timestamp => "TEXT",
        ColumnType::Int64 | ColumnType::Boolean => "INTEGER",
        ColumnType::Float64 => "REAL",
    }
}

fn value(cell: &Cell) -> SqlValue {
    match cell {
        Cell::Null => SqlValue::Null,
        Cell::Text(s) => SqlValue::Text(s.clone()),
        Cell::Int(i) => SqlValue::Integer(*i),
        Cell::Float(f) => SqlValue::Real(*f),
        Cell::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Cell::Timestamp(t) => SqlValue::Text(t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()),
    }
}

/// The declared types of an existing table's columns, or `None` when it does not exist.
pub fn table_columns(
    path: &Path,
    table: &str,
) -> Result<Option<Vec<(String, String)>>, StoreError> {
    if !path.exists() {
        return Ok(None);
    }
    let conn = rusqlite::Connection::open(path).map_err(db)?;
    let mut statement = conn
        .prepare(&format!("PRAGMA table_info({})", quote(table)))
        .map_err(db)?;
    let columns = statement
        .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    Ok((!columns.is_empty()).then_some(columns))
}

/// Writes `rows` in one transaction and returns how many rows the table gained or had
/// updated.
pub fn write(path: &Path, plan: &TableWrite, rows: &[Vec<Cell>]) -> Result<u64, StoreError> {
    if let Some(script) = &plan.pre_copy_script {
        super::check_script(script, &sqlparser::dialect::SQLiteDialect {}, "SQLite")?;
    }
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let mut conn = rusqlite::Connection::open(path).map_err(db)?;
    let tx = conn.transaction().map_err(db)?;
    if let Some(script) = &plan.pre_copy_script {
        tx.execute_batch(script).map_err(db)?;
    }
    let table = plan.qualified();
    let exists: bool = tx
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [&plan.table],
            |r| r.get(0),
        )
        .map_err(db)?;
    if !exists {
        if !plan.auto_create {
            return Err(StoreError::NoTable(table));
        }
        tx.execute_batch(&plan.create_table_sql(sql_type))
            .map_err(db)?;
    }
    let placeholders: Vec<String> = (1..=plan.columns.len()).map(|i| format!("?{i}")).collect();
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        plan.column_list(),
        placeholders.join(", ")
    );
    if !plan.upsert_keys.is_empty() {
        let keys: Vec<String> = plan.upsert_keys.iter().map(|k| quote(k)).collect();
        let updates: Vec<String> = plan
            .columns
            .iter()
            .filter(|c| !plan.upsert_keys.contains(&c.name))
            .map(|c| format!("{0} = excluded.{0}", quote(&c.name)))
            .collect();
        sql.push_str(&format!(" ON CONFLICT ({}) DO ", keys.join(", ")));
        if updates.is_empty() {
            sql.push_str("NOTHING");
        } else {
            sql.push_str(&format!("UPDATE SET {}", updates.join(", ")));
        }
    }
    let mut written = 0u64;
    {
        let mut statement = tx.prepare(&sql).map_err(db)?;
        for row in rows {
            let values: Vec<SqlValue> = row.iter().map(value).collect();
            written += statement
                .execute(rusqlite::params_from_iter(values))
                .map_err(db)? as u64;
        }
    }
    tx.commit().map_err(db)?;
    Ok(written)
}
