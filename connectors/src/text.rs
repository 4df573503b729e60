//! Text encodings of input files: MGDC has published UTF-16 files, and ADF's `encodingName`
//! allows UTF-8 with or without a byte-order mark and UTF-16 in either byte order.

use std::borrow::Cow;

/// An encoding mdflow can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; a leading byte-order mark is skipped.
    Utf8,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
}

/// A file whose bytes are not valid text in the encoding they claim.
#[derive(Debug, thiserror::Error)]
#[error("not valid {encoding:?} text at byte {offset}; save the file as UTF-8 or UTF-16 with a byte-order mark")]
pub struct DecodeError {
    /// The encoding tried.
    pub encoding: Encoding,
    /// The byte offset of the first bad sequence.
    pub offset: usize,
}

/// Detects the encoding from a byte-order mark; without one, UTF-8.
pub fn sniff(bytes: &[u8]) -> Encoding {
    match bytes {
        [0xFF, 0xFE, ..] => Encoding::Utf16Le,
        [0xFE, 0xFF, ..] => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

/// Decodes a whole file to UTF-8 text, honouring a byte-order mark. UTF-8 input without a
/// mark is borrowed, not copied.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    match sniff(bytes) {
        Encoding::Utf8 => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            let bom = bytes.len() - body.len();
            std::str::from_utf8(body)
                .map(Cow::Borrowed)
                .map_err(|e| DecodeError {
                    encoding: Encoding::Utf8,
                    offset: bom + e.valid_up_to(),
                })
        }
        enc @ (Encoding::Utf16Le | Encoding::Utf16Be) => {
            let body = &bytes[2..];
            let units = body.chunks(2).map(|pair| match (enc, pair) {
                (Encoding::Utf16Le, [lo, hi]) => u16::from_le_bytes([*lo, *hi]),
                (_, [hi, lo]) => u16::from_be_bytes([*hi, *lo]),
                // An odd trailing byte cannot be a code unit; make it fail below.
                _ => 0xDC00,
            });
            let mut text = String::with_capacity(body.len() / 2);
            for (i, ch) in char::decode_utf16(units).enumerate() {
                match ch {
                    Ok(c) => text.push(c),
                    Err(_) => {
                        return Err(DecodeError {
                            encoding: enc,
                            offset: 2 + i * 2,
                        })
                    }
                }
            }
            Ok(Cow::Owned(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_are_honoured() {
        assert_eq!(decode(b"\xEF\xBB\xBF{}").unwrap(), "{}");
        assert_eq!(decode(b"\xFF\xFE{\x00}\x00").unwrap(), "{}");
        assert_eq!(decode(b"\xFE\xFF\x00{\x00}").unwrap(), "{}");
        assert_eq!(decode(b"{}").unwrap(), "{}");
    }

    #[test]
    fn bad_bytes_are_located() {
        let err = decode(b"{}\xFF").unwrap_err();
        assert_eq!(err.offset, 2);
    }
}
