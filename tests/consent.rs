//! Consent end to end through the binary: a new context asks, approvers decide (never the
//! requester), an approval lets the copy run for six months, a denial fails it, requests
//! expire after 24 hours, a changed context asks again, and `run --wait` waits.
//!
//! The clock is stepped with `MDFLOW_NOW`; the factory is the quickstart with consent on.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{copy_tree, describe, read_rows, root};
use serde_json::{json, Value};

const REQUESTER: &str = "ana@contoso.com";
const APPROVER: &str = "dana@contoso.com";
const OTHER_APPROVER: &str = "lee@contoso.com";

/// A small quickstart whose mdflow.json turns consent on with two approvers.
fn factory(dir: &Path) -> PathBuf {
    let factory = dir.join("quickstart");
    copy_tree(&root().join("flows/quickstart"), &factory);
    let _ = std::fs::remove_dir_all(factory.join("lake"));
    let _ = std::fs::remove_dir_all(factory.join(".mdflow"));
    let service = factory.join("linkedService/SyntheticTenant.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    json["properties"]["typeProperties"]["synthetic"]["users"] = 40.into();
    json["properties"]["typeProperties"]["synthetic"]["messagesPerUser"] = 4.into();
    std::fs::write(&service, json.to_string()).unwrap();
    // The requester is an approver too: even so it may not approve its own request.
    let settings = json!({"consent": {"approvers": [APPROVER, OTHER_APPROVER, REQUESTER]}});
    std::fs::write(factory.join("mdflow.json"), settings.to_string()).unwrap();
    factory
}

/// Runs `mdflow` with the consent clock at `now`.
fn at(now: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env("MDFLOW_NOW", now)
        .env_remove("MDFLOW_IDENTITY")
        .output()
        .expect("the mdflow binary runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(out)))
}

/// `mdflow run FACTORY --json --as ana` with extra arguments.
fn run(factory: &Path, now: &str, extra: &[&str]) -> (Output, Value) {
    let mut args = vec![
        "run",
        factory.to_str().unwrap(),
        "--json",
        "--as",
        REQUESTER,
    ];
    args.extend_from_slice(extra);
    let out = at(now, &args);
    let value = json_of(&out);
    (out, value)
}

fn request_id(result: &Value) -> String {
    let details = &result["activities"][0]["output"]["executionDetails"][0];
    assert_eq!(details["status"], "RequestingConsent", "{result}");
    details["consentRequestId"].as_str().unwrap().to_owned()
}

fn consent(factory: &Path, now: &str, args: &[&str]) -> Output {
    let mut all = vec!["consent"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--factory", factory.to_str().unwrap()]);
    at(now, &all)
}

#[test]
fn the_consent_life_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let factory = factory(dir.path());
    let lake = factory.join("lake/raw/office365/messages");
    let t0 = "2024-05-01T09:00:00Z";

    // The first run of a new context files a request and extracts nothing.
    let (out, first) = run(&factory, t0, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(first["status"], "InProgress", "{first}");
    assert_eq!(first["activities"][0]["status"], "InProgress");
    let id = request_id(&first);
    assert!(!lake.exists(), "nothing may be extracted before approval");

    // A second run finds the same pending request and says how to approve it.
    let out = at(t0, &["run", factory.to_str().unwrap(), "--as", REQUESTER]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("mdflow consent approve {id} --as")),
        "{text}"
    );
    let out = consent(&factory, t0, &["list", "--json"]);
    let pending = json_of(&out);
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["id"], id.as_str());
    assert_eq!(pending[0]["context"]["identity"], REQUESTER);
    assert_eq!(pending[0]["context"]["table"], "BasicDataSet_v0.Message_v1");

    // The requester may not approve its own request, nor may anyone outside the group.
    let out = consent(&factory, t0, &["approve", &id, "--as", REQUESTER]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not approve it"));
    let out = consent(&factory, t0, &["approve", &id, "--as", "eve@contoso.com"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the approver group"));

    // An approver approves; the copy runs.
    let out = consent(&factory, t0, &["approve", &id, "--as", APPROVER]);
    assert!(out.status.success(), "{}", describe(&out));
    let (out, approved) = run(&factory, "2024-05-01T10:00:00Z", &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(approved["status"], "Succeeded", "{approved}");
    assert!(!read_rows(&lake.join("finance")).is_empty());
    let (out, rerun) = run(&factory, "2024-05-01T11:00:00Z", &[]);
    assert!(out.status.success(), "the approval covers reruns: {rerun}");

    // A changed context (another department: another user scope) asks again; a denial
    // fails the copy with who, when and why.
    let legal = ["--param", "department=Legal"];
    let (out, changed) = run(&factory, "2024-05-02T09:00:00Z", &legal);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let legal_id = request_id(&changed);
    assert_ne!(legal_id, id);
    let deny = [
        "deny",
        &legal_id,
        "--as",
        OTHER_APPROVER,
        "--reason",
        "Legal mail is out of scope",
    ];
    let out = consent(&factory, "2024-05-02T09:30:00Z", &deny);
    assert!(out.status.success(), "{}", describe(&out));
    let (out, denied) = run(&factory, "2024-05-02T10:00:00Z", &legal);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(denied["status"], "Failed", "{denied}");
    let error = denied["activities"][0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("denied by {OTHER_APPROVER}")),
        "{error}"
    );
    assert!(error.contains("Legal mail is out of scope"), "{error}");
    assert!(!lake.join("legal").exists());

    // Six months later the approval has lapsed: the same context asks again.
    let (out, lapsed) = run(&factory, "2024-11-02T09:00:00Z", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let renewed = request_id(&lapsed);
    assert_ne!(renewed, id);

    // A request not decided within 24 hours expires and cannot be approved any more.
    let day_later = "2024-11-03T09:00:01Z";
    let out = consent(
        &factory,
        day_later,
        &["approve", &renewed, "--as", APPROVER],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Expired"));
    let (out, again) = run(&factory, day_later, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_ne!(request_id(&again), renewed);

    // The log holds every step with who and when.
    let out = consent(&factory, day_later, &["log", "--json"]);
    let log = json_of(&out);
    let steps: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_owned();
            (s("action"), s("actor"))
        })
        .collect();
    let expected = [
        ("requested", REQUESTER),
        ("refused", REQUESTER),
        ("refused", "eve@contoso.com"),
        ("approved", APPROVER),
        ("requested", REQUESTER),
        ("denied", OTHER_APPROVER),
        ("expired", "mdflow"),
        ("requested", REQUESTER),
        ("expired", "mdflow"),
        ("requested", REQUESTER),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(steps, expected, "{log:#}");
    assert_eq!(log[3]["at"], t0);
    let out = consent(&factory, day_later, &["list", "--all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Denied") && text.contains("Expired"),
        "{text}"
    );
}

#[test]
fn run_wait_waits_for_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let factory = factory(dir.path());
    let now = "2024-06-01T09:00:00Z";
    let child = Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args(["run", factory.to_str().unwrap(), "--json", "--wait"])
        .args(["--wait-timeout", "120"])
        .env("RUST_LOG", "warn")
        .env("MDFLOW_NOW", now)
        .env("MDFLOW_IDENTITY", REQUESTER)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Approve the request as soon as it appears.
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        assert!(Instant::now() < deadline, "no request appeared");
        let out = consent(&factory, now, &["list", "--json"]);
        if out.status.success() {
            if let Some(id) = json_of(&out)[0]["id"].as_str() {
                assert_eq!(json_of(&out)[0]["context"]["identity"], REQUESTER);
                break id.to_owned();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = consent(&factory, now, &["approve", &id, "--as", APPROVER]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(json_of(&out)["status"], "Succeeded");

    // Without a decision, --wait gives up after its timeout and the run stays in progress.
    let started = Instant::now();
    let (out, waited) = run(
        &factory,
        now,
        &[
            "--param",
            "department=Sales",
            "--wait",
            "--wait-timeout",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(waited["status"], "InProgress");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn consent_cannot_be_decided_without_an_approver_group() {
    let dir = tempfile::tempdir().unwrap();
    let factory = factory(dir.path());
    std::fs::write(factory.join("mdflow.json"), "{}").unwrap();
    let now = "2024-06-01T09:00:00Z";
    let (_, result) = run(&factory, now, &[]);
    let id = request_id(&result);
    let out = consent(&factory, now, &["approve", &id, "--as", APPROVER]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no approver group"));
}

/// A data flow reading Office 365 asks like a Copy does: the first run files a request and
/// writes nothing, an approval lets it run, and the approval covers reruns.
#[test]
fn data_flows_reading_office365_ask_for_consent() {
    let dir = tempfile::tempdir().unwrap();
    let factory = dir.path().join("mail-by-domain");
    copy_tree(&root().join("flows/mail-by-domain"), &factory);
    let _ = std::fs::remove_dir_all(factory.join("lake"));
    let _ = std::fs::remove_dir_all(factory.join(".mdflow"));
    let service = factory.join("linkedService/SyntheticTenant.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    json["properties"]["typeProperties"]["synthetic"]["users"] = 20.into();
    json["properties"]["typeProperties"]["synthetic"]["messagesPerUser"] = 5.into();
    std::fs::write(&service, json.to_string()).unwrap();
    let settings = json!({"consent": {"enabled": true, "approvers": [APPROVER]}});
    std::fs::write(factory.join("mdflow.json"), settings.to_string()).unwrap();
    let report = factory.join("lake/reports/mail-by-domain");
    let t0 = "2024-05-01T09:00:00Z";

    let (out, first) = run(&factory, t0, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(first["status"], "InProgress", "{first}");
    let id = request_id(&first);
    assert!(!report.exists(), "nothing may be read before approval");
    let pending = json_of(&consent(&factory, t0, &["list", "--json"]));
    assert_eq!(pending[0]["context"]["table"], "BasicDataSet_v0.Message_v1");
    assert_eq!(pending[0]["context"]["activity"], "MailByDomainPerDay");

    let out = consent(&factory, t0, &["approve", &id, "--as", APPROVER]);
    assert!(out.status.success(), "{}", describe(&out));
    let (out, approved) = run(&factory, "2024-05-01T10:00:00Z", &[]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(approved["status"], "Succeeded", "{approved}");
    assert!(!read_rows(&report).is_empty());
    let (out, rerun) = run(&factory, "2024-05-01T11:00:00Z", &[]);
    assert!(out.status.success(), "the approval covers reruns: {rerun}");
}
