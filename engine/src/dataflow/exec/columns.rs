//! Which input columns a step reads, so that the rows gathered from batches for it keep
//! only those: a derive before an aggregate keeps every column it was given (a message
//! body, say), and gathering them all would hold the whole source in memory.

use crate::dataflow::ast::{Arg, Expr, ExprKind, InterpPart, Statement};

/// Functions that pick columns by a name or position computed at run time, or by
/// pattern; a step using one may read any column.
const DYNAMIC: &[&str] = &[
    "byname",
    "bynames",
    "byposition",
    "bypositions",
    "byorigin",
    "byorigins",
    "bypath",
    "columns",
    "columnnames",
    "hascolumn",
    "haspath",
    "each",
    "match",
    "patternmatch",
];

/// The input columns `s`'s output depends on, when its output holds nothing else: an
/// aggregate outputs its groups and aggregates only. `None` for steps that pass columns
/// through, and for any step that names columns at run time.
pub(super) fn columns_read(s: &Statement) -> Option<Vec<String>> {
    if s.kind.text != "aggregate" {
        return None;
    }
    let mut names = Vec::new();
    for a in &s.args {
        read_arg(a, &mut names)?;
    }
    Some(names)
}

fn read_arg(a: &Arg, out: &mut Vec<String>) -> Option<()> {
    match a {
        Arg::Positional(e) | Arg::Opt(_, e) => read(e, out),
        // A computed target (`$$ + '_total' = ...`) is a column pattern.
        Arg::Assign(target, e) => {
            target.as_name()?;
            read(e, out)
        }
        Arg::Declare(..) => None,
    }
}

fn read(e: &Expr, out: &mut Vec<String>) -> Option<()> {
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::Hash(_) | ExprKind::Local(_) => Some(()),
        // `$$` and `$1` stand for pattern-matched columns; `$name` is a parameter.
        ExprKind::Dollar(name) => {
            let pattern = name == "$" || name.chars().all(|c| c.is_ascii_digit());
            (!pattern).then_some(())
        }
        ExprKind::Column { name, .. } => {
            out.push(name.clone());
            Some(())
        }
        ExprKind::Interp(parts) => parts.iter().try_for_each(|p| match p {
            InterpPart::Expr(e) => read(e, out),
            InterpPart::Text(_) => Some(()),
        }),
        ExprKind::Unary(_, x) | ExprKind::Assert(x, _) | ExprKind::Field(x, _) => read(x, out),
        ExprKind::Binary(_, l, r) | ExprKind::Index(l, r) => {
            read(l, out)?;
            read(r, out)
        }
        ExprKind::Call(name, args) => {
            if DYNAMIC.contains(&name.text.to_ascii_lowercase().as_str()) {
                return None;
            }
            args.iter().try_for_each(|a| read_arg(a, out))
        }
        ExprKind::Array(items) => items.iter().try_for_each(|x| read(x, out)),
        ExprKind::Map(pairs) => pairs.iter().try_for_each(|(k, v)| {
            read(k, out)?;
            read(v, out)
        }),
        ExprKind::Struct(fields) => fields.iter().try_for_each(|(_, v)| read(v, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::columns_read;
    use crate::dataflow::parse_script;

    fn read_by(script: &str, step: &str) -> Option<Vec<String>> {
        let (script, problems) = parse_script(script);
        assert!(problems.is_empty(), "{problems:?}");
        let s = script
            .statements
            .iter()
            .find(|s| s.output.name.text == step)
            .unwrap();
        columns_read(s).map(|mut names| {
            names.sort();
            names.dedup();
            names
        })
    }

    #[test]
    fn an_aggregate_reads_its_groups_and_the_columns_of_its_aggregates() {
        let names = read_by(
            "source() ~> S
             S aggregate(groupBy(domain = lower(sender.address), day),
                 n = count(), bytes = sum(length(body.content)) + $extra) ~> A",
            "A",
        );
        assert_eq!(
            names.unwrap(),
            ["body", "day", "sender"].map(String::from).to_vec()
        );
    }

    #[test]
    fn patterns_and_run_time_names_and_pass_through_steps_read_everything() {
        let script = "source() ~> S
             S aggregate(groupBy(day), each(match(type == 'integer'), $$ = sum($$))) ~> P
             S aggregate(groupBy(day), n = sum(toInteger(byName('size')))) ~> B
             S derive(x = 1) ~> D";
        assert_eq!(read_by(script, "P"), None);
        assert_eq!(read_by(script, "B"), None);
        assert_eq!(read_by(script, "D"), None);
    }
}
