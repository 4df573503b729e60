//! `mdflow run --resume`: a run killed once some mailboxes are checkpointed, then resumed,
//! publishes exactly the rows of an uninterrupted run, none twice; against the synthetic
//! tenant and against the emulator injecting faults.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{copy_tree, describe, mdflow, read_rows, root, serve, write_json, Serving};
use serde_json::{json, Value};

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const APP: &str = "resume-app";
const SECRET: &str = "resume-secret";
/// Mailboxes per checkpoint in these tests, so that checkpoints come early on any machine.
const CHECKPOINT_MAILBOXES: &str = "4";
/// The whole first half of 2024, so that a copy has enough to do to be killed midway.
const WINDOW_END: &str = "windowEnd=2024-07-01T00:00:00Z";

/// A copy of flows/quickstart at `dir/name` with a synthetic tenant of `users`.
fn synthetic_factory(dir: &Path, name: &str, users: u32, messages: u32) -> PathBuf {
    let factory = dir.join(name);
    copy_tree(&root().join("flows/quickstart"), &factory);
    let _ = std::fs::remove_dir_all(factory.join("lake"));
    let _ = std::fs::remove_dir_all(factory.join(".mdflow"));
    let service = factory.join("linkedService/SyntheticTenant.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    let synthetic = &mut json["properties"]["typeProperties"]["synthetic"];
    synthetic["users"] = users.into();
    synthetic["messagesPerUser"] = messages.into();
    write_json(&service, &json);
    factory
}

/// The same quickstart reading the emulator at `url` through the `graph` back-end.
fn graph_factory(dir: &Path, name: &str, url: &str) -> PathBuf {
    let factory = synthetic_factory(dir, name, 1, 1);
    write_json(
        &factory.join("linkedService/SyntheticTenant.json"),
        &json!({"name": "SyntheticTenant", "properties": {"type": "Office365",
            "typeProperties": {"office365TenantId": TENANT, "servicePrincipalId": APP,
                "servicePrincipalKey": {"type": "SecureString", "value": SECRET},
                "graphEndpoint": url, "authorityHost": url, "maxRetries": 20}}}),
    );
    write_json(
        &factory.join("mdflow.json"),
        &json!({"consent": {"approvers": ["dana@contoso.com"]}}),
    );

    // A real tenant extracts under an approved data access request: ask, then approve.
    let f = factory.to_str().unwrap();
    let out = mdflow(["run", f, "--json", "--param", WINDOW_END]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let out = mdflow(["consent", "list", "--factory", f, "--json"]);
    let requests: Value = serde_json::from_slice(&out.stdout).unwrap();
    for request in requests.as_array().unwrap() {
        let id = request["id"].as_str().unwrap();
        let approver = ["--as", "dana@contoso.com", "--factory", f];
        let out = mdflow([&["consent", "approve", id][..], &approver[..]].concat());
        assert!(out.status.success(), "{}", describe(&out));
    }
    factory
}

/// `mdflow run` in the background, checkpointing every few mailboxes.
fn spawn_run(factory: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args([
            "run",
            factory.to_str().unwrap(),
            "--json",
            "--param",
            WINDOW_END,
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .env("MDFLOW_CHECKPOINT_MAILBOXES", CHECKPOINT_MAILBOXES)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mdflow binary runs")
}

/// Runs to the end and returns the printed result.
fn run_to_end(factory: &Path, extra: &[&str]) -> Value {
    let out = spawn_run(factory, extra).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Starts a run and kills it (SIGKILL) once one worker has closed two checkpoints; returns
/// its run id.
fn run_and_kill(factory: &Path) -> String {
    let mut child = spawn_run(factory, &[]);
    let staging = factory.join("lake/raw/_mdflow_staging");
    let deadline = Instant::now() + Duration::from_secs(120);
    // A worker opens part N+1 only after part N is closed and checkpointed.
    let checkpointed = || {
        std::fs::read_dir(&staging)
            .into_iter()
            .flatten()
            .flatten()
            .any(|run| {
                std::fs::read_dir(run.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|f| f.file_name().to_string_lossy().starts_with("part-00002-"))
            })
    };
    while !checkpointed() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "no checkpoint within two minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !factory.join("lake/raw/office365/messages/finance").exists(),
        "a killed run published its output"
    );

    let out = mdflow([
        "runs",
        "list",
        "--factory",
        factory.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs[0]["status"], "InProgress", "{runs}");
    runs[0]["runId"].as_str().unwrap().to_owned()
}

/// The published rows, each as its JSON text, sorted.
fn sorted_rows(factory: &Path) -> Vec<String> {
    let mut rows: Vec<String> = read_rows(&factory.join("lake/raw/office365/messages/finance"))
        .iter()
        .map(Value::to_string)
        .collect();
    rows.sort();
    rows
}

/// Kills a run midway, resumes it, and checks the rows against an uninterrupted run's.
fn killed_and_resumed_matches(whole: &Path, killed: &Path) {
    let uninterrupted = run_to_end(whole, &[]);
    assert_eq!(uninterrupted["status"], "Succeeded", "{uninterrupted}");
    let expected = sorted_rows(whole);
    assert!(expected.len() > 100, "only {} rows", expected.len());
    let mut unique = expected.clone();
    unique.dedup();
    assert_eq!(
        unique.len(),
        expected.len(),
        "the tenant has duplicate rows"
    );

    let stopped = run_and_kill(killed);
    let resumed = run_to_end(killed, &["--resume", &stopped]);
    assert_eq!(resumed["status"], "Succeeded", "{resumed}");
    let source = &resumed["activities"][0]["output"]["executionDetails"][0]["source"];
    assert!(
        source["mailboxesResumed"].as_u64().unwrap() >= 2,
        "the resumed run extracted everything again: {source}"
    );
    let output = &resumed["activities"][0]["output"];
    assert_eq!(output["rowsCopied"], expected.len() as u64);

    let actual = sorted_rows(killed);
    assert_eq!(actual.len(), expected.len(), "row counts differ");
    assert!(actual == expected, "the resumed run's rows differ");
    assert!(!killed
        .join("lake/raw/_mdflow_staging")
        .read_dir()
        .unwrap()
        .any(|_| true));

    // The stopped run is closed and the new one says which run it resumed.
    let factory_arg = killed.to_str().unwrap();
    let out = mdflow(["runs", "show", &stopped, "--factory", factory_arg, "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["run"]["status"], "Cancelled", "{shown}");
    let run_id = resumed["runId"].as_str().unwrap();
    let out = mdflow(["runs", "show", run_id, "--factory", factory_arg, "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["run"]["resumedFrom"], stopped.as_str(), "{shown}");
    assert_eq!(
        shown["run"]["parameters"]["windowEnd"],
        "2024-07-01T00:00:00Z"
    );
}

#[test]
fn a_killed_run_resumed_gives_exactly_the_rows_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = synthetic_factory(dir.path(), "whole", 3000, 30);
    let killed = synthetic_factory(dir.path(), "killed", 3000, 30);
    killed_and_resumed_matches(&whole, &killed);
}

fn start_emulator() -> (Serving, String) {
    let serving = serve(|command| {
        command
            .args(["--users", "400", "--messages-per-user", "12", "--seed", "7"])
            .args([
                "--tenant-id",
                TENANT,
                "--client-id",
                APP,
                "--client-secret",
                SECRET,
            ])
            .args([
                "--fault-rate",
                "0.2",
                "--fault-seed",
                "3",
                "--retry-after",
                "0",
            ])
            .args(["--latency-ms", "3"])
    });
    let url = serving.url.clone();
    (serving, url)
}

#[test]
fn a_killed_run_resumed_against_the_faulty_emulator_gives_exactly_the_rows() {
    let (_serving, url) = start_emulator();
    let dir = tempfile::tempdir().unwrap();
    let whole = graph_factory(dir.path(), "whole", &url);
    let killed = graph_factory(dir.path(), "killed", &url);
    killed_and_resumed_matches(&whole, &killed);
}

#[test]
fn resuming_an_unknown_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let factory = synthetic_factory(dir.path(), "f", 5, 2);
    let factory_arg = factory.to_str().unwrap();
    let out = mdflow(["run", factory_arg, "--resume", "no-such-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--resume no-such-run: no such run"),
        "{stderr}"
    );

    // Nor is a run that succeeded: nothing is missing from it.
    let out = mdflow(["run", factory_arg, "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = mdflow([
        "run",
        factory_arg,
        "--resume",
        done["runId"].as_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing is missing"));
}
