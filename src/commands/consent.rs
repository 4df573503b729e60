//! `mdflow consent list|approve|deny|log`: data access requests and their decisions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mdflow_engine::clock;
use mdflow_engine::consent::store::Decision;
use mdflow_engine::consent::{ConsentRequest, ConsentStore};
use mdflow_engine::factory::settings::{self, SETTINGS_FILE};

use super::invalid_input;
use super::runs::StateArgs;

/// The consent subcommands.
#[derive(clap::Subcommand)]
pub enum ConsentCommand {
    /// List data access requests, newest first: pending ones, or all with --all.
    List {
        #[command(flatten)]
        state: StateArgs,
        /// Show decided and expired requests too.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending request (a member of the approver group, not the requester).
    Approve {
        /// The request id, as `mdflow run` or `mdflow consent list` prints it.
        id: String,
        /// Who approves: an identity of the factory's approver group.
        #[arg(long = "as", value_name = "IDENTITY")]
        identity: String,
        #[command(flatten)]
        state: StateArgs,
        /// Print the request as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deny a pending request.
    Deny {
        /// The request id.
        id: String,
        /// Who denies: an identity of the factory's approver group.
        #[arg(long = "as", value_name = "IDENTITY")]
        identity: String,
        /// Why, for the requester and the log.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        state: StateArgs,
        /// Print the request as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every request, decision, refused attempt and expiry, oldest first.
    Log {
        #[command(flatten)]
        state: StateArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a consent subcommand.
pub fn run(command: ConsentCommand) -> ExitCode {
    let state = match &command {
        ConsentCommand::List { state, .. }
        | ConsentCommand::Approve { state, .. }
        | ConsentCommand::Deny { state, .. }
        | ConsentCommand::Log { state, .. } => state,
    };
    let dir = state.state_dir();
    let store = match ConsentStore::open_existing(&dir) {
        Ok(Some(store)) => store,
        Ok(None) => {
            return invalid_input(format!(
                "no records in {}; run a pipeline first, or pass --factory or --state-dir",
                dir.display()
            ))
        }
        Err(e) => return invalid_input(e),
    };
    let now = clock::now();
    match command {
        ConsentCommand::List { all, json, .. } => match store.list(now, all) {
            Ok(requests) if json => print_json(&requests),
            Ok(requests) => {
                if requests.is_empty() {
                    println!("no {}requests", if all { "" } else { "pending " });
                }
                for r in &requests {
                    print_request(r);
                }
                ExitCode::SUCCESS
            }
            Err(e) => invalid_input(e),
        },
        ConsentCommand::Log { json, .. } => match store.log(now) {
            Ok(entries) if json => print_json(&entries),
            Ok(entries) => {
                for e in entries {
                    println!(
                        "{}  {:<9}  {}  by {}{}",
                        e.at,
                        e.action,
                        e.request_id,
                        e.actor,
                        e.detail.map(|d| format!(": {d}")).unwrap_or_default()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => invalid_input(e),
        },
        ConsentCommand::Approve {
            id,
            identity,
            state,
            json,
        } => decide(&store, &id, Decision::Approve, &identity, &state, json, now),
        ConsentCommand::Deny {
            id,
            identity,
            reason,
            state,
            json,
        } => decide(
            &store,
            &id,
            Decision::Deny(reason),
            &identity,
            &state,
            json,
            now,
        ),
    }
}

fn decide(
    store: &ConsentStore,
    id: &str,
    decision: Decision,
    identity: &str,
    state: &StateArgs,
    json: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> ExitCode {
    let request = match store.get(id, now) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return invalid_input(mdflow_engine::consent::ConsentError::NotFound(id.into()))
        }
        Err(e) => return invalid_input(e),
    };
    // The approver group of the factory named here, else of the factory that asked.
    let root = match &state.factory {
        Some(f) if f.is_file() => f.parent().unwrap_or(Path::new(".")).to_path_buf(),
        Some(f) => f.clone(),
        None => PathBuf::from(&request.factory),
    };
    let mut problems = Vec::new();
    let loaded = settings::load(&root, &mut problems);
    if let Some(problem) = problems
        .iter()
        .find(|d| d.severity == mdflow_engine::diagnostic::Severity::Error)
    {
        return invalid_input(problem);
    }
    let settings_file = root.join(SETTINGS_FILE).display().to_string();
    match store.decide(
        id,
        &decision,
        identity,
        &loaded.consent,
        &settings_file,
        now,
    ) {
        Ok(decided) if json => print_json(&decided),
        Ok(decided) => {
            println!(
                "request {} {} by {} at {}",
                decided.id,
                decided.status.as_str().to_lowercase(),
                identity.trim(),
                clock::format(now)
            );
            if decided.status == mdflow_engine::consent::ConsentStatus::Approved {
                println!(
                    "  copies of this context run until {}; run the pipeline again",
                    clock::format(decided.expires_at())
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => invalid_input(e),
    }
}

fn print_request(r: &ConsentRequest) {
    let c = &r.context;
    println!(
        "{}  {:<8}  {} of {}",
        r.id,
        r.status.as_str(),
        c.table,
        c.tenant
    );
    println!(
        "    pipeline {}, activity {}, asked by {} at {}",
        c.pipeline,
        c.activity,
        c.identity,
        clock::format(r.requested_at)
    );
    let columns = c
        .columns
        .as_ref()
        .map_or("all".to_owned(), |c| c.join(", "));
    println!("    columns: {columns}");
    println!(
        "    users: {}; destination: {}",
        c.user_scope, c.destination
    );
    if let (Some(who), Some(at)) = (&r.decided_by, r.decided_at) {
        let why = r.reason.as_deref().map(|why| format!(": {why}"));
        println!(
            "    {} by {who} at {}{}",
            r.status.as_str().to_lowercase(),
            clock::format(at),
            why.unwrap_or_default()
        );
    }
    println!("    expires {}", clock::format(r.expires_at()));
}

fn print_json<T: serde::Serialize>(value: &T) -> ExitCode {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
    ExitCode::SUCCESS
}
