//! `mdflow run FACTORY`: runs a pipeline and records it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use mdflow_engine::consent::ConsentOptions;
use mdflow_engine::copy::CopyProgress;
use mdflow_engine::runner::{run_pipeline, RunError, RunRequest};
use mdflow_engine::runs::RunStatus;

use super::{invalid_input, RUN_FAILED};

/// Arguments of `mdflow run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The factory folder (ADF Git layout).
    pub factory: PathBuf,
    /// The pipeline to run; may be left out when the factory has only one.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// A pipeline parameter, `name=value`; repeat for more.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Where run records go (default: `.mdflow/` in the factory).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print the run result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Who runs, for data access requests on the synthetic tenant (default:
    /// $MDFLOW_IDENTITY, else the login name); a real tenant asks as its service principal.
    #[arg(long = "as", value_name = "IDENTITY")]
    pub identity: Option<String>,
    /// Wait for a decision on data access requests instead of ending in progress.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (the run stays in progress).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 86_400,
        requires = "wait"
    )]
    pub wait_timeout: u64,
    /// Resume a stopped (killed or failed) run: its parameters are used again (--param
    /// overrides them) and its copies extract only the mailboxes it had not completed.
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
}

/// The state folder of a factory when `--state-dir` is not given.
pub fn default_state_dir(factory: &Path) -> PathBuf {
    let folder = if factory.is_file() {
        factory.parent().unwrap_or(Path::new("."))
    } else {
        factory
    };
    folder.join(".mdflow")
}

/// Runs the command.
pub fn run(args: RunArgs) -> ExitCode {
    let mut params = Vec::with_capacity(args.params.len());
    for param in &args.params {
        match param.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                params.push((name.trim().to_owned(), value.to_owned()))
            }
            _ => {
                return invalid_input(format!(
                "--param `{param}` is not `name=value`; for example --param windowStart=2024-01-01"
            ))
            }
        }
    }
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| default_state_dir(&args.factory));
    let request = RunRequest {
        factory: &args.factory,
        pipeline: args.pipeline.as_deref(),
        params,
        state_dir,
        consent: ConsentOptions {
            identity: args.identity.clone(),
            wait: args
                .wait
                .then(|| std::time::Duration::from_secs(args.wait_timeout)),
        },
        resume: args.resume.clone(),
    };
    let progress = Progress::new();
    let result = run_pipeline(&request, &progress);
    progress.finish();
    match result {
        Ok(outcome) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&outcome.to_json()).unwrap_or_default()
                );
            } else {
                println!(
                    "run {} of pipeline {}: {}",
                    outcome.run_id,
                    outcome.pipeline,
                    outcome.status.as_str()
                );
                for activity in &outcome.activities {
                    let waiting = activity.output.pointer("/executionDetails/0/message");
                    let detail = match (&activity.error, activity.output.get("rowsCopied")) {
                        (Some(error), _) => format!(": {error}"),
                        (None, None) if activity.status == RunStatus::InProgress => waiting
                            .and_then(|m| m.as_str())
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default(),
                        (None, Some(rows)) => format!(
                            ": {rows} rows, {} bytes, {} files",
                            activity.output["dataWritten"], activity.output["filesWritten"]
                        ),
                        _ => String::new(),
                    };
                    println!(
                        "  {} ({}): {}{detail}",
                        activity.name,
                        activity.kind,
                        activity.status.as_str()
                    );
                }
                println!(
                    "details: mdflow runs show {} --factory {}",
                    outcome.run_id,
                    args.factory.display()
                );
            }
            if outcome.status == RunStatus::Succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(RUN_FAILED)
            }
        }
        Err(RunError::Invalid(diagnostics)) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            eprintln!("the factory has problems; nothing ran (see `mdflow validate`)");
            ExitCode::from(super::INVALID_INPUT)
        }
        Err(e) => invalid_input(e),
    }
}

/// A bar on a terminal; plain log lines (through `tracing`) everywhere else.
struct Progress {
    bar: Option<ProgressBar>,
    owners: AtomicU64,
    done: AtomicU64,
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {pos}/{len} mailboxes  {msg}  {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            owners: AtomicU64::new(0),
            done: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl CopyProgress for Progress {
    fn started(&self, owners: u64) {
        self.owners.store(owners, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(owners);
            bar.set_position(0);
        }
    }

    fn owner_done(&self, rows: u64, bytes: u64) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let rows = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let bytes = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let owners = self.owners.load(Ordering::Relaxed);
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{rows} rows, {:.1} MB", bytes as f64 / 1e6));
            }
            // About ten lines per copy in logs, not one per mailbox.
            None if done == owners || done % (owners / 10).max(1) == 0 => {
                tracing::info!(
                    mailboxes_done = done,
                    mailboxes = owners,
                    rows,
                    bytes,
                    "copy progress"
                );
            }
            None => {}
        }
    }
}
