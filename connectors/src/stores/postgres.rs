//! PostgreSQL sink: one transaction per copy, rows loaded with `COPY ... FROM STDIN` (into
//! a temporary table first for upserts).

use std::io::Write;

use super::{quote, Cell, ColumnType, StoreError, TableWrite};

fn db(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database {
        database: "PostgreSQL",
        message: e.to_string(),
    }
}

fn sql_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "text",
        ColumnType::Int64 => "bigint",
        ColumnType::Float64 => "double precision",
        ColumnType::Boolean => "boolean",
        ColumnType::Timestamp => "timestamptz",
    }
}

/// The type of a PostgreSQL column as a sink column type.
pub fn column_type(data_type: &str) -> ColumnType {
    match data_type {
        "bigint" | "integer" | "smallint" => ColumnType::Int64,
        "double precision" | "real" | "numeric" => ColumnType::Float64,
        "boolean" => ColumnType::Boolean,
        t if t.starts_with("timestamp") || t == "date" => ColumnType::Timestamp,
        _ => ColumnType::Text,
    }
}

/// Connects with a libpq-style connection string (`host=... port=... user=...`).
pub fn connect(connection: &str) -> Result<postgres::Client, StoreError> {
    postgres::Client::connect(connection, postgres::NoTls).map_err(|e| StoreError::Database {
        database: "PostgreSQL",
        message: format!("cannot connect: {e}"),
    })
}

/// The columns of an existing table with their types, or `None` when it does not exist.
pub fn table_columns(
    client: &mut postgres::Client,
    plan: &TableWrite,
) -> Result<Option<Vec<(String, ColumnType)>>, StoreError> {
    let schema = plan.schema.clone().unwrap_or_else(|| "public".into());
    let rows = client
        .query(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            &[&schema, &plan.table],
        )
        .map_err(db)?;
    let columns: Vec<(String, ColumnType)> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), column_type(&r.get::<_, String>(1))))
        .collect();
    Ok((!columns.is_empty()).then_some(columns))
}

fn csv_field(cell: &Cell, out: &mut Vec<u8>) {
    let quoted = |s: &str, out: &mut Vec<u8>| {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    };
    match cell {
        // An unquoted empty field is NULL in COPY's CSV format; a quoted one is ''.
        Cell::Null => {}
        Cell::Text(s) => quoted(s, out),
        Cell::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Cell::Float(f) => out.extend_from_slice(f.to_string().as_bytes()),
        Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Cell::Timestamp(t) => quoted(&t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(), out),
    }
}

/// Writes `rows` in one transaction and returns the number of rows inserted or updated.
pub fn write(
    client: &mut postgres::Client,
    plan: &TableWrite,
    rows: &[Vec<Cell>],
) -> Result<u64, StoreError> {
    if let Some(script) = &plan.pre_copy_script {
        super::check_script(
            script,
            &sqlparser::dialect::PostgreSqlDialect {},
            "PostgreSQL",
        )?;
    }
    let exists = table_columns(client, plan)?.is_some();
    let mut tx = client.transaction().map_err(db)?;
    if let Some(script) = &plan.pre_copy_script {
        tx.batch_execute(script).map_err(db)?;
    }
    let table = plan.qualified();
    if !exists {
        if !plan.auto_create {
            return Err(StoreError::NoTable(table));
        }
        tx.batch_execute(&plan.create_table_sql(sql_type))
            .map_err(db)?;
    }

    // Upserts load a temporary twin of the table, then merge it in one statement.
    let target = if plan.upsert_keys.is_empty() {
        table.clone()
    } else {
        tx.batch_execute(&format!(
            "CREATE TEMPORARY TABLE mdflow_upsert ON COMMIT DROP AS SELECT {} FROM {table} WITH NO DATA",
            plan.column_list()
        ))
        .map_err(db)?;
        "mdflow_upsert".to_owned()
    };
    let mut writer = tx
        .copy_in(&format!(
            "COPY {target} ({}) FROM STDIN (FORMAT csv)",
            plan.column_list()
        ))
        .map_err(db)?;
    let mut line = Vec::with_capacity(1 << 16);
    for (n, row) in rows.iter().enumerate() {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            csv_field(cell, &mut line);
        }
        line.push(b'\n');
        if line.len() >= 1 << 16 {
            writer.write_all(&line).map_err(db)?;
            line.clear();
        }
        if crate::test_pause::armed() {
            // Rows sent so far reach the server before a test pause, so a kill mid-write
            // really leaves an open transaction with rows in it.
            writer.write_all(&line).map_err(db)?;
            line.clear();
            writer.flush().map_err(db)?;
            crate::test_pause::after_rows(n as u64 + 1);
        }
    }
    writer.write_all(&line).map_err(db)?;
    let mut written = writer.finish().map_err(db)?;
    if !plan.upsert_keys.is_empty() {
        let keys: Vec<String> = plan.upsert_keys.iter().map(|k| quote(k)).collect();
        let updates: Vec<String> = plan
            .columns
            .iter()
            .filter(|c| !plan.upsert_keys.contains(&c.name))
            .map(|c| format!("{0} = excluded.{0}", quote(&c.name)))
            .collect();
        let action = if updates.is_empty() {
            "NOTHING".to_owned()
        } else {
            format!("UPDATE SET {}", updates.join(", "))
        };
        written = tx
            .execute(
                &format!(
                    "INSERT INTO {table} ({0}) SELECT {0} FROM mdflow_upsert ON CONFLICT ({1}) DO {action}",
                    plan.column_list(),
                    keys.join(", ")
                ),
                &[],
            )
            .map_err(db)?;
    }
    tx.commit().map_err(db)?;
    Ok(written)
}
