//! The order activities run in and whether each runs at all, from `dependsOn` and its
//! conditions, as ADF decides it.

use crate::factory::pipeline::DependencyCondition;
use crate::runs::RunStatus;

/// Whether a dependency's final status satisfies a condition.
pub fn condition_met(condition: DependencyCondition, status: RunStatus) -> bool {
    match condition {
        DependencyCondition::Succeeded => status == RunStatus::Succeeded,
        DependencyCondition::Failed => status == RunStatus::Failed,
        DependencyCondition::Completed => {
            matches!(status, RunStatus::Succeeded | RunStatus::Failed)
        }
        DependencyCondition::Skipped => status == RunStatus::Skipped,
    }
}

/// An activity runs when, for every dependency, at least one of its conditions holds. ADF
/// treats several conditions on one dependency as "any of", and all dependencies as "all".
pub fn should_run(
    dependencies: &[(String, Vec<DependencyCondition>)],
    status_of: impl Fn(&str) -> RunStatus,
) -> bool {
    dependencies.iter().all(|(name, conditions)| {
        let status = status_of(name);
        let conditions: &[DependencyCondition] = if conditions.is_empty() {
            &[DependencyCondition::Succeeded]
        } else {
            conditions
        };
        conditions.iter().any(|c| condition_met(*c, status))
    })
}

/// A topological order of activity indices, keeping the written order among independent
/// activities. `None` when the dependencies form a cycle (validation reports it first).
pub fn order(names: &[&str], dependencies: &[Vec<&str>]) -> Option<Vec<usize>> {
    let mut done = vec![false; names.len()];
    let mut order = Vec::with_capacity(names.len());
    while order.len() < names.len() {
        let next = (0..names.len()).find(|&i| {
            !done[i]
                && dependencies[i]
                    .iter()
                    .all(|d| names.iter().position(|n| n == d).is_none_or(|j| done[j]))
        })?;
        done[next] = true;
        order.push(next);
    }
    Some(order)
}

/// The pipeline's status from its activities' statuses: it fails when an activity failed
/// and no later activity handled the failure (a dependent that ran on Failed or Completed).
pub fn pipeline_status(
    statuses: &[RunStatus],
    dependencies: &[Vec<(usize, Vec<DependencyCondition>)>],
) -> RunStatus {
    let handled = |failed: usize| {
        dependencies.iter().enumerate().any(|(i, deps)| {
            statuses[i] != RunStatus::Skipped
                && deps.iter().any(|(d, conditions)| {
                    *d == failed
                        && conditions.iter().any(|c| {
                            matches!(
                                c,
                                DependencyCondition::Failed | DependencyCondition::Completed
                            )
                        })
                })
        })
    };
    let unhandled = statuses
        .iter()
        .enumerate()
        .any(|(i, s)| *s == RunStatus::Failed && !handled(i));
    if unhandled {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DependencyCondition::*;

    #[test]
    fn order_follows_dependencies() {
        let names = ["c", "a", "b"];
        let deps = vec![vec!["b"], vec![], vec!["a"]];
        assert_eq!(order(&names, &deps), Some(vec![1, 2, 0]));
        assert_eq!(order(&["a", "b"], &[vec!["b"], vec!["a"]]), None);
    }

    #[test]
    fn conditions_decide_what_runs() {
        let status = |name: &str| match name {
            "ok" => RunStatus::Succeeded,
            "bad" => RunStatus::Failed,
            _ => RunStatus::Skipped,
        };
        assert!(should_run(&[("ok".into(), vec![])], status));
        assert!(!should_run(&[("bad".into(), vec![Succeeded])], status));
        assert!(should_run(&[("bad".into(), vec![Failed])], status));
        assert!(should_run(&[("bad".into(), vec![Completed])], status));
        assert!(should_run(&[("gone".into(), vec![Skipped])], status));
        assert!(!should_run(
            &[("ok".into(), vec![]), ("bad".into(), vec![])],
            status
        ));
    }

    #[test]
    fn a_handled_failure_does_not_fail_the_pipeline() {
        let statuses = [RunStatus::Failed, RunStatus::Succeeded];
        let handled = vec![vec![], vec![(0, vec![Failed])]];
        assert_eq!(pipeline_status(&statuses, &handled), RunStatus::Succeeded);
        let unhandled = vec![vec![], vec![]];
        assert_eq!(pipeline_status(&statuses, &unhandled), RunStatus::Failed);
    }
}
