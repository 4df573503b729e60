//! Runs a pipeline: validates the factory, binds parameters, runs the activities in
//! `dependsOn` order and records every step in the run store.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use mdflow_connectors::catalog::Catalog;
use serde_json::{json, Value};

use crate::consent::{ConsentError, ConsentGate, ConsentOptions, Held};
use crate::copy::{run_copy_with, CopyCheckpoints, CopyProgress};
use crate::diagnostic::{Diagnostic, Severity};
use crate::expr::ExprContext;
use crate::factory::pipeline::{Action, Activity, CopySource, Pipeline};
use crate::factory::{self, Factory};
use crate::runs::{ActivityRun, Checkpoint, PipelineRun, RunStatus, RunStore, RunStoreError};
use crate::schedule;

/// What to run.
pub struct RunRequest<'a> {
    /// The factory folder.
    pub factory: &'a Path,
    /// The pipeline; may be `None` when the factory has exactly one.
    pub pipeline: Option<&'a str>,
    /// Parameter values as given on the command line, `name` and text.
    pub params: Vec<(String, String)>,
    /// Where run records go.
    pub state_dir: PathBuf,
    /// Who asks for data access, and whether to wait for a decision (docs/security.md).
    pub consent: ConsentOptions,
    /// A stopped run to resume: its parameters are used again (`params` override them), its
    /// succeeded activities are not run again, and its copies extract only the mailboxes
    /// they had not checkpointed.
    pub resume: Option<String>,
}

/// Why a run could not start. A run that starts and fails is an `Ok` outcome with status
/// `Failed`.
#[derive(Debug)]
pub enum RunError {
    /// The factory has errors; nothing ran.
    Invalid(Vec<Diagnostic>),
    /// A pipeline or parameter problem, with the fix in the message.
    Request(String),
    /// The run store cannot be used.
    Store(RunStoreError),
    /// The consent records cannot be used.
    Consent(ConsentError),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Invalid(d) => write!(f, "the factory has {} problems", d.len()),
            RunError::Request(message) => f.write_str(message),
            RunError::Store(e) => write!(f, "{e}"),
            RunError::Consent(e) => write!(f, "{e}"),
        }
    }
}

impl From<ConsentError> for RunError {
    fn from(e: ConsentError) -> Self {
        RunError::Consent(e)
    }
}

impl From<RunStoreError> for RunError {
    fn from(e: RunStoreError) -> Self {
        RunError::Store(e)
    }
}

/// One activity's result.
#[derive(Debug, Clone)]
pub struct ActivityOutcome {
    /// The activity's name.
    pub name: String,
    /// Its type.
    pub kind: String,
    /// Its final status.
    pub status: RunStatus,
    /// Its ADF-shaped output.
    pub output: Value,
    /// Its error message, when it failed.
    pub error: Option<String>,
}

/// A finished pipeline run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run id.
    pub run_id: String,
    /// The pipeline.
    pub pipeline: String,
    /// Succeeded or Failed.
    pub status: RunStatus,
    /// Every activity, in the order they were decided.
    pub activities: Vec<ActivityOutcome>,
}

impl RunOutcome {
    /// The result as printed by `mdflow run --json`.
    pub fn to_json(&self) -> Value {
        json!({
            "runId": self.run_id,
            "pipelineName": self.pipeline,
            "status": self.status.as_str(),
            "activities": self.activities.iter().map(|a| json!({
                "activityName": a.name,
                "activityType": a.kind,
                "status": a.status.as_str(),
                "output": a.output,
                "error": a.error,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Validates, binds and runs a pipeline.
pub fn run_pipeline(
    request: &RunRequest<'_>,
    progress: &dyn CopyProgress,
) -> Result<RunOutcome, RunError> {
    let (factory, mut diagnostics) = factory::load::load(request.factory);
    diagnostics.extend(crate::validate::validate(&factory, Catalog::builtin()));
    let errors: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(RunError::Invalid(errors));
    }

    let store = RunStore::open(&request.state_dir)?;
    let resumed = match &request.resume {
        Some(id) => Some(resumable_run(&store, id, &request.state_dir)?),
        None => None,
    };
    let wanted = request
        .pipeline
        .or(resumed.as_ref().map(|r| r.run.pipeline_name.as_str()));
    let pipeline = choose_pipeline(&factory, wanted)?;
    let mut given = resumed
        .as_ref()
        .map_or_else(Vec::new, |r| recorded_parameters(&r.run.parameters));
    given.extend(request.params.iter().cloned());
    let parameters = bind_parameters(&pipeline.def, &pipeline.name, &given)?;
    let gate = ConsentGate::new(
        &factory,
        &request.state_dir,
        request.factory,
        request.consent.clone(),
    )?;
    // SecureString parameters are masked in the record; expressions still see the value.
    let run_id = store.begin_pipeline_run(
        &request.factory.display().to_string(),
        &pipeline.name,
        &crate::secrets::mask_parameters(&pipeline.def.parameters, &parameters),
    )?;
    if let Some(previous) = &resumed {
        store.link_resumed(&run_id, &previous.run.run_id)?;
    }
    tracing::info!(run_id, pipeline = pipeline.name, "pipeline run started");
    let context = ExprContext {
        parameters,
        run_id: run_id.clone(),
        pipeline: pipeline.name.clone(),
        now: Utc::now(),
        ..ExprContext::default()
    };

    let activities = &pipeline.def.activities;
    let names: Vec<&str> = activities.iter().map(|a| a.name.as_str()).collect();
    let depends: Vec<Vec<&str>> = activities
        .iter()
        .map(|a| a.depends_on.iter().map(|(d, _)| d.as_str()).collect())
        .collect();
    let order = schedule::order(&names, &depends)
        .ok_or_else(|| RunError::Request("the activities' dependsOn form a cycle".into()))?;

    let mut statuses = vec![RunStatus::Queued; activities.len()];
    let mut outcomes = Vec::with_capacity(activities.len());
    for index in order {
        let activity = &activities[index];
        let status_of = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .map_or(RunStatus::Skipped, |i| statuses[i])
        };
        // A dependency held for consent has not finished: its dependents wait, unstarted.
        let held = activity
            .depends_on
            .iter()
            .any(|(d, _)| matches!(status_of(d), RunStatus::InProgress | RunStatus::Queued));
        let succeeded_before = resumed.as_ref().and_then(|r| {
            r.activities
                .iter()
                .find(|a| a.activity_name == activity.name && a.status == RunStatus::Succeeded)
        });
        let outcome = if let Some(before) = succeeded_before {
            // Done by the resumed run; its output stands.
            let id = store.begin_activity(&run_id, &activity.name, &activity.kind, &Value::Null)?;
            store.finish_activity(&id, RunStatus::Succeeded, &before.output, &Value::Null)?;
            ActivityOutcome {
                name: activity.name.clone(),
                kind: activity.kind.clone(),
                status: RunStatus::Succeeded,
                output: before.output.clone(),
                error: None,
            }
        } else if held {
            let id = store.begin_activity(&run_id, &activity.name, &activity.kind, &Value::Null)?;
            store.finish_activity(&id, RunStatus::Queued, &Value::Null, &Value::Null)?;
            ActivityOutcome {
                name: activity.name.clone(),
                kind: activity.kind.clone(),
                status: RunStatus::Queued,
                output: Value::Null,
                error: None,
            }
        } else if schedule::should_run(&activity.depends_on, status_of) {
            run_activity(
                &store,
                &factory,
                &pipeline.name,
                activity,
                &context,
                progress,
                &gate,
            )?
        } else {
            let id = store.begin_activity(&run_id, &activity.name, &activity.kind, &Value::Null)?;
            store.finish_activity(&id, RunStatus::Skipped, &Value::Null, &Value::Null)?;
            ActivityOutcome {
                name: activity.name.clone(),
                kind: activity.kind.clone(),
                status: RunStatus::Skipped,
                output: Value::Null,
                error: None,
            }
        };
        statuses[index] = outcome.status;
        outcomes.push(outcome);
    }

    let dependency_indices: Vec<Vec<_>> = activities
        .iter()
        .map(|a| {
            a.depends_on
                .iter()
                .filter_map(|(d, c)| names.iter().position(|n| n == d).map(|i| (i, c.clone())))
                .collect()
        })
        .collect();
    let status = match schedule::pipeline_status(&statuses, &dependency_indices) {
        // Nothing failed, but an activity waits for consent: so does the run.
        RunStatus::Succeeded if statuses.contains(&RunStatus::InProgress) => RunStatus::InProgress,
        status => status,
    };
    let message = outcomes.iter().find_map(|o| o.error.clone());
    store.finish_pipeline_run(&run_id, status, message.as_deref())?;
    tracing::info!(run_id, status = status.as_str(), "pipeline run finished");
    Ok(RunOutcome {
        run_id,
        pipeline: pipeline.name.clone(),
        status,
        activities: outcomes,
    })
}

/// A recorded run that `--resume` can continue.
struct Resumed {
    run: PipelineRun,
    activities: Vec<ActivityRun>,
}

fn resumable_run(store: &RunStore, id: &str, state_dir: &Path) -> Result<Resumed, RunError> {
    let Some((run, activities)) = store.get(id)? else {
        return Err(RunError::Request(format!(
            "--resume {id}: no such run in {}; `mdflow runs list` shows the runs recorded there",
            state_dir.display()
        )));
    };
    if run.status == RunStatus::Succeeded {
        return Err(RunError::Request(format!(
            "--resume {id}: the run succeeded, nothing is missing; rerun without --resume"
        )));
    }
    Ok(Resumed { run, activities })
}

/// A recorded run's parameters as `name=text` pairs; masked secure strings are left out
/// (the pipeline's default applies, or pass them again with --param).
fn recorded_parameters(recorded: &Value) -> Vec<(String, String)> {
    let Some(map) = recorded.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(_, v)| v.as_str() != Some(crate::secrets::REDACTED))
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}

/// An Office 365 copy whose completed mailboxes are checkpointed in the run store; when
/// resuming, the stopped run's checkpoints are reused. Checkpoints of a published output
/// are dropped.
fn checkpointed_copy(
    store: &RunStore,
    plan: &factory::resolve::CopyPlan,
    activity: &str,
    context: &ExprContext,
    progress: &dyn CopyProgress,
) -> Result<Result<Value, (&'static str, String)>, RunError> {
    let run_id = context.run_id.as_str();
    let record = |c: &Checkpoint| {
        store
            .add_checkpoint(run_id, activity, c)
            .map_err(|e| e.to_string())
    };
    let resume = match store.resumed_from(run_id)? {
        Some(previous) => {
            let done = store.checkpoints(&previous, activity)?;
            Some((previous, done))
        }
        None => None,
    };
    let checkpoints = CopyCheckpoints {
        record: &record,
        resume,
    };
    let result = run_copy_with(plan, run_id, progress, Some(&checkpoints));
    if result.is_ok() {
        store.clear_checkpoints(run_id, activity)?;
    }
    Ok(result.map_err(|f| (f.code, f.message)))
}

fn choose_pipeline<'f>(
    factory: &'f Factory,
    wanted: Option<&str>,
) -> Result<&'f factory::Resource<Pipeline>, RunError> {
    let names = factory::pipeline_names(factory);
    match wanted {
        Some(name) => factory.pipeline(name).ok_or_else(|| {
            RunError::Request(format!(
                "no pipeline `{name}` in the factory; it has: {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ))
        }),
        None => match factory.pipelines.as_slice() {
            [only] => Ok(only),
            [] => Err(RunError::Request(
                "the factory has no pipeline; add one under pipeline/".into(),
            )),
            _ => Err(RunError::Request(format!(
                "the factory has several pipelines ({}); choose one with --pipeline",
                names.join(", ")
            ))),
        },
    }
}

/// Default values overridden by the command line, converted to the declared types.
fn bind_parameters(
    pipeline: &Pipeline,
    pipeline_name: &str,
    given: &[(String, String)],
) -> Result<BTreeMap<String, Value>, RunError> {
    let mut bound = pipeline.default_parameters();
    for (name, text) in given {
        let Some((declared, spec)) = pipeline
            .parameters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        else {
            let known: Vec<&str> = pipeline.parameters.keys().map(String::as_str).collect();
            return Err(RunError::Request(format!(
                "pipeline {pipeline_name} has no parameter `{name}`; its parameters are: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let kind = spec
            .kind
            .as_deref()
            .unwrap_or("String")
            .to_ascii_lowercase();
        let bad = |expected: &str| {
            RunError::Request(format!(
                "--param {declared}={text}: the parameter is of type {kind}; give {expected}"
            ))
        };
        let value = match kind.as_str() {
            "int" => text
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad("a whole number"))?,
            "float" => text
                .trim()
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| bad("a number"))?,
            "bool" => match text.trim().to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad("true or false")),
            },
            "array" | "object" => serde_json::from_str(text).map_err(|_| bad("JSON"))?,
            _ => Value::String(text.clone()),
        };
        bound.insert(declared.clone(), value);
    }
    let missing: Vec<&str> = pipeline
        .parameters
        .keys()
        .filter(|name| !bound.contains_key(*name))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(RunError::Request(format!(
            "pipeline {pipeline_name} needs values for {}; pass --param NAME=VALUE",
            missing.join(", ")
        )));
    }
    Ok(bound)
}

fn run_activity(
    store: &RunStore,
    factory: &Factory,
    pipeline: &str,
    activity: &Activity,
    context: &ExprContext,
    progress: &dyn CopyProgress,
    gate: &ConsentGate<'_>,
) -> Result<ActivityOutcome, RunError> {
    let id = store.begin_activity(
        &context.run_id,
        &activity.name,
        &activity.kind,
        &Value::Null,
    )?;
    tracing::info!(
        activity = activity.name,
        kind = activity.kind,
        "activity started"
    );
    // Office 365 copies extract only under an approved data access request.
    let refused = match gate.admit(pipeline, activity, context)? {
        Some(Held::Waiting { output, .. }) => {
            store.finish_activity(&id, RunStatus::InProgress, &output, &Value::Null)?;
            return Ok(ActivityOutcome {
                name: activity.name.clone(),
                kind: activity.kind.clone(),
                status: RunStatus::InProgress,
                output,
                error: None,
            });
        }
        Some(Held::Refused { code, message }) => Some((code, message)),
        None => None,
    };
    let result: Result<Value, (&str, String)> = match &activity.action {
        Action::Copy(copy) if matches!(copy.source, CopySource::Office365(_)) => match refused {
            Some(refusal) => Err(refusal),
            None => match factory::resolve::resolve_copy(factory, pipeline, &activity.name, context) {
                Ok(plan) => checkpointed_copy(store, &plan, &activity.name, context, progress)?,
                Err(d) => Err(("UserErrorInvalidDefinition", format!("{}: {}", d.message, d.fix))),
            },
        },
        // A copy from the lake into another store (docs/stores.md).
        Action::Copy(_) => {
            crate::chained_copy::run_chained_copy(factory, pipeline, activity, context)
                .map_err(|f| (f.code, f.message))
        }
        // A mapping data flow (docs/dataflows.md); its Office 365 sources were admitted.
        Action::ExecuteDataFlow(_) => match refused {
            Some(refusal) => Err(refusal),
            None => crate::dataflow::activity::run_dataflow_activity(
                factory, pipeline, activity, context,
            )
            .map_err(|f| (f.code, f.message)),
        },
        _ => Err((
            "UserErrorNotSupported",
            format!(
                "activity `{}` of type {} is not supported yet; docs/limitations.md lists what runs",
                activity.name, activity.kind
            ),
        )),
    };
    let (status, output, error) = match result {
        Ok(output) => (RunStatus::Succeeded, output, None),
        Err((code, message)) => (RunStatus::Failed, Value::Null, Some((code, message))),
    };
    let error_json = match &error {
        Some((code, message)) => json!({
            "errorCode": code, "message": message, "failureType": "UserError", "target": activity.name,
        }),
        None => Value::Null,
    };
    store.finish_activity(&id, status, &output, &error_json)?;
    match &error {
        Some((_, message)) => {
            tracing::error!(activity = activity.name, "activity failed: {message}")
        }
        None => tracing::info!(activity = activity.name, "activity succeeded"),
    }
    Ok(ActivityOutcome {
        name: activity.name.clone(),
        kind: activity.kind.clone(),
        status,
        output,
        error: error.map(|(_, m)| m),
    })
}
