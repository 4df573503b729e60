//! Data flows whose lake JSON source declares its columns run batch by batch
//! (engine/src/dataflow/batches.rs). The benchmark factory's three jobs run on a small
//! generated extract cut into many small batches, and their sinks are checked against an
//! independent computation over the same rows, against a run in one batch, and against the
//! whole-file reader that a JSON array source falls back to.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use common::{copy_tree, describe, read_rows, root};
use serde_json::{json, Value};

/// Small enough that the extract (about 1.8 MB) is cut into several batches, few enough
/// that the dev profile's unoptimised Polars plans them quickly.
const SMALL_BATCHES: &str = "300000";

struct Bench {
    _dir: tempfile::TempDir,
    factory: PathBuf,
}

impl Bench {
    /// The benchmark factory over a generated one-year extract of 10 mailboxes.
    fn new() -> Bench {
        Bench::of(10, 20)
    }

    /// The benchmark factory over `users` mailboxes of `messages` messages each.
    fn of(users: u32, messages: u32) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let factory = dir.path().join("factory");
        copy_tree(&root().join("benches/compare/factory"), &factory);
        let tenant = factory.join("lake/tenant");
        let out = Command::new(env!("CARGO_BIN_EXE_mdflow"))
            .args(["tenant", "generate", "--users", &users.to_string()])
            .args(["--messages-per-user", &messages.to_string()])
            .args(["--seed", "1", "--from", "2024-01-01", "--to", "2024-12-31"])
            .args(["--tables", "Message_v1,User_v1", "--out"])
            .arg(&tenant)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        Bench { _dir: dir, factory }
    }

    fn messages_file(&self) -> PathBuf {
        self.factory
            .join("lake/tenant/BasicDataSet_v0.Message_v1/part-00000.json")
    }

    fn messages(&self) -> Vec<Value> {
        read_rows(self.messages_file().parent().unwrap())
    }

    fn users(&self) -> Vec<Value> {
        read_rows(&self.factory.join("lake/tenant/BasicDataSet_v0.User_v1"))
    }

    /// Runs pipeline `job` with `batch_bytes` per batch (`None`: the default) and returns
    /// its sink's rows in file order, checking that the source was read batch by batch.
    fn run(&self, job: &str, batch_bytes: Option<&str>) -> Vec<Value> {
        self.run_reading(job, batch_bytes, true)
    }

    /// Runs pipeline `job` as [`Bench::run`] does, checking that the source was read whole.
    fn run_whole(&self, job: &str, batch_bytes: Option<&str>) -> Vec<Value> {
        self.run_reading(job, batch_bytes, false)
    }

    fn run_reading(&self, job: &str, batch_bytes: Option<&str>, batched: bool) -> Vec<Value> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mdflow"));
        command.args(["run", self.factory.to_str().unwrap(), "--pipeline", job]);
        if let Some(bytes) = batch_bytes {
            command.env("MDFLOW_DATAFLOW_BATCH_BYTES", bytes);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        let read_whole = String::from_utf8_lossy(&out.stderr)
            .contains("reading it whole instead of batch by batch");
        assert_eq!(read_whole, !batched, "{}", describe(&out));
        read_rows(&self.factory.join("lake/out").join(job.to_lowercase()))
    }
}

fn domain(m: &Value) -> Value {
    m.pointer("/sender/emailAddress/address")
        .and_then(Value::as_str)
        .map_or(Value::Null, |a| {
            json!(a.rsplit('@').next().unwrap_or_default().to_lowercase())
        })
}

fn recipients(m: &Value) -> usize {
    ["toRecipients", "ccRecipients", "bccRecipients"]
        .iter()
        .map(|k| m[k].as_array().map_or(0, Vec::len))
        .sum()
}

/// R1 computed here: the second half of 2024, importance not low, eight columns, in the
/// order of the source.
fn expected_r1(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| {
            let t = m["receivedDateTime"].as_str().unwrap();
            ("2024-07-01T00:00:00Z".."2025-01-01T00:00:00Z").contains(&t)
                && m["importance"] != "low"
        })
        .map(|m| {
            json!({
                "id": m["id"], "puser": m["puser"],
                "receivedDateTime": m["receivedDateTime"], "importance": m["importance"],
                "hasAttachments": m["hasAttachments"],
                "subjectLower": m["subject"].as_str().map(str::to_lowercase),
                "senderDomain": domain(m), "recipientCount": recipients(m),
            })
        })
        .collect()
}

fn sorted(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(|r| r.to_string());
    rows
}

#[test]
fn row_local_flow_streams_every_batch_in_source_order() {
    let bench = Bench::new();
    let expected = expected_r1(&bench.messages());
    assert!(expected.len() > 50, "the window should keep many rows");

    let batched = bench.run("R1", Some(SMALL_BATCHES));
    assert_eq!(batched.len(), expected.len());
    for (got, want) in batched.iter().zip(&expected) {
        assert_eq!(got, want);
    }
    assert_eq!(
        bench.run("R1", None),
        batched,
        "one batch or many, the same file"
    );
}

#[test]
fn lines_longer_than_a_batch_are_read_whole() {
    // A row is about 9 kB: every batch of 1,000 bytes ends inside one.
    let bench = Bench::of(2, 4);
    let expected = expected_r1(&bench.messages());
    assert!(!expected.is_empty());
    assert_eq!(bench.run("R1", Some("1000")), expected);
}

#[test]
fn aggregate_and_join_run_once_on_what_the_batches_gathered() {
    let bench = Bench::new();
    let messages = bench.messages();

    let mut per_day: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for m in &messages {
        let day = m["receivedDateTime"].as_str().unwrap()[..10].to_owned();
        let body = m.pointer("/body/content").and_then(Value::as_str);
        let g = per_day.entry((domain(m).to_string(), day)).or_default();
        g.0 += 1;
        g.1 += body.map_or(0, |b| b.chars().count() as u64);
    }
    let expected: Vec<Value> = per_day
        .into_iter()
        .map(|((domain, day), (n, bytes))| {
            let domain: Value = serde_json::from_str(&domain).unwrap();
            json!({"senderDomain": domain, "day": day, "messages": n, "bodyBytes": bytes})
        })
        .collect();
    assert_eq!(
        sorted(bench.run("R2", Some(SMALL_BATCHES))),
        sorted(expected)
    );

    let departments: BTreeMap<String, Value> = bench
        .users()
        .into_iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_owned(),
                u["department"].clone(),
            )
        })
        .collect();
    let mut per_department: BTreeMap<String, (Value, u64)> = BTreeMap::new();
    for m in &messages {
        if let Some(d) = departments.get(m["puser"].as_str().unwrap()) {
            per_department
                .entry(d.to_string())
                .or_insert((d.clone(), 0))
                .1 += 1;
        }
    }
    let expected: Vec<Value> = per_department
        .into_values()
        .map(|(d, n)| json!({"department": d, "messages": n}))
        .collect();
    assert_eq!(
        sorted(bench.run("R3", Some(SMALL_BATCHES))),
        sorted(expected)
    );
}

#[test]
fn a_json_array_source_is_read_whole_with_the_same_rows() {
    let bench = Bench::new();
    let messages = bench.messages();
    let expected = expected_r1(&messages);
    std::fs::write(
        bench.messages_file(),
        serde_json::to_string(&messages).unwrap(),
    )
    .unwrap();
    assert_eq!(bench.run_whole("R1", Some(SMALL_BATCHES)), expected);
}

#[test]
fn a_compressed_source_is_streamed_batch_by_batch_with_the_same_rows() {
    // Compressed files cannot be read by ranges: the workers take turns on one stream.
    let bench = Bench::new();
    let expected = expected_r1(&bench.messages());
    let plain = bench.messages_file();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    std::fs::write(plain.with_extension("json.gz"), gzip.finish().unwrap()).unwrap();
    std::fs::remove_file(&plain).unwrap();
    let dataset = bench.factory.join("dataset/Messages.json");
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(&dataset).unwrap()).unwrap();
    definition["properties"]["typeProperties"]["compression"] = json!({"type": "GZip"});
    std::fs::write(&dataset, definition.to_string()).unwrap();

    assert_eq!(bench.run("R1", Some(SMALL_BATCHES)), expected);
    assert_eq!(bench.run("R1", Some("1000")), expected);
}

#[test]
fn an_empty_source_writes_empty_sinks() {
    let bench = Bench::new();
    std::fs::write(bench.messages_file(), "").unwrap();
    assert_eq!(bench.run("R1", Some(SMALL_BATCHES)), Vec::<Value>::new());
    assert_eq!(bench.run("R2", None), Vec::<Value>::new());
}
