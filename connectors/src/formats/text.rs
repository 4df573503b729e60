//! `encodingName` of text files: UTF-8 with or without a byte-order mark, UTF-16 in
//! either byte order. Reading honours a byte-order mark over the declared encoding.

use std::io::{self, Read, Write};

use super::UnknownSetting;

/// A text encoding of a file dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark (ADF's `UTF-8`, and `UTF-8 without BOM`).
    Utf8,
    /// UTF-8 written with a byte-order mark (mdflow's `UTF-8 BOM`).
    Utf8Bom,
    /// UTF-16 little-endian with a byte-order mark (`UTF-16`, `UTF-16LE`).
    Utf16Le,
    /// UTF-16 big-endian with a byte-order mark (`UTF-16BE`).
    Utf16Be,
}

impl TextEncoding {
    /// Parses an `encodingName`, ignoring case and the spelling of `UTF-8`.
    pub fn parse(name: &str) -> Result<Self, UnknownSetting> {
        let key: String = name
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        Ok(match key.as_str() {
            "" | "utf8" | "utf8withoutbom" | "utf8nobom" => TextEncoding::Utf8,
            "utf8bom" | "utf8withbom" => TextEncoding::Utf8Bom,
            "utf16" | "utf16le" | "unicode" => TextEncoding::Utf16Le,
            "utf16be" | "unicodefffe" => TextEncoding::Utf16Be,
            _ => {
                return Err(UnknownSetting {
                    property: "encodingName",
                    value: name.to_owned(),
                    allowed: "UTF-8, UTF-8 without BOM, UTF-8 BOM, UTF-16 (LE), UTF-16BE",
                })
            }
        })
    }

    /// The byte-order mark written at the start of a file.
    pub fn bom(self) -> &'static [u8] {
        match self {
            TextEncoding::Utf8 => b"",
            TextEncoding::Utf8Bom => b"\xEF\xBB\xBF",
            TextEncoding::Utf16Le => b"\xFF\xFE",
            TextEncoding::Utf16Be => b"\xFE\xFF",
        }
    }

    /// Turns UTF-8 written to it into this encoding, mark first.
    pub fn writer<W: Write>(self, mut inner: W) -> io::Result<TextWriter<W>> {
        inner.write_all(self.bom())?;
        Ok(TextWriter {
            inner,
            encoding: self,
            carry: Vec::new(),
        })
    }

    /// Reads a file in this encoding (or the one its byte-order mark says) as UTF-8.
    pub fn reader(self, mut inner: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
        let mut head = [0u8; 3];
        let mut got = 0;
        while got < 3 {
            match inner.read(&mut head[got..])? {
                0 => break,
                n => got += n,
            }
        }
        let head = &head[..got];
        let (encoding, skip) = match head {
            [0xEF, 0xBB, 0xBF, ..] => (TextEncoding::Utf8, 3),
            [0xFF, 0xFE, ..] => (TextEncoding::Utf16Le, 2),
            [0xFE, 0xFF, ..] => (TextEncoding::Utf16Be, 2),
            _ => (self, 0),
        };
        let rest = io::Cursor::new(head[skip..].to_vec()).chain(inner);
        Ok(match encoding {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => Box::new(rest),
            big_or_little => Box::new(Utf16Reader {
                inner: Box::new(rest),
                big_endian: big_or_little == TextEncoding::Utf16Be,
                pending: Vec::new(),
                offset: 0,
            }),
        })
    }
}

/// Writes UTF-8 input in another encoding.
pub struct TextWriter<W: Write> {
    inner: W,
    encoding: TextEncoding,
    /// The start of a character split between two writes.
    carry: Vec<u8>,
}

impl<W: Write> TextWriter<W> {
    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for TextWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if matches!(self.encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom) {
            return self.inner.write(buf);
        }
        self.carry.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.carry) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        };
        let text = std::str::from_utf8(&self.carry[..valid]).unwrap_or_default();
        let mut out = Vec::with_capacity(valid * 2);
        for unit in text.encode_utf16() {
            out.extend_from_slice(&match self.encoding {
                TextEncoding::Utf16Be => unit.to_be_bytes(),
                _ => unit.to_le_bytes(),
            });
        }
        self.inner.write_all(&out)?;
        self.carry.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads UTF-16 as UTF-8.
struct Utf16Reader {
    inner: Box<dyn Read + Send>,
    big_endian: bool,
    pending: Vec<u8>,
    offset: usize,
}

impl Read for Utf16Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset >= self.pending.len() {
            let mut raw = vec![0u8; 64 << 10];
            let mut n = self.inner.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            // Whole code units, and a surrogate pair never split.
            while n % 2 == 1 || ends_in_high_surrogate(&raw[..n], self.big_endian) {
                let more = self.inner.read(&mut raw[n..n + 1])?;
                if more == 0 {
                    break;
                }
                n += more;
            }
            let units = raw[..n].chunks(2).map(|p| match p {
                [a, b] if self.big_endian => u16::from_be_bytes([*a, *b]),
                [a, b] => u16::from_le_bytes([*a, *b]),
                _ => 0xFFFD,
            });
            self.pending = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect::<String>()
                .into_bytes();
            self.offset = 0;
        }
        let n = buf.len().min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

fn ends_in_high_surrogate(bytes: &[u8], big_endian: bool) -> bool {
    let [.., a, b] = bytes else {
        return false;
    };
    let unit = if big_endian {
        u16::from_be_bytes([*a, *b])
    } else {
        u16::from_le_bytes([*a, *b])
    };
    bytes.len() % 2 == 0 && (0xD800..0xDC00).contains(&unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip() {
        let text = "{\"s\":\"héllo 😀\"}\n";
        for encoding in [
            TextEncoding::Utf8,
            TextEncoding::Utf8Bom,
            TextEncoding::Utf16Le,
            TextEncoding::Utf16Be,
        ] {
            let mut w = encoding.writer(Vec::new()).unwrap();
            // Split inside the emoji on purpose.
            let bytes = text.as_bytes();
            w.write_all(&bytes[..15]).unwrap();
            w.write_all(&bytes[15..]).unwrap();
            let written = w.into_inner();
            assert!(written.starts_with(encoding.bom()));
            let mut back = String::new();
            TextEncoding::Utf8
                .reader(Box::new(io::Cursor::new(written)))
                .unwrap()
                .read_to_string(&mut back)
                .unwrap();
            assert_eq!(back, text, "{encoding:?}");
        }
        assert_eq!(
            TextEncoding::parse("UTF-8 without BOM").unwrap(),
            TextEncoding::Utf8
        );
        assert!(TextEncoding::parse("EBCDIC").is_err());
    }
}
