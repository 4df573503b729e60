//! The chained copy end to end through the `mdflow` binary: flows/chained-copy lands
//! Message_v1 as gzipped JSON, then copies it into Parquet, CSV, SQLite and PostgreSQL.
//!
//! The PostgreSQL test needs the server `scripts/test.sh` starts (`MDFLOW_TEST_POSTGRES`);
//! under a plain `cargo test` it prints a notice and passes without running.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, describe, mdflow, root};
use serde_json::Value;

fn factory(dir: &Path) -> PathBuf {
    let f = dir.join("chained");
    copy_tree(&root().join("flows/chained-copy"), &f);
    let _ = std::fs::remove_dir_all(f.join("lake"));
    let _ = std::fs::remove_dir_all(f.join(".mdflow"));
    let _ = std::fs::remove_file(f.join("warehouse.db"));
    f
}

fn run(factory: &Path, pipeline: &str) -> (Option<i32>, Value, String) {
    let out = mdflow([
        "run",
        factory.to_str().unwrap(),
        "--pipeline",
        pipeline,
        "--json",
    ]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json, describe(&out))
}

fn activity<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["activities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["activityName"] == name)
        .unwrap()
}

fn recipients(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM recipients", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn landed_json_chains_into_parquet_csv_and_sqlite_and_reruns_replace() {
    let dir = tempfile::tempdir().unwrap();
    let f = factory(dir.path());
    let (code, first, text) = run(&f, "LandAndChain");
    assert_eq!(code, Some(0), "{text}");
    let landed = activity(&first, "LandMessages")["output"]["rowsCopied"]
        .as_u64()
        .unwrap();
    assert!(landed > 0);
    assert!(f
        .join("lake/raw/office365/messages/part-00000-00.json.gz")
        .exists());
    for name in ["ToParquet", "ToCsv"] {
        assert_eq!(
            activity(&first, name)["output"]["rowsCopied"].as_u64(),
            Some(landed),
            "{name}"
        );
    }
    let parquet = std::fs::read(f.join("lake/curated/messages/part-00000.parquet")).unwrap();
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"));
    let csv = std::fs::read_to_string(f.join("lake/curated/messages-csv/part-00000.csv")).unwrap();
    assert!(csv.starts_with("id,received,subject,hasAttachments,sender\n"));
    assert_eq!(csv.lines().count() as u64, landed + 1);

    // One row per recipient; a rerun upserts the same keys instead of adding rows.
    let unrolled = activity(&first, "RecipientsToSqlite")["output"]["rowsCopied"]
        .as_i64()
        .unwrap();
    assert!(unrolled > landed as i64, "recipients are unrolled");
    let db = f.join("warehouse.db");
    let before = recipients(&db);
    let (code, _, text) = run(&f, "LandAndChain");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(recipients(&db), before);
}

#[test]
fn a_bad_pre_copy_script_fails_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let f = factory(dir.path());
    let path = f.join("pipeline/LandAndChain.json");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "CREATE TABLE IF NOT EXISTS copy_log",
        "CREAT TABLE copy_log",
    );
    std::fs::write(&path, text).unwrap();
    // Validation, which `mdflow run` does first, refuses the script with its location.
    let (code, _, text) = run(&f, "LandAndChain");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("preCopyScript does not parse as SQLite SQL")
            && text.contains("Line: 1, Column: 1")
            && text.contains("/properties/activities/3/typeProperties/sink/preCopyScript"),
        "{text}"
    );
    assert!(!f.join("warehouse.db").exists(), "nothing was created");
    assert!(!f.join("lake").exists(), "nothing ran");
}

#[test]
fn incompatible_rows_fail_the_copy_or_are_skipped_and_redirected() {
    let dir = tempfile::tempdir().unwrap();
    let f = factory(dir.path());
    let path = f.join("pipeline/LandAndChain.json");
    let mut pipeline: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // `subject` is text: as an Int64 every row is incompatible.
    let to_csv = &mut pipeline["properties"]["activities"][2]["typeProperties"];
    to_csv["translator"]["mappings"][2]["sink"]["type"] = "Int64".into();
    std::fs::write(&path, pipeline.to_string()).unwrap();
    let (code, out, text) = run(&f, "LandAndChain");
    assert_eq!(code, Some(1), "{text}");
    let error = activity(&out, "ToCsv")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("column `subject`") && error.contains("row 1"),
        "{error}"
    );
    assert!(
        !f.join("lake/curated/messages-csv").exists(),
        "nothing published"
    );

    let to_csv = &mut pipeline["properties"]["activities"][2]["typeProperties"];
    to_csv["enableSkipIncompatibleRow"] = true.into();
    to_csv["redirectIncompatibleRowSettings"] = serde_json::json!({
        "linkedServiceName": {"referenceName": "LocalLake", "type": "LinkedServiceReference"},
        "path": "errors/csv"
    });
    std::fs::write(&path, pipeline.to_string()).unwrap();
    let (code, out, text) = run(&f, "LandAndChain");
    assert_eq!(code, Some(0), "{text}");
    let output = &activity(&out, "ToCsv")["output"];
    assert_eq!(output["rowsCopied"], 0);
    assert!(output["rowsSkipped"].as_u64().unwrap() > 0);
    let log = output["logFilePath"].as_str().unwrap();
    assert!(f.join("lake").join(log).exists(), "{log}");
}

#[test]
fn landed_json_chains_into_postgresql_with_upserts() {
    let Ok(connection) = std::env::var("MDFLOW_TEST_POSTGRES") else {
        eprintln!(
            "notice: MDFLOW_TEST_POSTGRES is not set, so the PostgreSQL test does not run; \
             ./scripts/test.sh starts a server and runs it"
        );
        return;
    };
    let field = |key: &str| {
        connection
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap()
            .to_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    let f = factory(dir.path());
    let service = f.join("linkedService/Postgres.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    json["properties"]["typeProperties"]["port"] = field("port").parse::<u16>().unwrap().into();
    std::fs::write(&service, json.to_string()).unwrap();

    let mut client = postgres::Client::connect(&connection, postgres::NoTls).unwrap();
    client
        .batch_execute("DROP TABLE IF EXISTS messages")
        .unwrap();
    let (code, landed, text) = run(&f, "LandAndChain");
    assert_eq!(code, Some(0), "{text}");
    let rows = activity(&landed, "LandMessages")["output"]["rowsCopied"]
        .as_i64()
        .unwrap();
    for _ in 0..2 {
        let (code, out, text) = run(&f, "ChainToPostgres");
        assert_eq!(code, Some(0), "{text}");
        let output = &activity(&out, "ToPostgres")["output"];
        assert_eq!(
            output["dataConsistencyVerification"]["VerificationResult"],
            "Verified"
        );
        let count: i64 = client
            .query_one("SELECT count(*) FROM messages", &[])
            .unwrap()
            .get(0);
        assert_eq!(count, rows, "a rerun upserts rather than adds");
    }
    let typed: bool = client
        .query_one("SELECT bool_and(received IS NOT NULL) FROM messages", &[])
        .unwrap()
        .get(0);
    assert!(typed);
}
