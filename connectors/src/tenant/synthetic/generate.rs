//! Writes whole tables of a synthetic tenant to a folder, the way MGDC would deliver them:
//! `<out_dir>/<TableName>/part-00000.json`, JSON Lines, one row per line.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::SyntheticTenant;
use crate::catalog::{DateFilter, Scope, Table};
use crate::tenant::{DateWindow, ExtractRequest, TenantBackend, TenantError};

/// What was written for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    /// The table name.
    pub table: String,
    /// The file written.
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// What [`generate_to_dir`] wrote, table by table, in the order asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    /// One entry per table.
    pub tables: Vec<TableSummary>,
}

/// Why generation stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// A file or folder could not be created or written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The tenant could not produce a table.
    #[error("{0}")]
    Tenant(#[from] TenantError),
}

/// Writes each table over all valid users (or all groups, for group tables).
///
/// `window` applies to tables with date filters, on their first filter column (calendar
/// views take it as their view window). Without one, the tenant's whole range
/// `[from, to + 1 day)` is used, so date-filtered tables are complete.
pub fn generate_to_dir(
    tenant: &SyntheticTenant,
    tables: &[&Table],
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    out_dir: &Path,
) -> Result<GenerateSummary, GenerateError> {
    let mut summary = GenerateSummary::default();
    let owners_users: Vec<String> = tenant.users()?.into_iter().map(|u| u.id).collect();
    let owners_groups = tenant.groups()?;
    let whole = {
        let day = chrono::Duration::days(1);
        let at = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        (at(tenant.config.from), at(tenant.config.to) + day)
    };
    let (start, end) = window.unwrap_or(whole);

    for table in tables {
        let dir = out_dir.join(&table.name);
        fs::create_dir_all(&dir).map_err(|source| GenerateError::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join("part-00000.json");
        let io = |source| GenerateError::Io {
            path: path.clone(),
            source,
        };
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);

        let window = match table.date_filter {
            DateFilter::None => None,
            DateFilter::Window => Some(DateWindow {
                column: None,
                start,
                end,
            }),
            DateFilter::Column => Some(DateWindow {
                column: table.filter_columns.first().cloned(),
                start,
                end,
            }),
        };
        let owners = if table.scope == Scope::Group {
            &owners_groups
        } else {
            &owners_users
        };
        let (mut rows, mut bytes) = (0u64, 0u64);
        let mut write_error = None;
        for owner in owners {
            let request = ExtractRequest {
                table,
                owner,
                window: window.clone(),
            };
            let result = tenant.extract(&request, &mut |page| {
                rows += page.bytes().filter(|&b| b == b'\n').count() as u64;
                bytes += page.len() as u64;
                out.write_all(page.as_bytes()).map_err(|e| {
                    let message = e.to_string();
                    write_error = Some(e);
                    TenantError::Consumer(message)
                })
            });
            if let Some(e) = write_error.take() {
                return Err(io(e));
            }
            result?;
        }
        out.flush().map_err(io)?;
        summary.tables.push(TableSummary {
            table: table.name.clone(),
            path,
            rows,
            bytes,
        });
    }
    Ok(summary)
}
