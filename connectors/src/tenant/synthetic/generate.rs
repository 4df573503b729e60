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

/// Mailboxes each thread generates per round before the round is written.
const MAILBOXES_PER_THREAD: usize = 4;

/// Generates the rows of `owners` on up to `workers` threads; the result is in owner order.
fn generate_round(
    tenant: &SyntheticTenant,
    table: &Table,
    window: Option<&DateWindow>,
    owners: &[String],
    workers: usize,
) -> Result<Vec<String>, TenantError> {
    let mut results: Vec<Result<String, TenantError>> = Vec::with_capacity(owners.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(owners.len()))
            .map(|worker| {
                scope.spawn(move || {
                    owners
                        .iter()
                        .enumerate()
                        .skip(worker)
                        .step_by(workers)
                        .map(|(i, owner)| {
                            let request = ExtractRequest {
                                table,
                                owner,
                                window: window.cloned(),
                            };
                            let mut text = String::new();
                            tenant
                                .extract(&request, &mut |page| {
                                    text.push_str(&page);
                                    Ok(())
                                })
                                .map(|()| (i, text))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ordered: Vec<Option<Result<String, TenantError>>> =
            (0..owners.len()).map(|_| None).collect();
        for handle in handles {
            let Ok(done) = handle.join() else {
                return results.push(Err(TenantError::Consumer(
                    "a generator thread panicked".into(),
                )));
            };
            for item in done {
                match item {
                    Ok((i, text)) => ordered[i] = Some(Ok(text)),
                    Err(e) => return results.push(Err(e)),
                }
            }
        }
        results.extend(ordered.into_iter().flatten());
    });
    results.into_iter().collect()
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
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());

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
        // Mailboxes are generated in parallel rounds and written in mailbox order, so the
        // bytes do not depend on the number of threads. A round holds a few mailboxes per
        // thread in memory, never the whole table.
        for round in owners.chunks(workers * MAILBOXES_PER_THREAD) {
            let pages = generate_round(tenant, table, window.as_ref(), round, workers)?;
            for page in pages {
                rows += page.bytes().filter(|&b| b == b'\n').count() as u64;
                bytes += page.len() as u64;
                out.write_all(page.as_bytes()).map_err(io)?;
            }
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
