//! The chained copy: a Copy activity from a Json dataset in the lake to Json, Parquet or
//! DelimitedText in the lake, to SQLite (an mdflow extension) or to PostgreSQL.
//!
//! Rows go through the `TabularTranslator`: `mappings` from JSON paths to sink columns,
//! `collectionReference` to unroll an array into rows, and conversion to each column's
//! type. A row that does not convert fails the copy, or is skipped (and written to the
//! redirect folder) under `enableSkipIncompatibleRow`. Lake outputs are staged and
//! committed; database outputs are one transaction, so a failure leaves nothing behind.

pub(crate) mod mapping;
mod sinks;

use std::time::Instant;

use mdflow_connectors::formats::{read_documents, Compression, TextEncoding};
use mdflow_connectors::lake::{LakeStore, OutputLocation};
use serde_json::{json, Value};

use crate::copy::CopyFailure;
use crate::expr::ExprContext;
use crate::factory::resolve::{resolve_dataset, ResolvedDataset};
use crate::factory::{Activity, Factory};
use mapping::Translator;

/// Runs one chained Copy activity and returns its ADF-shaped output.
pub fn run_chained_copy(
    factory: &Factory,
    pipeline: &str,
    activity: &Activity,
    ctx: &ExprContext,
) -> Result<Value, CopyFailure> {
    let started = Instant::now();
    let settings = activity_json(factory, pipeline, activity)?;
    let tp = &settings["typeProperties"];
    let input = dataset(factory, pipeline, activity.inputs.first(), ctx, "input")?;
    let output = dataset(factory, pipeline, activity.outputs.first(), ctx, "output")?;
    if !input.kind.eq_ignore_ascii_case("Json") || input.lake.is_none() {
        return Err(CopyFailure::new(
            "UserErrorNotSupported",
            format!(
                "chained copies read Json datasets in lake storage; input `{}` is {}",
                input.name, input.kind
            ),
        ));
    }
    let translator = Translator::from_json(&tp["translator"]).map_err(invalid_mapping)?;
    let skip_incompatible = tp["enableSkipIncompatibleRow"].as_bool().unwrap_or(false);
    let sink = sinks::Sink::from_json(&output, &tp["sink"])?;

    // Everything that can be checked is checked before a row is read or written.
    sink.check()?;

    let (mut rows, read) = read_rows(&input, &translator)?;
    let columns = sink.columns(&translator, &rows)?;
    let mut cells = Vec::with_capacity(rows.len());
    let mut skipped = Vec::new();
    for (n, (origin, row)) in rows.drain(..).enumerate() {
        match mapping::convert(&row, &columns) {
            Ok(converted) => cells.push(converted),
            Err(problem) => {
                let message = format!("{origin}, row {}: {problem}", n + 1);
                if !skip_incompatible {
                    return Err(CopyFailure::new(
                        "UserErrorInvalidDataValue",
                        format!(
                            "{message}; fix the value, change the column's type in the \
                             translator, or set enableSkipIncompatibleRow"
                        ),
                    ));
                }
                skipped.push(json!({"row": row, "error": message}));
            }
        }
    }

    let written = sink.write(&columns, &cells, &ctx.run_id)?;
    let redirected = redirect(
        &tp["redirectIncompatibleRowSettings"],
        &skipped,
        factory,
        ctx,
    )?;
    let consistency = tp["validateDataConsistency"].as_bool().unwrap_or(false);
    if consistency && written.rows != cells.len() as u64 {
        return Err(CopyFailure::new(
            "UserErrorDataConsistencyValidationFailed",
            format!(
                "{} rows were to be written but the sink reports {}",
                cells.len(),
                written.rows
            ),
        ));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut out = json!({
        "dataRead": read.bytes,
        "dataWritten": written.bytes,
        "filesRead": read.files,
        "filesWritten": written.files.len(),
        "rowsRead": read.rows,
        "rowsCopied": cells.len(),
        "rowsSkipped": skipped.len(),
        "copyDuration": seconds.round() as u64,
        "errors": [],
        "effectiveIntegrationRuntime": "mdflow (local)",
        "executionDetails": [{
            "source": {"type": "Json", "dataset": input.name},
            "sink": {"type": output.kind, "dataset": output.name},
            "status": "Succeeded",
            "duration": seconds,
        }],
        "files": written.files,
    });
    if let Some(path) = redirected {
        out["logFilePath"] = json!(path);
    }
    if consistency {
        out["dataConsistencyVerification"] = json!({"VerificationResult": "Verified"});
    }
    Ok(out)
}

fn invalid_mapping(message: String) -> CopyFailure {
    CopyFailure::new("UserErrorInvalidColumnMapping", message)
}

/// The activity as written, from the pipeline's JSON.
fn activity_json(
    factory: &Factory,
    pipeline: &str,
    activity: &Activity,
) -> Result<Value, CopyFailure> {
    let p = factory
        .pipeline(pipeline)
        .ok_or_else(|| CopyFailure::new("UserErrorInvalidDefinition", "no such pipeline"))?;
    let relative = activity
        .pointer
        .strip_prefix(&p.origin.pointer)
        .unwrap_or(&activity.pointer);
    p.raw
        .pointer(relative)
        .cloned()
        .ok_or_else(|| CopyFailure::new("UserErrorInvalidDefinition", "activity not found"))
}

fn dataset(
    factory: &Factory,
    pipeline: &str,
    reference: Option<&crate::factory::Reference>,
    ctx: &ExprContext,
    what: &str,
) -> Result<ResolvedDataset, CopyFailure> {
    let reference = reference.ok_or_else(|| {
        CopyFailure::new(
            "UserErrorInvalidDefinition",
            format!("the copy has no {what} dataset"),
        )
    })?;
    resolve_dataset(factory, pipeline, reference, ctx).map_err(|d| {
        CopyFailure::new(
            "UserErrorInvalidDefinition",
            format!("{}: {}: {}", d.file.display(), d.message, d.fix),
        )
    })
}

/// Where a file dataset's files are.
pub(crate) fn location(ds: &ResolvedDataset) -> OutputLocation {
    let loc = &ds.properties["location"];
    let text = |key: &str| loc[key].as_str().unwrap_or_default().to_owned();
    let container = match loc["type"].as_str() {
        Some("AzureBlobFSLocation") => text("fileSystem"),
        _ => text("container"),
    };
    OutputLocation {
        container,
        folder: text("folderPath").trim_matches('/').to_owned(),
        file_name: Some(text("fileName")).filter(|f| !f.is_empty()),
    }
}

/// A file dataset's codec and encoding.
pub(crate) fn file_format(
    ds: &ResolvedDataset,
) -> Result<(Compression, TextEncoding), CopyFailure> {
    let p = &ds.properties;
    let codec = p["compression"]["type"]
        .as_str()
        .or(p["compression"].as_str())
        .unwrap_or("");
    let bad = |e: mdflow_connectors::formats::UnknownSetting| {
        CopyFailure::new(
            "UserErrorInvalidFormatSettings",
            format!("dataset `{}` ({}): {e}", ds.name, ds.file.display()),
        )
    };
    Ok((
        Compression::parse(codec).map_err(bad)?,
        TextEncoding::parse(p["encodingName"].as_str().unwrap_or("")).map_err(bad)?,
    ))
}

pub(crate) fn lake_of(ds: &ResolvedDataset) -> Result<Box<dyn LakeStore>, CopyFailure> {
    let kind = ds.lake.as_ref().ok_or_else(|| {
        CopyFailure::new(
            "UserErrorInvalidDefinition",
            format!("dataset `{}` is not in lake storage", ds.name),
        )
    })?;
    crate::lake_access::open_lake(kind).map_err(|e| CopyFailure::new(e.code, e.message))
}

struct ReadStats {
    files: usize,
    rows: u64,
    bytes: u64,
}

/// Every committed file of the input, decoded and mapped to rows of JSON values, each with
/// the file it came from.
fn read_rows(
    input: &ResolvedDataset,
    translator: &Translator,
) -> Result<(Vec<(String, Value)>, ReadStats), CopyFailure> {
    let lake = lake_of(input)?;
    let (codec, encoding) = file_format(input)?;
    let loc = location(input);
    let lake_failure = |e: mdflow_connectors::lake::LakeError| {
        CopyFailure::new("UserErrorSourceNotReadable", e.to_string())
    };
    let files = lake.list(&loc).map_err(lake_failure)?;
    let mut stats = ReadStats {
        files: files.len(),
        rows: 0,
        bytes: 0,
    };
    let mut rows = Vec::new();
    for file in &files {
        stats.bytes += file.bytes;
        let bad = |message: String| {
            CopyFailure::new(
                "UserErrorSourceNotReadable",
                format!(
                    "{}: {message}; check the dataset's compression and encodingName",
                    file.path
                ),
            )
        };
        let raw = lake.open(&file.path).map_err(lake_failure)?;
        let text = codec
            .reader(raw)
            .and_then(|r| encoding.reader(r))
            .map_err(|e| bad(e.to_string()))?;
        let result = read_documents(text, |document| {
            stats.rows += 1;
            for row in translator.rows(&document) {
                rows.push((file.path.clone(), row));
            }
            Ok::<_, ()>(())
        });
        match result {
            Ok(_) => {}
            Err(e) => return Err(bad(format!("not JSON at {e}"))),
        }
    }
    Ok((rows, stats))
}

/// Writes skipped rows as JSON Lines to `redirectIncompatibleRowSettings.path` in the
/// lake its linked service names.
fn redirect(
    settings: &Value,
    skipped: &[Value],
    factory: &Factory,
    ctx: &ExprContext,
) -> Result<Option<String>, CopyFailure> {
    let Some(path) = settings["path"].as_str() else {
        return Ok(None);
    };
    if skipped.is_empty() {
        return Ok(None);
    }
    let service = settings["linkedServiceName"]["referenceName"]
        .as_str()
        .unwrap_or_default();
    let ls = factory.linked_service(service).ok_or_else(|| {
        CopyFailure::new(
            "UserErrorInvalidDefinition",
            format!("redirectIncompatibleRowSettings names linked service `{service}`, which does not exist"),
        )
    })?;
    let url = ls
        .raw
        .pointer("/properties/typeProperties/url")
        .or_else(|| ls.raw.pointer("/properties/typeProperties/serviceEndpoint"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let root = crate::factory::resolve::local_folder(url, &factory.root).ok_or_else(|| {
        CopyFailure::new(
            "UserErrorNotSupported",
            "redirected rows can be written to a file:// lake only for now; docs/limitations.md",
        )
    })?;
    let (container, folder) = path.trim_matches('/').split_once('/').unwrap_or((path, ""));
    let lake = mdflow_connectors::lake::LocalFolderLake::new(root);
    let loc = OutputLocation {
        container: container.to_owned(),
        folder: folder.to_owned(),
        file_name: Some(format!("{}.json", ctx.run_id)),
    };
    let name = loc.file_name.clone().unwrap_or_default();
    let failure = |e: String| CopyFailure::new("UserErrorFailedToWriteSink", e);
    let mut staged = lake
        .stage(&loc, &ctx.run_id)
        .map_err(|e| failure(e.to_string()))?;
    let mut file = staged.create(&name).map_err(|e| failure(e.to_string()))?;
    for row in skipped {
        use std::io::Write;
        writeln!(file, "{row}").map_err(|e| failure(e.to_string()))?;
    }
    drop(file);
    let published = staged.commit().map_err(|e| failure(e.to_string()))?;
    Ok(published.first().map(|f| f.path.clone()))
}
