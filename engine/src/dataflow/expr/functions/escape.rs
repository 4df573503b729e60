//! `escape(text, format)` and `unescape(text, format)` for the formats `json`,
//! `ecmascript`, `java`, `xml` and `html`. ADF runs on the JVM and its documented example
//! matches Apache commons-text's `StringEscapeUtils`, so its rules are followed here
//! (inferred): `escapeJson`, `escapeEcmaScript`, `escapeJava`, `escapeXml10`,
//! `escapeHtml4`, and the matching `unescape*` functions.

use std::fmt::Write;

use super::arity;
use super::constant::text_arg;
use super::entities;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{compile, kernel, CResult, Scope, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;
use crate::dataflow::source::Problem;

/// An escaping format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Json,
    EcmaScript,
    Java,
    Xml,
    Html,
}

const FORMATS: [(&str, Format); 5] = [
    ("json", Format::Json),
    ("ecmascript", Format::EcmaScript),
    ("java", Format::Java),
    ("xml", Format::Xml),
    ("html", Format::Html),
];

impl Format {
    fn escape(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match self {
                Format::Xml => escape_xml(c, &mut out),
                Format::Html => escape_html(c, &mut out),
                _ => self.escape_backslash(c, &mut out),
            }
        }
        out
    }

    /// Backslash escapes: quotes and backslashes, `\b \n \t \f \r`, and `\u` with four hex
    /// digits for other control characters and everything outside ASCII (JSON also escapes
    /// DEL).
    fn escape_backslash(self, c: char, out: &mut String) {
        let short = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '/' if self != Format::Java => "\\/",
            '\'' if self == Format::EcmaScript => "\\'",
            '\u{8}' => "\\b",
            '\n' => "\\n",
            '\t' => "\\t",
            '\u{c}' => "\\f",
            '\r' => "\\r",
            _ => "",
        };
        let last_plain = if self == Format::Json {
            '\u{7e}'
        } else {
            '\u{7f}'
        };
        if !short.is_empty() {
            out.push_str(short);
        } else if (' '..=last_plain).contains(&c) {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04X}");
            }
        }
    }

    fn unescape(self, text: &str) -> Option<String> {
        match self {
            Format::Xml | Format::Html => Some(unescape_entities(text, self == Format::Xml)),
            _ => unescape_backslash(text),
        }
    }
}

/// XML 1.0: the five entities, characters XML 1.0 cannot hold removed, and the C1 controls
/// (but NEL) as numeric references.
fn escape_xml(c: char, out: &mut String) {
    match c {
        '\'' => out.push_str("&apos;"),
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
        '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' => {
            let _ = write!(out, "&#{};", u32::from(c));
        }
        _ => escape_basic(c, out),
    }
}

/// HTML 4: the four basic entities and the named characters of HTML 4.01.
fn escape_html(c: char, out: &mut String) {
    match entities::name_of(c) {
        Some(name) => {
            let _ = write!(out, "&{name};");
        }
        None => escape_basic(c, out),
    }
}

fn escape_basic(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("&quot;"),
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        _ => out.push(c),
    }
}

/// Java's escapes: `\\ \" \' \b \n \t \f \r`, octal `\0` to `\377`, `\u` and four hex
/// digits (any number of `u`s, an optional `+`); a backslash before any other character is
/// dropped. `None` when a `\u` has fewer than four hexadecimal digits.
fn unescape_backslash(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    // UTF-16 units, so that escaped surrogate pairs join.
    let mut out: Vec<u16> = Vec::with_capacity(chars.len());
    let push = |out: &mut Vec<u16>, c: char| out.extend_from_slice(c.encode_utf16(&mut [0; 2]));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        let Some(&next) = chars.get(i) else {
            break;
        };
        if let Some(first) = next.to_digit(8) {
            // Up to three octal digits, the third only after a first digit of 0 to 3.
            let mut value = first;
            let mut len = 1;
            while let Some(d) = chars.get(i + len).and_then(|d| d.to_digit(8)) {
                if (len == 2 && first > 3) || len == 3 {
                    break;
                }
                value = value * 8 + d;
                len += 1;
            }
            out.push(value as u16);
            i += len;
            continue;
        }
        if next == 'u' {
            while chars.get(i) == Some(&'u') {
                i += 1;
            }
            if chars.get(i) == Some(&'+') {
                i += 1;
            }
            let digits: String = chars.get(i..i + 4)?.iter().collect();
            out.push(u16::from_str_radix(&digits, 16).ok()?);
            i += 4;
            continue;
        }
        let replaced = match next {
            'b' => '\u{8}',
            'n' => '\n',
            't' => '\t',
            'f' => '\u{c}',
            'r' => '\r',
            '\\' | '"' | '\'' => next,
            // Not an escape: only the backslash goes.
            _ => continue,
        };
        push(&mut out, replaced);
        i += 1;
    }
    Some(String::from_utf16_lossy(&out))
}

/// Entities: `&quot; &amp; &lt; &gt;`, `&apos;` in XML, HTML 4's names in HTML, and numeric
/// references `&#65;`, `&#x41;` in both. What is not an entity stays as it is.
fn unescape_entities(text: &str, xml: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The longest name, `thetasym`, and the longest number, `#1114111`, have 8.
        let entity = rest[1..]
            .char_indices()
            .take(10)
            .find(|(_, c)| *c == ';')
            .map(|(end, _)| &rest[1..1 + end])
            .and_then(|name| Some((name, entity_char(name, xml)?)));
        match entity {
            Some((name, c)) => {
                out.push(c);
                rest = &rest[name.len() + 2..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity_char(name: &str, xml: bool) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    match name {
        "quot" => Some('"'),
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" if xml => Some('\''),
        _ if xml => None,
        _ => entities::char_of(name),
    }
}

/// Compiles `escape` and `unescape`; `None` for other names.
pub(super) fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let unescape = match name.to_ascii_lowercase().as_str() {
        "escape" => false,
        "unescape" => true,
        _ => return None,
    };
    let r = (|| {
        arity(name, args, 2, 2, e)?;
        let format = format_arg(args[1], scope, name)?;
        let text = compile(args[0], scope)?.to_string_expr();
        let text = Typed::new(text, DfType::String);
        Ok(kernel(vec![text], DfType::String, true, move |v| {
            let text = v[0].as_str().unwrap_or_default();
            let out = if unescape {
                format.unescape(text)
            } else {
                Some(format.escape(text))
            };
            out.map_or(Value::Null, Value::Str)
        }))
    })();
    Some(r)
}

fn format_arg(arg: &Expr, scope: &Scope, name: &str) -> CResult<Format> {
    let text = text_arg(arg, scope, &format!("the format of `{name}`"))?;
    FORMATS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&text))
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            Problem::new(arg.span, format!("`{text}` is not a format `{name}` knows"))
                .help("the formats are 'json', 'ecmascript', 'java', 'xml' and 'html'")
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::eval;
    use super::*;
    use crate::dataflow::expr::evaluate;

    fn round_trip(format: Format, plain: &str, escaped: &str) {
        assert_eq!(format.escape(plain), escaped, "{format:?} escape");
        assert_eq!(
            format.unescape(escaped).as_deref(),
            Some(plain),
            "{format:?} unescape"
        );
    }

    #[test]
    fn backslash_formats_differ_in_slashes_quotes_and_del() {
        round_trip(
            Format::Json,
            "a\"b\\c/d\u{7f}é\n",
            "a\\\"b\\\\c\\/d\\u007F\\u00E9\\n",
        );
        round_trip(Format::Java, "a\"b/c'\u{7f}\t", "a\\\"b/c'\u{7f}\\t");
        round_trip(Format::EcmaScript, "it's/", "it\\'s\\/");
        // A character outside the BMP is a surrogate pair, and joins again.
        round_trip(Format::Java, "\u{1F600}", "\\uD83D\\uDE00");
        round_trip(Format::Java, "\u{1}", "\\u0001");
    }

    #[test]
    fn java_unescape_reads_octal_and_long_unicode_escapes_and_drops_stray_backslashes() {
        let un = |s: &str| Format::Java.unescape(s);
        assert_eq!(un("\\101\\0\\477").as_deref(), Some("A\u{0}'7"));
        assert_eq!(un("\\uu+0041").as_deref(), Some("A"));
        assert_eq!(un("\\x\\").as_deref(), Some("x"));
        assert_eq!(un("\\u12"), None);
        assert_eq!(un("\\uzzzz"), None);
    }

    #[test]
    fn markup_formats_use_entities() {
        round_trip(
            Format::Xml,
            "<a href='x'>&\"",
            "&lt;a href=&apos;x&apos;&gt;&amp;&quot;",
        );
        round_trip(
            Format::Html,
            "é ©<\u{3C9}>",
            "&eacute; &copy;&lt;&omega;&gt;",
        );
        assert_eq!(Format::Html.escape("'"), "'");
        assert_eq!(Format::Xml.escape("a\u{1}\u{80}é"), "a&#128;é");
        let un = |f: Format, s: &str| f.unescape(s).unwrap();
        assert_eq!(un(Format::Xml, "&#65;&#x42;&eacute;&apos;"), "AB&eacute;'");
        assert_eq!(
            un(Format::Html, "&#65;&eacute;&apos;&amp x;&"),
            "Aé&apos;&amp x;&"
        );
    }

    #[test]
    fn the_documented_example_and_null() {
        assert_eq!(
            eval(r#"unescape('{\\\\\"value\\\\\": 10}', 'json')"#),
            Value::Str(r#"{\"value\": 10}"#.into())
        );
        assert_eq!(
            eval("escape('{\"value\": 10}', 'JSON')"),
            Value::Str(r#"{\"value\": 10}"#.into())
        );
        assert_eq!(eval("escape(null, 'xml')"), Value::Null);
    }

    #[test]
    fn unknown_and_computed_formats_are_reported_at_the_argument() {
        let fail = |t: &str| {
            evaluate(t, &serde_json::Value::Null)
                .unwrap_err()
                .to_string()
        };
        let m = fail("escape('a', 'yaml')");
        assert!(
            m.contains("`yaml` is not a format") && m.contains("'html'"),
            "{m}"
        );
        let m = fail("unescape('a', lower('JSON'))");
        assert!(m.contains("must be a constant"), "{m}");
        let m = fail("escape('a')");
        assert!(m.contains("takes 2 arguments"), "{m}");
    }
}
