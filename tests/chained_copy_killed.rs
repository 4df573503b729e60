//! A chained copy killed halfway through its write leaves neither a partial file nor a
//! partial table. The copies run through the `mdflow` binary with
//! `MDFLOW_TEST_PAUSE_AFTER_ROWS`, which makes the sink stop after some rows are written
//! (and, for PostgreSQL, sent to the server inside the copy's transaction) and print a
//! marker; the test then kills the process without warning.
//!
//! The PostgreSQL test needs the server `scripts/test.sh` starts (`MDFLOW_TEST_POSTGRES`).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{copy_tree, describe, files_under, mdflow, root};
use serde_json::Value;

fn factory(dir: &Path) -> PathBuf {
    let f = dir.join("chained");
    copy_tree(&root().join("flows/chained-copy"), &f);
    let _ = std::fs::remove_dir_all(f.join("lake"));
    let _ = std::fs::remove_dir_all(f.join(".mdflow"));
    let _ = std::fs::remove_file(f.join("warehouse.db"));
    f
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(path, json.to_string()).unwrap();
}

/// Runs a pipeline that pauses after `rows` rows, waits for the pause and kills it.
fn run_and_kill_mid_write(factory: &Path, pipeline: &str, rows: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args(["run", factory.to_str().unwrap(), "--pipeline", pipeline])
        .env("MDFLOW_TEST_PAUSE_AFTER_ROWS", rows.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("mdflow-test-pause") {
                let _ = tx.send(Ok(line));
                return;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        let _ = tx.send(Err(seen));
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(_)) => {}
        Ok(Err(stderr)) => {
            let _ = child.kill();
            panic!("the run ended before it paused:\n{stderr}");
        }
        Err(_) => {
            let _ = child.kill();
            panic!("the copy did not pause within two minutes");
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_chained_copy_killed_mid_write_publishes_no_parquet_or_csv_file() {
    for (activity, folder) in [("ToParquet", "messages"), ("ToCsv", "messages-csv")] {
        let dir = tempfile::tempdir().unwrap();
        let f = factory(dir.path());

        // Only the landing and the one chained copy, so that the paused copy is the only
        // writer.
        edit_json(&f.join("pipeline/LandAndChain.json"), |p| {
            let activities = p["properties"]["activities"].as_array_mut().unwrap();
            activities.retain(|a| a["name"] == "LandMessages" || a["name"] == activity);
        });
        run_and_kill_mid_write(&f, "LandAndChain", 50);

        let curated = f.join("lake/curated");
        let staged = files_under(&curated.join("_mdflow_staging"));
        assert!(!staged.is_empty(), "{activity}: the copy had staged a file");
        let published = curated.join(folder);
        assert!(
            files_under(&published).is_empty(),
            "{activity}: a killed copy published {:?}",
            files_under(&published)
        );

        // A rerun without the pause publishes the whole file.
        let out = mdflow(["run", f.to_str().unwrap(), "--pipeline", "LandAndChain"]);
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(files_under(&published).len(), 1, "{activity}");
    }
}

#[test]
fn a_chained_copy_killed_mid_write_leaves_the_postgresql_table_as_it_was() {
    let Ok(connection) = std::env::var("MDFLOW_TEST_POSTGRES") else {
        eprintln!(
            "notice: MDFLOW_TEST_POSTGRES is not set, so the PostgreSQL test does not run; \
             ./scripts/test.sh starts a server and runs it"
        );
        return;
    };
    let port: u16 = connection
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("port="))
        .unwrap()
        .parse()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = factory(dir.path());
    edit_json(&f.join("linkedService/Postgres.json"), |s| {
        s["properties"]["typeProperties"]["port"] = port.into();
    });
    // Tables of its own (the other PostgreSQL test runs alongside), and plain inserts so
    // that COPY goes straight into the table.
    edit_json(&f.join("dataset/MessagesPg.json"), |d| {
        d["properties"]["typeProperties"]["table"] = "messages_killed".into();
    });
    edit_json(&f.join("pipeline/ChainToPostgres.json"), |p| {
        let sink = &mut p["properties"]["activities"][0]["typeProperties"]["sink"];
        let sink = sink.as_object_mut().unwrap();
        sink.remove("writeMethod");
        sink.remove("upsertSettings");
        sink.insert(
            "preCopyScript".into(),
            "INSERT INTO copy_log_killed DEFAULT VALUES".into(),
        );
    });

    let mut client = postgres::Client::connect(&connection, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "DROP TABLE IF EXISTS messages_killed; DROP TABLE IF EXISTS copy_log_killed;
             CREATE TABLE copy_log_killed (at timestamptz DEFAULT now());
             CREATE TABLE messages_killed (id text PRIMARY KEY, received timestamptz,
                 subject text, \"hasAttachments\" boolean, sender text);
             INSERT INTO messages_killed VALUES ('before', now(), 'kept', false, 'a@b.c');",
        )
        .unwrap();
    let out = mdflow(["run", f.to_str().unwrap(), "--pipeline", "LandAndChain"]);
    assert!(out.status.success(), "{}", describe(&out));

    run_and_kill_mid_write(&f, "ChainToPostgres", 100);

    let count = |client: &mut postgres::Client, table: &str| -> i64 {
        client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(
        count(&mut client, "messages_killed"),
        1,
        "the table is as it was"
    );
    assert_eq!(
        count(&mut client, "copy_log_killed"),
        0,
        "the preCopyScript was rolled back with the rows"
    );

    // A rerun without the pause writes every row.
    let out = mdflow(["run", f.to_str().unwrap(), "--pipeline", "ChainToPostgres"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(count(&mut client, "messages_killed") > 100);
    assert_eq!(count(&mut client, "copy_log_killed"), 1);
}
