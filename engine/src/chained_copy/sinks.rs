//! The sinks of a chained copy: files in the lake (Json, DelimitedText, Parquet) and
//! tables (SQLite, PostgreSQL).

use std::io::Write;
use std::path::PathBuf;

use mdflow_connectors::formats::{Compression, TextEncoding};
use mdflow_connectors::stores::{self, Cell, Column, ColumnType, StoreError, TableWrite};
use polars::prelude::{Column as PlColumn, DataFrame, DataType, ParquetWriter, TimeUnit};
use serde_json::{json, Value};

use super::mapping::{infer, Translator};
use super::{file_format, lake_of, location};
use crate::copy::CopyFailure;
use crate::factory::resolve::ResolvedDataset;
use crate::secrets::SecretValue;

/// What a sink wrote.
pub(crate) struct Written {
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) files: Vec<Value>,
}

pub(crate) enum Sink<'a> {
    /// A file dataset in the lake.
    Lake {
        ds: &'a ResolvedDataset,
        format: FileFormat,
    },
    /// A table.
    Table {
        database: Database,
        plan: TableWrite,
    },
}

pub(crate) enum FileFormat {
    Json { array: bool },
    Delimited,
    Parquet,
}

pub(crate) enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

fn invalid(ds: &ResolvedDataset, message: impl std::fmt::Display) -> CopyFailure {
    CopyFailure::new(
        "UserErrorInvalidDefinition",
        format!("dataset `{}` ({}): {message}", ds.name, ds.file.display()),
    )
}

fn store_failure(e: StoreError) -> CopyFailure {
    let code = match e {
        StoreError::Script { .. } => "UserErrorInvalidPreCopyScript",
        StoreError::NoTable(_) => "UserErrorTableNotFound",
        _ => "UserErrorFailedToWriteSink",
    };
    CopyFailure::new(code, e.to_string())
}

/// The text of a secret property (`SecureString` object or plain text).
fn secret_text(v: &Value) -> Option<String> {
    if v.is_null() {
        return None;
    }
    if v.get("type").is_some() {
        let secret: crate::factory::Secret = serde_json::from_value(v.clone()).ok()?;
        return secret
            .reveal()
            .ok()
            .map(|s: SecretValue| s.expose().to_owned());
    }
    v.as_str().map(str::to_owned)
}

/// A libpq connection string from ADF's PostgreSQL linked service properties: either
/// `connectionString` (`Host=...;Port=...;Database=...;UID=...`) with `password`, or
/// `server`, `port`, `database`, `username`, `password`.
fn postgres_connection(ds: &ResolvedDataset) -> Result<String, CopyFailure> {
    let s = &ds.service;
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(text) = secret_text(&s["connectionString"]) {
        for part in text.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            let key = match k.trim().to_ascii_lowercase().as_str() {
                "host" | "server" => "host",
                "port" => "port",
                "database" | "db" => "dbname",
                "uid" | "user" | "user id" | "username" => "user",
                "password" | "pwd" => "password",
                _ => continue,
            };
            fields.push((key.into(), v.trim().into()));
        }
    }
    for (prop, key) in [
        ("server", "host"),
        ("port", "port"),
        ("database", "dbname"),
        ("username", "user"),
    ] {
        if let Some(v) = s.get(prop).filter(|v| !v.is_null()) {
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            fields.push((key.into(), text));
        }
    }
    if let Some(p) = secret_text(&s["password"]) {
        fields.push(("password".into(), p));
    }
    if !fields.iter().any(|(k, _)| k == "host") {
        return Err(CopyFailure::new(
            "UserErrorInvalidDefinition",
            format!(
                "linked service of `{}` ({}) names no server; set connectionString or server",
                ds.name,
                ds.service_file.display()
            ),
        ));
    }
    Ok(fields
        .iter()
        .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(" "))
}

impl<'a> Sink<'a> {
    pub(crate) fn from_json(ds: &'a ResolvedDataset, sink: &Value) -> Result<Self, CopyFailure> {
        let kind = ds.kind.as_str();
        let format = match kind {
            "Json" => Some(FileFormat::Json {
                array: sink["formatSettings"]["filePattern"]
                    .as_str()
                    .is_some_and(|p| p.eq_ignore_ascii_case("arrayOfObjects")),
            }),
            "DelimitedText" => Some(FileFormat::Delimited),
            "Parquet" => Some(FileFormat::Parquet),
            _ => None,
        };
        if let Some(format) = format {
            if ds.lake.is_none() {
                return Err(invalid(ds, "is not in lake storage"));
            }
            return Ok(Sink::Lake { ds, format });
        }
        let p = &ds.properties;
        let (schema, table) = match (p["table"].as_str(), p["tableName"].as_str()) {
            (Some(t), _) => (p["schema"].as_str().map(str::to_owned), t.to_owned()),
            (None, Some(name)) => match name.split_once('.') {
                Some((s, t)) => (Some(s.to_owned()), t.to_owned()),
                None => (None, name.to_owned()),
            },
            _ => return Err(invalid(ds, "names no table; set typeProperties.table")),
        };
        let database = match kind {
            "SQLiteTable" => {
                let path = ds.service["path"]
                    .as_str()
                    .ok_or_else(|| invalid(ds, "its SQLite linked service has no `path`"))?;
                let path = crate::factory::resolve::local_folder(path, &ds.root)
                    .unwrap_or_else(|| ds.root.join(path));
                Database::Sqlite(path)
            }
            "AzurePostgreSqlTable" | "PostgreSqlTable" | "PostgreSqlV2Table" => {
                Database::Postgres(postgres_connection(ds)?)
            }
            other => {
                return Err(CopyFailure::new(
                    "UserErrorNotSupported",
                    format!(
                        "chained copies write Json, DelimitedText, Parquet, SQLiteTable and \
                         PostgreSQL tables; `{}` is {other} (docs/stores.md)",
                        ds.name
                    ),
                ))
            }
        };
        let upsert = sink["writeBehavior"]
            .as_str()
            .is_some_and(|w| w.eq_ignore_ascii_case("upsert"))
            || sink["writeMethod"]
                .as_str()
                .is_some_and(|w| w.eq_ignore_ascii_case("upsert"));
        let keys: Vec<String> = sink["upsertSettings"]["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect();
        if upsert && keys.is_empty() {
            return Err(CopyFailure::new(
                "UserErrorInvalidDefinition",
                "writeBehavior upsert needs upsertSettings.keys: the columns that identify a row",
            ));
        }
        Ok(Sink::Table {
            database,
            plan: TableWrite {
                schema,
                table,
                columns: Vec::new(),
                upsert_keys: if upsert { keys } else { Vec::new() },
                auto_create: sink["tableOption"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("autoCreate")),
                pre_copy_script: sink["preCopyScript"]
                    .as_str()
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_owned),
            },
        })
    }

    /// Checks settings before anything is read or written.
    pub(crate) fn check(&self) -> Result<(), CopyFailure> {
        match self {
            Sink::Lake { ds, .. } => file_format(ds).map(|_| ()),
            Sink::Table { database, plan, .. } => match (&plan.pre_copy_script, database) {
                (Some(script), Database::Sqlite(_)) => {
                    stores::check_script(script, &sqlparser::dialect::SQLiteDialect {}, "SQLite")
                        .map_err(store_failure)
                }
                (Some(script), Database::Postgres(_)) => stores::check_script(
                    script,
                    &sqlparser::dialect::PostgreSqlDialect {},
                    "PostgreSQL",
                )
                .map_err(store_failure),
                (None, _) => Ok(()),
            },
        }
    }

    /// The sink's columns: the mappings', else the existing table's, else the rows' keys;
    /// types from the mapping, the table, or the values.
    pub(crate) fn columns(
        &self,
        translator: &Translator,
        rows: &[(String, Value)],
    ) -> Result<Vec<Column>, CopyFailure> {
        let existing: Option<Vec<(String, ColumnType)>> = match self {
            Sink::Table {
                database: Database::Postgres(conn),
                plan,
                ..
            } => {
                let mut client = stores::postgres::connect(conn).map_err(store_failure)?;
                stores::postgres::table_columns(&mut client, plan).map_err(store_failure)?
            }
            _ => None,
        };
        let names: Vec<(String, Option<ColumnType>)> = if translator.mappings.is_empty() {
            match &existing {
                Some(cols) => cols.iter().map(|(n, _)| (n.clone(), None)).collect(),
                None => {
                    let mut names: Vec<String> = Vec::new();
                    for (_, row) in rows {
                        for key in row.as_object().into_iter().flat_map(|m| m.keys()) {
                            if !names.contains(key) {
                                names.push(key.clone());
                            }
                        }
                    }
                    names.into_iter().map(|n| (n, None)).collect()
                }
            }
        } else {
            translator
                .mappings
                .iter()
                .map(|m| (m.sink.clone(), m.ty))
                .collect()
        };
        Ok(names
            .into_iter()
            .map(|(name, ty)| {
                let from_table = existing
                    .as_ref()
                    .and_then(|cols| cols.iter().find(|(n, _)| *n == name))
                    .map(|(_, t)| *t);
                let ty = ty.or(from_table).unwrap_or_else(|| infer(rows, &name));
                Column { name, ty }
            })
            .collect())
    }

    pub(crate) fn write(
        &self,
        columns: &[Column],
        cells: &[Vec<Cell>],
        run_id: &str,
    ) -> Result<Written, CopyFailure> {
        match self {
            Sink::Lake { ds, format } => write_files(ds, format, columns, cells, run_id),
            Sink::Table { database, plan, .. } => {
                let plan = TableWrite {
                    columns: columns.to_vec(),
                    ..plan.clone()
                };
                let rows = match database {
                    Database::Sqlite(path) => stores::sqlite::write(path, &plan, cells),
                    Database::Postgres(conn) => stores::postgres::connect(conn)
                        .and_then(|mut client| stores::postgres::write(&mut client, &plan, cells)),
                }
                .map_err(store_failure)?;
                Ok(Written {
                    rows,
                    bytes: 0,
                    files: Vec::new(),
                })
            }
        }
    }
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Text(s) => json!(s),
        Cell::Int(i) => json!(i),
        Cell::Float(f) => json!(f),
        Cell::Bool(b) => json!(b),
        Cell::Timestamp(t) => json!(t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()),
    }
}

fn cell_text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Null => None,
        Cell::Text(s) => Some(s.clone()),
        other => Some(match cell_json(other) {
            Value::String(s) => s,
            v => v.to_string(),
        }),
    }
}

/// The DelimitedText settings of a dataset, with ADF's defaults.
struct Delimited {
    delimiter: String,
    quote: String,
    escape: String,
    header: bool,
    null: String,
}

impl Delimited {
    fn of(ds: &ResolvedDataset) -> Self {
        let p = &ds.properties;
        let text = |k: &str, d: &str| p[k].as_str().unwrap_or(d).to_owned();
        Delimited {
            delimiter: text("columnDelimiter", ","),
            quote: text("quoteChar", "\""),
            escape: text("escapeChar", "\\"),
            header: p["firstRowAsHeader"].as_bool().unwrap_or(false),
            null: text("nullValue", ""),
        }
    }

    fn field(&self, value: Option<&str>, out: &mut String) {
        let Some(value) = value else {
            out.push_str(&self.null);
            return;
        };
        let needs_quotes = !self.quote.is_empty()
            && (value.contains(&self.delimiter)
                || value.contains(&self.quote)
                || value.contains(['\n', '\r'])
                || value.is_empty());
        if !needs_quotes {
            out.push_str(value);
            return;
        }
        let escaped = if self.escape.is_empty() {
            value.replace(&self.quote, &format!("{0}{0}", self.quote))
        } else {
            value
                .replace(&self.escape, &format!("{0}{0}", self.escape))
                .replace(&self.quote, &format!("{}{}", self.escape, self.quote))
        };
        out.push_str(&self.quote);
        out.push_str(&escaped);
        out.push_str(&self.quote);
    }
}

fn parquet_frame(columns: &[Column], cells: &[Vec<Cell>]) -> Result<DataFrame, String> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let name = c.name.as_str().into();
        let column = match c.ty {
            ColumnType::Text => PlColumn::new(
                name,
                cells.iter().map(|r| cell_text(&r[i])).collect::<Vec<_>>(),
            ),
            ColumnType::Int64 => PlColumn::new(
                name,
                cells
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Int(v) => Some(*v),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Float64 => PlColumn::new(
                name,
                cells
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Float(v) => Some(*v),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Boolean => PlColumn::new(
                name,
                cells
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Bool(v) => Some(*v),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnType::Timestamp => PlColumn::new(
                name,
                cells
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Timestamp(t) => Some(t.timestamp_micros()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(polars::prelude::TimeZone::UTC),
            ))
            .map_err(|e| e.to_string())?,
        };
        out.push(column);
    }
    DataFrame::new(cells.len(), out).map_err(|e| e.to_string())
}

fn write_files(
    ds: &ResolvedDataset,
    format: &FileFormat,
    columns: &[Column],
    cells: &[Vec<Cell>],
    run_id: &str,
) -> Result<Written, CopyFailure> {
    let lake = lake_of(ds)?;
    let (codec, encoding) = file_format(ds)?;
    let loc = location(ds);
    let failure = |e: String| {
        CopyFailure::new(
            "UserErrorFailedToWriteSink",
            format!("{}: {e}", loc.folder_path()),
        )
    };
    let extension = match format {
        FileFormat::Json { .. } => ".json",
        FileFormat::Delimited => ".csv",
        FileFormat::Parquet => ".parquet",
    };
    let name = loc.file_name.clone().unwrap_or_else(|| {
        let codec_ext = if matches!(format, FileFormat::Parquet) {
            ""
        } else {
            codec.extension()
        };
        format!("part-00000{extension}{codec_ext}")
    });
    let mut staged = lake
        .stage(&loc, run_id)
        .map_err(|e| CopyFailure::new("UserErrorInvalidSinkPath", e.to_string()))?;
    let result = (|| -> Result<u64, String> {
        let file = staged.create(&name).map_err(|e| e.to_string())?;
        let mut body: Vec<u8> = Vec::new();
        match format {
            FileFormat::Parquet => {
                let mut frame = parquet_frame(columns, cells)?;
                ParquetWriter::new(&mut body)
                    .finish(&mut frame)
                    .map_err(|e| e.to_string())?;
                let mut file = file;
                write_body(&mut file, &body, cells.len() as u64).map_err(|e| e.to_string())?;
                file.flush().map_err(|e| e.to_string())?;
                return Ok(body.len() as u64);
            }
            FileFormat::Json { array } => {
                let rows = cells.iter().map(|row| {
                    let object: serde_json::Map<String, Value> = columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.name.clone(), cell_json(v)))
                        .collect();
                    Value::Object(object).to_string()
                });
                let text = if *array {
                    format!("[\n{}\n]\n", rows.collect::<Vec<_>>().join(",\n"))
                } else {
                    rows.map(|r| r + "\n").collect()
                };
                body = text.into_bytes();
            }
            FileFormat::Delimited => {
                let settings = Delimited::of(ds);
                let mut text = String::new();
                let line = |values: Vec<Option<String>>, text: &mut String| {
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            text.push_str(&settings.delimiter);
                        }
                        settings.field(v.as_deref(), text);
                    }
                    text.push('\n');
                };
                if settings.header {
                    line(
                        columns.iter().map(|c| Some(c.name.clone())).collect(),
                        &mut text,
                    );
                }
                for row in cells {
                    line(row.iter().map(cell_text).collect(), &mut text);
                }
                body = text.into_bytes();
            }
        }
        write_text(file, codec, encoding, &body, cells.len() as u64)?;
        Ok(body.len() as u64)
    })();
    let bytes = match result {
        Ok(bytes) => bytes,
        Err(e) => {
            staged.abort();
            return Err(failure(e));
        }
    };
    let published = staged.commit().map_err(|e| failure(e.to_string()))?;
    Ok(Written {
        rows: cells.len() as u64,
        bytes,
        files: published
            .iter()
            .map(|f| json!({"path": f.path, "bytes": f.bytes}))
            .collect(),
    })
}

fn write_text(
    file: Box<dyn Write + Send>,
    codec: Compression,
    encoding: TextEncoding,
    body: &[u8],
    rows: u64,
) -> Result<(), String> {
    let compressed = codec.writer(file).map_err(|e| e.to_string())?;
    let mut text = encoding.writer(compressed).map_err(|e| e.to_string())?;
    write_body(&mut text, body, rows).map_err(|e| e.to_string())?;
    text.flush().map_err(|e| e.to_string())?;
    text.into_inner().finish().map_err(|e| e.to_string())
}

/// Writes a file's body; under `MDFLOW_TEST_PAUSE_AFTER_ROWS` it goes in eight flushed parts,
/// each followed by the test pause with the rows written so far (estimated from the bytes),
/// so that tests can kill a copy halfway through a staged file.
fn write_body(out: &mut dyn Write, body: &[u8], rows: u64) -> std::io::Result<()> {
    use mdflow_connectors::test_pause;
    if !test_pause::armed() || body.is_empty() {
        return out.write_all(body);
    }
    const PARTS: u64 = 8;
    let size = body.len().div_ceil(PARTS as usize);
    for (i, part) in body.chunks(size).enumerate() {
        out.write_all(part)?;
        out.flush()?;
        test_pause::after_rows(rows * (i as u64 + 1) / PARTS);
    }
    Ok(())
}
