//! String functions. Positions are 1-based, as in ADF.

use polars::prelude::lit;

use super::arity;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{kernel, CResult, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;

fn text(v: &Value) -> String {
    v.to_text().unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// A string function of whole columns: `f` gets the arguments as text and numbers.
fn s(a: Vec<Typed>, out: DfType, f: impl Fn(&[Value]) -> Value + Send + Sync + 'static) -> Typed {
    kernel(a, out, true, f)
}

fn regex(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(pattern).ok()
}

pub(super) fn call(name: &str, a: Vec<Typed>, e: &Expr) -> Option<CResult<Typed>> {
    let r = (|| -> CResult<Option<Typed>> {
        let str_arg = |i: usize| a[i].clone().to_string_expr();
        Ok(Some(match name {
            "upper" | "lower" => {
                arity(name, &a, 1, 1, e)?;
                let x = str_arg(0);
                let x = if name == "upper" {
                    x.str().to_uppercase()
                } else {
                    x.str().to_lowercase()
                };
                Typed::new(x, DfType::String)
            }
            "length" => {
                arity(name, &a, 1, 1, e)?;
                Typed::new(
                    str_arg(0)
                        .str()
                        .len_chars()
                        .cast(polars::prelude::DataType::Int32),
                    DfType::Integer,
                )
            }
            "trim" | "ltrim" | "rtrim" => {
                arity(name, &a, 1, 2, e)?;
                let chars = if a.len() == 2 {
                    str_arg(1)
                } else {
                    lit(polars::prelude::NULL)
                };
                let x = str_arg(0);
                let x = match name {
                    "trim" => x.str().strip_chars(chars),
                    "ltrim" => x.str().strip_chars_start(chars),
                    _ => x.str().strip_chars_end(chars),
                };
                Typed::new(x, DfType::String)
            }
            "startswith" | "endswith" => {
                arity(name, &a, 2, 2, e)?;
                let x = if name == "startswith" {
                    str_arg(0).str().starts_with(str_arg(1))
                } else {
                    str_arg(0).str().ends_with(str_arg(1))
                };
                Typed::new(x, DfType::Boolean)
            }
            "concat" => {
                arity(name, &a, 1, usize::MAX, e)?;
                let mut it = a.iter().cloned();
                let first = it.next().expect("checked").to_string_expr();
                Typed::new(
                    it.fold(first, |acc, x| acc + x.to_string_expr()),
                    DfType::String,
                )
            }
            "concatws" => {
                arity(name, &a, 2, usize::MAX, e)?;
                s(a.clone(), DfType::String, |v| {
                    let parts: Vec<String> = v[1..].iter().map(text).collect();
                    Value::Str(parts.join(&text(&v[0])))
                })
            }
            "left" | "right" | "dropleft" | "dropright" => {
                arity(name, &a, 2, 2, e)?;
                let which = name.to_owned();
                s(a.clone(), DfType::String, move |v| {
                    let chars: Vec<char> = text(&v[0]).chars().collect();
                    let n = (int(&v[1]).max(0) as usize).min(chars.len());
                    let kept: String = match which.as_str() {
                        "left" => chars[..n].iter().collect(),
                        "right" => chars[chars.len() - n..].iter().collect(),
                        "dropleft" => chars[n..].iter().collect(),
                        _ => chars[..chars.len() - n].iter().collect(),
                    };
                    Value::Str(kept)
                })
            }
            "substring" => {
                arity(name, &a, 2, 3, e)?;
                s(a.clone(), DfType::String, |v| {
                    let chars: Vec<char> = text(&v[0]).chars().collect();
                    let from = (int(&v[1]).max(1) - 1) as usize;
                    let len = v.get(2).map_or(chars.len() as i64, int).max(0) as usize;
                    Value::Str(chars.iter().skip(from).take(len).collect())
                })
            }
            "instr" | "locate" => {
                arity(name, &a, 2, 3, e)?;
                let locate = name == "locate";
                s(a.clone(), DfType::Integer, move |v| {
                    let (hay, needle) = if locate {
                        (text(&v[1]), text(&v[0]))
                    } else {
                        (text(&v[0]), text(&v[1]))
                    };
                    let from = if locate {
                        v.get(2).map_or(1, int).max(1) as usize - 1
                    } else {
                        0
                    };
                    let start: usize = hay.char_indices().nth(from).map_or(hay.len(), |(i, _)| i);
                    Value::Int(match hay[start..].find(&needle) {
                        Some(i) => (hay[..start + i].chars().count() + 1) as i32,
                        None => 0,
                    })
                })
            }
            "replace" => {
                arity(name, &a, 2, 3, e)?;
                s(a.clone(), DfType::String, |v| {
                    let by = v.get(2).map(text).unwrap_or_default();
                    Value::Str(text(&v[0]).replace(&text(&v[1]), &by))
                })
            }
            "reverse" => {
                arity(name, &a, 1, 1, e)?;
                s(a.clone(), DfType::String, |v| {
                    Value::Str(text(&v[0]).chars().rev().collect())
                })
            }
            "lpad" | "rpad" => {
                arity(name, &a, 3, 3, e)?;
                let left = name == "lpad";
                s(a.clone(), DfType::String, move |v| {
                    let x: Vec<char> = text(&v[0]).chars().collect();
                    let n = int(&v[1]).max(0) as usize;
                    let pad: Vec<char> = text(&v[2]).chars().collect();
                    if x.len() >= n || pad.is_empty() {
                        return Value::Str(x.iter().take(n).collect());
                    }
                    let fill: String = pad.iter().cycle().take(n - x.len()).collect();
                    let x: String = x.iter().collect();
                    Value::Str(if left { fill + &x } else { x + &fill })
                })
            }
            "initcap" => {
                arity(name, &a, 1, 1, e)?;
                s(a.clone(), DfType::String, |v| {
                    let words: Vec<String> = text(&v[0])
                        .split(' ')
                        .map(|w| {
                            let mut c = w.chars();
                            match c.next() {
                                Some(f) => f
                                    .to_uppercase()
                                    .chain(c.flat_map(char::to_lowercase))
                                    .collect(),
                                None => String::new(),
                            }
                        })
                        .collect();
                    Value::Str(words.join(" "))
                })
            }
            "translate" => {
                arity(name, &a, 3, 3, e)?;
                s(a.clone(), DfType::String, |v| {
                    let from: Vec<char> = text(&v[1]).chars().collect();
                    let to: Vec<char> = text(&v[2]).chars().collect();
                    Value::Str(
                        text(&v[0])
                            .chars()
                            .filter_map(|c| match from.iter().position(|f| *f == c) {
                                Some(i) => to.get(i).copied(),
                                None => Some(c),
                            })
                            .collect(),
                    )
                })
            }
            "split" | "regexsplit" => {
                arity(name, &a, 2, 2, e)?;
                let is_regex = name == "regexsplit";
                s(
                    a.clone(),
                    DfType::Array(Box::new(DfType::String)),
                    move |v| {
                        let x = text(&v[0]);
                        let sep = text(&v[1]);
                        let parts: Vec<Value> = if is_regex {
                            match regex(&sep) {
                                Some(re) => {
                                    re.split(&x).map(|p| Value::Str(p.to_owned())).collect()
                                }
                                None => return Value::Null,
                            }
                        } else {
                            x.split(sep.as_str())
                                .map(|p| Value::Str(p.to_owned()))
                                .collect()
                        };
                        // Trailing empty strings are dropped, as Java's split does.
                        let mut parts = parts;
                        while parts.len() > 1 && parts.last() == Some(&Value::Str(String::new())) {
                            parts.pop();
                        }
                        Value::Array(parts)
                    },
                )
            }
            "regexmatch" | "rlike" => {
                arity(name, &a, 2, 2, e)?;
                s(a.clone(), DfType::Boolean, |v| match regex(&text(&v[1])) {
                    Some(re) => Value::Bool(re.is_match(&text(&v[0]))),
                    None => Value::Null,
                })
            }
            "regexextract" => {
                arity(name, &a, 2, 3, e)?;
                s(a.clone(), DfType::String, |v| match regex(&text(&v[1])) {
                    Some(re) => {
                        let group = v.get(2).map_or(1, int).max(0) as usize;
                        let x = text(&v[0]);
                        match re
                            .captures(&x)
                            .and_then(|c| c.get(group).map(|m| m.as_str().to_owned()))
                        {
                            Some(m) => Value::Str(m),
                            None => Value::Str(String::new()),
                        }
                    }
                    None => Value::Null,
                })
            }
            "regexreplace" => {
                arity(name, &a, 3, 3, e)?;
                s(a.clone(), DfType::String, |v| match regex(&text(&v[1])) {
                    Some(re) => Value::Str(
                        re.replace_all(&text(&v[0]), text(&v[2]).as_str())
                            .into_owned(),
                    ),
                    None => Value::Null,
                })
            }
            "like" => {
                arity(name, &a, 2, 2, e)?;
                s(a.clone(), DfType::Boolean, |v| {
                    let mut pattern = String::from("^");
                    for c in text(&v[1]).chars() {
                        match c {
                            '%' => pattern.push_str(".*"),
                            '_' => pattern.push('.'),
                            c => pattern.push_str(&regex::escape(&c.to_string())),
                        }
                    }
                    pattern.push('$');
                    regex(&pattern).map_or(Value::Null, |re| Value::Bool(re.is_match(&text(&v[0]))))
                })
            }
            "soundex" => {
                arity(name, &a, 1, 1, e)?;
                s(a.clone(), DfType::String, |v| {
                    Value::Str(soundex(&text(&v[0])))
                })
            }
            "levenshtein" => {
                arity(name, &a, 2, 2, e)?;
                s(a.clone(), DfType::Integer, |v| {
                    Value::Int(levenshtein(&text(&v[0]), &text(&v[1])) as i32)
                })
            }
            "substringindex" => {
                arity(name, &a, 3, 3, e)?;
                s(a.clone(), DfType::String, |v| {
                    let (x, d, n) = (text(&v[0]), text(&v[1]), int(&v[2]));
                    let parts: Vec<&str> = x.split(d.as_str()).collect();
                    let kept = if n >= 0 {
                        parts[..(n as usize).min(parts.len())].join(&d)
                    } else {
                        parts[parts.len().saturating_sub(n.unsigned_abs() as usize)..].join(&d)
                    };
                    Value::Str(kept)
                })
            }
            "tobase64" => {
                arity(name, &a, 1, 2, e)?;
                s(a.clone(), DfType::String, |v| {
                    Value::Str(base64_encode(text(&v[0]).as_bytes()))
                })
            }
            "frombase64" => {
                arity(name, &a, 1, 2, e)?;
                s(a.clone(), DfType::String, |v| {
                    base64_decode(&text(&v[0]))
                        .and_then(|b| String::from_utf8(b).ok())
                        .map_or(Value::Null, Value::Str)
                })
            }
            "ascii" => {
                arity(name, &a, 1, 1, e)?;
                s(a.clone(), DfType::Integer, |v| {
                    text(&v[0])
                        .chars()
                        .next()
                        .map_or(Value::Null, |c| Value::Int(c as i32))
                })
            }
            "char" => {
                arity(name, &a, 1, 1, e)?;
                s(a.clone(), DfType::String, |v| {
                    char::from_u32(int(&v[0]) as u32)
                        .map_or(Value::Null, |c| Value::Str(c.to_string()))
                })
            }
            "normalize" => {
                arity(name, &a, 1, 1, e)?;
                a[0].clone()
            }
            "jarowinkler" => {
                arity(name, &a, 2, 2, e)?;
                s(a.clone(), DfType::Double, |v| {
                    Value::Double(jaro_winkler(&text(&v[0]), &text(&v[1])))
                })
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

fn soundex(s: &str) -> String {
    let code = |c: char| match c.to_ascii_lowercase() {
        'b' | 'f' | 'p' | 'v' => '1',
        'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => '2',
        'd' | 't' => '3',
        'l' => '4',
        'm' | 'n' => '5',
        'r' => '6',
        _ => '0',
    };
    let mut chars = s.chars().filter(char::is_ascii_alphabetic);
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out = String::from(first.to_ascii_uppercase());
    let mut last = code(first);
    for c in chars {
        let d = code(c);
        if d != '0' && d != last {
            out.push(d);
            if out.len() == 4 {
                break;
            }
        }
        if !matches!(c.to_ascii_lowercase(), 'h' | 'w') {
            last = d;
        }
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut used = vec![false; b.len()];
    let mut matches_a = Vec::new();
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        if let Some(j) = (lo..hi).find(|&j| !used[j] && b[j] == *ca) {
            used[j] = true;
            matches_a.push(*ca);
        }
    }
    let m = matches_a.len() as f64;
    if m == 0.0 {
        return 0.0;
    }
    let matches_b: Vec<char> = b
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(c, _)| *c)
        .collect();
    let t = matches_a
        .iter()
        .zip(&matches_b)
        .filter(|(x, y)| x != y)
        .count() as f64
        / 2.0;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; `None` when the text is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.trim_end_matches('=').bytes() {
        let v = B64.iter().position(|b| *b == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}
