//! Data flow sources and sinks in the lake: files of a dataset read into one frame, and a
//! sink's frame written as JSON Lines, Parquet or delimited text through a staged output,
//! so that nothing is visible until every sink of the flow is written.

use std::io::{BufRead, BufReader, Cursor, Read, Write};

use mdflow_connectors::catalog::{FieldType, NamedType};
use mdflow_connectors::columnar::{encode_frame, Layout, RowDecoder};
use mdflow_connectors::formats::text::TextWriter;
use mdflow_connectors::formats::{read_documents, Compression, Encoder, TextEncoding};
use mdflow_connectors::lake::{LakeStore, OutputLocation, RangeRead, StagedOutput};
use polars::prelude::{
    Column, DataFrame, JsonFormat, JsonReader, NamedFrom, ParquetReader, ParquetWriter, SerReader,
    Series,
};
use serde_json::Value;

use super::ast::{Arg, Statement};
use super::expr::types::DfType;
use crate::chained_copy::{file_format, lake_of, location};
use crate::copy::CopyFailure;
use crate::factory::resolve::ResolvedDataset;

/// The file formats a data flow reads and writes, from the dataset's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `Json`: JSON Lines or JSON arrays when read, JSON Lines when written.
    Json,
    /// `Parquet`.
    Parquet,
    /// `DelimitedText`.
    Delimited,
}

impl FileKind {
    /// The kind of a dataset, or a "not supported" failure naming it.
    pub fn of(ds: &ResolvedDataset) -> Result<FileKind, CopyFailure> {
        let kind = match ds.kind.as_str() {
            "Json" => FileKind::Json,
            "Parquet" => FileKind::Parquet,
            "DelimitedText" => FileKind::Delimited,
            other => {
                return Err(CopyFailure::new(
                    "UserErrorNotSupported",
                    format!(
                        "data flows read and write Json, Parquet and DelimitedText datasets; \
                         `{}` is {other}",
                        ds.name
                    ),
                ))
            }
        };
        if ds.lake.is_none() {
            return Err(CopyFailure::new(
                "UserErrorInvalidDefinition",
                format!("dataset `{}` is not in lake storage", ds.name),
            ));
        }
        Ok(kind)
    }

    fn extension(self) -> &'static str {
        match self {
            FileKind::Json => ".json",
            FileKind::Parquet => ".parquet",
            FileKind::Delimited => ".csv",
        }
    }
}

/// Where a data flow sink writes: its dataset and how it names files.
#[derive(Debug, Clone)]
pub struct SinkTarget {
    /// The sink's dataset.
    pub dataset: ResolvedDataset,
    /// The sink's file-name options.
    pub naming: FileNaming,
    /// Whether the sink's files go beside what its folder holds (ADF's default) rather
    /// than replacing it (`truncate: true`).
    pub append: bool,
}

/// How a sink names its files: ADF's "file name option" of a data flow sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FileNaming {
    /// The dataset's `fileName`, or `part-00000` with the format's extension.
    #[default]
    Default,
    /// `partitionFileNames: ['name']` ("output to single file"): one file of that name.
    Single(String),
    /// `filePattern: 'name[n]'`: the partition's number, from 1, in place of `[n]`; the
    /// format's extension is added when the pattern has none.
    Pattern(String),
    /// `rowUrlColumn: 'column'` ("name file as column data"): each row goes to the file
    /// its column names, and the column itself is not written.
    PerRow(String),
}

impl FileNaming {
    /// Whether rows can be written as they come: naming files by a column's values needs
    /// every row first.
    pub fn streams(&self) -> bool {
        !matches!(self, FileNaming::PerRow(_))
    }
}

fn unreadable(path: &str, message: impl std::fmt::Display) -> CopyFailure {
    CopyFailure::new("UserErrorSourceNotReadable", format!("{path}: {message}"))
}

/// The columns a source step declares in `output(...)`, as decoder fields, or `None` when
/// it declares none (or declares one that is not a plain name with a known type).
pub fn declared_fields(source: &Statement) -> Option<Vec<NamedType>> {
    let decls = source.clause("output")?;
    let mut fields = Vec::new();
    for d in decls {
        let Arg::Declare(e, t) = d else { continue };
        let name = e.as_name()?.to_owned();
        let ty = field_type(&DfType::from_ast(t).ok()?);
        fields.push(NamedType { name, ty });
    }
    (!fields.is_empty()).then_some(fields)
}

/// The decoder type of a data flow type. Types the decoder has no builder for (`date`,
/// `binary`, `float`, `short`, `byte`, `decimal`) are decoded as the nearest one and
/// converted to the declared type by the source step's cast.
fn field_type(t: &DfType) -> FieldType {
    match t {
        DfType::String | DfType::Date | DfType::Binary | DfType::Null => FieldType::String,
        DfType::Boolean => FieldType::Boolean,
        DfType::Integer | DfType::Short | DfType::Byte => FieldType::Int32,
        DfType::Long => FieldType::Int64,
        DfType::Double | DfType::Float | DfType::Decimal(..) => FieldType::Double,
        DfType::Timestamp => FieldType::DateTime,
        DfType::Array(inner) => FieldType::List(Box::new(field_type(inner))),
        DfType::Map(k, v) => field_type(&DfType::Array(Box::new(DfType::map_entry(k, v)))),
        DfType::Struct(fields) => FieldType::Struct(
            fields
                .iter()
                .map(|(name, t)| NamedType {
                    name: name.clone(),
                    ty: field_type(t),
                })
                .collect(),
        ),
    }
}

/// A dataset's lake, its committed files, and how their text is stored.
struct Committed {
    lake: Box<dyn LakeStore>,
    files: Vec<mdflow_connectors::lake::PublishedFile>,
    codec: Compression,
    encoding: TextEncoding,
}

fn committed(ds: &ResolvedDataset) -> Result<Committed, CopyFailure> {
    let lake = lake_of(ds)?;
    let (codec, encoding) = file_format(ds)?;
    let loc = location(ds);
    let files = lake
        .list(&loc)
        .map_err(|e| unreadable(&loc.folder_path(), e))?;
    Ok(Committed {
        lake,
        files,
        codec,
        encoding,
    })
}

/// Every committed file of a dataset, read into one frame. `declared` is the source step's
/// `output(...)`: JSON is then decoded schema-first into only those columns (see
/// [`read_json_declared`]); without it JSON columns are inferred from every row.
pub fn read_dataset(
    ds: &ResolvedDataset,
    step: &str,
    declared: Option<&[NamedType]>,
) -> Result<DataFrame, CopyFailure> {
    let kind = FileKind::of(ds)?;
    let Committed {
        lake,
        files,
        codec,
        encoding,
    } = committed(ds)?;
    match kind {
        FileKind::Json => match declared {
            Some(fields) => {
                match read_json_declared(lake.as_ref(), &files, codec, encoding, fields) {
                    Ok(frame) => Ok(frame),
                    Err(e) => {
                        tracing::warn!(
                            step,
                            "source `{step}`: {e}; the declared output(...) does not fit the \
                             files, so columns are inferred from every row instead"
                        );
                        read_json(lake.as_ref(), &files, codec, encoding)
                    }
                }
            }
            None => {
                tracing::warn!(
                    step,
                    "source `{step}` declares no output(...) columns, so every JSON row is \
                     read and its columns inferred; declare them to read only those"
                );
                read_json(lake.as_ref(), &files, codec, encoding)
            }
        },
        FileKind::Parquet => read_parquet(lake.as_ref(), &files),
        FileKind::Delimited => {
            let settings = Delimited::of(ds);
            let mut text = String::new();
            for f in &files {
                let mut one = String::new();
                decoded(lake.as_ref(), &f.path, codec, encoding)?
                    .read_to_string(&mut one)
                    .map_err(|e| unreadable(&f.path, e))?;
                // Every file repeats the header; only the first one's is kept.
                if settings.header && !text.is_empty() {
                    one = one
                        .split_once('\n')
                        .map(|(_, r)| r.to_owned())
                        .unwrap_or_default();
                }
                text.push_str(&one);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
            settings.parse(&text)
        }
    }
}

/// A lake JSON source that can be read batch by batch: its dataset is Json and its step
/// declares `output(...)`, so rows decode schema-first. Whether its files are JSON Lines
/// (rather than arrays) is only known once they are read.
pub struct LineSource {
    lake: Box<dyn LakeStore>,
    /// The committed files, in path order.
    pub files: Vec<mdflow_connectors::lake::PublishedFile>,
    codec: Compression,
    encoding: TextEncoding,
    /// The declared columns.
    pub fields: Vec<NamedType>,
}

impl LineSource {
    /// The source, when `ds` and the step's declaration allow reading it in batches.
    pub fn of(
        ds: &ResolvedDataset,
        declared: Option<Vec<NamedType>>,
    ) -> Result<Option<LineSource>, CopyFailure> {
        let (Some(fields), FileKind::Json) = (declared, FileKind::of(ds)?) else {
            return Ok(None);
        };
        let Committed {
            lake,
            files,
            codec,
            encoding,
        } = committed(ds)?;
        Ok(Some(LineSource {
            lake,
            files,
            codec,
            encoding,
            fields,
        }))
    }

    /// The stored size of every file, compressed or not.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Opens one of [`LineSource::files`] as UTF-8 text.
    pub fn open(&self, path: &str) -> Result<Box<dyn Read + Send>, CopyFailure> {
        decoded(self.lake.as_ref(), path, self.codec, self.encoding)
    }

    /// Opens one of [`LineSource::files`] for reads at any offset, when its stored bytes
    /// are the text: not compressed and not declared UTF-16 (a byte-order mark in the
    /// file is the caller's to look for). `None` otherwise: only a stream can decompress
    /// or transcode.
    pub fn open_ranges(&self, path: &str) -> Result<Option<Box<dyn RangeRead>>, CopyFailure> {
        let raw_text = self.codec == Compression::None
            && matches!(self.encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom);
        if !raw_text {
            return Ok(None);
        }
        self.lake
            .open_ranges(path)
            .map(Some)
            .map_err(|e| unreadable(path, e))
    }
}

fn decoded(
    lake: &dyn LakeStore,
    path: &str,
    codec: Compression,
    encoding: TextEncoding,
) -> Result<Box<dyn Read + Send>, CopyFailure> {
    let raw = lake.open(path).map_err(|e| unreadable(path, e))?;
    codec
        .reader(raw)
        .and_then(|r| encoding.reader(r))
        .map_err(|e| unreadable(path, format!("{e}; check compression and encodingName")))
}

/// Rows decoded before a batch is handed over as a frame.
const BATCH_ROWS: usize = 65_536;

/// JSON read schema-first: each file is streamed line by line (JSON Lines) or document by
/// document (a JSON array or a single object) straight into columns of the declared types;
/// keys that are not declared are skipped undecoded and nothing is inferred. Any row that
/// does not fit (a wrong type, a pretty-printed object across lines) is an error, upon
/// which the caller falls back to inference.
fn read_json_declared(
    lake: &dyn LakeStore,
    files: &[mdflow_connectors::lake::PublishedFile],
    codec: Compression,
    encoding: TextEncoding,
    fields: &[NamedType],
) -> Result<DataFrame, String> {
    let mut decoder = RowDecoder::from_fields(fields);
    let mut out: Option<DataFrame> = None;
    let flush = |decoder: &mut RowDecoder, out: &mut Option<DataFrame>| {
        let frame = decoder.finish().map_err(|e| e.to_string())?;
        match out {
            None => *out = Some(frame),
            Some(all) => {
                all.vstack_mut(&frame).map_err(|e| e.to_string())?;
            }
        }
        Ok::<_, String>(())
    };
    for f in files {
        let input = decoded(lake, &f.path, codec, encoding).map_err(|e| e.message)?;
        let mut reader = BufReader::with_capacity(1 << 20, input);
        let starts_array = loop {
            let buf = reader.fill_buf().map_err(|e| format!("{}: {e}", f.path))?;
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let array = buf[i] == b'[';
                    reader.consume(i);
                    break Some(array);
                }
                None if buf.is_empty() => break None,
                None => {
                    let n = buf.len();
                    reader.consume(n);
                }
            }
        };
        match starts_array {
            None => continue,
            Some(true) => {
                read_documents(reader, |row| {
                    decoder
                        .push_line(&row.to_string())
                        .map_err(|e| e.to_string())?;
                    if decoder.len() >= BATCH_ROWS {
                        flush(&mut decoder, &mut out)?;
                    }
                    Ok::<_, String>(())
                })
                .map_err(|e| format!("{}: not JSON at {e}", f.path))?
                .map_err(|e| format!("{}: {e}", f.path))?;
            }
            Some(false) => {
                let mut line = String::new();
                let mut number = 0usize;
                loop {
                    line.clear();
                    let n = reader
                        .read_line(&mut line)
                        .map_err(|e| format!("{}: {e}", f.path))?;
                    if n == 0 {
                        break;
                    }
                    number += 1;
                    if line.trim().is_empty() {
                        continue;
                    }
                    decoder
                        .push_line(&line)
                        .map_err(|e| format!("{} line {number}: {e}", f.path))?;
                    if decoder.len() >= BATCH_ROWS {
                        flush(&mut decoder, &mut out)?;
                    }
                }
            }
        }
    }
    if !decoder.is_empty() || out.is_none() {
        flush(&mut decoder, &mut out)?;
    }
    Ok(out.unwrap_or_else(DataFrame::empty))
}

/// JSON Lines and JSON arrays alike: documents are re-read as one JSON Lines text so that
/// Polars infers one schema over all files.
fn read_json(
    lake: &dyn LakeStore,
    files: &[mdflow_connectors::lake::PublishedFile],
    codec: Compression,
    encoding: TextEncoding,
) -> Result<DataFrame, CopyFailure> {
    let mut lines = Vec::new();
    for f in files {
        let input = decoded(lake, &f.path, codec, encoding)?;
        read_documents(input, |row| {
            serde_json::to_writer(&mut lines, &row).map_err(|e| e.to_string())?;
            lines.push(b'\n');
            Ok::<_, String>(())
        })
        .map_err(|e| unreadable(&f.path, format!("not JSON at {e}")))?
        .map_err(|e| unreadable(&f.path, e))?;
    }
    if lines.is_empty() {
        return Ok(DataFrame::empty());
    }
    JsonReader::new(Cursor::new(lines))
        .with_json_format(JsonFormat::JsonLines)
        .infer_schema_len(None)
        .finish()
        .map_err(|e| unreadable("JSON source", e))
}

fn read_parquet(
    lake: &dyn LakeStore,
    files: &[mdflow_connectors::lake::PublishedFile],
) -> Result<DataFrame, CopyFailure> {
    let mut out: Option<DataFrame> = None;
    for f in files {
        let mut bytes = Vec::new();
        lake.open(&f.path)
            .map_err(|e| unreadable(&f.path, e))?
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(&f.path, e))?;
        let frame = ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| unreadable(&f.path, e))?;
        out = Some(match out {
            None => frame,
            Some(mut all) => {
                all.vstack_mut(&frame).map_err(|e| {
                    unreadable(
                        &f.path,
                        format!("{e}; every file must have the same columns"),
                    )
                })?;
                all
            }
        });
    }
    Ok(out.unwrap_or_else(DataFrame::empty))
}

/// The DelimitedText settings of a dataset, with ADF's defaults.
struct Delimited {
    delimiter: char,
    quote: Option<char>,
    escape: Option<char>,
    header: bool,
    null: String,
}

impl Delimited {
    fn of(ds: &ResolvedDataset) -> Self {
        let p = &ds.properties;
        let first = |k: &str, d: &str| p[k].as_str().unwrap_or(d).chars().next();
        Delimited {
            delimiter: first("columnDelimiter", ",").unwrap_or(','),
            quote: first("quoteChar", "\""),
            escape: first("escapeChar", "\\"),
            header: p["firstRowAsHeader"].as_bool().unwrap_or(false),
            null: p["nullValue"].as_str().unwrap_or("").to_owned(),
        }
    }

    /// Records of the text; every column is a string, as ADF reads delimited text.
    fn parse(&self, text: &str) -> Result<DataFrame, CopyFailure> {
        let mut records: Vec<Vec<Option<String>>> = Vec::new();
        let (mut record, mut field) = (Vec::new(), String::new());
        let (mut quoted, mut was_quoted) = (false, false);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if quoted {
                if Some(c) == self.escape && self.escape != self.quote {
                    field.extend(chars.next());
                } else if Some(c) == self.quote {
                    if chars.peek().copied() == self.quote {
                        field.push(chars.next().unwrap_or(c));
                    } else {
                        quoted = false;
                    }
                } else {
                    field.push(c);
                }
            } else if Some(c) == self.quote && field.is_empty() {
                (quoted, was_quoted) = (true, true);
            } else if c == self.delimiter || c == '\n' {
                let value = std::mem::take(&mut field);
                let value = value.strip_suffix('\r').map(str::to_owned).unwrap_or(value);
                let is_null = !was_quoted && value == self.null;
                record.push((!is_null).then_some(value));
                was_quoted = false;
                if c == '\n' {
                    let done = std::mem::take(&mut record);
                    if !(done.len() == 1 && done[0].as_deref().is_none_or(str::is_empty)) {
                        records.push(done);
                    }
                }
            } else {
                field.push(c);
            }
        }
        let width = records.iter().map(Vec::len).max().unwrap_or(0);
        let names: Vec<String> = match (self.header, records.first()) {
            (true, Some(_)) => {
                let first = records.remove(0);
                (0..width)
                    .map(|i| {
                        first
                            .get(i)
                            .cloned()
                            .flatten()
                            .unwrap_or_else(|| format!("Prop_{i}"))
                    })
                    .collect()
            }
            _ => (0..width).map(|i| format!("Prop_{i}")).collect(),
        };
        let columns: Vec<Column> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let values: Vec<Option<&str>> = records
                    .iter()
                    .map(|r| r.get(i).and_then(|v| v.as_deref()))
                    .collect();
                Series::new(n.as_str().into(), values).into()
            })
            .collect();
        DataFrame::new(records.len(), columns).map_err(|e| unreadable("delimited source", e))
    }

    fn field(&self, value: Option<&str>, out: &mut String) {
        let Some(value) = value else {
            out.push_str(&self.null);
            return;
        };
        let Some(quote) = self.quote else {
            out.push_str(value);
            return;
        };
        let needs = value.contains(self.delimiter)
            || value.contains(quote)
            || value.contains(['\n', '\r'])
            || value.is_empty();
        if !needs {
            out.push_str(value);
            return;
        }
        out.push(quote);
        for c in value.chars() {
            if c == quote || Some(c) == self.escape {
                out.push(self.escape.unwrap_or(quote));
            }
            out.push(c);
        }
        out.push(quote);
    }
}

/// One sink, written and staged but not yet published.
pub struct StagedSink {
    staged: Box<dyn StagedOutput>,
    append: bool,
    /// Bytes written.
    pub bytes: u64,
}

impl StagedSink {
    /// Publishes the sink's files: beside the folder's other files when the sink appends,
    /// else replacing what an earlier run published there.
    pub fn commit(self) -> Result<Vec<Value>, CopyFailure> {
        let published = if self.append {
            self.staged.commit_adding()
        } else {
            self.staged.commit()
        };
        let published = published
            .map_err(|e| CopyFailure::new("UserErrorFailedToPublishOutput", e.to_string()))?;
        Ok(published
            .iter()
            .map(|f| serde_json::json!({"path": f.path, "bytes": f.bytes}))
            .collect())
    }

    /// Removes what was staged.
    pub fn abort(self) {
        self.staged.abort();
    }
}

/// A JSON Lines sink written batch by batch into a staged output, through the dataset's
/// compression and encoding; nothing is visible until [`StagedSink::commit`].
pub struct StreamedSink {
    staged: Box<dyn StagedOutput>,
    append: bool,
    text: TextWriter<Encoder>,
    bytes: u64,
    /// Rows written so far.
    pub rows: usize,
    failure: Box<dyn Fn(String) -> CopyFailure + Send>,
}

impl StreamedSink {
    /// Opens the sink's file, named as [`write_dataset`] names it.
    pub fn open(target: &SinkTarget, run_id: &str) -> Result<StreamedSink, CopyFailure> {
        let ds = &target.dataset;
        let lake = lake_of(ds)?;
        let (codec, encoding) = file_format(ds)?;
        let loc = location(ds);
        let failure = sink_failure(ds);
        let name = sink_file_name(&loc, FileKind::Json, codec, target, run_id);
        let mut staged = lake
            .stage(&loc, run_id)
            .map_err(|e| CopyFailure::new("UserErrorInvalidSinkPath", e.to_string()))?;
        let opened = staged
            .create(&name)
            .map_err(|e| e.to_string())
            .and_then(|file| codec.writer(file).map_err(|e| e.to_string()))
            .and_then(|compressed| encoding.writer(compressed).map_err(|e| e.to_string()));
        match opened {
            Ok(text) => Ok(StreamedSink {
                staged,
                append: target.append,
                text,
                bytes: 0,
                rows: 0,
                failure: Box::new(failure),
            }),
            Err(e) => {
                staged.abort();
                Err(failure(e))
            }
        }
    }

    /// Appends `rows` rows already encoded as JSON Lines.
    pub fn write(&mut self, encoded: &[u8], rows: usize) -> Result<(), CopyFailure> {
        self.text
            .write_all(encoded)
            .map_err(|e| (self.failure)(e.to_string()))?;
        self.bytes += encoded.len() as u64;
        self.rows += rows;
        Ok(())
    }

    /// Completes the file; it stays staged until committed.
    pub fn finish(mut self) -> Result<StagedSink, CopyFailure> {
        let done = self
            .text
            .flush()
            .and_then(|()| self.text.into_inner().finish());
        match done {
            Ok(()) => Ok(StagedSink {
                staged: self.staged,
                append: self.append,
                bytes: self.bytes,
            }),
            Err(e) => {
                let failure = (self.failure)(e.to_string());
                self.staged.abort();
                Err(failure)
            }
        }
    }

    /// Removes what was staged.
    pub fn abort(self) {
        self.staged.abort();
    }
}

fn sink_failure(ds: &ResolvedDataset) -> impl Fn(String) -> CopyFailure + Send + 'static {
    let (folder, name) = (location(ds).folder_path(), ds.name.clone());
    move |e: String| {
        CopyFailure::new(
            "UserErrorFailedToWriteSink",
            format!("{folder} (dataset `{name}`): {e}"),
        )
    }
}

/// A sink's file (for every naming but [`FileNaming::PerRow`]): the sink's name option,
/// else the dataset's `fileName`, else `part-00000` with the format's extension (and the
/// codec's, for text formats). A sink that appends gets the run's id in that default
/// name, so that each run adds its own file as ADF's do.
fn sink_file_name(
    loc: &OutputLocation,
    kind: FileKind,
    codec: Compression,
    target: &SinkTarget,
    run_id: &str,
) -> String {
    let codec_ext = if kind == FileKind::Parquet {
        ""
    } else {
        codec.extension()
    };
    match &target.naming {
        FileNaming::Single(name) => name.clone(),
        FileNaming::Pattern(pattern) => {
            let name = pattern.replace("[n]", "1");
            if name.contains('.') {
                name
            } else {
                format!("{name}{}{codec_ext}", kind.extension())
            }
        }
        FileNaming::Default | FileNaming::PerRow(_) => loc.file_name.clone().unwrap_or_else(|| {
            let run: String = run_id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let unique = if target.append && !run.is_empty() {
                format!("-{run}")
            } else {
                String::new()
            };
            format!("part-00000{unique}{}{codec_ext}", kind.extension())
        }),
    }
}

/// Whether the dataset's location names one file (`fileName`) rather than a folder.
pub fn names_one_file(ds: &ResolvedDataset) -> bool {
    location(ds).file_name.is_some()
}

/// The rows of `frame` by the file their `column` names, in the order each file first
/// appears, without the column.
fn rows_by_file(frame: &DataFrame, column: &str) -> Result<Vec<(String, DataFrame)>, String> {
    let names = frame
        .get_column_names()
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(column))
        .cloned()
        .ok_or_else(|| {
            format!(
                "rowUrlColumn `{column}` is not a column of the sink's rows; they are: {}",
                frame
                    .get_column_names()
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let values = frame
        .column(&names)
        .and_then(|c| c.cast(&polars::prelude::DataType::String))
        .map_err(|e| e.to_string())?;
    let values = values.str().map_err(|e| e.to_string())?;
    let mut files: Vec<(String, Vec<polars::prelude::IdxSize>)> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, v) in values.iter().enumerate() {
        let Some(name) = v else {
            return Err(format!(
                "row {} has no file name in rowUrlColumn `{names}`; every row needs one",
                i + 1
            ));
        };
        let k = *at.entry(name).or_insert_with(|| {
            files.push((name.to_owned(), Vec::new()));
            files.len() - 1
        });
        files[k].1.push(i as polars::prelude::IdxSize);
    }
    let rest = frame.drop(&names).map_err(|e| e.to_string())?;
    files
        .into_iter()
        .map(|(name, rows)| {
            let rows = polars::prelude::IdxCa::from_vec("rows".into(), rows);
            Ok((name, rest.take(&rows).map_err(|e| e.to_string())?))
        })
        .collect()
}

/// Writes `frame` to a staged output at the sink dataset's location, in the files its
/// naming gives (one, but for [`FileNaming::PerRow`]).
pub fn write_dataset(
    target: &SinkTarget,
    frame: &DataFrame,
    run_id: &str,
) -> Result<StagedSink, CopyFailure> {
    let ds = &target.dataset;
    let kind = FileKind::of(ds)?;
    let lake = lake_of(ds)?;
    let (codec, encoding) = file_format(ds)?;
    let loc = location(ds);
    let failure = sink_failure(ds);
    let files = match &target.naming {
        FileNaming::PerRow(column) => rows_by_file(frame, column).map_err(&failure)?,
        _ => vec![(
            sink_file_name(&loc, kind, codec, target, run_id),
            frame.clone(),
        )],
    };
    let mut staged = lake
        .stage(&loc, run_id)
        .map_err(|e| CopyFailure::new("UserErrorInvalidSinkPath", e.to_string()))?;
    let mut bytes = 0u64;
    let mut write = |name: &str, frame: &DataFrame| -> Result<(), String> {
        let body = match kind {
            FileKind::Parquet => {
                let mut body = Vec::new();
                ParquetWriter::new(&mut body)
                    .finish(&mut frame.clone())
                    .map_err(|e| e.to_string())?;
                body
            }
            FileKind::Json => json_lines(frame)?,
            FileKind::Delimited => delimited(&Delimited::of(ds), frame)?.into_bytes(),
        };
        bytes += body.len() as u64;
        let file = staged.create(name).map_err(|e| e.to_string())?;
        if kind == FileKind::Parquet {
            let mut file = file;
            file.write_all(&body).map_err(|e| e.to_string())?;
            return file.flush().map_err(|e| e.to_string());
        }
        let compressed = codec.writer(file).map_err(|e| e.to_string())?;
        let mut text = encoding.writer(compressed).map_err(|e| e.to_string())?;
        text.write_all(&body).map_err(|e| e.to_string())?;
        text.flush().map_err(|e| e.to_string())?;
        text.into_inner().finish().map_err(|e| e.to_string())
    };
    let written = files
        .iter()
        .try_for_each(|(name, frame)| write(name, frame));
    match written {
        Ok(()) => Ok(StagedSink {
            staged,
            bytes,
            append: target.append,
        }),
        Err(e) => {
            staged.abort();
            Err(failure(e))
        }
    }
}

fn json_lines(frame: &DataFrame) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(frame.height() * 128);
    encode_frame(frame, None, Layout::Lines, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Delimited text, through JSON so that dates and timestamps read as they do in JSON sinks.
fn delimited(settings: &Delimited, frame: &DataFrame) -> Result<String, String> {
    let mut text = String::new();
    let line = |values: Vec<Option<String>>, text: &mut String| {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                text.push(settings.delimiter);
            }
            settings.field(v.as_deref(), text);
        }
        text.push('\n');
    };
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    if settings.header {
        line(names.iter().cloned().map(Some).collect(), &mut text);
    }
    let json = json_lines(frame)?;
    for row in String::from_utf8_lossy(&json).lines() {
        let row: Value = serde_json::from_str(row).map_err(|e| e.to_string())?;
        let cells = names
            .iter()
            .map(|n| match &row[n.as_str()] {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                v => Some(v.to_string()),
            })
            .collect();
        line(cells, &mut text);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdflow_connectors::lake::{LocalFolderLake, PublishedFile};
    use polars::prelude::{DataType, TimeUnit};

    #[test]
    fn declared_source_decodes_declared_types_and_skips_the_rest() {
        let (script, problems) = crate::dataflow::parser::parse_script(
            "source(output(id as string, size as long, ok as boolean, at as timestamp, \
             to as (name as string)[]), allowSchemaDrift: false) ~> Src",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let fields = declared_fields(&script.statements[0]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("c")).unwrap();
        std::fs::write(
            dir.path().join("c/a.json"),
            "{\"id\":\"1\",\"body\":{\"content\":\"x\"},\"size\":5,\"ok\":true,\
             \"at\":\"2021-02-03T00:10:10Z\",\"to\":[{\"name\":\"B\",\"x\":1}]}\n\n\
             {\"id\":\"2\",\"extra\":[1,2]}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("c/b.json"),
            "[{\"id\":\"3\",\"size\":7},\n {\"id\":\"4\",\"ok\":false}]",
        )
        .unwrap();
        let lake = LocalFolderLake::new(dir.path());
        let files: Vec<PublishedFile> = ["c/a.json", "c/b.json"]
            .iter()
            .map(|p| PublishedFile {
                path: (*p).to_owned(),
                bytes: 0,
            })
            .collect();
        let frame = read_json_declared(
            &lake,
            &files,
            Compression::None,
            TextEncoding::Utf8,
            &fields,
        )
        .unwrap();
        let names: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, ["id", "size", "ok", "at", "to"]);
        assert_eq!(frame.height(), 4);
        assert_eq!(frame.column("size").unwrap().dtype(), &DataType::Int64);
        assert_eq!(frame.column("ok").unwrap().dtype(), &DataType::Boolean);
        assert!(matches!(
            frame.column("at").unwrap().dtype(),
            DataType::Datetime(TimeUnit::Microseconds, _)
        ));
        assert!(matches!(
            frame.column("to").unwrap().dtype(),
            DataType::List(_)
        ));
        assert_eq!(frame.column("size").unwrap().i64().unwrap().get(2), Some(7));
        assert_eq!(frame.column("size").unwrap().null_count(), 2);

        // A value of the wrong type is an error (the caller then infers instead).
        std::fs::write(dir.path().join("c/a.json"), "{\"size\":\"big\"}\n").unwrap();
        assert!(read_json_declared(
            &lake,
            &files[..1],
            Compression::None,
            TextEncoding::Utf8,
            &fields
        )
        .is_err());
    }
}
