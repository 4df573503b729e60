//! Execution of a checked data flow on Polars: each step becomes part of one lazy plan,
//! built in graph order from the sources' frames; sinks collect their frames.
//!
//! Sources come in as frames (`super::activity` reads the lake and the Office 365
//! source for the `ExecuteDataFlow` activity), and the kinds in [`run`]'s list compile.
//! Every other kind fails with [`ExecError::NotSupported`] naming the step.

mod assert;
mod json;
mod lookup;
mod pivot;
mod rows;
mod shape;
mod steps;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

use super::ast::Script;
use super::expr::Value;
use super::graph;
use super::source::Problem;

/// Why a flow could not run.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// A transformation kind, or an option of one, that mdflow does not run yet.
    #[error("step `{step}`: {feature} is not supported yet; docs/limitations.md lists what runs")]
    NotSupported {
        /// The step's name.
        step: String,
        /// What is missing.
        feature: String,
    },
    /// The script is wrong for its data: an unknown column, a type error.
    #[error("step `{step}`: {problem}", problem = .problem.message)]
    Invalid {
        /// The step's name.
        step: String,
        /// What and where, to render against the script.
        problem: Problem,
    },
    /// The script has errors; nothing ran.
    #[error("the script has {} errors", .0.len())]
    Script(Vec<Problem>),
    /// A source the caller did not provide.
    #[error("no data for source `{0}`")]
    MissingSource(String),
    /// A row broke an `assert` step's assertion; nothing is written.
    #[error("step `{step}`: assertion `{id}` failed for {rows} rows")]
    Assertion {
        /// The step's name.
        step: String,
        /// The assertion's id.
        id: String,
        /// How many rows broke it.
        rows: usize,
    },
    /// Polars failed while running the plan.
    #[error("step `{step}`: {message}")]
    Engine {
        /// The step's name.
        step: String,
        /// What Polars said.
        message: String,
    },
}

/// What a run produced: each sink's rows, and the rows each source gave.
#[derive(Debug, Clone, Default)]
pub struct FlowOutput {
    /// Rows per sink, by sink name.
    pub sinks: BTreeMap<String, DataFrame>,
    /// Rows read per source, by source name.
    pub rows_read: BTreeMap<String, usize>,
    /// For sinks fed by an `alterRow` step: each row's mark (`insert`, `update`, `delete`,
    /// `upsert`), in the order of the sink's rows. The frame in `sinks` no longer has it.
    pub row_marks: BTreeMap<String, Vec<String>>,
}

/// Runs a script on source frames (keyed by source step name, any case) with parameter
/// values. Runs: source, select (`mapColumn`), filter, derive, aggregate, join (inner,
/// left, right, outer, cross), lookup, exists, union, split, sort, alterRow, keyGenerate,
/// cast, foldDown, unpivot, window, rank, assert and sink.
pub fn run(
    script: &Script,
    params: &HashMap<String, Value>,
    sources: &HashMap<String, DataFrame>,
) -> Result<FlowOutput, ExecError> {
    let (graph, problems) = graph::build(script);
    let Some(graph) = graph else {
        return Err(ExecError::Script(
            problems.into_iter().filter(|p| !p.warning).collect(),
        ));
    };
    let mut params = params.clone();
    for p in &script.parameters {
        if !params.contains_key(&p.name.text) {
            if let Some(d) = &p.default {
                let v = super::expr::eval::evaluate(
                    &super::printer::print_expr(d),
                    &serde_json::Value::Null,
                )
                .unwrap_or(Value::Null);
                params.insert(p.name.text.clone(), v);
            }
        }
    }
    let mut out = FlowOutput::default();
    let mut frames: HashMap<String, LazyFrame> = HashMap::new();
    for &i in &graph.order {
        let s = &script.statements[i];
        let name = s.output.name.text.clone();
        let inputs: Vec<LazyFrame> = s
            .inputs
            .iter()
            .map(|r| frames[&r.key().to_ascii_lowercase()].clone())
            .collect();
        let step = steps::Step {
            statement: s,
            params: &params,
        };
        match s.kind.text.as_str() {
            "source" => {
                let frame = sources
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                    .map(|(_, f)| f.clone())
                    .ok_or_else(|| ExecError::MissingSource(name.clone()))?;
                out.rows_read.insert(name.clone(), frame.height());
                frames.insert(name.to_ascii_lowercase(), step.source(frame.lazy())?);
            }
            "split" => {
                let input = inputs.into_iter().next().expect("graph checked");
                for (output, frame) in step.split(input)? {
                    frames.insert(format!("{name}@{output}").to_ascii_lowercase(), frame);
                }
            }
            "sink" => {
                let input = inputs.into_iter().next().expect("graph checked");
                let mut frame = input.collect().map_err(|e| ExecError::Engine {
                    step: name.clone(),
                    message: e.to_string(),
                })?;

                // Marks leave the rows here; file sinks write every row, as ADF's do.
                if let Ok(marks) = frame.drop_in_place(steps::ROW_MARK) {
                    let marks = marks
                        .as_materialized_series()
                        .iter()
                        .map(|v| v.get_str().unwrap_or("insert").to_owned())
                        .collect();
                    out.row_marks.insert(name.clone(), marks);
                }
                out.sinks.insert(name.clone(), frame);
            }
            _ => {
                let frame = step.transform(inputs, script)?;
                frames.insert(name.to_ascii_lowercase(), frame);
            }
        }
    }
    Ok(out)
}
