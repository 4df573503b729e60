//! Every row Microsoft published for the MGDC datasets must conform to the catalog, decode
//! into typed columns and encode back to the same JSON values.
//!
//! "The same values" treats a missing key and a `null` alike: in a column both are a null,
//! and the encoder writes every schema field, so `{}` for an address comes back as an
//! object of nulls. Numbers compare by value (`1` and `1.0` are the same double).

use std::path::PathBuf;

use serde_json::Value;

use super::{check_row, encode_frame, Layout, RowDecoder};
use crate::catalog::Catalog;
use crate::text;

fn samples() -> Vec<(String, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mgdc-samples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, path)
        })
        .collect()
}

fn normalise(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalise(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Number(n)),
        other => other,
    }
}

#[test]
fn every_published_row_round_trips() {
    let catalog = Catalog::builtin();
    let files = samples();
    assert!(files.len() >= 9, "samples are missing");
    for (table_name, path) in files {
        let table = catalog
            .table(&table_name)
            .unwrap_or_else(|| panic!("{table_name}"));
        let bytes = std::fs::read(&path).unwrap();
        let input = text::decode(&bytes).unwrap();
        let rows: Vec<Value> = input
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for (i, row) in rows.iter().enumerate() {
            let problems = check_row(table, row);
            assert!(
                problems.is_empty(),
                "{table_name} line {}: {problems:?}",
                i + 1
            );
        }

        let mut decoder = RowDecoder::new(table, None).unwrap();
        decoder.push_lines(&input, 1).unwrap();
        let frame = decoder.finish().unwrap();
        assert_eq!(frame.height(), rows.len());
        let mut out = Vec::new();
        encode_frame(&frame, Some(table), Layout::Lines, &mut out).unwrap();
        let output = String::from_utf8(out).unwrap();
        let back: Vec<Value> = output
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back.len(), rows.len(), "{table_name}");
        for (i, (a, b)) in rows.iter().zip(back).enumerate() {
            assert_eq!(
                normalise(a.clone()),
                normalise(b),
                "{table_name} line {}",
                i + 1
            );
        }
    }
}

#[test]
fn scanning_whole_lines_decodes_what_walking_each_line_decodes() {
    let catalog = Catalog::builtin();
    for (table_name, path) in samples() {
        let table = catalog.table(&table_name).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let input = text::decode(&bytes).unwrap();
        // Every column, then every other column, so that skipping meets every shape.
        let every_other: Vec<String> = table
            .columns
            .iter()
            .step_by(2)
            .map(|c| c.name.clone())
            .collect();
        for projection in [None, Some(every_other.as_slice())] {
            let mut walked = RowDecoder::new(table, projection).unwrap();
            walked.push_lines(&input, 1).unwrap();
            let mut scanned = RowDecoder::new(table, projection).unwrap();
            let rows = scanned.push_json_lines(input.as_bytes()).unwrap();
            let (walked, scanned) = (walked.finish().unwrap(), scanned.finish().unwrap());
            assert_eq!(rows, walked.height(), "{table_name}");
            assert!(walked.equals_missing(&scanned), "{table_name}");
        }
    }
}

#[test]
fn scanning_reports_the_line_and_column_of_a_broken_row() {
    let table = Catalog::builtin()
        .table("BasicDataSet_v0.User_v1")
        .unwrap()
        .clone();
    let mut decoder = RowDecoder::new(&table, Some(&["id".to_owned()])).unwrap();
    let err = decoder
        .push_json_lines(b"{\"id\": \"a\"}\n\n{\"id\": \"b\", \"skipped\": [1, 2}\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("line 3: column 29: expected the bracket"),
        "{err}"
    );
    let mut decoder = RowDecoder::new(&table, Some(&["id".to_owned()])).unwrap();
    let err = decoder
        .push_json_lines(b"{\"id\": 12}")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("line 1: column 8: "), "{err}");
    let mut decoder = RowDecoder::new(&table, None).unwrap();
    assert_eq!(
        decoder
            .push_json_lines(b"{\"i\\u0064\": \"x\"} {}")
            .unwrap(),
        2
    );
    let frame = decoder.finish().unwrap();
    assert_eq!(frame.column("id").unwrap().str().unwrap().get(0), Some("x"));
}

#[test]
fn scanned_text_is_unescaped_and_checked_as_walked_text_is() {
    let table = Catalog::builtin()
        .table("BasicDataSet_v0.User_v1")
        .unwrap()
        .clone();
    let id = ["id".to_owned()];
    for line in [
        r#"{"id": "plain"}"#,
        r#"{"id": "q\"uote \u00e9 \\ end"}"#,
        "{\"id\": \"caf\u{e9} \u{1F600}\"}",
        r#"{"id": ""}"#,
    ] {
        let mut walked = RowDecoder::new(&table, Some(&id)).unwrap();
        walked.push_lines(line, 1).unwrap();
        let mut scanned = RowDecoder::new(&table, Some(&id)).unwrap();
        scanned.push_json_lines(line.as_bytes()).unwrap();
        let (walked, scanned) = (walked.finish().unwrap(), scanned.finish().unwrap());
        assert!(walked.equals_missing(&scanned), "{line}");
    }
    for (line, why) in [
        (&b"{\"id\": \"tab\there\"}"[..], "control character"),
        (b"{\"id\": \"\xFF\"}", "invalid unicode"),
    ] {
        let mut scanned = RowDecoder::new(&table, Some(&id)).unwrap();
        let err = scanned.push_json_lines(line).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
}
