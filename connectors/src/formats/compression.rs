//! Compression codecs of file datasets: gzip, bzip2 and raw deflate both ways, and
//! ZipDeflate (a zip archive of deflated or stored entries) for reading.

use std::io::{self, Read, Write};

use flate2::read::{DeflateDecoder, MultiGzDecoder};
use flate2::write::{DeflateEncoder, GzEncoder};

use super::UnknownSetting;

/// A dataset's `compression.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    None,
    /// `GZip`.
    Gzip,
    /// `BZip2`.
    Bzip2,
    /// `Deflate`: raw deflate, no header.
    Deflate,
    /// `ZipDeflate`: a zip archive (read only).
    ZipDeflate,
}

impl Compression {
    /// Parses ADF's codec name, ignoring case.
    pub fn parse(name: &str) -> Result<Self, UnknownSetting> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "" | "none" => Compression::None,
            "gzip" => Compression::Gzip,
            "bzip2" => Compression::Bzip2,
            "deflate" => Compression::Deflate,
            "zipdeflate" => Compression::ZipDeflate,
            _ => {
                return Err(UnknownSetting {
                    property: "compression type",
                    value: name.to_owned(),
                    allowed: "GZip, BZip2, Deflate, ZipDeflate (read only), or none",
                })
            }
        })
    }

    /// The file name extension ADF adds for this codec.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Bzip2 => ".bz2",
            Compression::Deflate => ".deflate",
            Compression::ZipDeflate => ".zip",
        }
    }

    /// Decompresses `input` as it is read. A zip archive is read whole, its entries one
    /// after another.
    pub fn reader(self, mut input: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Compression::None => input,
            Compression::Gzip => Box::new(MultiGzDecoder::new(input)),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
            Compression::Deflate => Box::new(DeflateDecoder::new(input)),
            Compression::ZipDeflate => {
                let mut archive = Vec::new();
                input.read_to_end(&mut archive)?;
                Box::new(io::Cursor::new(unzip(&archive)?))
            }
        })
    }

    /// Compresses what is written to `output`; [`Encoder::finish`] writes the trailer.
    pub fn writer(self, output: Box<dyn Write + Send>) -> io::Result<Encoder> {
        Ok(match self {
            Compression::None => Encoder::Plain(output),
            Compression::Gzip => {
                Encoder::Gzip(GzEncoder::new(output, flate2::Compression::default()))
            }
            Compression::Bzip2 => Encoder::Bzip2(bzip2::write::BzEncoder::new(
                output,
                bzip2::Compression::default(),
            )),
            Compression::Deflate => {
                Encoder::Deflate(DeflateEncoder::new(output, flate2::Compression::default()))
            }
            Compression::ZipDeflate => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "ZipDeflate is read only; write GZip, BZip2 or Deflate",
                ))
            }
        })
    }
}

/// A compressing writer that must be finished to be complete.
pub enum Encoder {
    /// Uncompressed.
    Plain(Box<dyn Write + Send>),
    /// gzip.
    Gzip(GzEncoder<Box<dyn Write + Send>>),
    /// bzip2.
    Bzip2(bzip2::write::BzEncoder<Box<dyn Write + Send>>),
    /// Raw deflate.
    Deflate(DeflateEncoder<Box<dyn Write + Send>>),
}

impl Encoder {
    /// Writes the codec's trailer and flushes the file.
    pub fn finish(self) -> io::Result<()> {
        let mut inner = match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(w) => w.finish()?,
            Encoder::Bzip2(w) => w.finish()?,
            Encoder::Deflate(w) => w.finish()?,
        };
        inner.flush()
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Bzip2(w) => w.write(buf),
            Encoder::Deflate(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Bzip2(w) => w.flush(),
            Encoder::Deflate(w) => w.flush(),
        }
    }
}

fn bad_zip(reason: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not a zip archive: {reason}"),
    )
}

fn u16_at(b: &[u8], at: usize) -> io::Result<usize> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
        .ok_or_else(|| bad_zip("truncated"))
}

fn u32_at(b: &[u8], at: usize) -> io::Result<usize> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or_else(|| bad_zip("truncated"))
}

/// The entries of a zip archive, decompressed and joined (a newline between entries), in
/// the order of its central directory. Folders are skipped.
fn unzip(archive: &[u8]) -> io::Result<Vec<u8>> {
    // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
    let floor = archive.len().saturating_sub(65_557);
    let eocd = (floor..archive.len().saturating_sub(21))
        .rev()
        .find(|&i| archive[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| bad_zip("no end of central directory"))?;
    let entries = u16_at(archive, eocd + 10)?;
    let mut at = u32_at(archive, eocd + 16)?;
    let mut out = Vec::new();
    for _ in 0..entries {
        if !archive
            .get(at..)
            .is_some_and(|b| b.starts_with(b"PK\x01\x02"))
        {
            return Err(bad_zip("broken central directory"));
        }
        let method = u16_at(archive, at + 10)?;
        let size = u32_at(archive, at + 20)?;
        let (name_len, extra_len, comment_len) = (
            u16_at(archive, at + 28)?,
            u16_at(archive, at + 30)?,
            u16_at(archive, at + 32)?,
        );
        let local = u32_at(archive, at + 42)?;
        let name = archive
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| bad_zip("truncated"))?;
        at += 46 + name_len + extra_len + comment_len;
        if name.ends_with(b"/") {
            continue;
        }
        let data_at = local + 30 + u16_at(archive, local + 26)? + u16_at(archive, local + 28)?;
        let data = archive
            .get(data_at..data_at + size)
            .ok_or_else(|| bad_zip("entry beyond the end"))?;
        match method {
            0 => out.extend_from_slice(data),
            8 => {
                DeflateDecoder::new(data).read_to_end(&mut out)?;
            }
            other => {
                return Err(bad_zip(&format!(
                    "entry compressed with method {other}, not deflate"
                )))
            }
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(codec: Compression) {
        let text = b"{\"a\":1}\n{\"a\":2}\n".repeat(100);
        let mut sink = Vec::new();
        {
            let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
            impl Write for W {
                fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                    self.0.lock().unwrap().extend_from_slice(b);
                    Ok(b.len())
                }
                fn flush(&mut self) -> io::Result<()> {
                    Ok(())
                }
            }
            let mut enc = codec.writer(Box::new(W(shared.clone()))).unwrap();
            enc.write_all(&text).unwrap();
            enc.finish().unwrap();
            sink.extend_from_slice(&shared.lock().unwrap());
        }
        let mut back = Vec::new();
        codec
            .reader(Box::new(io::Cursor::new(sink)))
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text, "{codec:?}");
    }

    #[test]
    fn codecs_round_trip() {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Bzip2,
            Compression::Deflate,
        ] {
            round_trip(codec);
        }
        assert!(Compression::parse("snappy").is_err());
        assert_eq!(Compression::parse("GZip").unwrap(), Compression::Gzip);
    }

    #[test]
    fn zip_archives_are_read_entry_by_entry() {
        // Two entries: one stored, one deflated, as `zip` writes them.
        let mut deflated = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflated.write_all(b"{\"b\":2}\n").unwrap();
        let deflated = deflated.finish().unwrap();
        let entries: [(&[u8], u16, &[u8]); 2] =
            [(b"a.json", 0, b"{\"a\":1}"), (b"b.json", 8, &deflated)];
        let (mut archive, mut central) = (Vec::new(), Vec::new());
        for (name, method, data) in entries {
            let offset = archive.len() as u32;
            archive.extend_from_slice(b"PK\x03\x04");
            archive.extend_from_slice(&[20, 0, 0, 0]);
            archive.extend_from_slice(&method.to_le_bytes());
            archive.extend_from_slice(&[0; 16]);
            archive.extend_from_slice(&(name.len() as u16).to_le_bytes());
            archive.extend_from_slice(&[0, 0]);
            archive.extend_from_slice(name);
            archive.extend_from_slice(data);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&[0; 4]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name);
        }
        let directory_at = archive.len() as u32;
        archive.extend_from_slice(&central);
        archive.extend_from_slice(b"PK\x05\x06");
        archive.extend_from_slice(&[0; 4]);
        archive.extend_from_slice(&[2, 0, 2, 0]);
        archive.extend_from_slice(&(central.len() as u32).to_le_bytes());
        archive.extend_from_slice(&directory_at.to_le_bytes());
        archive.extend_from_slice(&[0, 0]);
        assert_eq!(unzip(&archive).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
    }
}
