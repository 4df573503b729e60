//! Where a batched source's batches come from ([`super::batches`] runs the flow on them).
//! Files whose stored bytes are the text are cut into byte ranges that the workers claim
//! and read on their own with positioned reads, a small buffer at a time, decoding as they
//! go: the batch is large (the flow's fixed cost per batch stays small) while the bytes in
//! memory are one read per worker. Compressed or transcoded files can only be streamed:
//! the workers take turns cutting the next chunk of whole lines from one stream, and a
//! chunk is a whole batch.

use std::io::Read;
use std::sync::{Arc, Mutex};

use mdflow_connectors::columnar::RowDecoder;
use mdflow_connectors::lake::RangeRead;
use polars::prelude::DataFrame;

use super::batches::BatchError;
use super::io::LineSource;
use crate::copy::CopyFailure;

/// Bytes of input per batch: large enough that the fixed cost of running a batch through
/// Polars (about a millisecond) is small against decoding it. Streamed files hold a whole
/// batch in memory per worker, ranged files one read (`RangeRead::read_size`).
/// docs/performance.md has the trade-off measured.
const BATCH_BYTES: usize = 8 << 20;

/// The batch size: `MDFLOW_DATAFLOW_BATCH_BYTES` when set (docs/dataflows.md), else
/// [`BATCH_BYTES`].
fn batch_bytes() -> usize {
    std::env::var("MDFLOW_DATAFLOW_BATCH_BYTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(BATCH_BYTES)
}

/// A source's batches, handed to whichever worker asks next.
pub(super) enum Batches<'a> {
    Ranged(Mutex<Claims<'a>>),
    Streamed(Mutex<ChunkReader<'a>>),
}

impl<'a> Batches<'a> {
    pub(super) fn of(source: &'a LineSource) -> Result<Batches<'a>, BatchError> {
        let size = batch_bytes();
        let ranged = match source.files.first() {
            Some(first) => source
                .open_ranges(&first.path)
                .map_err(BatchError::Io)?
                .is_some(),
            None => false,
        };
        Ok(if ranged {
            Batches::Ranged(Mutex::new(Claims::new(source, size)))
        } else {
            Batches::Streamed(Mutex::new(ChunkReader::new(source, size)))
        })
    }

    /// Decodes the next batch with `decoder`, reading through `buffer` (the worker's, kept
    /// between batches): the batch's place in the input and its rows, or `None` once
    /// every file is read. A failure to read before a batch was cut has the place
    /// `u64::MAX`, so that it comes after every batch.
    pub(super) fn next(
        &self,
        decoder: &mut RowDecoder,
        buffer: &mut Vec<u8>,
    ) -> Option<(u64, Result<DataFrame, BatchError>)> {
        match self {
            Batches::Ranged(claims) => {
                let range = match claims.lock().ok()?.claim() {
                    Ok(range) => range?,
                    Err(e) => return Some((u64::MAX, Err(e))),
                };
                let rows = decode_range(&range, decoder, buffer);
                Some((range.seq, rows))
            }
            Batches::Streamed(reader) => {
                let next = reader.lock().ok()?.next(std::mem::take(buffer));
                let chunk = match next {
                    Ok(chunk) => chunk?,
                    Err(e) => return Some((u64::MAX, Err(e))),
                };
                let seq = chunk.seq;
                let rows = decode_chunk(decoder, chunk).map(|(frame, bytes)| {
                    *buffer = bytes;
                    frame
                });
                Some((seq, rows))
            }
        }
    }
}

/// Part of a file: the lines that begin at or after `start` and before `end`.
pub(super) struct Range {
    seq: u64,
    path: Arc<str>,
    file: Arc<dyn RangeRead>,
    start: u64,
    end: u64,
}

/// Cuts the source's files into ranges of `size` bytes, file after file.
pub(super) struct Claims<'a> {
    source: &'a LineSource,
    size: u64,
    next_file: usize,
    open: Option<(Arc<str>, Arc<dyn RangeRead>, u64)>,
    seq: u64,
}

impl<'a> Claims<'a> {
    fn new(source: &'a LineSource, size: usize) -> Self {
        Claims {
            source,
            size: size as u64,
            next_file: 0,
            open: None,
            seq: 0,
        }
    }

    /// The next range, or `None` when every file is handed out.
    fn claim(&mut self) -> Result<Option<Range>, BatchError> {
        loop {
            let (path, file, offset) = match &mut self.open {
                Some(open) => open,
                None => {
                    let Some(f) = self.source.files.get(self.next_file) else {
                        return Ok(None);
                    };
                    self.next_file += 1;
                    let file = self
                        .source
                        .open_ranges(&f.path)
                        .map_err(BatchError::Io)?
                        .ok_or_else(|| {
                            BatchError::NotLines(format!("{} cannot be read by ranges", f.path))
                        })?;
                    self.open.insert((f.path.as_str().into(), file.into(), 0))
                }
            };
            let size = file.size();
            if *offset >= size {
                self.open = None;
                continue;
            }
            let start = *offset;
            let end = (start + self.size).min(size);
            *offset = end;
            let range = Range {
                seq: self.seq,
                path: path.clone(),
                file: file.clone(),
                start,
                end,
            };
            self.seq += 1;
            return Ok(Some(range));
        }
    }
}

/// Decodes a range's lines, a read at a time.
fn decode_range(
    range: &Range,
    decoder: &mut RowDecoder,
    buffer: &mut Vec<u8>,
) -> Result<DataFrame, BatchError> {
    let whole_range = (range.end - range.start) as usize + 1;
    let read_bytes = range.file.read_size().clamp(1, whole_range);
    each_block_of_lines(range, buffer, read_bytes, |block, offset| {
        decoder.push_json_lines(block).map(drop).map_err(|e| {
            BatchError::NotLines(format!(
                "{} (in the {} bytes from byte {offset}): {e}",
                range.path,
                block.len()
            ))
        })
    })?;
    decoder
        .finish()
        .map_err(|e| BatchError::NotLines(format!("{}: {e}", range.path)))
}

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Calls `each` with the range's lines, in blocks of whole lines read `read_bytes` at a
/// time into `buffer`, and each block's offset in the file. A range owns the lines that
/// begin inside it, so the line crossing its end is read to its newline, and a range that
/// does not start the file skips to its first newline (that line is the range before's).
fn each_block_of_lines(
    range: &Range,
    buffer: &mut Vec<u8>,
    read_bytes: usize,
    mut each: impl FnMut(&[u8], u64) -> Result<(), BatchError>,
) -> Result<(), BatchError> {
    let size = range.file.size();
    if buffer.len() < read_bytes {
        buffer.resize(read_bytes, 0);
    }
    // From the byte before `start`: a newline there means a line begins at `start`.
    let mut at = range.start.saturating_sub(1);
    let mut filled = 0;
    let mut seeking_first_line = range.start > 0;
    let mut file_start = range.start == 0;
    // The range's last line is the one holding this byte.
    let last_owned = range.end - 1;
    // Past the end only the rest of one line is wanted: reads there start at a sixteenth
    // of a full read and double.
    let mut tail_read = (read_bytes / 16).max(1);
    loop {
        if filled == buffer.len() {
            // A line longer than the buffer: double it rather than add to it.
            buffer.resize(2 * buffer.len().max(1), 0);
        }
        let mut limit = buffer.len();
        if at + filled as u64 > last_owned {
            limit = limit.min(filled + tail_read);
            tail_read *= 2;
        }
        let n = range
            .file
            .read_at(at + filled as u64, &mut buffer[filled..limit])
            .map_err(|e| BatchError::Io(unreadable(&range.path, e)))?;
        filled += n;
        let at_end = n == 0 || at + filled as u64 >= size;
        let data = &buffer[..filled];
        let mut from = 0;
        if std::mem::take(&mut file_start) {
            from = opening(&range.path, data)?;
        }
        if seeking_first_line {
            match memchr::memchr(b'\n', data) {
                Some(i) => from = i + 1,
                None if at_end => return Ok(()),
                None => {
                    at += filled as u64;
                    filled = 0;
                    continue;
                }
            }
            seeking_first_line = false;
            if at + from as u64 > last_owned {
                return Ok(());
            }
        }
        let after_last_newline =
            || memchr::memrchr(b'\n', &data[from..]).map_or(from, |i| from + i + 1);
        let (cut, done) = if last_owned < at + filled as u64 {
            let last = (last_owned - at) as usize;
            match memchr::memchr(b'\n', &data[last..]) {
                Some(i) => (last + i + 1, true),
                None if at_end => (filled, true),
                None => (after_last_newline(), false),
            }
        } else if at_end {
            (filled, true)
        } else {
            (after_last_newline(), false)
        };
        if cut > from {
            each(&data[from..cut], at + from as u64)?;
        }
        if done {
            return Ok(());
        }
        buffer.copy_within(cut..filled, 0);
        at += cut as u64;
        filled -= cut;
    }
}

/// Where the text of a file begins, after a UTF-8 byte-order mark. A file that opens as
/// UTF-16 or a JSON array is for the whole-file reader.
fn opening(path: &str, data: &[u8]) -> Result<usize, BatchError> {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        return Err(BatchError::NotLines(format!(
            "{path} starts with a UTF-16 byte-order mark"
        )));
    }
    let from = if data.starts_with(UTF8_BOM) { 3 } else { 0 };
    if starts_array(&data[from..]) {
        return Err(BatchError::NotLines(format!(
            "{path} is a JSON array, not JSON Lines"
        )));
    }
    Ok(from)
}

fn starts_array(text: &[u8]) -> bool {
    text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// A chunk of whole lines of one streamed file.
pub(super) struct Chunk {
    seq: u64,
    path: Arc<str>,
    /// Where the chunk starts in the file, for messages. (Counting lines would cost a
    /// pass over every byte; a row that does not decode sends the source to the whole-file
    /// reader, whose messages give line numbers.)
    offset: u64,
    bytes: Vec<u8>,
}

/// The chunk's rows, and its buffer for the next chunk.
fn decode_chunk(
    decoder: &mut RowDecoder,
    chunk: Chunk,
) -> Result<(DataFrame, Vec<u8>), BatchError> {
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

/// Streamed files in chunks of whole lines, one after another.
pub(super) struct ChunkReader<'a> {
    source: &'a LineSource,
    size: usize,
    next_file: usize,
    open: Option<OpenFile>,
    seq: u64,
}

struct OpenFile {
    path: Arc<str>,
    input: Box<dyn Read + Send>,
    /// Bytes read after the last complete line.
    carry: Vec<u8>,
    offset: u64,
    first_chunk: bool,
}

impl<'a> ChunkReader<'a> {
    fn new(source: &'a LineSource, size: usize) -> Self {
        ChunkReader {
            source,
            size,
            next_file: 0,
            open: None,
            seq: 0,
        }
    }

    /// The next chunk, or `None` when every file is read. `buf` is the buffer of a chunk
    /// that was decoded: reusing it spares the allocator and the kernel mapping and
    /// zeroing fresh pages for every chunk.
    fn next(&mut self, mut buf: Vec<u8>) -> Result<Option<Chunk>, BatchError> {
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
            buf.clear();
            buf.extend_from_slice(&file.carry);
            file.carry.clear();
            // A line longer than a chunk doubles what is read, rather than adding to it.
            let want = self.size.max(2 * buf.len());
            let at_end = fill(&mut file.input, &mut buf, want)
                .map_err(|e| BatchError::Io(unreadable(&file.path, e)))?;
            if std::mem::take(&mut file.first_chunk) && starts_array(&buf) {
                return Err(BatchError::NotLines(format!(
                    "{} is a JSON array, not JSON Lines",
                    file.path
                )));
            }
            if !at_end {
                // Whatever follows the last newline belongs to the next chunk.
                match memchr::memrchr(b'\n', &buf) {
                    Some(end) => {
                        file.carry.extend_from_slice(&buf[end + 1..]);
                        buf.truncate(end + 1);
                    }
                    // A line longer than a chunk: read on.
                    None => {
                        file.carry = std::mem::take(&mut buf);
                        continue;
                    }
                }
            }
            let len = buf.len() as u64;
            let chunk = Chunk {
                seq: self.seq,
                path: file.path.clone(),
                offset: file.offset,
                bytes: std::mem::take(&mut buf),
            };
            file.offset += len;
            if at_end {
                self.open = None;
            }
            // An empty file, or one whose last line ended where the last chunk did.
            if chunk.bytes.is_empty() {
                buf = chunk.bytes;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in memory.
    struct Bytes(Vec<u8>);

    impl RangeRead for Bytes {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }

        fn read_size(&self) -> usize {
            4096
        }

        fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let rest = self.0.get(offset as usize..).unwrap_or_default();
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }
    }

    /// Every range of `size` bytes over `text`, read `read_bytes` at a time: the blocks
    /// each range gave, in order.
    fn blocks(text: &[u8], size: u64, read_bytes: usize) -> Vec<Vec<Vec<u8>>> {
        let file: Arc<dyn RangeRead> = Arc::new(Bytes(text.to_vec()));
        let mut buffer = Vec::new();
        let mut ranges = Vec::new();
        let mut start = 0;
        while start < text.len() as u64 {
            let end = (start + size).min(text.len() as u64);
            let range = Range {
                seq: 0,
                path: "f".into(),
                file: file.clone(),
                start,
                end,
            };
            let mut got = Vec::new();
            each_block_of_lines(&range, &mut buffer, read_bytes, |block, offset| {
                assert_eq!(&text[offset as usize..][..block.len()], block);
                got.push(block.to_vec());
                Ok(())
            })
            .unwrap();
            ranges.push(got);
            start = end;
        }
        ranges
    }

    #[test]
    fn every_line_is_read_once_whatever_the_range_and_read_sizes() {
        let mut text = Vec::new();
        for i in 0..40 {
            text.extend_from_slice(&vec![b'a' + (i % 26) as u8; i * 7 % 23]);
            text.push(b'\n');
        }
        for ending in [&b""[..], b"no newline at the end", b"\n\n"] {
            let mut text = text.clone();
            text.extend_from_slice(ending);
            for size in 1..=40 {
                for read_bytes in [1, 2, 5, 16, 64, 4096] {
                    let ranges = blocks(&text, size, read_bytes);
                    let joined: Vec<u8> = ranges.iter().flatten().flatten().copied().collect();
                    assert_eq!(joined, text, "ranges of {size}, reads of {read_bytes}");
                    for block in ranges.iter().flatten() {
                        let whole = block.ends_with(b"\n") || text.ends_with(block);
                        assert!(whole, "a block ends inside a line: {block:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_range_owns_the_lines_that_begin_in_it() {
        let text = b"aaaa\nbbbb\ncccc\n";
        // [0, 5) ends on a newline: `bbbb` begins at 5, in the next range.
        let ranges = blocks(text, 5, 64);
        assert_eq!(ranges[0], vec![b"aaaa\n".to_vec()]);
        assert_eq!(ranges[1], vec![b"bbbb\n".to_vec()]);
        // [0, 6) holds the first byte of `bbbb`, so reads through its newline.
        let ranges = blocks(text, 6, 64);
        assert_eq!(ranges[0], vec![b"aaaa\nbbbb\n".to_vec()]);
        assert_eq!(ranges[1], vec![b"cccc\n".to_vec()]);
        assert!(ranges[2].is_empty(), "nothing begins in [12, 15)");
    }

    #[test]
    fn byte_order_marks_and_arrays_are_seen_at_the_start_of_a_file() {
        let text = b"\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n";
        let ranges = blocks(text, 100, 64);
        assert_eq!(ranges[0], vec![b"{\"a\":1}\n{\"a\":2}\n".to_vec()]);
        for (text, why) in [
            (&b"\xFF\xFE{\x00"[..], "UTF-16"),
            (b"  [{\"a\":1}]", "JSON array"),
        ] {
            let file: Arc<dyn RangeRead> = Arc::new(Bytes(text.to_vec()));
            let range = Range {
                seq: 0,
                path: "f".into(),
                file,
                start: 0,
                end: text.len() as u64,
            };
            let err = each_block_of_lines(&range, &mut Vec::new(), 64, |_, _| Ok(()));
            assert!(
                matches!(&err, Err(BatchError::NotLines(m)) if m.contains(why)),
                "{why}"
            );
        }
    }
}
