//! `mdflow runs list|show`: the records of earlier runs.

use std::path::PathBuf;
use std::process::ExitCode;

use mdflow_engine::runs::RunStore;

use super::invalid_input;

/// Where run records are read from.
#[derive(clap::Args)]
pub struct StateArgs {
    /// The factory whose runs to read (its `.mdflow/` folder); default: the current folder.
    #[arg(long, value_name = "FACTORY")]
    pub factory: Option<PathBuf>,
    /// The state folder, when runs were made with `--state-dir`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl StateArgs {
    /// The state folder these arguments name.
    pub fn state_dir(&self) -> PathBuf {
        match (&self.state_dir, &self.factory) {
            (Some(dir), _) => dir.clone(),
            (None, Some(factory)) => super::run::default_state_dir(factory),
            (None, None) => PathBuf::from(".mdflow"),
        }
    }
}

/// The runs subcommands.
#[derive(clap::Subcommand)]
pub enum RunsCommand {
    /// List recent pipeline runs, newest first.
    List {
        #[command(flatten)]
        state: StateArgs,
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one pipeline run and its activity runs.
    Show {
        /// The run id, as printed by `mdflow run` or `mdflow runs list`.
        run_id: String,
        #[command(flatten)]
        state: StateArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a runs subcommand.
pub fn run(command: RunsCommand) -> ExitCode {
    let state = match &command {
        RunsCommand::List { state, .. } | RunsCommand::Show { state, .. } => state.state_dir(),
    };
    let store = match RunStore::open_existing(&state) {
        Ok(Some(store)) => store,
        Ok(None) => {
            return invalid_input(format!(
                "no run records in {}; run a pipeline first, or pass --factory or --state-dir",
                state.display()
            ))
        }
        Err(e) => return invalid_input(e),
    };
    match command {
        RunsCommand::List { limit, json, .. } => {
            let runs = match store.list(limit) {
                Ok(runs) => runs,
                Err(e) => return invalid_input(e),
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&runs).unwrap_or_default()
                );
            } else {
                println!(
                    "{:<36}  {:<10}  {:<24}  {:>10}  pipeline",
                    "run id", "status", "start", "ms"
                );
                for run in runs {
                    println!(
                        "{:<36}  {:<10}  {:<24}  {:>10}  {}",
                        run.run_id,
                        run.status.as_str(),
                        run.run_start,
                        run.duration_in_ms
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                        run.pipeline_name
                    );
                }
            }
            ExitCode::SUCCESS
        }
        RunsCommand::Show { run_id, json, .. } => {
            let (run, activities) = match store.get(&run_id) {
                Ok(Some(found)) => found,
                Ok(None) => {
                    return invalid_input(format!(
                        "no run {run_id} in {}; `mdflow runs list` shows the runs there",
                        state.display()
                    ))
                }
                Err(e) => return invalid_input(e),
            };
            if json {
                let value = serde_json::json!({"run": run, "activities": activities});
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            } else {
                println!(
                    "run {} of pipeline {}: {}",
                    run.run_id,
                    run.pipeline_name,
                    run.status.as_str()
                );
                println!(
                    "  started {}, ended {}",
                    run.run_start,
                    run.run_end.unwrap_or_default()
                );
                if let Some(message) = &run.message {
                    println!("  message: {message}");
                }
                for activity in activities {
                    println!(
                        "  activity {} ({}): {}",
                        activity.activity_name,
                        activity.activity_type,
                        activity.status.as_str()
                    );
                    if !activity.output.is_null() {
                        println!("    output: {}", activity.output);
                    }
                    if !activity.error.is_null() {
                        println!("    error: {}", activity.error);
                    }
                }
            }
            ExitCode::SUCCESS
        }
    }
}
