//! The Copy activity from Office 365 into the lake: scope the mailboxes, extract them in
//! parallel, decode each page into typed columns (only the requested ones), encode JSON and
//! publish the files in one commit.
//!
//! Memory stays flat whatever the extract's size: a worker holds at most one batch of rows,
//! and encoded batches wait in a bounded channel for the single writer.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::{Duration, Instant};

use mdflow_connectors::catalog::{Catalog, DateFilter, Scope, Table};
use mdflow_connectors::columnar::{encode_frame, Layout, RowDecoder};
use mdflow_connectors::formats::text::TextWriter;
use mdflow_connectors::formats::{Compression, Encoder, TextEncoding};
use mdflow_connectors::lake::{LakeStore, OutputLocation, PublishedFile};
use mdflow_connectors::tenant::graph::{ClientSecret, GraphConfig, GraphTenant};
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant};
use mdflow_connectors::tenant::{DateWindow, ExtractRequest, TenantBackend, TenantError};
use serde_json::{json, Value};

use crate::factory::resolve::{
    CopyPlan, FilePattern, LakeStore as LakeKind, SyntheticSettings, TenantConnection,
};
use crate::runs::Checkpoint;

/// A sink file: text in the dataset's encoding, compressed with its codec.
type SinkFile = TextWriter<Encoder>;

/// The codec and encoding a JSON sink dataset asks for.
pub(crate) fn sink_format(
    compression: &str,
    encoding: &str,
) -> Result<(Compression, TextEncoding), CopyFailure> {
    let bad = |e: mdflow_connectors::formats::UnknownSetting| {
        CopyFailure::new(
            "UserErrorInvalidFormatSettings",
            format!("sink dataset: {e}"),
        )
    };
    let codec = Compression::parse(compression).map_err(bad)?;
    if codec == Compression::ZipDeflate {
        return Err(CopyFailure::new(
            "UserErrorInvalidFormatSettings",
            "sink dataset: ZipDeflate can be read but not written; use GZip, BZip2 or Deflate",
        ));
    }
    Ok((codec, TextEncoding::parse(encoding).map_err(bad)?))
}

/// Rows decoded before a worker encodes them and hands them to the writer.
const BATCH_ROWS: usize = 2_000;
/// A new part file starts once the current one holds this many bytes.
const PART_FILE_BYTES: u64 = 256 << 20;
/// A worker's part file is closed and checkpointed after this many mailboxes (or as many
/// as `MDFLOW_CHECKPOINT_MAILBOXES` says)...
const CHECKPOINT_OWNERS: usize = 50;
/// Overrides [`CHECKPOINT_OWNERS`]: smaller means less to extract again after a crash, and
/// more, smaller files.
pub const CHECKPOINT_VARIABLE: &str = "MDFLOW_CHECKPOINT_MAILBOXES";
/// ...or once it has been open this long, at the next mailbox boundary.
const CHECKPOINT_AGE: Duration = Duration::from_secs(30);

/// Stores a checkpoint (in the run records).
pub type RecordCheckpoint<'a> = dyn Fn(&Checkpoint) -> Result<(), String> + 'a;

/// Where a copy records its checkpoints, and what a stopped run of it left to reuse.
pub struct CopyCheckpoints<'a> {
    /// Stores a checkpoint; called on the copy's writer thread once the checkpoint's files
    /// are closed.
    pub record: &'a RecordCheckpoint<'a>,
    /// The stopped run whose staged files to reuse, and its checkpoints of this activity.
    pub resume: Option<(String, Vec<Checkpoint>)>,
}

/// What the writer receives from the workers.
enum Message {
    /// Encoded rows of the worker's current mailbox.
    Batch {
        worker: usize,
        rows: u64,
        bytes: Vec<u8>,
    },
    /// The worker sent every row of this mailbox.
    OwnerDone { worker: usize, owner: String },
}

/// Receives progress of a copy; the command line draws a bar or logs lines from it.
pub trait CopyProgress: Sync {
    /// The copy knows how many mailboxes (or groups) it will extract.
    fn started(&self, owners: u64);
    /// One mailbox is done, with the rows and encoded bytes it gave.
    fn owner_done(&self, rows: u64, bytes: u64);
}

/// A progress receiver that ignores everything.
pub struct NoProgress;

impl CopyProgress for NoProgress {
    fn started(&self, _: u64) {}
    fn owner_done(&self, _: u64, _: u64) {}
}

/// Why a copy failed, in ADF's error shape.
#[derive(Debug, Clone)]
pub struct CopyFailure {
    /// An ADF-like error code, such as `UserErrorOffice365DataLoaderError`.
    pub code: &'static str,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl CopyFailure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        CopyFailure {
            code,
            message: message.into(),
        }
    }
}

/// Runs one resolved Copy activity and returns its ADF-shaped output.
pub fn run_copy(
    plan: &CopyPlan,
    run_id: &str,
    progress: &dyn CopyProgress,
) -> Result<Value, CopyFailure> {
    run_copy_with(plan, run_id, progress, None)
}

/// Runs one resolved Copy activity, checkpointing completed mailboxes and, when resuming,
/// reusing the staged files of the mailboxes a stopped run completed.
///
/// Part-file outputs only: each worker writes its own part files, closed at a mailbox
/// boundary every 50 mailboxes (or 30 seconds), so a closed file holds every row of its
/// mailboxes and no other. An output with a named file is written whole every time.
pub fn run_copy_with(
    plan: &CopyPlan,
    run_id: &str,
    progress: &dyn CopyProgress,
    checkpoints: Option<&CopyCheckpoints<'_>>,
) -> Result<Value, CopyFailure> {
    let started = Instant::now();
    let catalog = Catalog::builtin();
    let table = catalog.table(&plan.source.table).ok_or_else(|| {
        CopyFailure::new(
            "UserErrorOffice365TableNotFound",
            format!(
                "unknown tableName `{}`; see `mdflow catalog list`",
                plan.source.table
            ),
        )
    })?;
    let tenant = connect_tenant(&plan.tenant)?;
    let owners = scope_owners(plan, table, tenant.as_ref())?;
    let window = date_window(plan, table)?;
    let projection = plan.source.output_columns.as_deref();
    // Fail on a bad column list before anything is staged.
    RowDecoder::new(table, projection)
        .map_err(|e| CopyFailure::new("UserErrorInvalidColumnMapping", e.to_string()))?;

    let format = sink_format(&plan.sink.compression, &plan.sink.encoding)?;
    let lake = open_lake(&plan.sink.store)?;
    let location = OutputLocation {
        container: plan.sink.container.clone(),
        folder: plan.sink.folder_path.clone(),
        file_name: plan.sink.file_name.clone(),
    };
    let fingerprint = plan_fingerprint(plan);
    // A named file is written whole; a store that cannot keep staging across runs gains
    // nothing from checkpoints.
    let checkpoints = checkpoints.filter(|_| location.file_name.is_none() && lake.resumable());
    let stage_failure = |e: mdflow_connectors::lake::LakeError| {
        CopyFailure::new("UserErrorInvalidSinkPath", e.to_string())
    };
    let (mut staged, reused) = match checkpoints.and_then(|c| c.resume.as_ref()) {
        Some((previous, groups)) => {
            // Only checkpoints of this same copy whose mailboxes are all still in scope.
            let in_scope: BTreeSet<&str> = owners.iter().map(String::as_str).collect();
            let usable: Vec<&Checkpoint> = groups
                .iter()
                .filter(|g| g.plan == fingerprint)
                .filter(|g| g.owners.iter().all(|o| in_scope.contains(o.as_str())))
                .collect();
            let files: Vec<Vec<String>> = usable.iter().map(|g| g.files.clone()).collect();
            let (staged, kept) = lake
                .stage_resuming(&location, run_id, previous, &files)
                .map_err(stage_failure)?;
            let reused: Vec<Checkpoint> = kept.iter().map(|&i| usable[i].clone()).collect();
            (staged, reused)
        }
        None => (
            lake.stage(&location, run_id).map_err(stage_failure)?,
            Vec::new(),
        ),
    };
    let checkpoint_failure =
        |e: String| CopyFailure::new("SystemErrorCheckpointFailed", format!("checkpoint: {e}"));
    // The reused groups become this run's, so that resuming this run finds them too.
    if let Some(c) = checkpoints {
        for group in &reused {
            (c.record)(group).map_err(checkpoint_failure)?;
        }
    }
    let done: BTreeSet<&str> = reused
        .iter()
        .flat_map(|g| g.owners.iter().map(String::as_str))
        .collect();
    let reused_rows: u64 = reused.iter().map(|g| g.rows).sum();
    let all_owners = owners.len();
    let owners: Vec<String> = owners
        .iter()
        .filter(|o| !done.contains(o.as_str()))
        .cloned()
        .collect();
    if !reused.is_empty() {
        tracing::info!(
            run_id,
            mailboxes = done.len(),
            rows = reused_rows,
            "resumed: reusing checkpointed mailboxes"
        );
    }
    let first_part = reused
        .iter()
        .flat_map(|g| &g.files)
        .filter_map(|f| f.get(5..10).and_then(|n| n.parse::<usize>().ok()))
        .max()
        .map_or(0, |n| n + 1);

    let layout_array = plan.sink.file_pattern == FilePattern::ArrayOfObjects;
    // A synthetic tenant is CPU-bound: one worker per core. A Graph tenant waits on the
    // network, and `parallelCopies` lets it keep more requests in flight.
    let workers = plan.parallel_copies.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8)
    });
    let workers = workers.min(owners.len().max(1));
    let stop = AtomicBool::new(false);
    let data_read = AtomicU64::new(0);
    let rows_read = AtomicU64::new(0);
    progress.started(owners.len() as u64);

    let (sender, receiver) = sync_channel::<Message>(workers * 2);
    let outcome = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(workers);
        for worker in 0..workers {
            let sender = sender.clone();
            let (owners, tenant, stop) = (&owners, tenant.as_ref(), &stop);
            let (data_read, rows_read, window) = (&data_read, &rows_read, &window);
            handles.push(scope.spawn(move || -> Result<(), CopyFailure> {
                // Static shares keep each run's output in the same order.
                for owner in owners.iter().skip(worker).step_by(workers) {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    let request = ExtractRequest {
                        table,
                        owner: owner.as_str(),
                        window: window.clone(),
                    };
                    let (rows, bytes) = extract_owner(
                        &request,
                        tenant,
                        projection,
                        layout_array,
                        (worker, &sender),
                        stop,
                        data_read,
                    )?;
                    let done = Message::OwnerDone {
                        worker,
                        owner: owner.clone(),
                    };
                    sender.send(done).map_err(|_| writer_stopped())?;
                    rows_read.fetch_add(rows, Ordering::Relaxed);
                    progress.owner_done(rows, bytes);
                }
                Ok(())
            }));
        }
        drop(sender);
        let target = WriteTarget {
            location: &location,
            layout_array,
            format,
            first_part,
            checkpoint_owners: std::env::var(CHECKPOINT_VARIABLE)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or(CHECKPOINT_OWNERS),
            plan: &fingerprint,
            record: checkpoints.map(|c| c.record),
        };
        let written = write_batches(receiver, staged.as_mut(), &target);
        if written.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let mut first_failure = None;
        for handle in handles {
            let result = handle.join().unwrap_or_else(|_| {
                Err(CopyFailure::new(
                    "SystemErrorWorkerPanicked",
                    "an extraction worker panicked",
                ))
            });
            if let Err(e) = result {
                stop.store(true, Ordering::Relaxed);
                first_failure.get_or_insert(e);
            }
        }
        match (first_failure, written) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(stats)) => Ok(stats),
        }
    });

    let (rows_copied, bytes_written) = match outcome {
        Ok((rows, bytes)) => (rows + reused_rows, bytes),
        // Checkpointed files stay staged for `mdflow run --resume`.
        Err(failure) if checkpoints.is_some() => return Err(failure),
        Err(failure) => {
            staged.abort();
            return Err(failure);
        }
    };
    let published = staged
        .commit()
        .map_err(|e| CopyFailure::new("UserErrorFailedToPublishOutput", e.to_string()))?;

    let elapsed = started.elapsed().as_secs_f64();
    let data_read = data_read.load(Ordering::Relaxed);
    Ok(copy_output(CopyStats {
        plan,
        table,
        lake: lake.as_ref(),
        owners: all_owners,
        resumed: (done.len(), reused_rows),
        rows_read: rows_read.load(Ordering::Relaxed) + reused_rows,
        rows_copied,
        data_read,
        data_written: bytes_written,
        published: &published,
        seconds: elapsed,
        workers,
    }))
}

pub(crate) fn connect_tenant(
    connection: &TenantConnection,
) -> Result<Box<dyn TenantBackend>, CopyFailure> {
    match connection {
        TenantConnection::Synthetic(settings) => {
            let config = synthetic_config(settings);
            SyntheticTenant::new(config)
                .map(|t| Box::new(t) as Box<dyn TenantBackend>)
                .map_err(|e| CopyFailure::new("UserErrorInvalidSyntheticTenant", e))
        }
        TenantConnection::Graph {
            tenant_id,
            service_principal_tenant_id,
            service_principal_id,
            service_principal_key,
            options,
        } => {
            // Revealed here, where the token request uses it; never logged.
            let key = service_principal_key
                .reveal()
                .map_err(|e| CopyFailure::new("UserErrorCredentialNotFound", e.to_string()))?;
            let secret = ClientSecret::new(key.expose());
            let mut config = GraphConfig::new(tenant_id, service_principal_id, secret);
            config.authority_tenant_id = service_principal_tenant_id.clone();
            if let Some(endpoint) = &options.graph_endpoint {
                config.graph_endpoint = endpoint.clone();
            }
            if let Some(host) = &options.authority_host {
                config.authority_host = host.clone();
            }
            if let Some(cap) = options.max_concurrent_requests {
                config.max_concurrent_requests = cap.max(1) as usize;
            }
            if let Some(retries) = options.max_retries {
                config.max_retries = retries;
            }
            GraphTenant::new(config)
                .map(|t| Box::new(t) as Box<dyn TenantBackend>)
                .map_err(|e| CopyFailure::new("UserErrorInvalidLinkedService", e.to_string()))
        }
    }
}

/// The synthetic tenant a linked service describes, with defaults for what it leaves out.
pub fn synthetic_config(settings: &SyntheticSettings) -> SyntheticConfig {
    let defaults = SyntheticConfig::default();
    SyntheticConfig {
        users: settings.users.unwrap_or(defaults.users),
        messages_per_user: settings
            .messages_per_user
            .unwrap_or(defaults.messages_per_user),
        seed: settings.seed.unwrap_or(defaults.seed),
        from: settings.from.unwrap_or(defaults.from),
        // Factories name the last day; the tenant wants the day after it.
        to: settings
            .to
            .map_or(defaults.to, |last| last + chrono::Days::new(1)),
    }
}

fn tenant_failure(e: TenantError) -> CopyFailure {
    CopyFailure::new("UserErrorOffice365DataLoaderError", e.to_string())
}

/// The mailboxes (or groups) to extract, in a stable order.
pub(crate) fn scope_owners(
    plan: &CopyPlan,
    table: &Table,
    tenant: &dyn TenantBackend,
) -> Result<Vec<String>, CopyFailure> {
    let source = &plan.source;
    if table.scope == Scope::Group {
        return if source.allowed_groups.is_empty() {
            tenant.groups().map_err(tenant_failure)
        } else {
            Ok(source.allowed_groups.clone())
        };
    }
    let users = tenant.users().map_err(tenant_failure)?;
    if !source.allowed_groups.is_empty() {
        let mut members = BTreeSet::new();
        for group in &source.allowed_groups {
            members.extend(tenant.group_members(group).map_err(tenant_failure)?);
        }
        return Ok(users
            .into_iter()
            .map(|u| u.id)
            .filter(|id| members.contains(id))
            .collect());
    }
    if let Some(uri) = &source.user_scope_filter_uri {
        let scoped = tenant.scoped_users(uri).map_err(tenant_failure)?;
        return Ok(scoped.into_iter().map(|u| u.id).collect());
    }
    Ok(users.into_iter().map(|u| u.id).collect())
}

pub(crate) fn date_window(
    plan: &CopyPlan,
    table: &Table,
) -> Result<Option<DateWindow>, CopyFailure> {
    let source = &plan.source;
    let missing = |what: &str| {
        CopyFailure::new(
            "UserErrorOffice365DateFilterMissing",
            format!(
                "{} needs {what}; run `mdflow validate` for the details",
                table.name
            ),
        )
    };
    match table.date_filter {
        DateFilter::None => Ok(None),
        DateFilter::Column | DateFilter::Window => {
            let column = match (table.date_filter, &source.date_filter_column) {
                (DateFilter::Column, Some(name)) => Some(
                    table
                        .filter_column(name)
                        .ok_or_else(|| {
                            missing("a dateFilterColumn that is one of its date columns")
                        })?
                        .to_owned(),
                ),
                (DateFilter::Column, None) => return Err(missing("a dateFilterColumn")),
                _ => None,
            };
            let start = source.start_time.ok_or_else(|| missing("a startTime"))?;
            let end = source.end_time.ok_or_else(|| missing("an endTime"))?;
            Ok(Some(DateWindow { column, start, end }))
        }
    }
}

fn open_lake(store: &LakeKind) -> Result<Box<dyn LakeStore>, CopyFailure> {
    crate::lake_access::open_lake(store).map_err(|e| CopyFailure::new(e.code, e.message))
}

/// Extracts one mailbox: pages decode into a batch, full batches are encoded and sent.
fn extract_owner(
    request: &ExtractRequest<'_>,
    tenant: &dyn TenantBackend,
    projection: Option<&[String]>,
    layout_array: bool,
    (worker, sender): (usize, &std::sync::mpsc::SyncSender<Message>),
    stop: &AtomicBool,
    data_read: &AtomicU64,
) -> Result<(u64, u64), CopyFailure> {
    let table = request.table;
    let mut decoder = RowDecoder::new(table, projection)
        .map_err(|e| CopyFailure::new("UserErrorInvalidColumnMapping", e.to_string()))?;
    let (mut rows, mut bytes, mut line) = (0u64, 0u64, 1usize);
    let mut failure = None;
    let mut flush = |decoder: &mut RowDecoder| -> Result<(), CopyFailure> {
        let frame = decoder
            .finish()
            .map_err(|e| CopyFailure::new("SystemErrorColumnAssembly", e.to_string()))?;
        if frame.height() == 0 {
            return Ok(());
        }
        let layout = if layout_array {
            Layout::ArrayItems { first: true }
        } else {
            Layout::Lines
        };
        let mut out = Vec::with_capacity(frame.height() * 512);
        encode_frame(&frame, Some(table), layout, &mut out)
            .map_err(|e| CopyFailure::new("UserErrorUnsupportedType", e.to_string()))?;
        rows += frame.height() as u64;
        bytes += out.len() as u64;
        let batch = Message::Batch {
            worker,
            rows: frame.height() as u64,
            bytes: out,
        };
        sender.send(batch).map_err(|_| writer_stopped())
    };
    let extracted = tenant.extract_columns(request, projection, &mut |page| {
        if stop.load(Ordering::Relaxed) {
            return Err(TenantError::Consumer("copy stopped".into()));
        }
        data_read.fetch_add(page.len() as u64, Ordering::Relaxed);
        let result = decoder
            .push_lines(&page, line)
            .map_err(|e| {
                CopyFailure::new(
                    "UserErrorOffice365RowDoesNotMatchSchema",
                    format!("mailbox {}: {e}", request.owner),
                )
            })
            .and_then(|_| {
                if decoder.len() >= BATCH_ROWS {
                    flush(&mut decoder)
                } else {
                    Ok(())
                }
            });
        line += page.lines().count();
        result.map_err(|e| {
            let text = e.message.clone();
            failure = Some(e);
            TenantError::Consumer(text)
        })
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    extracted.map_err(|e| {
        CopyFailure::new(
            "UserErrorOffice365DataLoaderError",
            format!("mailbox {}: {e}", request.owner),
        )
    })?;
    flush(&mut decoder)?;
    Ok((rows, bytes))
}

fn writer_stopped() -> CopyFailure {
    CopyFailure::new("SystemErrorWriterStopped", "the lake writer stopped")
}

/// A short, stable fingerprint of what a copy reads and where it writes (FNV-1a of the
/// evaluated source and sink settings), so a resumed run reuses only the same copy's files.
fn plan_fingerprint(plan: &CopyPlan) -> String {
    let text = format!("{:?}|{:?}", plan.source, plan.sink);
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Where and how the writer writes.
struct WriteTarget<'a> {
    location: &'a OutputLocation,
    layout_array: bool,
    format: (Compression, TextEncoding),
    /// The number of the first part file (after those a resumed run reuses).
    first_part: usize,
    /// Mailboxes per checkpoint.
    checkpoint_owners: usize,
    plan: &'a str,
    record: Option<&'a RecordCheckpoint<'a>>,
}

/// The part file a worker is writing, and the mailboxes it finished since its last
/// checkpoint.
#[derive(Default)]
struct Group {
    current: Option<(SinkFile, u64)>,
    files: Vec<String>,
    owners: Vec<String>,
    rows: u64,
    opened: Option<Instant>,
    next_part: usize,
}

/// Writes encoded batches until every worker is done: one part file at a time per worker,
/// closed and checkpointed at a mailbox boundary (or the one named file, shared by all).
fn write_batches(
    receiver: Receiver<Message>,
    staged: &mut dyn mdflow_connectors::lake::StagedOutput,
    target: &WriteTarget<'_>,
) -> Result<(u64, u64), CopyFailure> {
    let location = target.location;
    let (layout_array, format) = (target.layout_array, target.format);
    let sink_failure = |e: std::io::Error| {
        CopyFailure::new(
            "UserErrorFailedToWriteSink",
            format!("{}: {e}", location.folder_path()),
        )
    };
    let lake_failure = |e: mdflow_connectors::lake::LakeError| {
        CopyFailure::new("UserErrorFailedToWriteSink", e.to_string())
    };
    let named = location.file_name.is_some();
    let (mut rows, mut total) = (0u64, 0u64);
    let mut groups: Vec<Group> = Vec::new();
    let open = |name: &str, staged: &mut dyn mdflow_connectors::lake::StagedOutput| {
        let file = staged.create(name).map_err(lake_failure)?;
        let file = format.0.writer(file).map_err(sink_failure)?;
        let mut file = format.1.writer(file).map_err(sink_failure)?;
        if layout_array {
            file.write_all(b"[\n").map_err(sink_failure)?;
        }
        Ok::<_, CopyFailure>(file)
    };
    let close = |mut file: SinkFile| {
        if layout_array {
            file.write_all(b"\n]\n").map_err(sink_failure)?;
        }
        file.flush().map_err(sink_failure)?;
        file.into_inner().finish().map_err(sink_failure)
    };
    let group_of = |groups: &mut Vec<Group>, worker: usize| -> usize {
        // A named file is one file for every worker.
        let index = if named { 0 } else { worker };
        if groups.len() <= index {
            groups.resize_with(index + 1, || Group {
                next_part: target.first_part,
                ..Group::default()
            });
        }
        index
    };
    // Closes a group's file; its finished mailboxes are then complete on disk.
    let checkpoint = |group: &mut Group| -> Result<(), CopyFailure> {
        if let Some((file, _)) = group.current.take() {
            close(file)?;
        }
        if let Some(record) = target.record {
            let done = Checkpoint {
                plan: target.plan.to_owned(),
                files: std::mem::take(&mut group.files),
                owners: std::mem::take(&mut group.owners),
                rows: std::mem::take(&mut group.rows),
            };
            record(&done).map_err(|e| {
                CopyFailure::new("SystemErrorCheckpointFailed", format!("checkpoint: {e}"))
            })?;
        }
        group.opened = None;
        Ok(())
    };

    for message in receiver {
        match message {
            Message::Batch {
                worker,
                rows: batch_rows,
                bytes: batch,
            } => {
                let index = group_of(&mut groups, worker);
                let group = &mut groups[index];
                rows += batch_rows;
                group.rows += batch_rows;
                if group.current.is_none() {
                    let name = location.file_name.clone().unwrap_or_else(|| {
                        format!(
                            "part-{:05}-{worker:02}.json{}",
                            group.next_part,
                            format.0.extension()
                        )
                    });
                    group.next_part += 1;
                    group.opened.get_or_insert_with(Instant::now);
                    group.current = Some((open(&name, staged)?, 0));
                    group.files.push(name);
                }
                let Some((file, size)) = group.current.as_mut() else {
                    continue;
                };
                if layout_array && *size > 0 {
                    file.write_all(b",\n").map_err(sink_failure)?;
                }
                file.write_all(&batch).map_err(sink_failure)?;
                *size += batch.len() as u64;
                total += batch.len() as u64;
                // A mailbox larger than a part file spans several; they are checkpointed
                // together.
                if !named && *size >= PART_FILE_BYTES {
                    if let Some((file, _)) = group.current.take() {
                        close(file)?;
                    }
                }
            }
            Message::OwnerDone { worker, owner } => {
                let index = group_of(&mut groups, worker);
                let group = &mut groups[index];
                group.owners.push(owner);
                let full = group.owners.len() >= target.checkpoint_owners
                    || group
                        .current
                        .as_ref()
                        .is_some_and(|(_, size)| *size >= PART_FILE_BYTES)
                    || group.opened.is_some_and(|t| t.elapsed() >= CHECKPOINT_AGE);
                if !named && full {
                    checkpoint(group)?;
                }
            }
        }
    }
    for group in &mut groups {
        if let Some((file, _)) = group.current.take() {
            close(file)?;
        }
    }
    // A named file is written even when empty, so a rerun replaces the old one.
    if named && groups.first().is_none_or(|g| g.files.is_empty()) {
        let name = location.file_name.clone().unwrap_or_default();
        close(open(&name, staged)?)?;
    }
    Ok((rows, total))
}

struct CopyStats<'a> {
    plan: &'a CopyPlan,
    table: &'a Table,
    lake: &'a dyn LakeStore,
    owners: usize,
    /// Mailboxes and rows reused from the run this one resumed.
    resumed: (usize, u64),
    rows_read: u64,
    rows_copied: u64,
    data_read: u64,
    data_written: u64,
    published: &'a [PublishedFile],
    seconds: f64,
    workers: usize,
}

/// The activity output in ADF's shape, with mdflow's own counts beside it.
fn copy_output(s: CopyStats<'_>) -> Value {
    let throughput_kbps = if s.seconds > 0.0 {
        s.data_read as f64 / 1024.0 / s.seconds
    } else {
        0.0
    };
    json!({
        "dataRead": s.data_read,
        "dataWritten": s.data_written,
        "filesWritten": s.published.len(),
        "rowsRead": s.rows_read,
        "rowsCopied": s.rows_copied,
        "copyDuration": s.seconds.round() as u64,
        "throughput": (throughput_kbps * 1000.0).round() / 1000.0,
        "errors": [],
        "usedParallelCopies": s.workers,
        "effectiveIntegrationRuntime": "mdflow (local)",
        "executionDetails": [{
            "source": {"type": "Office365", "table": s.table.name, "mailboxes": s.owners,
                       "mailboxesResumed": s.resumed.0, "rowsResumed": s.resumed.1},
            "sink": {"type": "Json", "store": s.lake.describe(),
                     "folder": s.plan.sink.folder_path, "container": s.plan.sink.container},
            "status": "Succeeded",
            "duration": s.seconds,
            "usedParallelCopies": s.workers,
            "detailedDurations": {"transferDuration": s.seconds},
        }],
        "files": s.published.iter().map(|f| json!({"path": f.path, "bytes": f.bytes})).collect::<Vec<_>>(),
    })
}
