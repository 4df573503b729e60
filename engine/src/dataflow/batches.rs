//! Batch-by-batch execution of one JSON Lines source: workers (one per core) take turns
//! cutting the next chunk of whole lines from the source's files, decode it schema-first
//! and run the flow's row-local region on it ([`Batched::run_batch`]); the calling thread
//! puts the results back in input order, appending streamed sinks' rows to their files and
//! gathering the streams that feed blocking steps. Memory holds one chunk per worker, not
//! the source, so a flow of row-local steps runs in memory that does not follow its input.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use mdflow_connectors::columnar::{encode_frame, Layout, RowDecoder};
use polars::prelude::DataFrame;

use super::exec::{BatchOutput, Batched, ExecError};
use super::io::{LineSource, StreamedSink};
use crate::copy::CopyFailure;

/// Bytes of whole lines handed to a worker at a time: large enough that the fixed cost of
/// planning a batch in Polars (about a millisecond) is small against decoding it, small
/// enough that the chunks in memory (one per worker) stay a few tens of megabytes.
/// docs/performance.md has the trade-off measured.
const CHUNK_BYTES: usize = 8 << 20;

/// The chunk size: `MDFLOW_DATAFLOW_BATCH_BYTES` when set (docs/dataflows.md), else
/// [`CHUNK_BYTES`].
fn chunk_bytes() -> usize {
    std::env::var("MDFLOW_DATAFLOW_BATCH_BYTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(CHUNK_BYTES)
}

/// Why a batched run stopped.
#[derive(Debug)]
pub enum BatchError {
    /// The files cannot be read as declared JSON Lines (a JSON array, a row that does not
    /// fit the declared types); the caller reads the source whole instead.
    NotLines(String),
    /// The flow failed on a batch.
    Exec(ExecError),
    /// Reading the source or writing a sink failed.
    Io(CopyFailure),
}

/// What a batched run produced besides the streamed sinks' files.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Rows the source gave.
    pub rows_read: usize,
    /// Every batch's rows of each stream that leaves the region, concatenated in order.
    pub frontier: HashMap<String, DataFrame>,
}

/// A chunk of whole lines of one file.
struct Chunk {
    seq: u64,
    path: std::sync::Arc<str>,
    /// Where the chunk starts in the file, for messages. (Counting lines would cost a
    /// pass over every byte; a row that does not decode sends the source to the whole-file
    /// reader, whose messages give line numbers.)
    offset: u64,
    bytes: Vec<u8>,
}

/// A batch's results, with streamed sinks already encoded by the worker.
struct Encoded {
    rows_read: usize,
    sinks: Vec<(String, Vec<u8>, usize)>,
    frontier: Vec<(String, DataFrame)>,
}

/// Runs `batched` over every line of `source`, writing its streamed sinks into `sinks`
/// (keyed by sink name).
pub fn run(
    batched: &Batched<'_>,
    source: &LineSource,
    sinks: &mut BTreeMap<String, StreamedSink>,
) -> Result<Gathered, BatchError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stop = AtomicBool::new(false);
    // Workers take turns reading the next chunk, so one reads while the others decode and
    // the chunks in memory are one per worker.
    let reader = Mutex::new(ChunkReader::new(source));
    let (done_tx, done_rx) = sync_channel::<(u64, Result<Encoded, BatchError>)>(workers * 2);

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let (reader, stop) = (&reader, &stop);
            scope.spawn(move || work(batched, &source.fields, reader, done_tx, stop));
        }
        drop(done_tx);
        let mut gathered = Gathered::default();
        let mut frontier: HashMap<String, Vec<DataFrame>> = HashMap::new();
        let outcome = collect(done_rx, &stop, |batch| {
            apply(batch, sinks, &mut gathered, &mut frontier)
        });
        let batches = outcome?;
        if batches == 0 {
            // No rows: one empty batch gives the streams their columns.
            let empty = RowDecoder::from_fields(&source.fields)
                .finish()
                .map_err(|e| BatchError::NotLines(e.to_string()))?;
            let batch = encode(batched.run_batch(empty).map_err(BatchError::Exec)?)?;
            apply(batch, sinks, &mut gathered, &mut frontier)?;
        }
        for (key, frames) in frontier {
            gathered.frontier.insert(key, concat(frames)?);
        }
        Ok(gathered)
    })
}

/// Receives batches, applies them in input order and returns how many there were. After a
/// failure it stops the reader and drains what is in flight, so that every thread ends.
fn collect(
    done_rx: Receiver<(u64, Result<Encoded, BatchError>)>,
    stop: &AtomicBool,
    mut apply: impl FnMut(Encoded) -> Result<(), BatchError>,
) -> Result<u64, BatchError> {
    let mut waiting = BTreeMap::new();
    let mut next = 0u64;
    let mut failure = None;
    for (seq, result) in done_rx {
        if failure.is_some() {
            continue;
        }
        match result {
            Ok(batch) => {
                waiting.insert(seq, batch);
            }
            Err(e) => {
                failure = Some(e);
                stop.store(true, Ordering::Relaxed);
                continue;
            }
        }
        while let Some(batch) = waiting.remove(&next) {
            next += 1;
            if let Err(e) = apply(batch) {
                failure = Some(e);
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(next),
    }
}

fn apply(
    batch: Encoded,
    sinks: &mut BTreeMap<String, StreamedSink>,
    gathered: &mut Gathered,
    frontier: &mut HashMap<String, Vec<DataFrame>>,
) -> Result<(), BatchError> {
    gathered.rows_read += batch.rows_read;
    for (name, bytes, rows) in batch.sinks {
        let sink = sinks.get_mut(&name).ok_or_else(|| {
            BatchError::Io(CopyFailure::new(
                "SystemErrorSinkMissing",
                format!("sink `{name}` was not opened"),
            ))
        })?;
        sink.write(&bytes, rows).map_err(BatchError::Io)?;
    }
    for (key, frame) in batch.frontier {
        frontier.entry(key).or_default().push(frame);
    }
    Ok(())
}

fn concat(frames: Vec<DataFrame>) -> Result<DataFrame, BatchError> {
    let mut frames = frames.into_iter();
    let mut all = frames.next().unwrap_or_default();
    for f in frames {
        all.vstack_mut_owned(f)
            .map_err(|e| BatchError::Exec(engine_error("gathering batches", e)))?;
    }
    all.rechunk_mut_par();
    Ok(all)
}

fn engine_error(step: &str, e: impl ToString) -> ExecError {
    ExecError::Engine {
        step: step.to_owned(),
        message: e.to_string(),
    }
}

/// The source's files in chunks of whole lines, one after another. A file that starts
/// with `[` is a JSON array, which this reader does not split.
struct ChunkReader<'a> {
    source: &'a LineSource,
    size: usize,
    next_file: usize,
    open: Option<OpenFile>,
    seq: u64,
}

struct OpenFile {
    path: std::sync::Arc<str>,
    input: Box<dyn Read + Send>,
    /// Bytes read after the last complete line.
    carry: Vec<u8>,
    offset: u64,
    first_chunk: bool,
}

impl<'a> ChunkReader<'a> {
    fn new(source: &'a LineSource) -> Self {
        ChunkReader {
            source,
            size: chunk_bytes(),
            next_file: 0,
            open: None,
            seq: 0,
        }
    }

    /// The next chunk, or `None` when every file is read. `recycled` is the buffer of a
    /// chunk that was decoded: reusing it spares the allocator and the kernel mapping and
    /// zeroing fresh pages for every chunk.
    fn next(&mut self, mut recycled: Option<Vec<u8>>) -> Result<Option<Chunk>, BatchError> {
        loop {
            let file = match &mut self.open {
                Some(file) => file,
                None => {
                    let Some(f) = self.source.files.get(self.next_file) else {
                        return Ok(None);
                    };
                    self.next_file += 1;
                    self.open.insert(OpenFile {
                        path: f.path.as_str().into(),
                        input: self.source.open(&f.path).map_err(BatchError::Io)?,
                        carry: Vec::new(),
                        offset: 0,
                        first_chunk: true,
                    })
                }
            };
            let mut buf = recycled.take().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(&file.carry);
            file.carry.clear();
            // A line longer than a chunk doubles what is read, rather than adding to it.
            let want = self.size.max(2 * buf.len());
            let at_end = fill(&mut file.input, &mut buf, want)
                .map_err(|e| BatchError::Io(unreadable(&file.path, e)))?;
            if std::mem::take(&mut file.first_chunk)
                && buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
            {
                return Err(BatchError::NotLines(format!(
                    "{} is a JSON array, not JSON Lines",
                    file.path
                )));
            }
            if !at_end {
                // Whatever follows the last newline belongs to the next chunk.
                match buf.iter().rposition(|&b| b == b'\n') {
                    Some(end) => {
                        file.carry.extend_from_slice(&buf[end + 1..]);
                        buf.truncate(end + 1);
                    }
                    // A line longer than a chunk: read on.
                    None => {
                        file.carry = buf;
                        continue;
                    }
                }
            }
            let len = buf.len() as u64;
            let chunk = Chunk {
                seq: self.seq,
                path: file.path.clone(),
                offset: file.offset,
                bytes: buf,
            };
            file.offset += len;
            if at_end {
                self.open = None;
            }
            // An empty file, or one whose last line ended where the last chunk did.
            if chunk.bytes.is_empty() {
                continue;
            }
            self.seq += 1;
            return Ok(Some(chunk));
        }
    }
}

/// Reads until `buf` holds at least `size` bytes or the input ends; true at the end.
fn fill(input: &mut Box<dyn Read + Send>, buf: &mut Vec<u8>, size: usize) -> std::io::Result<bool> {
    let want = size.max(buf.len() + 1);
    buf.reserve(want.saturating_sub(buf.len()));
    while buf.len() < want {
        let before = buf.len();
        let n = input
            .by_ref()
            .take((want - before) as u64)
            .read_to_end(buf)?;
        if n == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn unreadable(path: &str, e: impl std::fmt::Display) -> CopyFailure {
    CopyFailure::new("UserErrorSourceNotReadable", format!("{path}: {e}"))
}

/// A worker: reads a chunk when it is its turn, decodes it and runs the region on it,
/// until the files are read or a batch failed.
fn work(
    batched: &Batched<'_>,
    fields: &[mdflow_connectors::catalog::NamedType],
    reader: &Mutex<ChunkReader<'_>>,
    done: SyncSender<(u64, Result<Encoded, BatchError>)>,
    stop: &AtomicBool,
) {
    let mut decoder = RowDecoder::from_fields(fields);
    let mut spare = None;
    while !stop.load(Ordering::Relaxed) {
        let next = match reader.lock() {
            Ok(mut reader) => reader.next(spare.take()),
            Err(_) => return,
        };
        let chunk = match next {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return,
            Err(e) => {
                // After every batch, whatever their order.
                let _ = done.send((u64::MAX, Err(e)));
                return;
            }
        };
        let seq = chunk.seq;
        let result = decode(&mut decoder, chunk)
            .map(|(frame, buffer)| {
                spare = Some(buffer);
                frame
            })
            .and_then(|frame| batched.run_batch(frame).map_err(BatchError::Exec))
            .and_then(encode);
        if result.is_err() {
            // A decoder that failed midway holds part of a row.
            decoder = RowDecoder::from_fields(fields);
        }
        if done.send((seq, result)).is_err() {
            return;
        }
    }
}

/// The chunk's rows, and its buffer for the next chunk.
fn decode(decoder: &mut RowDecoder, chunk: Chunk) -> Result<(DataFrame, Vec<u8>), BatchError> {
    // Bytes, not text: keys the source does not declare are skipped undecoded, and the
    // values it does declare are checked as UTF-8 when they are decoded.
    decoder.push_json_lines(&chunk.bytes).map_err(|e| {
        BatchError::NotLines(format!(
            "{} (in the {} bytes from byte {}): {e}",
            chunk.path,
            chunk.bytes.len(),
            chunk.offset
        ))
    })?;
    let frame = decoder
        .finish()
        .map_err(|e| BatchError::NotLines(format!("{}: {e}", chunk.path)))?;
    Ok((frame, chunk.bytes))
}

/// Encodes the batch's streamed sinks as JSON Lines, on the worker, so that the thread
/// writing files only copies bytes.
fn encode(out: BatchOutput) -> Result<Encoded, BatchError> {
    let mut sinks = Vec::with_capacity(out.sinks.sinks.len());
    for (name, frame) in out.sinks.sinks {
        let mut bytes = Vec::with_capacity(frame.height() * 256);
        encode_frame(&frame, None, Layout::Lines, &mut bytes)
            .map_err(|e| BatchError::Exec(engine_error(&name, e)))?;
        sinks.push((name, bytes, frame.height()));
    }
    Ok(Encoded {
        rows_read: out.rows_read,
        sinks,
        frontier: out.frontier,
    })
}
