//! Finding the ends of JSON values in bytes without decoding them: the decoder skips keys
//! a table does not request (message bodies, mostly) by their structure alone, scanning
//! strings for their closing quote with `memchr` rather than byte by byte.
//!
//! Skipped values are checked for structure only (brackets, quotes, escapes): their
//! contents are neither decoded nor validated, as nothing reads them.

/// Why bytes are not the JSON value they should be, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanError {
    /// Byte offset of the problem.
    pub at: usize,
    /// What was expected.
    pub expected: &'static str,
}

impl ScanError {
    fn new(at: usize, expected: &'static str) -> Self {
        ScanError { at, expected }
    }
}

/// The first offset at or after `at` that is not JSON whitespace.
pub(crate) fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The offset after the string starting with the quote at `at`, for values that are
/// skipped. Only quotes are searched for: a quote ends the string unless an odd number of
/// backslashes stands right before it (an even run is escaped backslashes), so escapes
/// such as `\n` or `\u00e9` never interrupt the search, as they would if backslashes were
/// searched for too. Message bodies are HTML with line breaks and quoted attributes.
pub(crate) fn string_end(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    debug_assert_eq!(bytes.get(at), Some(&b'"'));
    let mut i = at + 1;
    while let Some(k) = memchr::memchr(b'"', bytes.get(i..).unwrap_or_default()) {
        let quote = i + k;
        let backslashes = bytes[at + 1..quote]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Ok(quote + 1);
        }
        i = quote + 1;
    }
    Err(ScanError::new(at, "a closing quote"))
}

/// The offset after the string starting with the quote at `at`, and whether it holds an
/// escape.
pub(crate) fn skip_string(bytes: &[u8], at: usize) -> Result<(usize, bool), ScanError> {
    debug_assert_eq!(bytes.get(at), Some(&b'"'));
    let mut i = at + 1;
    let mut escaped = false;
    loop {
        match memchr::memchr2(b'"', b'\\', &bytes[i.min(bytes.len())..]) {
            Some(k) if bytes[i + k] == b'\\' => {
                escaped = true;
                i += k + 2;
            }
            Some(k) => return Ok((i + k + 1, escaped)),
            None => return Err(ScanError::new(at, "a closing quote")),
        }
    }
}

/// The offset after the value starting at `at` (which must not be whitespace).
pub(crate) fn skip_value(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    match bytes.get(at) {
        Some(b'"') => string_end(bytes, at),
        Some(b'{' | b'[') => skip_nested(bytes, at),
        Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            let end = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .map_or(bytes.len(), |k| at + k);
            Ok(end)
        }
        _ => Err(ScanError::new(at, "a value")),
    }
}

/// An object or array: brackets are matched (a bit per level, as deep as serde_json
/// itself goes), strings jumped over.
fn skip_nested(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    const DEEPEST: u32 = 128;
    let (mut arrays, mut depth) = (0u128, 0u32);
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            open @ (b'{' | b'[') => {
                if depth == DEEPEST {
                    return Err(ScanError::new(i, "at most 128 levels of nesting"));
                }
                arrays = (arrays << 1) | u128::from(open == b'[');
                depth += 1;
            }
            close @ (b'}' | b']') => {
                if depth == 0 || (arrays & 1 == 1) != (close == b']') {
                    return Err(ScanError::new(i, "the bracket that closes the open one"));
                }
                arrays >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(ScanError::new(at, "the end of the object or array"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_end(text: &str) -> Result<usize, ScanError> {
        skip_value(text.as_bytes(), 0)
    }

    #[test]
    fn values_end_where_json_says() {
        assert_eq!(value_end(r#""a\"b\\" ,"#), Ok(8));
        assert_eq!(value_end(r#"{"a": [1, {"b": "}]"}], "c": null} x"#), Ok(34));
        assert_eq!(value_end("-12.5e3,"), Ok(7));
        assert_eq!(value_end("true}"), Ok(4));
        assert_eq!(value_end("[]"), Ok(2));
        assert_eq!(skip_string(br#""plain""#, 0), Ok((7, false)));
        assert_eq!(skip_string(br#""t\u00e9""#, 0), Ok((9, true)));
    }

    /// The quote-only search agrees with the search that stops at every backslash, on
    /// strings dense with escapes, escaped backslashes and escaped quotes.
    #[test]
    fn string_ends_agree_with_the_escape_by_escape_search() {
        let pieces: [&[u8]; 7] = [b"a", b"\\\\", b"\\\"", b"\\n", b"\\u00e9", b" ", b"<p>"];
        let mut seed = 7u64;
        for _ in 0..5_000 {
            let mut text = b"\"".to_vec();
            for _ in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            text.extend_from_slice(b"\", \"next\"");
            let want = skip_string(&text, 0).map(|(end, _)| end);
            assert_eq!(
                string_end(&text, 0),
                want,
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
        assert_eq!(string_end(br#""\\""#, 0), Ok(4));
        assert_eq!(
            string_end(br#""\"\\\""#, 0).unwrap_err().expected,
            "a closing quote"
        );
    }

    #[test]
    fn broken_values_say_what_was_expected() {
        assert_eq!(
            value_end(r#""open"#).unwrap_err().expected,
            "a closing quote"
        );
        assert_eq!(
            value_end(r#"{"a": [1, 2}"#).unwrap_err(),
            ScanError::new(11, "the bracket that closes the open one")
        );
        assert_eq!(
            value_end(r#"{"a": [1, 2]"#).unwrap_err().expected,
            "the end of the object or array"
        );
        assert_eq!(
            value_end(r#""ends in \"#).unwrap_err().expected,
            "a closing quote"
        );
        assert_eq!(value_end(":").unwrap_err().expected, "a value");
    }
}
