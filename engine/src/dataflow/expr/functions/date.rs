//! Date and time functions, with Java `SimpleDateFormat` patterns. Timestamps are UTC;
//! time zone arguments (`zone.rs`) name IANA zones or fixed offsets.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use polars::prelude::{lit, DataType};

use super::arity;
use super::zone::Zone;
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{kernel, value_literal, CResult, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::{epoch_date, Value};

/// A Java `SimpleDateFormat` pattern as a chrono format string.
pub fn java_to_chrono(pattern: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal text; '' is a quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                out.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        i += n;
        let spec = match (c, n) {
            ('y', 2) => "%y",
            ('y', _) | ('Y', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', _) => "%3f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', _) => "%z",
            ('X', _) | ('x', _) => "%:z",
            (c, n) => {
                for _ in 0..n {
                    if c == '%' {
                        out.push_str("%%");
                    } else {
                        out.push(c);
                    }
                }
                continue;
            }
        };
        out.push_str(spec);
    }
    out
}

/// Parses a timestamp with a Java pattern, or with the default forms when none is given.
pub fn parse_timestamp(text: &str, pattern: Option<&str>) -> Option<NaiveDateTime> {
    let text = text.trim();
    match pattern {
        Some(p) => {
            let f = java_to_chrono(p);
            NaiveDateTime::parse_from_str(text, &f).ok().or_else(|| {
                NaiveDate::parse_from_str(text, &f)
                    .ok()
                    .map(|d| d.and_time(NaiveTime::MIN))
            })
        }
        None => [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.fZ",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.naive_utc())
        })
        .or_else(|| parse_date(text, None).map(|d| d.and_time(NaiveTime::MIN))),
    }
}

/// Parses a date with a Java pattern, or `yyyy-MM-dd` (one-digit months and days too).
pub fn parse_date(text: &str, pattern: Option<&str>) -> Option<NaiveDate> {
    let f = pattern.map_or_else(|| "%Y-%m-%d".to_owned(), java_to_chrono);
    NaiveDate::parse_from_str(text.trim(), &f).ok().or_else(|| {
        pattern
            .is_none()
            .then(|| parse_timestamp(text, Some("yyyy-MM-dd'T'HH:mm:ss")).map(|t| t.date()))
            .flatten()
    })
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32
}

/// `hour`, `minute`, `second` or `millisecond` of a wall-clock time.
fn clock_part(unit: &str, t: NaiveDateTime) -> i32 {
    use chrono::Timelike;
    (match unit {
        "hour" => t.hour(),
        "minute" => t.minute(),
        "second" => t.second(),
        _ => t.nanosecond() / 1_000_000,
    }) as i32
}

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

fn to_naive(v: &Value) -> Option<NaiveDateTime> {
    match v {
        Value::Date(d) => Some(epoch_date(*d).and_time(NaiveTime::MIN)),
        Value::Timestamp(t) => DateTime::from_timestamp_micros(*t).map(|t| t.naive_utc()),
        Value::Str(s) => parse_timestamp(s, None),
        _ => None,
    }
}

/// Formats a date or timestamp with a Java pattern.
pub fn format(v: &Value, pattern: &str) -> Option<String> {
    let t = to_naive(v)?;
    let f = java_to_chrono(pattern);
    let mut out = String::new();
    use std::fmt::Write;
    write!(out, "{}", t.format(&f)).ok()?;
    Some(out)
}

/// The zone a value names; `None` for a text that names none (the result is then null).
fn zone_of(v: Option<&Value>) -> Option<Zone> {
    Zone::parse(v?.as_str()?)
}

pub(super) fn call(name: &str, a: Vec<Typed>, e: &Expr) -> Option<CResult<Typed>> {
    let r = (|| -> CResult<Option<Typed>> {
        let part = |a: &[Typed],
                    f: fn(polars::prelude::Expr) -> polars::prelude::Expr|
         -> CResult<Typed> {
            arity(name, a, 1, 2, e)?;
            let x = a[0].clone();
            let x = if x.ty == DfType::String {
                x.cast(&DfType::Timestamp)
            } else {
                x
            };
            Ok(Typed::new(f(x.expr).cast(DataType::Int32), DfType::Integer))
        };
        Ok(Some(match name {
            "todate" => {
                arity(name, &a, 1, 2, e)?;
                if a[0].ty == DfType::Timestamp {
                    return Ok(Some(Typed::new(
                        a[0].expr.clone().cast(DataType::Date),
                        DfType::Date,
                    )));
                }
                kernel(a.clone(), DfType::Date, true, |v| {
                    let pattern = v.get(1).and_then(Value::as_str);
                    match &v[0] {
                        Value::Str(s) => {
                            parse_date(s, pattern).map_or(Value::Null, |d| Value::Date(days(d)))
                        }
                        Value::Date(d) => Value::Date(*d),
                        other => {
                            to_naive(other).map_or(Value::Null, |t| Value::Date(days(t.date())))
                        }
                    }
                })
            }
            "totimestamp" => {
                arity(name, &a, 1, 3, e)?;
                kernel(a.clone(), DfType::Timestamp, true, |v| {
                    let pattern = v.get(1).and_then(Value::as_str);
                    let zone = match v.get(2) {
                        Some(z) => match zone_of(Some(z)) {
                            Some(zone) => zone,
                            None => return Value::Null,
                        },
                        None => Zone::Fixed(0),
                    };
                    let t = match &v[0] {
                        Value::Str(s) => parse_timestamp(s, pattern),
                        Value::Long(ms) => {
                            DateTime::from_timestamp_millis(*ms).map(|t| t.naive_utc())
                        }
                        other => to_naive(other),
                    };
                    t.map_or(Value::Null, |t| {
                        let local = micros(t);
                        Value::Timestamp(local - zone.offset_at_local(local))
                    })
                })
            }
            "year" => part(&a, |x| x.dt().year())?,
            "month" => part(&a, |x| x.dt().month())?,
            "dayofmonth" => part(&a, |x| x.dt().day())?,
            "dayofyear" => part(&a, |x| x.dt().ordinal_day())?,
            "weekofyear" => part(&a, |x| x.dt().week())?,
            "dayofweek" => {
                // Sunday is 1, Saturday 7.
                part(&a, |x| {
                    (x.dt().weekday().cast(DataType::Int32) % lit(7)) + lit(1)
                })?
            }
            "hour" | "minute" | "second" | "millisecond" => {
                arity(name, &a, 1, 2, e)?;
                let x = a[0].clone().cast(&DfType::Timestamp);
                if a.len() == 2 {
                    // The wall-clock part in the zone given.
                    let unit = name.to_owned();
                    return Ok(Some(kernel(
                        vec![x, a[1].clone()],
                        DfType::Integer,
                        true,
                        move |v| match (&v[0], zone_of(v.get(1))) {
                            (Value::Timestamp(t), Some(zone)) => {
                                let local = t + zone.offset_at_utc(*t);
                                to_naive(&Value::Timestamp(local))
                                    .map_or(Value::Null, |l| Value::Int(clock_part(&unit, l)))
                            }
                            _ => Value::Null,
                        },
                    )));
                }
                let x = x.expr;
                let x = match name {
                    "hour" => x.dt().hour(),
                    "minute" => x.dt().minute(),
                    "second" => x.dt().second(),
                    _ => x.dt().millisecond(),
                };
                Typed::new(x.cast(DataType::Int32), DfType::Integer)
            }
            "adddays" | "subdays" => {
                arity(name, &a, 2, 2, e)?;
                let sign = if name == "adddays" { 1 } else { -1 };
                let (d, n) = (a[0].clone(), a[1].clone());
                match d.ty {
                    DfType::Timestamp => Typed::new(
                        (d.expr.cast(DataType::Int64)
                            + n.expr.cast(DataType::Int64) * lit(sign * 86_400_000_000i64))
                        .cast(DfType::Timestamp.to_polars()),
                        DfType::Timestamp,
                    ),
                    _ => Typed::new(
                        (d.cast(&DfType::Date).expr.cast(DataType::Int32)
                            + n.expr.cast(DataType::Int32) * lit(sign))
                        .cast(DataType::Date),
                        DfType::Date,
                    ),
                }
            }
            "addmonths" | "submonths" => {
                arity(name, &a, 2, 3, e)?;
                let sign = if name == "addmonths" { 1 } else { -1 };
                let ty = if a[0].ty == DfType::Timestamp {
                    DfType::Timestamp
                } else {
                    DfType::Date
                };
                kernel(a[..2].to_vec(), ty, true, move |v| {
                    let n = v[1].as_i64().unwrap_or(0) * sign;
                    let Some(t) = to_naive(&v[0]) else {
                        return Value::Null;
                    };
                    let moved = if n >= 0 {
                        t.checked_add_months(Months::new(n as u32))
                    } else {
                        t.checked_sub_months(Months::new(n.unsigned_abs() as u32))
                    };
                    // The last day of a month stays the last day, as in Spark.
                    let last = |d: NaiveDate| (d + chrono::Duration::days(1)).day() == 1;
                    let moved = moved.map(|m| {
                        if last(t.date()) && !last(m.date()) {
                            let first =
                                NaiveDate::from_ymd_opt(m.year(), m.month(), 1).expect("valid");
                            (first + Months::new(1) - chrono::Duration::days(1)).and_time(m.time())
                        } else {
                            m
                        }
                    });
                    match (moved, &v[0]) {
                        (Some(m), Value::Timestamp(_)) => Value::Timestamp(micros(m)),
                        (Some(m), _) => Value::Date(days(m.date())),
                        (None, _) => Value::Null,
                    }
                })
            }
            "lastdayofmonth" => {
                arity(name, &a, 1, 1, e)?;
                kernel(a.clone(), DfType::Date, true, |v| {
                    let Some(t) = to_naive(&v[0]) else {
                        return Value::Null;
                    };
                    let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).expect("valid");
                    let next = first + Months::new(1);
                    Value::Date(days(next) - 1)
                })
            }
            "currentdate" | "currenttimestamp" | "currentutc" => {
                arity(name, &a, 0, 1, e)?;
                let now = Utc::now().naive_utc();
                let v = if name == "currentdate" {
                    Value::Date(days(now.date()))
                } else {
                    Value::Timestamp(micros(now))
                };
                value_literal(&v)
            }
            "fromutc" | "toutc" => {
                arity(name, &a, 1, 2, e)?;
                let x = a[0].clone().cast(&DfType::Timestamp);
                if a.len() == 1 {
                    x
                } else {
                    let to = name == "fromutc";
                    kernel(
                        vec![x, a[1].clone()],
                        DfType::Timestamp,
                        true,
                        move |v| match (&v[0], zone_of(v.get(1))) {
                            (Value::Timestamp(t), Some(zone)) => Value::Timestamp(if to {
                                t + zone.offset_at_utc(*t)
                            } else {
                                t - zone.offset_at_local(*t)
                            }),
                            _ => Value::Null,
                        },
                    )
                }
            }
            "days" | "hours" | "minutes" | "seconds" | "milliseconds" | "weeks" => {
                arity(name, &a, 1, 1, e)?;
                let unit: i64 = match name {
                    "weeks" => 604_800_000,
                    "days" => 86_400_000,
                    "hours" => 3_600_000,
                    "minutes" => 60_000,
                    "seconds" => 1000,
                    _ => 1,
                };
                Typed::new(
                    a[0].expr.clone().cast(DataType::Int64) * lit(unit),
                    DfType::Long,
                )
            }
            "monthsbetween" => {
                arity(name, &a, 2, 4, e)?;
                kernel(a[..2].to_vec(), DfType::Double, true, |v| {
                    let (Some(x), Some(y)) = (to_naive(&v[0]), to_naive(&v[1])) else {
                        return Value::Null;
                    };
                    let months =
                        (x.year() - y.year()) as f64 * 12.0 + x.month() as f64 - y.month() as f64;
                    let last = |t: NaiveDateTime| (t.date() + chrono::Duration::days(1)).day() == 1;
                    if x.day() == y.day() || (last(x) && last(y)) {
                        return Value::Double(months);
                    }
                    let secs = |t: NaiveDateTime| {
                        t.day() as f64 * 86400.0 + t.time().num_seconds_from_midnight_f64()
                    };
                    let r = months + (secs(x) - secs(y)) / (31.0 * 86400.0);
                    Value::Double((r * 1e8).round() / 1e8)
                })
            }
            "isdate" | "istimestamp" => {
                arity(name, &a, 1, 2, e)?;
                let date = name == "isdate";
                kernel(a.clone(), DfType::Boolean, true, move |v| {
                    let text = v[0].to_text().unwrap_or_default();
                    let pattern = v.get(1).and_then(Value::as_str);
                    Value::Bool(if date {
                        parse_date(&text, pattern).is_some()
                    } else {
                        parse_timestamp(&text, pattern).is_some()
                    })
                })
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

trait SecondsF64 {
    fn num_seconds_from_midnight_f64(&self) -> f64;
}

impl SecondsF64 for NaiveTime {
    fn num_seconds_from_midnight_f64(&self) -> f64 {
        use chrono::Timelike;
        self.num_seconds_from_midnight() as f64 + self.nanosecond() as f64 / 1e9
    }
}
