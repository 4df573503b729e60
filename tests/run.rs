//! `mdflow run` end to end: the quickstart factory (at a smaller tenant size), its output
//! checked against an independent extract of the same tenant, run records, reruns and a
//! killed run.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    copy_tree, describe, files_under, generate_quickstart_tenant, json_files, mdflow, read_rows,
    root,
};
use serde_json::Value;

/// A copy of flows/quickstart whose synthetic tenant has `users` and `messages` per user.
fn quickstart_copy(dir: &Path, users: u32, messages: u32) -> std::path::PathBuf {
    let factory = dir.join("quickstart");
    copy_tree(&root().join("flows/quickstart"), &factory);
    let _ = std::fs::remove_dir_all(factory.join("lake"));
    let _ = std::fs::remove_dir_all(factory.join(".mdflow"));
    let service = factory.join("linkedService/SyntheticTenant.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    let synthetic = &mut json["properties"]["typeProperties"]["synthetic"];
    synthetic["users"] = users.into();
    synthetic["messagesPerUser"] = messages.into();
    std::fs::write(&service, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    factory
}

fn run_json(factory: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["run", factory.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = mdflow(&args);
    assert!(out.status.success(), "{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Finance rows of March 2024, counted from `tenant generate` output rather than by the
/// copy activity.
fn expected_finance_march(dir: &Path, users: u32, messages: u32) -> usize {
    let (messages, users) = generate_quickstart_tenant(dir, users, messages);
    let finance: HashSet<String> = users
        .into_iter()
        .filter(|u| u["department"] == "Finance")
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!finance.is_empty());
    messages
        .iter()
        .filter(|m| finance.contains(m["puser"].as_str().unwrap()))
        .filter(|m| {
            let t = m["receivedDateTime"].as_str().unwrap();
            ("2024-03-01".."2024-04-01").contains(&t)
        })
        .count()
}

#[test]
fn the_quickstart_copies_what_the_tenant_holds_and_reruns_replace() {
    let dir = tempfile::tempdir().unwrap();
    let factory = quickstart_copy(dir.path(), 80, 15);
    let expected = expected_finance_march(dir.path(), 80, 15);
    assert!(expected > 0);

    let result = run_json(&factory, &[]);
    assert_eq!(result["status"], "Succeeded", "{result}");
    let output = &result["activities"][0]["output"];
    assert_eq!(output["rowsCopied"], expected as u64, "{result}");
    assert_eq!(output["rowsRead"], expected as u64);

    let lake = factory.join("lake/raw/office365/messages/finance");
    let rows = read_rows(&lake);
    assert_eq!(rows.len(), expected);
    let columns: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(columns.len(), 14, "{columns:?}");
    assert!(rows.iter().all(|r| {
        let t = r["receivedDateTime"].as_str().unwrap();
        ("2024-03-01".."2024-04-01").contains(&t)
    }));
    let mut check = vec!["catalog".to_owned(), "check".into(), "Message_v1".into()];
    check.extend(json_files(&lake).iter().map(|p| p.display().to_string()));
    let out = mdflow(&check);
    assert!(out.status.success(), "{}", describe(&out));

    // A rerun replaces the output instead of adding to it.
    let again = run_json(&factory, &[]);
    assert_eq!(again["status"], "Succeeded");
    assert_eq!(read_rows(&lake).len(), expected);
    assert!(!factory
        .join("lake/raw/_mdflow_staging")
        .read_dir()
        .unwrap()
        .any(|_| true));

    // Both runs are recorded with their ADF-shaped outputs.
    let factory_arg = factory.to_str().unwrap();
    let out = mdflow(["runs", "list", "--factory", factory_arg, "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    let run_id = result["runId"].as_str().unwrap();
    let out = mdflow(["runs", "show", run_id, "--factory", factory_arg, "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["run"]["status"], "Succeeded");
    assert_eq!(shown["run"]["parameters"]["department"], "Finance");
    let activity = &shown["activities"][0];
    assert_eq!(activity["status"], "Succeeded");
    assert_eq!(activity["output"]["rowsCopied"], expected as u64);
    // One part file per extraction worker (and per checkpoint of its mailboxes).
    assert_eq!(activity["output"]["filesWritten"], json_files(&lake).len());
    for key in [
        "dataRead",
        "dataWritten",
        "copyDuration",
        "throughput",
        "errors",
        "executionDetails",
    ] {
        assert!(!activity["output"][key].is_null(), "{key} missing");
    }
}

#[test]
fn parameters_change_the_scope_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let factory = quickstart_copy(dir.path(), 60, 6);
    let result = run_json(&factory, &["--param", "department=Legal"]);
    assert_eq!(result["status"], "Succeeded", "{result}");
    assert!(factory.join("lake/raw/office365/messages/legal").is_dir());
    assert!(!factory.join("lake/raw/office365/messages/finance").exists());

    let factory_arg = factory.to_str().unwrap();
    for bad in [
        ["--param", "nope=1"],
        ["--param", "department"],
        ["--pipeline", "Missing"],
    ] {
        let out = mdflow(["run", factory_arg, bad[0], bad[1]]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", describe(&out));
    }
    let out = mdflow([
        "run",
        root()
            .join("tests/fixtures/broken/bad-filter-column")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a date filter column"));
}

#[test]
fn a_killed_run_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let factory = quickstart_copy(dir.path(), 400, 200);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args([
            "run",
            factory.to_str().unwrap(),
            "--param",
            "windowEnd=2024-07-01T00:00:00Z",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the copy has staged some bytes, then kill it without warning.
    let staging = factory.join("lake/raw/_mdflow_staging");
    let deadline = Instant::now() + Duration::from_secs(60);
    let staged_bytes = || -> u64 {
        files_under(&staging)
            .iter()
            .map(|f| f.metadata().map_or(0, |m| m.len()))
            .sum()
    };
    while staged_bytes() == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "nothing was staged within a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let published = factory.join("lake/raw/office365/messages/finance");
    assert!(
        !published.exists(),
        "a killed run published {}",
        published.display()
    );
}

#[test]
fn parallel_copies_sets_how_many_mailboxes_are_extracted_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let factory = quickstart_copy(dir.path(), 40, 10);
    let expected = expected_finance_march(dir.path(), 40, 10);
    let pipeline = factory.join("pipeline/CopyDepartmentMail.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&pipeline).unwrap()).unwrap();
    json["properties"]["activities"][0]["typeProperties"]["parallelCopies"] = 3.into();
    std::fs::write(&pipeline, serde_json::to_string_pretty(&json).unwrap()).unwrap();

    let result = run_json(&factory, &[]);
    let output = &result["activities"][0]["output"];
    assert_eq!(output["usedParallelCopies"], 3, "{result}");
    assert_eq!(output["rowsCopied"], expected as u64, "{result}");
}
