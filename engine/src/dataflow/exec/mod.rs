//! Execution of a checked data flow on Polars: each step becomes part of one lazy plan,
//! built in graph order from the sources' frames; sinks collect their frames.
//!
//! Sources come in as frames (`super::activity` reads the lake and the Office 365
//! source for the `ExecuteDataFlow` activity), and the kinds in [`run`]'s list compile.
//! Every other kind fails with [`ExecError::NotSupported`] naming the step.

mod aggregates;
mod assert;
mod columns;
mod derive;
mod json;
mod lookup;
mod patterns;
mod pivot;
mod rows;
mod shape;
mod steps;
#[cfg(test)]
mod tests;
mod unfold;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

pub use aggregates::AGGREGATE;
pub use rows::WINDOW;
pub(crate) use steps::{is_hidden, LOOKUP_MATCH, ROW_MARK};

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
    let prepared = Prepared::new(script, params)?;
    let mut out = FlowOutput::default();
    prepared.run_steps(sources, HashMap::new(), &|_| true, &mut out)?;
    Ok(out)
}

/// A script whose graph is built and whose parameters have their defaults.
struct Prepared<'s> {
    script: &'s Script,
    graph: graph::Graph<'s>,
    params: HashMap<String, Value>,
}

impl<'s> Prepared<'s> {
    fn new(script: &'s Script, given: &HashMap<String, Value>) -> Result<Self, ExecError> {
        let (graph, problems) = graph::build(script);
        let Some(graph) = graph else {
            return Err(ExecError::Script(
                problems.into_iter().filter(|p| !p.warning).collect(),
            ));
        };
        let mut params = given.clone();
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
        Ok(Prepared {
            script,
            graph,
            params,
        })
    }

    /// Runs the statements `include` accepts, in graph order, over `frames` (streams
    /// computed elsewhere, by lower-cased key) and `sources`; sinks' rows go to `out`.
    /// Returns every stream's plan, for callers that take streams other than sinks.
    fn run_steps(
        &self,
        sources: &HashMap<String, DataFrame>,
        mut frames: HashMap<String, LazyFrame>,
        include: &dyn Fn(usize) -> bool,
        out: &mut FlowOutput,
    ) -> Result<HashMap<String, LazyFrame>, ExecError> {
        let mut caches = HashMap::new();
        for &i in self.graph.order.iter().filter(|&&i| include(i)) {
            let s = &self.script.statements[i];
            let name = s.output.name.text.clone();
            let inputs: Vec<LazyFrame> = s
                .inputs
                .iter()
                .map(|r| frames[&r.key().to_ascii_lowercase()].clone())
                .collect();
            let step = steps::Step {
                statement: s,
                params: &self.params,
                caches: &caches,
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
                "sink" if s.is_cache_sink() => {
                    let input = inputs.into_iter().next().expect("graph checked");
                    let mut rows = input.collect().map_err(|e| step.engine(e))?;
                    // An alterRow mark or a lookup's match means nothing to a cache.
                    let _ = rows.drop_in_place(steps::ROW_MARK);
                    let _ = rows.drop_in_place(steps::LOOKUP_MATCH);
                    let table = step.cache(rows)?;
                    caches.insert(name.to_ascii_lowercase(), Arc::new(table));
                }
                "sink" => {
                    let input = inputs.into_iter().next().expect("graph checked");
                    let mut frame = input.collect().map_err(|e| step.engine(e))?;
                    let _ = frame.drop_in_place(steps::LOOKUP_MATCH);

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
                    let frame = step.transform(inputs, self.script)?;
                    frames.insert(name.to_ascii_lowercase(), frame);
                }
            }
        }
        Ok(frames)
    }
}

/// Transformations that map each row on its own (to zero, one or, for split, several
/// outputs) with no state across rows and a schema that does not depend on the data, so
/// running them on each batch of a source and concatenating gives the rows running them
/// on the whole source does.
fn is_row_local(kind: &str) -> bool {
    matches!(
        kind,
        "filter" | "derive" | "select" | "cast" | "alterRow" | "split"
    )
}

/// A flow split for batch-by-batch execution of one source: the row-local steps fed only
/// by it (and sinks fed by those) run on each batch as it is decoded, in parallel; the
/// streams leaving that region for a blocking step (aggregate, join, sort, ...) are
/// gathered, and the rest of the flow runs once on them by [`Batched::finish`].
pub struct Batched<'s> {
    prepared: Prepared<'s>,
    source: String,
    in_region: Vec<bool>,
    /// Stream keys (lower case) consumed by steps outside the region, each with the only
    /// columns those steps read when that is known (see [`columns::columns_read`]).
    frontier: Vec<(String, Option<Vec<String>>)>,
    /// Sinks fed from inside the region that the caller writes batch by batch.
    streamed_sinks: Vec<String>,
}

/// What one batch produced.
#[derive(Default)]
pub struct BatchOutput {
    /// Rows the batch held.
    pub rows_read: usize,
    /// Rows of each streamed sink, with their row marks when an `alterRow` feeds it.
    pub sinks: FlowOutput,
    /// Rows of each frontier stream, to be gathered.
    pub frontier: Vec<(String, DataFrame)>,
}

impl<'s> Batched<'s> {
    /// Splits `script` around the source step `source`. `streams_sink` says whether the
    /// caller can write a sink batch by batch; sinks it cannot stream are gathered like any
    /// other frontier stream and written whole.
    pub fn plan(
        script: &'s Script,
        params: &HashMap<String, Value>,
        source: &str,
        streams_sink: &dyn Fn(&str) -> bool,
    ) -> Result<Self, ExecError> {
        let prepared = Prepared::new(script, params)?;
        let statements = &script.statements;
        let mut in_region = vec![false; statements.len()];
        let mut region_names: Vec<String> = Vec::new();
        let mut streamed_sinks = Vec::new();
        for &i in &prepared.graph.order {
            let s = &statements[i];
            let name = &s.output.name.text;
            let kind = s.kind.text.as_str();
            let fed_by_region = !s.inputs.is_empty()
                && s.inputs.iter().all(|r| {
                    region_names
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(&r.stream.text))
                });
            let local = if kind == "source" {
                name.eq_ignore_ascii_case(source)
            } else if kind == "sink" {
                let streams = fed_by_region && !s.is_cache_sink() && streams_sink(name);
                if streams {
                    streamed_sinks.push(name.clone());
                }
                streams
            } else {
                // A cache is written after the batches: its readers run then too. A
                // sequence numbers the whole stream with one counter.
                fed_by_region
                    && is_row_local(kind)
                    && s.caches_read().is_empty()
                    && !s.calls("nextSequence")
            };
            if local {
                in_region[i] = true;
                region_names.push(name.clone());
            }
        }
        let mut frontier: Vec<(String, Option<Vec<String>>)> = Vec::new();
        for (i, s) in statements.iter().enumerate() {
            if in_region[i] {
                continue;
            }
            for r in &s.inputs {
                let from_region = region_names
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&r.stream.text));
                if !from_region {
                    continue;
                }
                let key = r.key().to_ascii_lowercase();
                let read = columns::columns_read(s);
                match frontier.iter_mut().find(|(k, _)| *k == key) {
                    None => frontier.push((key, read)),
                    Some((_, known)) => {
                        *known = match (known.take(), read) {
                            (Some(mut a), Some(b)) => {
                                a.extend(b);
                                Some(a)
                            }
                            _ => None,
                        }
                    }
                }
            }
        }
        Ok(Batched {
            prepared,
            source: source.to_owned(),
            in_region,
            frontier,
            streamed_sinks,
        })
    }

    /// The sinks written batch by batch.
    pub fn streamed_sinks(&self) -> &[String] {
        &self.streamed_sinks
    }

    /// Runs the region on one batch of the source's rows.
    pub fn run_batch(&self, batch: DataFrame) -> Result<BatchOutput, ExecError> {
        let rows_read = batch.height();
        let sources = HashMap::from([(self.source.clone(), batch)]);
        let mut sinks = FlowOutput::default();
        let in_region = |i: usize| self.in_region[i];
        let mut frames =
            self.prepared
                .run_steps(&sources, HashMap::new(), &in_region, &mut sinks)?;
        let mut frontier = Vec::with_capacity(self.frontier.len());
        for (key, read) in &self.frontier {
            let engine = |e: polars::prelude::PolarsError| ExecError::Engine {
                step: key.clone(),
                message: e.to_string(),
            };
            let mut plan = frames
                .remove(key)
                .expect("the region computes its frontier");
            if let Some(read) = read {
                let schema = plan.collect_schema().map_err(engine)?;
                let mut kept: Vec<&polars::prelude::PlSmallStr> = schema
                    .iter_names()
                    .filter(|n| read.iter().any(|r| r.eq_ignore_ascii_case(n)))
                    .collect();
                // A frame without columns has no rows either; `count()` alone needs them.
                if kept.is_empty() {
                    kept.extend(schema.iter_names().next());
                }
                let kept: Vec<_> = kept
                    .into_iter()
                    .map(|n| polars::prelude::col(n.clone()))
                    .collect();
                plan = plan.select(kept);
            }
            let rows = plan.collect().map_err(engine)?;
            frontier.push((key.clone(), rows));
        }
        Ok(BatchOutput {
            rows_read,
            sinks,
            frontier,
        })
    }

    /// Runs the rest of the flow once every batch has run: `gathered` holds each frontier
    /// stream's rows (every batch's, in order), `sources` the flow's other sources.
    pub fn finish(
        &self,
        sources: &HashMap<String, DataFrame>,
        gathered: HashMap<String, DataFrame>,
        rows_read: usize,
    ) -> Result<FlowOutput, ExecError> {
        let frames = gathered.into_iter().map(|(k, f)| (k, f.lazy())).collect();
        let mut out = FlowOutput::default();
        let outside = |i: usize| !self.in_region[i];
        self.prepared
            .run_steps(sources, frames, &outside, &mut out)?;
        out.rows_read.insert(self.source.clone(), rows_read);
        Ok(out)
    }
}
