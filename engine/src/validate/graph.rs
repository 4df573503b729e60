//! The activity graph of a pipeline: unique names, `dependsOn` naming existing activities,
//! and no cycles (a cycle would never start).

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::factory::{Pipeline, Resource};

/// Reports duplicate activity names, unknown dependencies and dependency cycles.
pub(super) fn check(p: &Resource<Pipeline>, out: &mut Vec<Diagnostic>) {
    let activities = &p.def.activities;
    let file = &p.origin.file;

    // Names are case-insensitive in ADF, so `Copy` and `copy` collide.
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, a) in activities.iter().enumerate() {
        if let Some(&first) = index.get(&a.name.to_lowercase()) {
            out.push(Diagnostic::error(
                file,
                format!("{}/name", a.pointer),
                format!(
                    "activity name `{}` is used twice in pipeline `{}` (activities {} and {})",
                    a.name,
                    p.name,
                    first + 1,
                    i + 1
                ),
                "rename one of them; dependsOn and run records identify activities by name",
            ));
        } else {
            index.insert(a.name.to_lowercase(), i);
        }
    }

    let names: Vec<&str> = activities.iter().map(|a| a.name.as_str()).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); activities.len()];
    for (i, a) in activities.iter().enumerate() {
        for (j, (dep, _)) in a.depends_on.iter().enumerate() {
            match index.get(&dep.to_lowercase()) {
                Some(&target) => edges[i].push(target),
                None => out.push(Diagnostic::error(
                    file,
                    format!("{}/dependsOn/{j}/activity", a.pointer),
                    format!(
                        "activity `{}` depends on `{dep}`, which is not in pipeline `{}`",
                        a.name, p.name
                    ),
                    format!("use one of: {}", names.join(", ")),
                )),
            }
        }
    }

    if let Some(cycle) = find_cycle(&edges) {
        let first = &activities[cycle[0]];
        let path: Vec<&str> = cycle
            .iter()
            .chain(cycle.first())
            .map(|&i| names[i])
            .collect();
        out.push(Diagnostic::error(
            file,
            format!("{}/dependsOn", first.pointer),
            format!(
                "activities depend on each other in a cycle: {}",
                path.join(" -> ")
            ),
            "remove one of these dependsOn entries; a cycle never starts",
        ));
    }
}

/// The activities of one cycle, in dependency order, if there is one.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: usize,
        edges: &[Vec<usize>],
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[n] = Mark::Open;
        stack.push(n);
        for &m in &edges[n] {
            match marks[m] {
                Mark::Open => {
                    let start = stack.iter().position(|&s| s == m).unwrap_or(0);
                    return Some(stack[start..].to_vec());
                }
                Mark::New => {
                    if let Some(c) = visit(m, edges, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[n] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; edges.len()];
    (0..edges.len()).find_map(|n| {
        if marks[n] == Mark::New {
            visit(n, edges, &mut marks, &mut Vec::new())
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::find_cycle;

    #[test]
    fn finds_cycles_and_accepts_dags() {
        assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![0]]),
            Some(vec![0, 1, 2])
        );
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0]));
    }
}
