//! Maps: literals (`['k' -> 'v']`), `associate`, `keyValues`, `mapAssociation`,
//! `reassociate`, and a value by its key (`m['k']`, `at(m, 'k')`).
//!
//! A map is held as a list of `{key, value}` structures in the order its entries were
//! made (`DfType::Map`); functions see it as a `Value::Map`. A key given twice keeps its
//! last value, in the first key's place.

use super::arity;
use super::array::{same, Lambda};
use crate::dataflow::ast::Expr;
use crate::dataflow::expr::compile::{compile, kernel, CResult, Scope, Typed};
use crate::dataflow::expr::types::DfType;
use crate::dataflow::expr::value::Value;
use crate::dataflow::source::Problem;

/// Entries with later values of a repeated key replacing earlier ones; null keys dropped.
fn entries(pairs: impl IntoIterator<Item = (Value, Value)>) -> Vec<(Value, Value)> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    for (k, v) in pairs {
        if k == Value::Null {
            continue;
        }
        match out.iter_mut().find(|(o, _)| same(o, &k)) {
            Some(entry) => entry.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// A map of key and value expressions, in order.
pub fn make_map(pairs: Vec<(Typed, Typed)>) -> Typed {
    let key = pairs
        .iter()
        .fold(DfType::Null, |t, (k, _)| DfType::wider(&t, &k.ty));
    let value = pairs
        .iter()
        .fold(DfType::Null, |t, (_, v)| DfType::wider(&t, &v.ty));
    let mut flat = Vec::with_capacity(pairs.len() * 2);
    for (k, v) in pairs {
        flat.push(k.cast(&key));
        flat.push(v.cast(&value));
    }
    let ty = DfType::Map(Box::new(key), Box::new(value));
    kernel(flat, ty, false, |v| {
        Value::Map(entries(v.chunks(2).map(|p| (p[0].clone(), p[1].clone()))))
    })
}

/// The value of `key` in `map`; null without it.
pub fn value_of(map: Typed, key: Typed) -> Typed {
    let value = match &map.ty {
        DfType::Map(_, v) => v.as_ref().clone(),
        _ => DfType::Null,
    };
    kernel(vec![map, key], value, true, |v| match &v[0] {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| same(k, &v[1]))
            .map_or(Value::Null, |(_, value)| value.clone()),
        _ => Value::Null,
    })
}

fn map_types(map: &Typed, arg: &Expr, name: &str) -> CResult<(DfType, DfType)> {
    match &map.ty {
        DfType::Map(k, v) => Ok((k.as_ref().clone(), v.as_ref().clone())),
        other => Err(Problem::new(
            arg.span,
            format!("`{name}` takes a map, not {}", other.name()),
        )
        .help("make one with ['key' -> value], associate(...) or keyValues(keys, values)")),
    }
}

/// Compiles a map function; `None` for other names.
pub(super) fn call(name: &str, args: &[&Expr], scope: &Scope, e: &Expr) -> Option<CResult<Typed>> {
    let lower = name.to_ascii_lowercase();
    let r = match lower.as_str() {
        "associate" => (|| {
            if args.len() % 2 != 0 {
                return Err(Problem::new(
                    e.span,
                    format!(
                        "`{name}` takes keys and values in pairs, and {} arguments are given",
                        args.len()
                    ),
                )
                .help("write associate('k1', v1, 'k2', v2)"));
            }
            let mut pairs = Vec::new();
            for p in args.chunks(2) {
                pairs.push((compile(p[0], scope)?, compile(p[1], scope)?));
            }
            Ok(make_map(pairs))
        })(),
        "keyvalues" => (|| {
            arity(name, args, 2, 2, e)?;
            let (keys, values) = (compile(args[0], scope)?, compile(args[1], scope)?);
            let item = |t: &Typed| match &t.ty {
                DfType::Array(i) => Box::new(i.as_ref().clone()),
                _ => Box::new(DfType::Null),
            };
            let ty = DfType::Map(item(&keys), item(&values));
            // Keys without a value get null; values without a key are dropped.
            Ok(kernel(vec![keys, values], ty, true, |v| {
                match (&v[0], &v[1]) {
                    (Value::Array(k), Value::Array(x)) => {
                        Value::Map(entries(k.iter().enumerate().map(|(i, k)| {
                            (k.clone(), x.get(i).cloned().unwrap_or(Value::Null))
                        })))
                    }
                    _ => Value::Null,
                }
            }))
        })(),
        "mapassociation" | "reassociate" => (|| {
            arity(name, args, 2, 2, e)?;
            let map = compile(args[0], scope)?;
            let (k, v) = map_types(&map, args[0], name)?;
            let vars = [("#key", k.clone()), ("#value", v.clone())];
            let body = Lambda::compile(args[1], &vars, scope)?;
            let rebuild = lower == "reassociate";
            let ty = if rebuild {
                DfType::Map(Box::new(k.clone()), Box::new(body.ty.clone()))
            } else {
                DfType::Array(Box::new(body.ty.clone()))
            };
            Ok(kernel(vec![map], ty, true, move |row| {
                let Value::Map(entries) = &row[0] else {
                    return Value::Null;
                };
                let (keys, values): (Vec<Value>, Vec<Value>) = entries.iter().cloned().unzip();
                let results = body.run(&[
                    ("#key", k.clone(), keys.clone()),
                    ("#value", v.clone(), values),
                ]);
                if rebuild {
                    Value::Map(keys.into_iter().zip(results).collect())
                } else {
                    Value::Array(results)
                }
            }))
        })(),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, problem};
    use super::*;

    fn text(s: &str) -> Value {
        Value::Str(s.into())
    }

    #[test]
    fn maps_are_made_in_order_and_a_repeated_key_keeps_its_last_value() {
        let want = Value::Map(vec![(text("a"), Value::Int(3)), (text("b"), Value::Int(2))]);
        assert_eq!(eval("['a' -> 1, 'b' -> 2, 'a' -> 3]"), want);
        assert_eq!(eval("associate('a', 1, 'b', 2, 'a', 3)"), want);
        assert_eq!(eval("keyValues(['a', 'b', 'a'], [1, 2, 3])"), want);
        assert_eq!(
            eval("keyValues(['a', 'b'], [1])"),
            Value::Map(vec![(text("a"), Value::Int(1)), (text("b"), Value::Null)])
        );
        assert_eq!(
            eval("['a' -> 1, 'b' -> 2]").literal(),
            "['a' -> 1, 'b' -> 2]"
        );
        assert_eq!(eval("keyValues([], [])").literal(), "keyValues([], [])");
    }

    #[test]
    fn values_are_found_by_key() {
        assert_eq!(eval("['a' -> 1, 'b' -> 2]['b']"), Value::Int(2));
        assert_eq!(eval("at(['a' -> 1], 'z')"), Value::Null);
        assert_eq!(eval("[1 -> 'one', 2 -> 'two'][2L]"), text("two"));
        assert_eq!(eval("size(['a' -> 1, 'b' -> 2])"), Value::Int(2));
    }

    #[test]
    fn lambdas_see_each_key_and_value() {
        assert_eq!(
            eval("mapAssociation(['a' -> 1, 'b' -> 2], #key + toString(#value))"),
            Value::Array(vec![text("a1"), text("b2")])
        );
        assert_eq!(
            eval("reassociate(['a' -> 1, 'b' -> 2], #value * 10)"),
            Value::Map(vec![
                (text("a"), Value::Int(10)),
                (text("b"), Value::Int(20))
            ])
        );
    }

    #[test]
    fn mistakes_name_the_fix() {
        let (p, _) = problem("associate('a', 1, 'b')");
        assert!(
            p.message.contains("in pairs") && p.help.contains("associate('k1'"),
            "{p:?}"
        );
        let (p, at) = problem("reassociate(['a'], #value)");
        assert_eq!(at, "['a']");
        assert!(
            p.message.contains("takes a map") && p.help.contains("keyValues"),
            "{p:?}"
        );
    }
}
