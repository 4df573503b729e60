//! The graph of a script, built from stream names (statements may come in any order):
//! every step's inputs resolved, steps in dependency order, and the problems a graph can
//! have (unknown kinds, unknown or duplicate streams, cycles, outputs nobody reads).

use std::collections::HashMap;

use super::ast::{Script, Statement};
use super::source::Problem;

/// Every transformation kind of the language, as written in scripts.
pub const KINDS: &[&str] = &[
    "source",
    "sink",
    "select",
    "filter",
    "derive",
    "aggregate",
    "join",
    "lookup",
    "exists",
    "union",
    "split",
    "sort",
    "alterRow",
    "foldDown",
    "keyGenerate",
    "window",
    "rank",
    "pivot",
    "unpivot",
    "assert",
    "parse",
    "stringify",
    "cast",
    "call",
    "flowlet",
    "input",
    "output",
    "surrogateKey",
    "flatten",
    "conditionalSplit",
    "newBranch",
    "externalCall",
];

/// A checked script: statements in an order where inputs come first.
#[derive(Debug, Clone)]
pub struct Graph<'s> {
    /// The script.
    pub script: &'s Script,
    /// Statement indices in dependency order.
    pub order: Vec<usize>,
    /// For each statement, the statement index of each input.
    pub inputs: Vec<Vec<usize>>,
}

/// The input counts a kind takes: (fewest, most).
fn arity(kind: &str) -> (usize, usize) {
    match kind {
        "source" | "input" => (0, 0),
        "flowlet" => (1, usize::MAX),
        "join" | "lookup" | "exists" => (2, 2),
        "union" => (1, usize::MAX),
        _ => (1, 1),
    }
}

/// Builds and checks the graph. Errors make it unusable (`None`); warnings come back
/// with a graph.
pub fn build(script: &Script) -> (Option<Graph<'_>>, Vec<Problem>) {
    let mut problems = Vec::new();
    let statements = &script.statements;

    // Names, split outputs included, to statement indices.
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, s) in statements.iter().enumerate() {
        let mut keys = vec![s.output.name.text.clone()];
        keys.extend(
            s.output
                .split
                .iter()
                .map(|o| format!("{}@{}", s.output.name.text, o.text)),
        );
        for key in keys {
            if names.insert(key.to_ascii_lowercase(), i).is_some() {
                problems.push(
                    Problem::new(
                        s.output.name.span,
                        format!("two steps are named `{}`", s.output.name.text),
                    )
                    .help("give every step its own name after `~>`"),
                );
            }
        }
    }

    let mut inputs = vec![Vec::new(); statements.len()];
    for (i, s) in statements.iter().enumerate() {
        check_kind(s, &mut problems);
        for r in &s.inputs {
            match names.get(&r.key().to_ascii_lowercase()) {
                Some(&j) => inputs[i].push(j),
                None => {
                    let help = match &r.output {
                        Some(_) => "name one of the split's outputs, as in `Split@(a, b)`".into(),
                        None if names.contains_key(&format!("{}@", r.stream.text)) => String::new(),
                        None => {
                            let known: Vec<&str> = statements
                                .iter()
                                .map(|s| s.output.name.text.as_str())
                                .collect();
                            format!("the steps are: {}", known.join(", "))
                        }
                    };
                    problems.push(
                        Problem::new(r.stream.span, format!("no step is named `{}`", r.key()))
                            .help(help),
                    );
                }
            }
            if r.output.is_none() {
                if let Some(&j) = names.get(&r.stream.text.to_ascii_lowercase()) {
                    if !statements[j].output.split.is_empty() {
                        problems.push(
                            Problem::new(
                                r.stream.span,
                                format!("`{}` is a split; read one of its outputs", r.stream.text),
                            )
                            .help(format!(
                                "write `{}@{}`",
                                r.stream.text, statements[j].output.split[0].text
                            )),
                        );
                    }
                }
            }
        }
    }

    // A step calling `Cache#lookup(...)` runs after the cache sink, though it does not
    // read the sink's stream: the order follows both kinds of edge.
    let mut runs_after = inputs.clone();
    for (i, s) in statements.iter().enumerate() {
        for cache in s.caches_read() {
            match names.get(&cache.text.to_ascii_lowercase()) {
                Some(&j) if statements[j].is_cache_sink() => runs_after[i].push(j),
                found => {
                    let caches: Vec<&str> = statements
                        .iter()
                        .filter(|s| s.is_cache_sink())
                        .map(|s| s.output.name.text.as_str())
                        .collect();
                    let what = if found.is_some() {
                        format!("`{}` is not a cache sink", cache.text)
                    } else {
                        format!("no cache sink is named `{}`", cache.text)
                    };
                    problems.push(Problem::new(cache.span, what).help(if caches.is_empty() {
                        "write the rows to a sink with `store: 'cache', format: 'inline'` \
                         and call its functions by the sink's name"
                            .to_owned()
                    } else {
                        format!("the cache sinks are: {}", caches.join(", "))
                    }));
                }
            }
        }
    }

    // Outputs nobody reads: a step whose rows go nowhere is usually a mistake.
    let mut read = vec![false; statements.len()];
    for list in &inputs {
        for &j in list {
            read[j] = true;
        }
    }
    for (i, s) in statements.iter().enumerate() {
        if !read[i] && s.kind.text != "sink" && s.kind.text != "output" {
            problems.push(
                Problem::new(
                    s.output.name.span,
                    format!("the output of `{}` is not used", s.output.name.text),
                )
                .help("send it to a sink or another step, or remove the step")
                .warning(),
            );
        }
    }

    let order = match topological(&runs_after) {
        Ok(order) => order,
        Err(cycle) => {
            let names: Vec<&str> = cycle
                .iter()
                .map(|&i| statements[i].output.name.text.as_str())
                .collect();
            problems.push(
                Problem::new(
                    statements[cycle[0]].span,
                    format!("the steps form a cycle: {}", names.join(" -> ")),
                )
                .help("a step cannot read its own output, directly or through others"),
            );
            return (None, problems);
        }
    };
    let ok = problems.iter().all(|p| p.warning);
    let graph = ok.then_some(Graph {
        script,
        order,
        inputs,
    });
    (graph, problems)
}

fn check_kind(s: &Statement, problems: &mut Vec<Problem>) {
    let kind = s.kind.text.as_str();
    if !KINDS.contains(&kind) {
        let suggestion = KINDS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(kind))
            .map_or_else(String::new, |k| format!("did you mean `{k}`? "));
        problems.push(
            Problem::new(s.kind.span, format!("`{kind}` is not a transformation"))
                .help(format!("{suggestion}the kinds are: {}", KINDS.join(", "))),
        );
        return;
    }
    let (fewest, most) = arity(kind);
    let n = s.inputs.len();
    if n < fewest || n > most {
        let wanted = match (fewest, most) {
            (0, 0) => "no input streams".to_owned(),
            (a, b) if a == b => format!("{a} input stream{}", if a == 1 { "" } else { "s" }),
            (a, _) => format!("at least {a} input stream"),
        };
        problems.push(
            Problem::new(
                s.kind.span,
                format!("`{kind}` takes {wanted}, and {n} are given"),
            )
            .help("list the input streams before the transformation, separated by commas"),
        );
    }
    if kind == "split" && s.output.split.is_empty() {
        problems.push(
            Problem::new(s.output.name.span, "a split must name its outputs").help(format!(
                "write `~> {}@(first, second, rest)`",
                s.output.name.text
            )),
        );
    }
}

/// Kahn's order, or the statements of one cycle.
fn topological(inputs: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = inputs.len();
    let mut waiting: Vec<usize> = inputs.iter().map(Vec::len).collect();
    let mut readers = vec![Vec::new(); n];
    for (i, list) in inputs.iter().enumerate() {
        for &j in list {
            readers[j].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &r in readers[i].iter().rev() {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.push(r);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk back along unfinished inputs until a statement repeats.
    let mut at = (0..n).find(|&i| waiting[i] > 0).unwrap_or(0);
    let mut path = Vec::new();
    loop {
        if let Some(pos) = path.iter().position(|&p| p == at) {
            let mut cycle: Vec<usize> = path[pos..].to_vec();
            cycle.reverse();
            cycle.push(cycle[0]);
            return Err(cycle);
        }
        path.push(at);
        at = inputs[at]
            .iter()
            .copied()
            .find(|&j| waiting[j] > 0)
            .unwrap_or(at);
    }
}
