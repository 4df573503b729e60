//! The OData query options the emulator understands (and the back-end builds): `$select`, `$top`, `$skiptoken`,
//! `$expand`, `$filter` on a date column (or on directory properties for users), and the
//! calendar view's `startDateTime` and `endDateTime`.

use chrono::{DateTime, Utc};

/// A request's query options, decoded.
#[derive(Debug, Default)]
pub(crate) struct Query {
    /// Every parameter, decoded, in order.
    pub(crate) params: Vec<(String, String)>,
}

impl Query {
    /// Splits and decodes a raw query string. A `&` inside a quoted literal does not end a
    /// parameter, so unencoded filters such as `'Sales & Marketing'` survive.
    pub(crate) fn parse(raw: &str) -> Result<Query, String> {
        let mut params = Vec::new();
        let (mut start, mut quoted) = (0, false);
        let mut pieces = Vec::new();
        for (i, c) in raw.char_indices() {
            match c {
                '\'' => quoted = !quoted,
                '&' if !quoted => {
                    pieces.push(&raw[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        pieces.push(&raw[start..]);
        for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            params.push((decode(key)?, decode(value)?));
        }
        Ok(Query { params })
    }

    /// A parameter by name, ignoring case and an optional `$`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let name = name.trim_start_matches('$');
        self.params
            .iter()
            .find(|(k, _)| k.trim_start_matches('$').eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `$select` as a list of property names.
    pub(crate) fn select(&self) -> Option<Vec<String>> {
        self.get("select").map(split_list)
    }

    /// Whether `$expand` names a navigation property.
    pub(crate) fn expands(&self, property: &str) -> bool {
        self.get("expand").is_some_and(|e| {
            split_list(e)
                .iter()
                .any(|p| p.eq_ignore_ascii_case(property))
        })
    }

    /// `$top`, checked against the endpoint's limit.
    pub(crate) fn top(&self, default: usize, max: usize) -> Result<usize, String> {
        match self.get("top") {
            None => Ok(default),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "Invalid value '{text}' for $top: expected a whole number from 1 to {max}"
                )),
            },
        }
    }

    /// `$skiptoken`: the emulator's tokens are row offsets.
    pub(crate) fn skip(&self) -> Result<usize, String> {
        match self.get("skiptoken") {
            None => Ok(0),
            Some(text) => text
                .parse()
                .map_err(|_| format!("Invalid $skiptoken '{text}'")),
        }
    }

    /// The query again without `$skiptoken`, encoded, for building next links.
    pub(crate) fn without_skip(&self) -> String {
        self.params
            .iter()
            .filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken"))
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A date range filter: `col ge X and col lt Y` (also `gt` and `le`), as the back-end sends
/// it. Returns the column and the `[start, end)` instants.
pub(crate) fn date_filter(filter: &str) -> Result<(String, DateTime<Utc>, DateTime<Utc>), String> {
    let mut column: Option<String> = None;
    let (mut start, mut end) = (None, None);
    let micro = chrono::Duration::microseconds(1);
    for clause in split_and(filter) {
        let words: Vec<&str> = clause.split_whitespace().collect();
        let [col, op, value] = words[..] else {
            return Err(format!(
                "Invalid filter clause '{clause}': expected `<property> ge|gt|lt|le <instant>`"
            ));
        };
        if column
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case(col))
        {
            return Err(format!(
                "Invalid filter '{filter}': every clause must name the same date property"
            ));
        }
        column = Some(col.to_owned());
        let instant = DateTime::parse_from_rfc3339(value.trim_matches('\''))
            .map_err(|_| format!("Invalid instant '{value}' in filter: expected ISO 8601"))?
            .with_timezone(&Utc);
        match op.to_ascii_lowercase().as_str() {
            "ge" => start = Some(instant),
            "gt" => start = Some(instant + micro),
            "lt" => end = Some(instant),
            "le" => end = Some(instant + micro),
            _ => {
                return Err(format!(
                    "Unsupported operator '{op}' in filter: use ge, gt, lt or le"
                ))
            }
        }
    }
    let lowest = DateTime::<Utc>::MIN_UTC;
    let highest = DateTime::<Utc>::MAX_UTC;
    match column {
        Some(c) => Ok((c, start.unwrap_or(lowest), end.unwrap_or(highest))),
        None => Err("Invalid filter: it is empty".into()),
    }
}

/// Splits on the word `and`, any case.
fn split_and(filter: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in filter.split_whitespace() {
        if word.eq_ignore_ascii_case("and") {
            out.push(String::new());
        } else {
            let last = out.last_mut().expect("never empty");
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    out
}

/// Percent-decoding with `+` as a space, as in form-encoded query strings.
pub(crate) fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let byte = text
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("Invalid percent-encoding in '{text}'"))?;
                out.push(byte);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{text}' does not decode to UTF-8"))
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_filters_parse_as_half_open_windows() {
        let (col, start, end) = date_filter(
            "receivedDateTime ge 2024-01-01T00:00:00Z and receivedDateTime lt 2024-02-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(col, "receivedDateTime");
        assert_eq!(start.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2024-02-01T00:00:00+00:00");
        assert!(date_filter("a ge 2024-01-01T00:00:00Z and b lt 2024-02-01T00:00:00Z").is_err());
        assert!(date_filter("a eq 2024-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn quoted_ampersands_stay_in_their_parameter() {
        let q = Query::parse("$filter=department eq 'Sales & Marketing'&$top=5").unwrap();
        assert_eq!(q.get("$filter"), Some("department eq 'Sales & Marketing'"));
        assert_eq!(q.top(10, 999).unwrap(), 5);
        let q = Query::parse("%24select=id%2Cmail&%24skiptoken=20").unwrap();
        assert_eq!(q.select().unwrap(), ["id", "mail"]);
        assert_eq!(q.skip().unwrap(), 20);
        assert_eq!(q.without_skip(), "$select=id%2Cmail");
    }
}
