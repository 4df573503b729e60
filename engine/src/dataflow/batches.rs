//! Batch-by-batch execution of one JSON Lines source: workers (one per core) take the
//! next batch of the source's lines ([`super::chunks`]), decode it schema-first and run the
//! flow's row-local region on it ([`Batched::run_batch`]); the calling thread puts the
//! results back in input order, appending streamed sinks' rows to their files and gathering
//! the streams that feed blocking steps. Memory holds a read buffer per worker, not the
//! source, so a flow of row-local steps runs in memory that does not follow its input.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use mdflow_connectors::columnar::{encode_frame, Layout, RowDecoder};
use polars::prelude::DataFrame;

use super::chunks::Batches;
use super::exec::{BatchOutput, Batched, ExecError};
use super::io::{LineSource, StreamedSink};
use crate::copy::CopyFailure;

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
    let batches = Batches::of(source)?;
    let (done_tx, done_rx) = sync_channel::<(u64, Result<Encoded, BatchError>)>(workers * 2);

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let (batches, stop) = (&batches, &stop);
            scope.spawn(move || work(batched, &source.fields, batches, done_tx, stop));
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

/// A worker: decodes the next batch and runs the region on it, until the files are read
/// or a batch failed.
fn work(
    batched: &Batched<'_>,
    fields: &[mdflow_connectors::catalog::NamedType],
    batches: &Batches<'_>,
    done: SyncSender<(u64, Result<Encoded, BatchError>)>,
    stop: &AtomicBool,
) {
    let mut decoder = RowDecoder::from_fields(fields);
    let mut buffer = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let Some((seq, rows)) = batches.next(&mut decoder, &mut buffer) else {
            return;
        };
        let result = rows
            .and_then(|frame| batched.run_batch(frame).map_err(BatchError::Exec))
            .and_then(encode);
        // After a failure the decoder may hold part of a row, and the run stops anyway.
        let failed = result.is_err();
        if done.send((seq, result)).is_err() || failed {
            return;
        }
    }
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
