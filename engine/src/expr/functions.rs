//! The built-in functions: their signatures (checked before anything runs) and their
//! behaviour.

use chrono::{DateTime, Duration, Months, Utc};
use serde_json::Value;

use super::parse::Ast;
use super::time::{format_dotnet, parse_timestamp};
use super::{ExprContext, ExprError, ExprErrorKind};

const MANY: usize = usize::MAX;

/// Name, least and most arguments of every function mdflow knows.
const SIGNATURES: &[(&str, usize, usize)] = &[
    ("pipeline", 0, 0),
    ("dataset", 0, 0),
    ("linkedService", 0, 0),
    ("activity", 1, 1),
    ("variables", 1, 1),
    ("item", 0, 0),
    ("trigger", 0, 0),
    ("concat", 1, MANY),
    ("utcnow", 0, 1),
    ("formatDateTime", 1, 2),
    ("addDays", 2, 3),
    ("addHours", 2, 3),
    ("addMinutes", 2, 3),
    ("addSeconds", 2, 3),
    ("startOfDay", 1, 2),
    ("getPastTime", 2, 3),
    ("getFutureTime", 2, 3),
    ("substring", 2, 3),
    ("replace", 3, 3),
    ("toLower", 1, 1),
    ("toUpper", 1, 1),
    ("trim", 1, 1),
    ("string", 1, 1),
    ("int", 1, 1),
    ("bool", 1, 1),
    ("if", 3, 3),
    ("equals", 2, 2),
    ("not", 1, 1),
    ("and", 2, MANY),
    ("or", 2, MANY),
    ("coalesce", 1, MANY),
    ("json", 1, 1),
    ("split", 2, 2),
    ("join", 2, 2),
    ("length", 1, 1),
    ("contains", 2, 2),
    ("startsWith", 2, 2),
    ("endsWith", 2, 2),
    ("empty", 1, 1),
];

fn signature(name: &str) -> Option<(&'static str, usize, usize)> {
    SIGNATURES
        .iter()
        .copied()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
}

/// Checks that a function exists and takes this many arguments.
pub(crate) fn check_arity(name: &str, count: usize) -> Result<(), String> {
    let Some((canonical, min, max)) = signature(name) else {
        let known: Vec<&str> = SIGNATURES.iter().map(|s| s.0).collect();
        return Err(format!(
            "unknown function `{name}`; mdflow supports {}",
            known.join(", ")
        ));
    };
    if count < min || count > max {
        let expected = match (min, max) {
            (a, b) if a == b => format!("{a}"),
            (a, MANY) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        return Err(format!(
            "`{canonical}` takes {expected} arguments, found {count}"
        ));
    }
    Ok(())
}

/// Checks every call in a parsed expression.
pub(crate) fn check_calls(ast: &Ast, text: &str) -> Result<(), ExprError> {
    match ast {
        Ast::Call { name, args, at } => {
            check_arity(name, args.len())
                .map_err(|m| ExprError::new(m, text, *at).with_kind(ExprErrorKind::Unsupported))?;
            args.iter().try_for_each(|a| check_calls(a, text))
        }
        Ast::Member { target, .. } => check_calls(target, text),
        Ast::Index { target, index, .. } => {
            check_calls(target, text)?;
            check_calls(index, text)
        }
        _ => Ok(()),
    }
}

/// A short name of a value's type for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The text a value becomes inside `@{...}`, `concat` and `string`.
pub(crate) fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn text(args: &[Value], i: usize) -> Result<&str, String> {
    args[i].as_str().ok_or_else(|| {
        format!(
            "expected a string as argument {}, found {}",
            i + 1,
            kind(&args[i])
        )
    })
}

fn integer(args: &[Value], i: usize) -> Result<i64, String> {
    match &args[i] {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "expected a whole number as argument {}, found {}",
            i + 1,
            args[i]
        )
    })
}

fn boolean(args: &[Value], i: usize) -> Result<bool, String> {
    match &args[i] {
        Value::Bool(b) => Ok(*b),
        other => Err(format!(
            "expected a boolean as argument {}, found {}",
            i + 1,
            kind(other)
        )),
    }
}

fn timestamp(args: &[Value], i: usize) -> Result<DateTime<Utc>, String> {
    let s = text(args, i)?;
    parse_timestamp(s).ok_or_else(|| {
        format!(
            "expected an ISO 8601 timestamp as argument {}, found '{s}'",
            i + 1
        )
    })
}

/// Formats with the optional format argument at `i`, ADF's round-trip form by default.
fn formatted(t: DateTime<Utc>, args: &[Value], i: usize) -> Result<Value, String> {
    let format = if args.len() > i { text(args, i)? } else { "" };
    format_dotnet(&t, format).map(Value::String)
}

fn shift(t: DateTime<Utc>, amount: i64, unit: &str) -> Result<DateTime<Utc>, String> {
    let months = |n: i64| Months::new(n.unsigned_abs() as u32);
    let shifted = match unit.to_ascii_lowercase().as_str() {
        "second" => t.checked_add_signed(Duration::seconds(amount)),
        "minute" => t.checked_add_signed(Duration::minutes(amount)),
        "hour" => t.checked_add_signed(Duration::hours(amount)),
        "day" => t.checked_add_signed(Duration::days(amount)),
        "week" => t.checked_add_signed(Duration::weeks(amount)),
        "month" if amount >= 0 => t.checked_add_months(months(amount)),
        "month" => t.checked_sub_months(months(amount)),
        "year" if amount >= 0 => t.checked_add_months(months(amount * 12)),
        "year" => t.checked_sub_months(months(amount * 12)),
        other => {
            return Err(format!(
                "expected a time unit (Second, Minute, Hour, Day, Week, Month, Year), \
                 found '{other}'"
            ))
        }
    };
    shifted.ok_or_else(|| "the resulting time is out of range".to_owned())
}

/// Calls a function on evaluated arguments; the arity is already checked.
pub(crate) fn call(name: &str, args: &[Value], ctx: &ExprContext) -> Result<Value, String> {
    let add = |unit: &str| -> Result<Value, String> {
        let t = shift(timestamp(args, 0)?, integer(args, 1)?, unit)?;
        formatted(t, args, 2)
    };
    let (canonical, _, _) = signature(name).ok_or_else(|| format!("unknown function {name}"))?;
    match canonical {
        "concat" => {
            if args.iter().all(Value::is_array) {
                let items = args.iter().flat_map(|a| a.as_array().into_iter().flatten());
                return Ok(Value::Array(items.cloned().collect()));
            }
            Ok(Value::String(args.iter().map(to_text).collect()))
        }
        "utcnow" => formatted(ctx.now, args, 0),
        "formatDateTime" => formatted(timestamp(args, 0)?, args, 1),
        "addDays" => add("day"),
        "addHours" => add("hour"),
        "addMinutes" => add("minute"),
        "addSeconds" => add("second"),
        "startOfDay" => {
            let t = timestamp(args, 0)?;
            let midnight = t.date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc());
            formatted(midnight.unwrap_or(t), args, 1)
        }
        "getPastTime" => formatted(shift(ctx.now, -integer(args, 0)?, text(args, 1)?)?, args, 2),
        "getFutureTime" => formatted(shift(ctx.now, integer(args, 0)?, text(args, 1)?)?, args, 2),
        "substring" => {
            let s: Vec<char> = text(args, 0)?.chars().collect();
            let start = usize::try_from(integer(args, 1)?).map_err(|_| "negative start index")?;
            let len = match args.get(2) {
                Some(_) => usize::try_from(integer(args, 2)?).map_err(|_| "negative length")?,
                None => s.len().saturating_sub(start),
            };
            if start + len > s.len() {
                return Err(format!(
                    "start {start} and length {len} reach past the end of a {}-character \
                     string",
                    s.len()
                ));
            }
            Ok(Value::String(s[start..start + len].iter().collect()))
        }
        "replace" => Ok(Value::String(
            text(args, 0)?.replace(text(args, 1)?, text(args, 2)?),
        )),
        "toLower" => Ok(Value::String(text(args, 0)?.to_lowercase())),
        "toUpper" => Ok(Value::String(text(args, 0)?.to_uppercase())),
        "trim" => Ok(Value::String(text(args, 0)?.trim().to_owned())),
        "string" => Ok(Value::String(to_text(&args[0]))),
        "int" => integer(args, 0).map(Value::from),
        "bool" => match &args[0] {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::Number(n) => Ok(Value::Bool(n.as_f64() != Some(0.0))),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            other => Err(format!("expected true, false or a number, found {other}")),
        },
        "equals" => Ok(Value::Bool(loose_eq(&args[0], &args[1]))),
        "not" => Ok(Value::Bool(!boolean(args, 0)?)),
        "and" => (0..args.len())
            .try_fold(true, |acc, i| Ok(acc & boolean(args, i)?))
            .map(Value::Bool),
        "or" => (0..args.len())
            .try_fold(false, |acc, i| Ok(acc | boolean(args, i)?))
            .map(Value::Bool),
        "coalesce" => Ok(args
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null)),
        "json" => match &args[0] {
            Value::String(s) => serde_json::from_str(s).map_err(|e| format!("not JSON: {e}")),
            other => Ok(other.clone()),
        },
        "split" => Ok(Value::Array(
            text(args, 0)?
                .split(text(args, 1)?)
                .map(|p| Value::String(p.to_owned()))
                .collect(),
        )),
        "join" => {
            let items = args[0].as_array().ok_or_else(|| {
                format!("expected an array as argument 1, found {}", kind(&args[0]))
            })?;
            Ok(Value::String(
                items
                    .iter()
                    .map(to_text)
                    .collect::<Vec<_>>()
                    .join(text(args, 1)?),
            ))
        }
        "length" => match &args[0] {
            Value::String(s) => Ok(Value::from(s.chars().count())),
            Value::Array(a) => Ok(Value::from(a.len())),
            other => Err(format!(
                "expected a string or an array, found {}",
                kind(other)
            )),
        },
        "contains" => match &args[0] {
            Value::String(s) => Ok(Value::Bool(s.contains(text(args, 1)?))),
            Value::Array(a) => Ok(Value::Bool(a.iter().any(|v| loose_eq(v, &args[1])))),
            Value::Object(m) => Ok(Value::Bool(m.contains_key(text(args, 1)?))),
            other => Err(format!(
                "expected a string, array or object, found {}",
                kind(other)
            )),
        },
        "startsWith" => Ok(Value::Bool(
            text(args, 0)?
                .to_lowercase()
                .starts_with(&text(args, 1)?.to_lowercase()),
        )),
        "endsWith" => Ok(Value::Bool(
            text(args, 0)?
                .to_lowercase()
                .ends_with(&text(args, 1)?.to_lowercase()),
        )),
        "empty" => Ok(Value::Bool(match &args[0] {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty(),
            _ => false,
        })),
        other => Err(format!("`{other}` cannot be called here")),
    }
}

/// Equality as ADF compares: numbers by value whatever their JSON form.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
