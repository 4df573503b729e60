//! Finding the ends of JSON values in bytes without decoding them: the decoder skips keys
//! a table does not request (message bodies, mostly) by their structure alone, scanning
//! strings for their closing quote with `memchr` rather than byte by byte.
//!
//! Skipped values are checked for structure only (brackets, quotes, escapes): their
//! contents are neither decoded nor validated, as nothing reads them.

use std::borrow::Cow;

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

/// The members of the JSON object `text`, in order: each name unescaped, and the text of
/// its value as written. The `graph` back-end passes Graph's values on this way without
/// decoding and encoding them again.
pub(crate) fn members(text: &str) -> Result<Vec<(Cow<'_, str>, &str)>, ScanError> {
    let bytes = text.as_bytes();
    let mut members = Vec::new();
    each_element(bytes, b'{', b'}', |at| {
        if bytes.get(at) != Some(&b'"') {
            return Err(ScanError::new(at, "a member name"));
        }
        let (name_end, escaped) = skip_string(bytes, at)?;
        let name = if escaped {
            let unescaped = serde_json::from_str::<String>(&text[at..name_end])
                .map_err(|_| ScanError::new(at, "a valid member name"))?;
            Cow::Owned(unescaped)
        } else {
            Cow::Borrowed(&text[at + 1..name_end - 1])
        };
        let colon = skip_whitespace(bytes, name_end);
        if bytes.get(colon) != Some(&b':') {
            return Err(ScanError::new(colon, "a colon"));
        }
        let value = skip_whitespace(bytes, colon + 1);
        let end = skip_value(bytes, value)?;
        members.push((name, &text[value..end]));
        Ok(end)
    })?;
    Ok(members)
}

/// The texts of the items of the JSON array `text`, in order.
pub(crate) fn items(text: &str) -> Result<Vec<&str>, ScanError> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    each_element(bytes, b'[', b']', |at| {
        let end = skip_value(bytes, at)?;
        items.push(&text[at..end]);
        Ok(end)
    })?;
    Ok(items)
}

/// Walks the comma-separated elements between `open` and `close`: `element` reads the one
/// starting at an offset and returns the offset after it.
fn each_element(
    bytes: &[u8],
    open: u8,
    close: u8,
    mut element: impl FnMut(usize) -> Result<usize, ScanError>,
) -> Result<(), ScanError> {
    let start = skip_whitespace(bytes, 0);
    if bytes.get(start) != Some(&open) {
        let what = if open == b'{' {
            "an object"
        } else {
            "an array"
        };
        return Err(ScanError::new(start, what));
    }
    let mut at = skip_whitespace(bytes, start + 1);
    if bytes.get(at) == Some(&close) {
        return Ok(());
    }
    loop {
        at = skip_whitespace(bytes, element(at)?);
        match bytes.get(at) {
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            Some(&b) if b == close => return Ok(()),
            _ => return Err(ScanError::new(at, "a comma or the closing bracket")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_split_into_names_and_value_texts() {
        let text = r#" { "id" : "a\"b", "n\u0061me": [1, {"x": "}"}], "e": {} ,"z":-1.5e3 } "#;
        let got = members(text).unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["id", "name", "e", "z"]);
        let values: Vec<&str> = got.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, [r#""a\"b""#, r#"[1, {"x": "}"}]"#, "{}", "-1.5e3"]);
        assert!(members("{}").unwrap().is_empty());
        assert_eq!(
            items(r#"[ {"a": 1}, "b" ,null]"#).unwrap(),
            [r#"{"a": 1}"#, r#""b""#, "null"]
        );
        assert!(items("[]").unwrap().is_empty());
    }

    #[test]
    fn what_is_not_an_object_or_array_says_so() {
        assert_eq!(members("[1]").unwrap_err().expected, "an object");
        assert_eq!(items("{}").unwrap_err().expected, "an array");
        assert_eq!(members(r#"{"a" 1}"#).unwrap_err().expected, "a colon");
        assert_eq!(
            members(r#"{"a": 1 "b": 2}"#).unwrap_err().expected,
            "a comma or the closing bracket"
        );
        assert_eq!(members("{1: 2}").unwrap_err().expected, "a member name");
    }

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
