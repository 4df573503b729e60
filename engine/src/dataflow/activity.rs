//! The `ExecuteDataFlow` activity: the data flow's sources and sinks bound to datasets (or,
//! for Office 365, to a linked service), parameters evaluated, sources read into frames,
//! the script run by [`super::exec::run`], and every sink staged before any is published.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use polars::prelude::{DataFrame, IntoLazy};
use serde_json::{json, Map, Value as Json};

use super::ast::{Expr, Script, Statement};
use super::expr::compile::{compile, Scope};
use super::expr::value::column_values;
use super::expr::Value;
use super::io;
use super::office365::{self, InlineOffice365};
use crate::copy::CopyFailure;
use crate::expr::ExprContext;
use crate::factory::pipeline::Action;
use crate::factory::resolve::{
    pipeline_context, resolve_dataset, resolve_inline_dataset, resolve_tenant, CopyPlan,
    ResolvedDataset, TenantConnection,
};
use crate::factory::{Activity, Factory, Reference, Resource};

fn invalid(message: impl Into<String>) -> CopyFailure {
    CopyFailure::new("UserErrorInvalidDefinition", message)
}

/// A data flow of a factory, parsed and checked.
pub struct LoadedFlow<'f> {
    /// The resource.
    pub resource: &'f Resource<crate::factory::DataFlow>,
    /// Its script.
    pub script: Script,
}

/// Parses and checks the script of a factory's data flow, with its flowlets expanded.
pub fn load_flow<'f>(factory: &'f Factory, name: &str) -> Result<LoadedFlow<'f>, CopyFailure> {
    let resource = factory
        .dataflow(name)
        .ok_or_else(|| invalid(format!("data flow `{name}` does not exist")))?;
    let script = checked_script(resource).map_err(invalid)?;
    let script = super::flowlet::expand(script, &|flowlet| load_flowlet(factory, flowlet))
        .map_err(|e| invalid(format!("data flow `{name}`: {e}")))?;
    Ok(LoadedFlow { resource, script })
}

/// A data flow resource's script, parsed and checked; errors are rendered against it.
fn checked_script(resource: &Resource<crate::factory::DataFlow>) -> Result<Script, String> {
    let name = &resource.name;
    let text = super::resource::from_properties(
        name,
        &resource.def.kind,
        &resource.def.type_properties,
        &resource.origin.file,
    )?;
    let (script, problems) = super::check(&text.source.text);
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| !p.warning)
        .map(|p| p.render(&text.source).to_string())
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "data flow `{name}` has errors; run `mdflow dataflow check`:\n{}",
            errors.join("\n")
        ));
    }
    Ok(script)
}

/// The script of the factory's `Flowlet` resource `name`.
fn load_flowlet(factory: &Factory, name: &str) -> Result<Script, String> {
    let is_flowlet = |r: &&Resource<crate::factory::DataFlow>| r.def.kind == "Flowlet";
    match factory.dataflow(name).filter(is_flowlet) {
        Some(resource) => checked_script(resource),
        None => {
            let known: Vec<&str> = factory
                .dataflows
                .iter()
                .filter(is_flowlet)
                .map(|r| r.name.as_str())
                .collect();
            Err(format!(
                "no flowlet named `{name}` in the factory's dataflow/ folder{}",
                if known.is_empty() {
                    String::new()
                } else {
                    format!("; its flowlets are: {}", known.join(", "))
                }
            ))
        }
    }
}

/// Whether the flow reads Office 365 (consent applies to it).
pub fn reads_office365(factory: &Factory, flow: &LoadedFlow<'_>) -> bool {
    sources(&flow.script).any(|s| {
        let binding = binding(flow, "sources", &s.output.name.text);
        is_office365(factory, s, binding, &HashMap::new())
    })
}

fn sources(script: &Script) -> impl Iterator<Item = &Statement> {
    script
        .statements
        .iter()
        .filter(|s| s.kind.text.eq_ignore_ascii_case("source"))
}

/// The resource's `sources`/`sinks` entry of a step, by name.
fn binding<'a>(flow: &'a LoadedFlow<'_>, list: &str, step: &str) -> Option<&'a Json> {
    flow.resource.def.type_properties[list]
        .as_array()?
        .iter()
        .find(|b| {
            b["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(step))
        })
}

fn is_office365(
    factory: &Factory,
    s: &Statement,
    binding: Option<&Json>,
    params: &HashMap<String, Value>,
) -> bool {
    let store = s
        .option("store")
        .and_then(|e| evaluate(e, params).ok())
        .and_then(|v| v.to_text());
    if store.is_some_and(|t| t.eq_ignore_ascii_case("office365")) {
        return true;
    }
    binding
        .and_then(|b| b["linkedService"]["referenceName"].as_str())
        .and_then(|n| factory.linked_service(n))
        .is_some_and(|ls| matches!(ls.def.kind, crate::factory::LinkedServiceKind::Office365(_)))
}

/// Evaluates a constant expression (literals, `$parameters`, functions).
pub fn evaluate(e: &Expr, params: &HashMap<String, Value>) -> Result<Value, String> {
    let frame = DataFrame::new(
        1,
        vec![polars::prelude::Column::new("__row".into(), [0i32])],
    )
    .map_err(|e| e.to_string())?;
    let scope = Scope {
        schema: (**frame.schema()).clone(),
        params: params.clone(),
        ..Scope::default()
    };
    let typed = compile(e, &scope).map_err(|p| p.message)?;
    let out = frame
        .lazy()
        .select([typed.expr.alias("value")])
        .collect()
        .map_err(|e| e.to_string())?;
    Ok(column_values(&out.columns()[0])
        .into_iter()
        .next()
        .unwrap_or(Value::Null))
}

/// A pipeline value (after pipeline expressions) as a data flow value.
fn from_json(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map_or(Value::Long(i), Value::Int),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        Json::Object(m) => {
            Value::Struct(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// Data flow parameter values from the activity: pipeline expressions
/// (`{"value": "@...", "type": "Expression"}` or `"@..."`) are evaluated by the pipeline
/// language, other strings are data flow expressions (`"'text'"`, `"10"`).
fn flow_parameters(
    given: &Map<String, Json>,
    pctx: &ExprContext,
) -> Result<HashMap<String, Value>, CopyFailure> {
    let mut out = HashMap::new();
    for (name, v) in given {
        let pipeline_expression = v.get("type").is_some_and(|t| t == "Expression")
            || v.as_str().is_some_and(|s| s.starts_with('@'));
        let bad = |e: String| invalid(format!("data flow parameter `{name}`: {e}"));
        let value = match v {
            _ if pipeline_expression => {
                from_json(&crate::expr::evaluate(v, pctx).map_err(|e| bad(e.to_string()))?)
            }
            Json::String(text) => {
                let e = super::parse_expression(text)
                    .map_err(|ps| bad(ps.first().map(|p| p.message.clone()).unwrap_or_default()))?;
                evaluate(&e, &HashMap::new()).map_err(bad)?
            }
            other => from_json(other),
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// The option `name` of a step as text, evaluated.
fn text_option(
    s: &Statement,
    name: &str,
    params: &HashMap<String, Value>,
) -> Result<Option<String>, CopyFailure> {
    let Some(e) = s.option(name) else {
        return Ok(None);
    };
    let v = evaluate(e, params).map_err(|m| {
        invalid(format!(
            "step `{}`: option `{name}`: {m}",
            s.output.name.text
        ))
    })?;
    Ok(match v {
        Value::Null => None,
        Value::Timestamp(micros) => Some(super::expr::value::timestamp_text(micros) + "Z"),
        other => other.to_text(),
    })
}

fn list_option(
    s: &Statement,
    name: &str,
    params: &HashMap<String, Value>,
) -> Result<Vec<String>, CopyFailure> {
    let Some(e) = s.option(name) else {
        return Ok(Vec::new());
    };
    let v = evaluate(e, params).map_err(|m| {
        invalid(format!(
            "step `{}`: option `{name}`: {m}",
            s.output.name.text
        ))
    })?;
    Ok(match v {
        Value::Array(items) => items.iter().filter_map(Value::to_text).collect(),
        Value::Null => Vec::new(),
        other => other.to_text().into_iter().collect(),
    })
}

/// A dataset reference with the activity's `datasetParameters` for the step over the
/// binding's own values.
fn dataset_reference(
    binding: &Json,
    overrides: &Json,
    step: &str,
) -> Result<Reference, CopyFailure> {
    let mut reference: Reference = serde_json::from_value(binding["dataset"].clone())
        .map_err(|e| invalid(format!("step `{step}`: bad dataset reference: {e}")))?;
    let over = overrides
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(step)))
        .and_then(|(_, v)| v.as_object());
    for (k, v) in over.into_iter().flatten() {
        reference.parameters.insert(k.clone(), v.clone());
    }
    Ok(reference)
}

/// Everything a run needs, resolved: the flow, its parameters, and the pipeline context.
struct Bound<'f> {
    flow: LoadedFlow<'f>,
    params: HashMap<String, Value>,
    pctx: ExprContext,
    pipeline: String,
    dataset_parameters: Json,
}

fn bind<'f>(
    factory: &'f Factory,
    pipeline: &str,
    activity: &Activity,
    ctx: &ExprContext,
) -> Result<Bound<'f>, CopyFailure> {
    let Action::ExecuteDataFlow(e) = &activity.action else {
        return Err(invalid(format!(
            "activity `{}` is not an ExecuteDataFlow",
            activity.name
        )));
    };
    let p = factory
        .pipeline(pipeline)
        .ok_or_else(|| invalid(format!("no pipeline `{pipeline}`")))?;
    let pctx = pipeline_context(&p.def, &p.name, ctx);
    let relative = activity
        .pointer
        .strip_prefix(&p.origin.pointer)
        .unwrap_or(&activity.pointer);
    let raw = p.raw.pointer(relative).cloned().unwrap_or_default();
    let flow = load_flow(factory, &e.dataflow.reference_name)?;
    let mut params = flow_parameters(&e.dataflow.parameters, &pctx)?;
    // Options of sources and sinks read parameters too, so defaults apply to them as well.
    for p in &flow.script.parameters {
        if let (false, Some(default)) = (params.contains_key(&p.name.text), &p.default) {
            let value = evaluate(default, &params)
                .map_err(|m| invalid(format!("parameter `{}`: default: {m}", p.name.text)))?;
            params.insert(p.name.text.clone(), value);
        }
    }
    Ok(Bound {
        params,
        dataset_parameters: raw["typeProperties"]["dataflow"]["datasetParameters"].clone(),
        flow,
        pctx,
        pipeline: p.name.clone(),
    })
}

/// The dataset a source step reads, when it is not an Office 365 source.
fn source_dataset(
    factory: &Factory,
    b: &Bound<'_>,
    s: &Statement,
) -> Result<ResolvedDataset, CopyFailure> {
    step_dataset(
        factory,
        b,
        "source",
        &s.output.name.text,
        "mdflow reads dataset sources and the Office 365 inline source",
    )
}

/// The dataset bound to a step through the resource's `sources` or `sinks` entry of its
/// name, with the activity's `datasetParameters` for it. `role` is `source` or `sink`.
fn step_dataset(
    factory: &Factory,
    b: &Bound<'_>,
    role: &str,
    step: &str,
    supported: &str,
) -> Result<ResolvedDataset, CopyFailure> {
    let statement = b
        .flow
        .script
        .statements
        .iter()
        .find(|s| s.output.name.text.eq_ignore_ascii_case(step));
    let bound = binding(&b.flow, &format!("{role}s"), step);
    if let (Some(s), None) = (statement, bound.filter(|b| b.get("dataset").is_some())) {
        if let Some(reference) = linked_service_reference(b, role, s)? {
            let text = |name: &str| text_option(s, name, &b.params);
            let list = |name: &str| list_option(s, name, &b.params);
            let (kind, properties) = super::inline::dataset_properties(s, &text, &list)?;
            return resolve_inline_dataset(
                factory,
                &format!("{} (inline {role} `{step}`)", b.flow.resource.name),
                kind,
                properties,
                &b.flow.resource.origin.file,
                &reference,
                &b.pctx,
            )
            .map_err(|d| invalid(format!("{role} `{step}`: {}: {}", d.message, d.fix)));
        }
    }
    let found = bound
        .filter(|b| b.get("dataset").is_some())
        .ok_or_else(|| {
            CopyFailure::new(
                "UserErrorNotSupported",
                format!(
                    "{role} `{step}` has no dataset in the data flow's {role}s; {supported} \
                     (docs/dataflows.md)"
                ),
            )
        })?;
    let reference = dataset_reference(found, &b.dataset_parameters, step)?;
    resolve_dataset(factory, &b.pipeline, &reference, &b.pctx)
        .map_err(|d| invalid(format!("{role} `{step}`: {}: {}", d.message, d.fix)))
}

/// The linked service a source or sink step names instead of a dataset: in the resource's
/// `sources`/`sinks` entry (with its parameters), or as the `linkedService` option.
fn linked_service_reference(
    b: &Bound<'_>,
    role: &str,
    s: &Statement,
) -> Result<Option<Reference>, CopyFailure> {
    let found = binding(&b.flow, &format!("{role}s"), &s.output.name.text);
    let name = found
        .and_then(|b| b["linkedService"]["referenceName"].as_str())
        .map(str::to_owned)
        .or(text_option(s, "linkedService", &b.params)?);
    Ok(name.map(|reference_name| Reference {
        reference_name,
        kind: None,
        parameters: found
            .and_then(|b| b["linkedService"]["parameters"].as_object())
            .cloned()
            .unwrap_or_default(),
    }))
}

/// An Office 365 source step's options and tenant.
fn inline_office365(
    factory: &Factory,
    b: &Bound<'_>,
    s: &Statement,
) -> Result<(InlineOffice365, TenantConnection), CopyFailure> {
    let step = s.output.name.text.as_str();
    let reference = linked_service_reference(b, "source", s)?.ok_or_else(|| {
        invalid(format!(
            "source `{step}` reads Office 365 but names no linked service; add \
             {{\"name\": \"{step}\", \"linkedService\": {{\"referenceName\": ...}}}} \
             to the data flow's sources"
        ))
    })?;
    let tenant = resolve_tenant(factory, &reference, &b.pctx)
        .map_err(|d| invalid(format!("source `{step}`: {}: {}", d.message, d.fix)))?;
    let options = InlineOffice365 {
        table: text_option(s, "tableName", &b.params)?
            .ok_or_else(|| invalid(format!("source `{step}` needs `tableName: '...'`")))?,
        auto_flatten: matches!(
            s.option("autoFlatten").map(|e| evaluate(e, &b.params)),
            Some(Ok(Value::Bool(true)))
        ),
        date_filter_column: text_option(s, "dateFilterColumn", &b.params)?,
        start_time: text_option(s, "startTime", &b.params)?,
        end_time: text_option(s, "endTime", &b.params)?,
        user_scope_filter_uri: text_option(s, "userScopeFilterUri", &b.params)?,
        allowed_groups: list_option(s, "allowedGroups", &b.params)?,
        output_columns: list_option(s, "outputColumns", &b.params)?,
    };
    Ok((options, tenant))
}

/// The copy plans of the Office 365 sources an `ExecuteDataFlow` activity reads, each with
/// the activity's name and its first lake sink as the destination: what consent asks for.
pub fn office365_plans(
    factory: &Factory,
    pipeline: &str,
    activity: &Activity,
    ctx: &ExprContext,
) -> Result<Vec<CopyPlan>, CopyFailure> {
    let b = bind(factory, pipeline, activity, ctx)?;
    let mut destination = None;
    for s in b.flow.script.statements.iter() {
        if s.kind.text.eq_ignore_ascii_case("sink") && !s.is_cache_sink() {
            let step = s.output.name.text.as_str();
            let ds = step_dataset(factory, &b, "sink", step, "")?;
            if let Some(store) = ds.lake {
                destination = Some(store);
                break;
            }
        }
    }
    let mut plans = Vec::new();
    for s in sources(&b.flow.script) {
        let step = s.output.name.text.as_str();
        if !is_office365(factory, s, binding(&b.flow, "sources", step), &b.params) {
            continue;
        }
        let (options, tenant) = inline_office365(factory, &b, s)?;
        let mut plan = office365::plan(&options, &tenant, step)?;
        plan.activity = activity.name.clone();
        if let Some(store) = &destination {
            plan.sink = office365::with_destination(store.clone());
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// Reads every source of a bound flow into frames, except `skip` (read batch by batch).
fn read_sources(
    factory: &Factory,
    b: &Bound<'_>,
    skip: Option<&str>,
) -> Result<HashMap<String, DataFrame>, CopyFailure> {
    let mut frames = HashMap::new();
    for s in sources(&b.flow.script) {
        let step = s.output.name.text.as_str();
        if skip.is_some_and(|k| k.eq_ignore_ascii_case(step)) {
            continue;
        }
        let found = binding(&b.flow, "sources", step);
        let frame = if is_office365(factory, s, found, &b.params) {
            let (options, tenant) = inline_office365(factory, b, s)?;
            office365::extract(&options, &tenant, step)?
        } else {
            let ds = source_dataset(factory, b, s)?;
            io::read_dataset(&ds, step, io::declared_fields(s).as_deref())?
        };
        frames.insert(step.to_owned(), frame);
    }
    Ok(frames)
}

/// The source to read batch by batch: the largest lake JSON source that declares its
/// columns. Other sources are read whole before the batches run.
fn batch_source(
    factory: &Factory,
    b: &Bound<'_>,
) -> Result<Option<(String, io::LineSource)>, CopyFailure> {
    let mut best: Option<(String, io::LineSource)> = None;
    for s in sources(&b.flow.script) {
        let step = s.output.name.text.as_str();
        if is_office365(factory, s, binding(&b.flow, "sources", step), &b.params) {
            continue;
        }
        let ds = source_dataset(factory, b, s)?;
        let Some(source) = io::LineSource::of(&ds, io::declared_fields(s))? else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|(_, o)| source.bytes() > o.bytes())
        {
            best = Some((step.to_owned(), source));
        }
    }
    Ok(best)
}

/// The sources each sink reads from, through every step before it.
fn upstream_sources(script: &Script, sink: &str) -> Vec<String> {
    let by_name: HashMap<String, &Statement> = script
        .statements
        .iter()
        .map(|s| (s.output.name.text.to_ascii_lowercase(), s))
        .collect();
    let (mut seen, mut found) = (HashSet::new(), Vec::new());
    let mut todo = vec![sink.to_ascii_lowercase()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(s) = by_name.get(&name) else {
            continue;
        };
        if s.kind.text.eq_ignore_ascii_case("source") {
            found.push(s.output.name.text.clone());
        }
        todo.extend(s.inputs.iter().map(|r| r.stream.text.to_ascii_lowercase()));
    }
    found.sort();
    found
}

/// What a flow staged: each sink's rows and file, and the rows each source gave.
struct StagedFlow {
    rows_read: BTreeMap<String, usize>,
    /// Sink name, rows, the staged file, and the time spent writing it.
    sinks: Vec<(String, usize, io::StagedSink, Duration)>,
}

impl StagedFlow {
    fn abort(self) {
        for (_, _, s, _) in self.sinks {
            s.abort();
        }
    }
}

fn exec_failure(flow: &str, e: super::exec::ExecError) -> CopyFailure {
    let code = match e {
        super::exec::ExecError::NotSupported { .. } => "UserErrorNotSupported",
        _ => "DFExecutorUserError",
    };
    CopyFailure::new(code, format!("data flow `{flow}`: {e}"))
}

/// A sink's file-name option: `partitionFileNames`, `filePattern` or `rowUrlColumn`, at most
/// one, and only for a dataset that names a folder rather than a file.
fn sink_naming(
    s: &Statement,
    params: &HashMap<String, Value>,
    ds: &ResolvedDataset,
) -> Result<io::FileNaming, CopyFailure> {
    let step = &s.output.name.text;
    let names = list_option(s, "partitionFileNames", params)?;
    let pattern = text_option(s, "filePattern", params)?;
    let column = text_option(s, "rowUrlColumn", params)?;
    let given = [!names.is_empty(), pattern.is_some(), column.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(invalid(format!(
            "sink `{step}`: partitionFileNames, filePattern and rowUrlColumn are three ways to \
             name its files; keep one"
        )));
    }
    if names.len() > 1 {
        return Err(CopyFailure::new(
            "UserErrorNotSupported",
            format!(
                "sink `{step}`: partitionFileNames lists {} names, and mdflow writes a sink as \
                 one partition; give one name",
                names.len()
            ),
        ));
    }
    let naming = match (names.into_iter().next(), pattern, column) {
        (Some(name), _, _) => io::FileNaming::Single(name),
        (_, Some(p), _) => io::FileNaming::Pattern(p),
        (_, _, Some(c)) => io::FileNaming::PerRow(c),
        _ => return Ok(io::FileNaming::Default),
    };
    if io::names_one_file(ds) {
        return Err(invalid(format!(
            "sink `{step}` names its files, and its dataset `{}` names one file (fileName); \
             remove fileName from the dataset or the file-name option from the sink",
            ds.name
        )));
    }
    Ok(naming)
}

/// `truncate: true`: the sink's folder is emptied before its files are written. Without
/// it, as in ADF, the new files go beside the old ones.
fn sink_truncates(s: &Statement, params: &HashMap<String, Value>) -> Result<bool, CopyFailure> {
    match text_option(s, "truncate", params)?.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid(format!(
            "sink `{}`: truncate is `{other}`; write truncate: true or truncate: false",
            s.output.name.text
        ))),
    }
}

/// Stages sinks' frames; on a failure, what `into` already holds is aborted too.
fn stage_frames(
    sinks: &BTreeMap<String, io::SinkTarget>,
    out: &super::exec::FlowOutput,
    run_id: &str,
    into: &mut StagedFlow,
) -> Result<(), CopyFailure> {
    for (step, frame) in &out.sinks {
        let target = sinks
            .get(step)
            .ok_or_else(|| invalid(format!("sink `{step}` has no dataset")))?;
        let sink_started = Instant::now();
        let s = io::write_dataset(target, frame, run_id)?;
        into.sinks
            .push((step.clone(), frame.height(), s, sink_started.elapsed()));
    }
    Ok(())
}

/// Reads every source whole, runs the flow on Polars and stages every sink.
fn run_whole(
    factory: &Factory,
    b: &Bound<'_>,
    sinks: &BTreeMap<String, io::SinkTarget>,
    run_id: &str,
) -> Result<StagedFlow, CopyFailure> {
    let frames = read_sources(factory, b, None)?;
    let out = super::exec::run(&b.flow.script, &b.params, &frames)
        .map_err(|e| exec_failure(&b.flow.resource.name, e))?;
    let mut staged = StagedFlow {
        rows_read: out.rows_read.clone(),
        sinks: Vec::new(),
    };
    match stage_frames(sinks, &out, run_id, &mut staged) {
        Ok(()) => Ok(staged),
        Err(e) => {
            staged.abort();
            Err(e)
        }
    }
}

/// Runs the flow with `step` read batch by batch (see [`super::batches`]): JSON sinks fed
/// by row-local steps are written as batches come, the rest of the flow runs once on what
/// the batches gathered. `None` when the source's files turn out not to be declared JSON
/// Lines; nothing is then left staged and the caller runs the flow whole.
fn run_batched(
    factory: &Factory,
    b: &Bound<'_>,
    sinks: &BTreeMap<String, io::SinkTarget>,
    step: &str,
    source: &io::LineSource,
    run_id: &str,
) -> Result<Option<StagedFlow>, CopyFailure> {
    let flow = b.flow.resource.name.as_str();
    let streams_sink = |sink: &str| {
        sinks.get(sink).is_some_and(|t| {
            t.naming.streams() && matches!(io::FileKind::of(&t.dataset), Ok(io::FileKind::Json))
        })
    };
    let batched = super::exec::Batched::plan(&b.flow.script, &b.params, step, &streams_sink)
        .map_err(|e| exec_failure(flow, e))?;
    let mut streamed = BTreeMap::new();
    let abort = |streamed: BTreeMap<String, io::StreamedSink>| {
        for (_, s) in streamed {
            s.abort();
        }
    };
    for name in batched.streamed_sinks() {
        match io::StreamedSink::open(&sinks[name], run_id) {
            Ok(s) => {
                streamed.insert(name.clone(), s);
            }
            Err(e) => {
                abort(streamed);
                return Err(e);
            }
        }
    }
    let others = match read_sources(factory, b, Some(step)) {
        Ok(frames) => frames,
        Err(e) => {
            abort(streamed);
            return Err(e);
        }
    };
    let started = Instant::now();
    let gathered = match super::batches::run(&batched, source, &mut streamed) {
        Ok(g) => g,
        Err(e) => {
            abort(streamed);
            return match e {
                super::batches::BatchError::NotLines(why) => {
                    tracing::warn!(
                        step,
                        "source `{step}`: {why}; reading it whole instead of batch by batch"
                    );
                    Ok(None)
                }
                super::batches::BatchError::Exec(e) => Err(exec_failure(flow, e)),
                super::batches::BatchError::Io(e) => Err(e),
            };
        }
    };
    let batches_took = started.elapsed();
    tracing::debug!(
        step,
        rows = gathered.rows_read,
        streamed = batched.streamed_sinks().len(),
        "read source `{step}` batch by batch in {batches_took:?}"
    );
    let out = match batched.finish(&others, gathered.frontier, gathered.rows_read) {
        Ok(out) => out,
        Err(e) => {
            abort(streamed);
            return Err(exec_failure(flow, e));
        }
    };
    let mut staged = StagedFlow {
        rows_read: out.rows_read.clone(),
        sinks: Vec::new(),
    };
    let mut result = stage_frames(sinks, &out, run_id, &mut staged);
    for (name, sink) in streamed {
        if result.is_err() {
            sink.abort();
            continue;
        }
        let rows = sink.rows;
        match sink.finish() {
            Ok(s) => staged.sinks.push((name, rows, s, batches_took)),
            Err(e) => result = Err(e),
        }
    }
    match result {
        Ok(()) => Ok(Some(staged)),
        Err(e) => {
            staged.abort();
            Err(e)
        }
    }
}

/// Runs an `ExecuteDataFlow` activity and returns its ADF-shaped output.
pub fn run_dataflow_activity(
    factory: &Factory,
    pipeline: &str,
    activity: &Activity,
    ctx: &ExprContext,
) -> Result<Json, CopyFailure> {
    let started = Instant::now();
    let b = bind(factory, pipeline, activity, ctx)?;

    // Office 365 sources were admitted by the runner's consent gate (consent::gate).

    // Sinks are resolved before anything is read, so a wrong dataset fails early.
    let mut sink_datasets = BTreeMap::new();
    for s in b.flow.script.statements.iter() {
        if !s.kind.text.eq_ignore_ascii_case("sink") || s.is_cache_sink() {
            continue;
        }
        let step = s.output.name.text.as_str();
        let ds = step_dataset(
            factory,
            &b,
            "sink",
            step,
            "mdflow writes Json, Parquet and DelimitedText datasets",
        )?;
        io::FileKind::of(&ds)?;
        let naming = sink_naming(s, &b.params, &ds)?;
        let append = !sink_truncates(s, &b.params)?;
        sink_datasets.insert(
            step.to_owned(),
            io::SinkTarget {
                dataset: ds,
                naming,
                append,
            },
        );
    }

    let staged = match batch_source(factory, &b)? {
        Some((step, source)) => {
            match run_batched(factory, &b, &sink_datasets, &step, &source, &ctx.run_id)? {
                Some(staged) => staged,
                None => run_whole(factory, &b, &sink_datasets, &ctx.run_id)?,
            }
        }
        None => run_whole(factory, &b, &sink_datasets, &ctx.run_id)?,
    };
    let StagedFlow {
        rows_read,
        sinks: staged,
    } = staged;
    let mut metrics = Map::new();
    let mut written = Map::new();
    let mut files = Vec::new();
    for (step, rows, s, took) in staged {
        let bytes = s.bytes;
        files.extend(s.commit()?);
        let feeding: Map<String, Json> = upstream_sources(&b.flow.script, &step)
            .into_iter()
            .map(|src| {
                let rows = rows_read.get(&src).copied().unwrap_or(0);
                (src, json!({"rowsRead": rows}))
            })
            .collect();
        metrics.insert(
            step.clone(),
            json!({
                "rowsWritten": rows,
                "bytesWritten": bytes,
                "sinkProcessingTime": took.as_millis() as u64,
                "sources": feeding,
            }),
        );
        written.insert(step.clone(), json!(rows));
    }
    let read: Map<String, Json> = rows_read
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    tracing::info!(
        activity = activity.name,
        dataflow = b.flow.resource.name,
        "data flow wrote {} sinks",
        written.len()
    );
    Ok(json!({
        "runStatus": {
            "computeAcquisitionDuration": 0,
            "metrics": metrics,
        },
        "rowsRead": read,
        "rowsWritten": written,
        "files": files,
        "effectiveIntegrationRuntime": "mdflow (local)",
        "duration": started.elapsed().as_secs_f64(),
    }))
}

/// The first `rows` rows at step `step` of a factory's data flow, read from the same
/// sources as the first `ExecuteDataFlow` activity that runs it (with its pipeline's
/// default parameters); nothing is written.
pub fn preview(
    factory: &Factory,
    flow: &str,
    step: &str,
    rows: usize,
) -> Result<DataFrame, CopyFailure> {
    let runs_it = |a: &&Activity| match &a.action {
        Action::ExecuteDataFlow(e) => e.dataflow.reference_name.eq_ignore_ascii_case(flow),
        _ => false,
    };
    let (pipeline, activity) = factory
        .pipelines
        .iter()
        .find_map(|p| p.def.activities.iter().find(runs_it).map(|a| (p, a)))
        .ok_or_else(|| {
            invalid(format!(
                "no pipeline runs data flow `{flow}`; preview binds sources as an \
                 ExecuteDataFlow activity does, so add one"
            ))
        })?;
    let ctx = ExprContext {
        parameters: pipeline.def.default_parameters(),
        run_id: "preview".into(),
        pipeline: pipeline.name.clone(),
        now: chrono::Utc::now(),
        ..ExprContext::default()
    };
    let mut b = bind(factory, &pipeline.name, activity, &ctx)?;
    if factory.settings.consent.enabled && reads_office365(factory, &b.flow) {
        return Err(CopyFailure::new(
            "UserErrorNotSupported",
            "this data flow reads Office 365 and consent is on; preview, like the activity, \
             needs consent.enabled false in mdflow.json (synthetic tenant only)",
        ));
    }

    // The step's rows are what a sink reading it would collect.
    let known = b.flow.script.statements.iter().any(|s| {
        let name = &s.output.name.text;
        name.eq_ignore_ascii_case(step)
            || step
                .split_once('@')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
    });
    if !known {
        let names: Vec<&str> = b
            .flow
            .script
            .statements
            .iter()
            .map(|s| s.output.name.text.as_str())
            .collect();
        return Err(invalid(format!(
            "data flow `{flow}` has no step `{step}`; its steps are: {}",
            names.join(", ")
        )));
    }
    let quoted = |n: &str| {
        if n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            n.to_owned()
        } else {
            format!("{{{n}}}")
        }
    };
    let stream = match step.split_once('@') {
        Some((n, o)) => format!("{}@{}", quoted(n), quoted(o)),
        None => quoted(step),
    };
    let text = format!(
        "{}\n{stream} sink() ~> __mdflow_preview",
        super::printer::print_script(&b.flow.script)
    );
    let (script, problems) = super::parse_script(&text);
    if let Some(p) = problems.first() {
        return Err(invalid(format!("step `{step}`: {}", p.message)));
    }
    b.flow.script = script;
    let frames = read_sources(factory, &b, None)?;
    let out = super::exec::run(&b.flow.script, &b.params, &frames)
        .map_err(|e| CopyFailure::new("DFExecutorUserError", e.to_string()))?;
    let frame = out
        .sinks
        .get("__mdflow_preview")
        .ok_or_else(|| invalid("the preview step produced nothing"))?;
    Ok(frame.head(Some(rows)))
}

/// Rows as JSON Lines, or as a table of the values JSON Lines would hold (Polars cannot
/// print zoned timestamps without a feature the workspace leaves off).
pub fn render_rows(frame: &DataFrame, json: bool) -> Result<String, String> {
    let mut out = Vec::new();
    mdflow_connectors::columnar::encode_frame(
        frame,
        None,
        mdflow_connectors::columnar::Layout::Lines,
        &mut out,
    )
    .map_err(|e| e.to_string())?;
    if json || frame.height() == 0 {
        return Ok(String::from_utf8_lossy(&out).into_owned());
    }
    use polars::prelude::{JsonFormat, JsonReader, SerReader};
    let table = JsonReader::new(std::io::Cursor::new(out))
        .with_json_format(JsonFormat::JsonLines)
        .finish()
        .map_err(|e| e.to_string())?;
    Ok(format!("{table}\n"))
}
