//! Timestamps as ADF expressions see them: parsing ISO 8601 text and formatting with .NET
//! date and time format strings, because `formatDateTime` and friends take .NET formats.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// The format ADF uses when a date function is given none: .NET's round-trip `o` form,
/// such as `2024-01-31T08:00:00.0000000Z`.
pub(crate) const ROUND_TRIP: &str = "yyyy-MM-ddTHH:mm:ss.fffffffK";

/// Parses an ISO 8601 instant. Text without an offset is taken as UTC, and a bare date as
/// its midnight, which is how ADF reads such parameter values.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Formats an instant with a .NET standard (`o`, `s`, `u`, `d`, ...) or custom
/// (`yyyy-MM-ddTHH:mm:ssZ`) format string.
pub(crate) fn format_dotnet(t: &DateTime<Utc>, format: &str) -> Result<String, String> {
    let custom = match format {
        "" | "o" | "O" => ROUND_TRIP,
        "s" => "yyyy-MM-ddTHH:mm:ss",
        "u" => "yyyy-MM-dd HH:mm:ssZ",
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "t" => "HH:mm",
        "T" => "HH:mm:ss",
        "g" => "MM/dd/yyyy HH:mm",
        "G" => "MM/dd/yyyy HH:mm:ss",
        "r" | "R" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        other if other.chars().count() == 1 && other.chars().all(char::is_alphabetic) => {
            return Err(format!(
                "`{other}` is not a standard date format supported here \
                 (use o, s, u, d, D, t, T, g, G, r or a custom format like yyyy-MM-dd)"
            ));
        }
        other => other,
    };
    Ok(format_custom(t, custom))
}

fn format_custom(t: &DateTime<Utc>, format: &str) -> String {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        match c {
            'y' => {
                let year = t.year();
                match run {
                    1 => out.push_str(&(year % 100).to_string()),
                    2 => out.push_str(&format!("{:02}", year % 100)),
                    n => out.push_str(&format!("{year:0n$}")),
                }
            }
            'M' => match run {
                1 => out.push_str(&t.month().to_string()),
                2 => out.push_str(&format!("{:02}", t.month())),
                3 => out.push_str(&t.format("%b").to_string()),
                _ => out.push_str(&t.format("%B").to_string()),
            },
            'd' => match run {
                1 => out.push_str(&t.day().to_string()),
                2 => out.push_str(&format!("{:02}", t.day())),
                3 => out.push_str(&t.format("%a").to_string()),
                _ => out.push_str(&t.format("%A").to_string()),
            },
            'H' => push_number(&mut out, t.hour(), run),
            'h' => push_number(&mut out, (t.hour() + 11) % 12 + 1, run),
            'm' => push_number(&mut out, t.minute(), run),
            's' => push_number(&mut out, t.second(), run),
            'f' | 'F' => {
                let digits = run.min(9);
                let nanos = format!("{:09}", t.nanosecond() % 1_000_000_000);
                let mut fraction = nanos[..digits].to_owned();
                if c == 'F' {
                    // .NET drops trailing zeros, and the decimal point when nothing is left.
                    fraction.truncate(fraction.trim_end_matches('0').len());
                    if fraction.is_empty() && out.ends_with('.') {
                        out.pop();
                    }
                }
                out.push_str(&fraction);
            }
            't' => {
                let marker = if t.hour() < 12 { "AM" } else { "PM" };
                out.push_str(if run == 1 { &marker[..1] } else { marker });
            }
            'K' => out.push('Z'),
            'z' => out.push_str(if run >= 3 { "+00:00" } else { "+00" }),
            '\'' | '"' => {
                // A quoted literal runs to the matching quote.
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == c)
                    .map_or(chars.len(), |p| i + 1 + p);
                out.extend(&chars[i + 1..end]);
                i = end + 1;
                continue;
            }
            '\\' => {
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                }
                i += 2;
                continue;
            }
            '%' => {}
            other => {
                for _ in 0..run {
                    out.push(other);
                }
            }
        }
        i += run;
    }
    out
}

fn push_number(out: &mut String, n: u32, run: usize) {
    if run == 1 {
        out.push_str(&n.to_string());
    } else {
        out.push_str(&format!("{n:02}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        parse_timestamp("2024-03-05T07:08:09.1234567Z").unwrap()
    }

    #[test]
    fn formats_like_dotnet() {
        let t = at();
        assert_eq!(
            format_dotnet(&t, "yyyy-MM-ddTHH:mm:ssZ").unwrap(),
            "2024-03-05T07:08:09Z"
        );
        assert_eq!(format_dotnet(&t, "yyyy/MM/dd").unwrap(), "2024/03/05");
        assert_eq!(
            format_dotnet(&t, "").unwrap(),
            "2024-03-05T07:08:09.1234567Z"
        );
        assert_eq!(format_dotnet(&t, "d").unwrap(), "03/05/2024");
        assert_eq!(
            format_dotnet(&t, "MMM d, h:mm tt").unwrap(),
            "Mar 5, 7:08 AM"
        );
        assert_eq!(format_dotnet(&t, "'year' yyyy").unwrap(), "year 2024");
        let whole = parse_timestamp("2024-03-05").unwrap();
        assert_eq!(format_dotnet(&whole, "HH:mm:ss.FFF").unwrap(), "00:00:00");
        assert!(format_dotnet(&t, "q").is_err());
    }

    #[test]
    fn parses_common_forms() {
        assert!(parse_timestamp("2019-04-28T16:00:00.000Z").is_some());
        assert!(parse_timestamp("2019-04-28T16:00:00").is_some());
        assert!(parse_timestamp("2019-04-28").is_some());
        assert!(parse_timestamp("28/04/2019").is_none());
    }
}
