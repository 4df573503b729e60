//! The chained copy into Azure Blob Storage end to end through the `mdflow` binary: the
//! landed messages are copied into a Json dataset on Azurite (a linked service with a
//! connection string), and from there into a Parquet dataset on Azurite (a linked service
//! with an account key), so that Azure storage is both a chained copy's sink and its source.
//!
//! `scripts/test.sh` starts Azurite and sets `MDFLOW_TEST_AZURITE`; under a plain
//! `cargo test` the test prints a notice and passes without running.

mod common;

use std::io::Read;
use std::path::Path;

use common::{copy_tree, describe, mdflow, root};
use mdflow_connectors::lake::OutputLocation;
use mdflow_connectors::lake::{AzureAccount, AzureCredential, LakeStore, ObjectLake};
use serde_json::{json, Value};

/// Azurite's well-known development account key.
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn blob_dataset(name: &str, kind: &str, service: &str, folder: &str) -> Value {
    json!({
        "name": name,
        "properties": {
            "type": kind,
            "linkedServiceName": {"referenceName": service, "type": "LinkedServiceReference"},
            "typeProperties": {
                "location": {
                    "type": "AzureBlobStorageLocation",
                    "container": "lake",
                    "folderPath": folder
                }
            }
        }
    })
}

fn chained(name: &str, input: &str, output: &str, after: &str, sink: &str) -> Value {
    json!({
        "name": name,
        "type": "Copy",
        "dependsOn": [{"activity": after, "dependencyConditions": ["Succeeded"]}],
        "inputs": [{"referenceName": input, "type": "DatasetReference"}],
        "outputs": [{"referenceName": output, "type": "DatasetReference"}],
        "typeProperties": {
            "source": {"type": "JsonSource"},
            "sink": {"type": sink},
            "translator": {
                "type": "TabularTranslator",
                "mappings": [
                    {"source": {"path": "$['id']"}, "sink": {"name": "id", "type": "String"}},
                    {"source": {"path": "$['receivedDateTime']"},
                     "sink": {"name": "received", "type": "DateTimeOffset"}},
                    {"source": {"path": "$['sender']['emailAddress']['address']"},
                     "sink": {"name": "sender", "type": "String"}}
                ]
            }
        }
    })
}

#[test]
fn landed_json_chains_into_json_and_parquet_on_azurite() {
    let endpoint = match std::env::var("MDFLOW_TEST_AZURITE") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!(
                "notice: MDFLOW_TEST_AZURITE is not set, so the Azurite chained copy does not \
                 run; ./scripts/test.sh starts Azurite and runs it"
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("chained");
    copy_tree(&root().join("flows/chained-copy"), &f);
    let _ = std::fs::remove_dir_all(f.join("lake"));
    let _ = std::fs::remove_dir_all(f.join(".mdflow"));
    let prefix = format!("chained-{}", std::process::id());

    // Two ways to reach the same account: a connection string, and an endpoint with a key.
    write_json(
        &f.join("linkedService/AzuriteByConnection.json"),
        &json!({"name": "AzuriteByConnection", "properties": {
            "type": "AzureBlobStorage",
            "typeProperties": {"connectionString": {"type": "SecureString", "value": format!(
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
                 AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
            )}}
        }}),
    );
    write_json(
        &f.join("linkedService/AzuriteByKey.json"),
        &json!({"name": "AzuriteByKey", "properties": {
            "type": "AzureBlobStorage",
            "typeProperties": {
                "serviceEndpoint": endpoint,
                "accountKey": {"type": "SecureString", "value": AZURITE_KEY}
            }
        }}),
    );
    write_json(
        &f.join("dataset/BlobJson.json"),
        &blob_dataset(
            "BlobJson",
            "Json",
            "AzuriteByConnection",
            &format!("{prefix}/json"),
        ),
    );
    write_json(
        &f.join("dataset/BlobParquet.json"),
        &blob_dataset(
            "BlobParquet",
            "Parquet",
            "AzuriteByKey",
            &format!("{prefix}/parquet"),
        ),
    );
    let path = f.join("pipeline/LandAndChain.json");
    let mut pipeline: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let activities = pipeline["properties"]["activities"].as_array_mut().unwrap();
    activities.retain(|a| a["name"] == "LandMessages");
    activities.push(chained(
        "ToBlobJson",
        "LakeMessages",
        "BlobJson",
        "LandMessages",
        "JsonSink",
    ));
    activities.push(chained(
        "ToBlobParquet",
        "BlobJson",
        "BlobParquet",
        "ToBlobJson",
        "ParquetSink",
    ));
    write_json(&path, &pipeline);

    let run = || {
        let out = mdflow([
            "run",
            f.to_str().unwrap(),
            "--pipeline",
            "LandAndChain",
            "--json",
        ]);
        assert!(out.status.success(), "{}", describe(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let out = run();
    let copied = |name: &str| {
        out["activities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["activityName"] == name)
            .unwrap()["output"]["rowsCopied"]
            .as_u64()
            .unwrap()
    };
    let landed = copied("LandMessages");
    assert!(landed > 0);
    assert_eq!(copied("ToBlobJson"), landed);
    assert_eq!(copied("ToBlobParquet"), landed);

    // What Azurite holds, read back through the storage API rather than mdflow's run.
    let lake = ObjectLake::azure(AzureAccount {
        endpoint,
        credential: AzureCredential::AccountKey(AZURITE_KEY.into()),
    })
    .unwrap();
    let files = |folder: &str| {
        lake.list(&OutputLocation {
            container: "lake".into(),
            folder: format!("{prefix}/{folder}"),
            file_name: None,
        })
        .unwrap()
    };
    let json_files = files("json");
    assert_eq!(json_files.len(), 1, "{json_files:?}");
    let mut text = String::new();
    lake.open(&json_files[0].path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text.lines().count() as u64, landed);
    let parquet = files("parquet");
    assert_eq!(parquet.len(), 1, "{parquet:?}");
    let mut body = Vec::new();
    lake.open(&parquet[0].path)
        .unwrap()
        .read_to_end(&mut body)
        .unwrap();
    assert!(body.starts_with(b"PAR1") && body.ends_with(b"PAR1"));

    // A rerun replaces the files rather than adding to them.
    run();
    assert_eq!(files("json").len(), 1);
    assert_eq!(files("parquet").len(), 1);
}
