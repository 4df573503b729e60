//! `ExecuteDataFlow` end to end: the two example flows of flows/ run through the binary on a
//! small synthetic tenant, their sinks checked against an independent computation over
//! `mdflow tenant generate` output; reruns replace; flowlets, cache sinks and file naming.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use common::{copy_tree, describe, generate_quickstart_tenant, mdflow, read_rows, root};
use serde_json::{json, Value};

const USERS: u32 = 40;
const MESSAGES: u32 = 25;

/// A copy of `flows/NAME` on a tenant of `USERS` mailboxes with `MESSAGES` each.
fn flow_copy(dir: &Path, name: &str) -> PathBuf {
    let factory = dir.join(name);
    copy_tree(&root().join("flows").join(name), &factory);
    let _ = std::fs::remove_dir_all(factory.join("lake"));
    let _ = std::fs::remove_dir_all(factory.join(".mdflow"));
    let service = factory.join("linkedService/SyntheticTenant.json");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    let synthetic = &mut json["properties"]["typeProperties"]["synthetic"];
    synthetic["users"] = USERS.into();
    synthetic["messagesPerUser"] = MESSAGES.into();
    std::fs::write(&service, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    factory
}

/// The same tenant's Message_v1 and User_v1 rows, as `tenant generate` writes them.
fn generated(dir: &Path) -> (Vec<Value>, Vec<Value>) {
    let (messages, users) = generate_quickstart_tenant(dir, USERS, MESSAGES);
    let messages = messages
        .into_iter()
        .filter(|m| {
            let t = m["receivedDateTime"].as_str().unwrap();
            ("2024-03-01".."2024-04-01").contains(&t)
        })
        .collect();
    (messages, users)
}

fn run(factory: &Path) -> Value {
    let out = mdflow(["run", factory.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], "Succeeded", "{result}");
    result
}

fn sender(m: &Value) -> Option<String> {
    m.pointer("/sender/emailAddress/address")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

#[test]
fn mail_by_sender_domain_per_day_matches_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let factory = flow_copy(dir.path(), "mail-by-domain");
    let (messages, _) = generated(dir.path());
    assert!(!messages.is_empty());

    // Independently: (day, domain) → distinct messages, deliveries, distinct mailboxes.
    type Group = (BTreeSet<String>, u64, BTreeSet<String>);
    let mut groups: BTreeMap<(String, Option<String>), Group> = BTreeMap::new();
    for m in &messages {
        let day = m["receivedDateTime"].as_str().unwrap()[..10].to_owned();
        let domain = sender(m).map(|a| a.rsplit('@').next().unwrap_or_default().to_owned());
        let g = groups.entry((day, domain)).or_default();
        g.0.insert(m["internetMessageId"].as_str().unwrap().to_owned());
        g.1 += 1;
        g.2.insert(m["puser"].as_str().unwrap().to_owned());
    }
    let expected: Vec<Value> = groups
        .iter()
        .map(|((day, domain), (ids, n, users))| {
            json!({"day": day, "senderDomain": domain, "messages": ids.len(),
                   "deliveries": n, "mailboxes": users.len()})
        })
        .collect();

    let result = run(&factory);
    let output = &result["activities"][0]["output"];
    assert_eq!(
        output["rowsRead"]["Messages"],
        messages.len() as u64,
        "{output}"
    );
    assert_eq!(output["rowsWritten"]["DomainDaily"], expected.len() as u64);
    let metrics = &output["runStatus"]["metrics"]["DomainDaily"];
    assert_eq!(metrics["rowsWritten"], expected.len() as u64);
    assert_eq!(
        metrics["sources"]["Messages"]["rowsRead"],
        messages.len() as u64
    );

    // The dataset parameter `month` came from datasetParameters.
    let lake = factory.join("lake/reports/mail-by-domain/2024-03");
    assert_eq!(read_rows(&lake), expected);

    // A rerun replaces the output and leaves no staging behind.
    run(&factory);
    assert_eq!(read_rows(&lake), expected);
    let staging = factory.join("lake/reports/_mdflow_staging");
    assert!(!staging.exists() || staging.read_dir().unwrap().next().is_none());
}

#[test]
fn department_report_joins_messages_with_users() {
    let dir = tempfile::tempdir().unwrap();
    let factory = flow_copy(dir.path(), "department-mail");
    let (messages, users) = generated(dir.path());

    let department: HashMap<&str, &str> = users
        .iter()
        .map(|u| {
            let d = u["department"].as_str().unwrap_or("Unassigned");
            (u["id"].as_str().unwrap(), d)
        })
        .collect();
    // department → (mailboxes, received, with attachments, from outside)
    let mut groups: BTreeMap<&str, (BTreeSet<&str>, u64, u64, u64)> = BTreeMap::new();
    for m in &messages {
        let puser = m["puser"].as_str().unwrap();
        let Some(d) = department.get(puser) else {
            continue;
        };
        let g = groups.entry(d).or_default();
        g.0.insert(puser);
        g.1 += 1;
        g.2 += u64::from(m["hasAttachments"] == true);
        g.3 += u64::from(sender(m).is_some_and(|a| !a.ends_with(".onmicrosoft.com")));
    }
    let mut expected: Vec<(&str, usize, u64, u64, u64)> = groups
        .iter()
        .map(|(d, g)| (*d, g.0.len(), g.1, g.2, g.3))
        .collect();
    expected.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let mut csv =
        String::from("department,mailboxes,messagesReceived,withAttachments,fromOutside\n");
    for (d, mailboxes, received, attachments, outside) in &expected {
        let d = if d.contains(',') {
            format!("\"{d}\"")
        } else {
            d.to_string()
        };
        csv.push_str(&format!(
            "{d},{mailboxes},{received},{attachments},{outside}\n"
        ));
    }

    let result = run(&factory);
    let output = &result["activities"][0]["output"];
    assert_eq!(output["rowsRead"]["Users"], users.len() as u64, "{output}");
    assert_eq!(output["rowsRead"]["Messages"], messages.len() as u64);
    assert_eq!(
        output["rowsWritten"]["DepartmentReport"],
        expected.len() as u64
    );
    let file = factory.join("lake/reports/department-mail/departments.csv");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), csv);
}

/// Writes `value` as pretty JSON at `dir/relative`.
fn put(dir: &Path, relative: &str, value: Value) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

fn file_dataset(name: &str, kind: &str, folder: &str, extra: Value) -> Value {
    let mut tp = json!({"location": {"type": "AzureBlobFSLocation", "fileSystem": "data",
                                     "folderPath": folder}});
    for (k, v) in extra.as_object().unwrap() {
        tp[k] = v.clone();
    }
    json!({"name": name, "properties": {"type": kind,
        "linkedServiceName": {"referenceName": "Lake", "type": "LinkedServiceReference"},
        "parameters": {"folder": {"type": "String", "defaultValue": folder}},
        "typeProperties": tp}})
}

fn lake_flow(name: &str, source: &str, sink: &str, script: &str) -> Value {
    json!({"name": name, "properties": {"type": "MappingDataFlow", "typeProperties": {
        "sources": [{"name": "In", "dataset": {"referenceName": source, "type": "DatasetReference"}}],
        "sinks": [{"name": "Out", "dataset": {"referenceName": sink, "type": "DatasetReference"}}],
        "script": script}}})
}

#[test]
fn lake_sources_and_sinks_round_trip_json_parquet_and_delimited_text() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("factory");
    put(&f, "mdflow.json", json!({"consent": {"enabled": false}}));
    put(
        &f,
        "linkedService/Lake.json",
        json!({"name": "Lake", "properties": {
        "type": "AzureBlobFS", "typeProperties": {"url": "file:./lake"}}}),
    );
    // The input: one JSON Lines file and one JSON array file.
    let input = f.join("lake/data/in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("a.json"),
        "{\"n\":1,\"who\":\"ann\"}\n{\"n\":2,\"who\":\"bo, jr\"}\n",
    )
    .unwrap();
    std::fs::write(
        input.join("b.json"),
        "[{\"n\":3,\"who\":\"cy\"},{\"n\":4,\"who\":null}]",
    )
    .unwrap();
    put(
        &f,
        "dataset/JsonIn.json",
        file_dataset("JsonIn", "Json", "in", json!({})),
    );
    put(
        &f,
        "dataset/ParquetMid.json",
        file_dataset("ParquetMid", "Parquet", "mid", json!({})),
    );
    put(
        &f,
        "dataset/CsvMid.json",
        file_dataset(
            "CsvMid",
            "DelimitedText",
            "csv",
            json!({"firstRowAsHeader": true}),
        ),
    );
    let mut out = file_dataset("JsonOut", "Json", "out", json!({}));
    out["properties"]["typeProperties"]["location"]["folderPath"] =
        json!({"value": "@dataset().folder", "type": "Expression"});
    put(&f, "dataset/JsonOut.json", out);
    put(
        &f,
        "dataflow/ToParquet.json",
        lake_flow(
            "ToParquet",
            "JsonIn",
            "ParquetMid",
            "parameters{ factor as integer (1) }\n\
         source(output(n as long, who as string)) ~> In\n\
         In derive(scaled = n * $factor) ~> D\n\
         D sink(truncate: true) ~> Out",
        ),
    );
    put(
        &f,
        "dataflow/ToCsv.json",
        lake_flow(
            "ToCsv",
            "ParquetMid",
            "CsvMid",
            "source() ~> In\nIn filter(scaled > 10) ~> F\nF sink(truncate: true) ~> Out",
        ),
    );
    put(&f, "dataflow/ToJson.json", lake_flow("ToJson", "CsvMid", "JsonOut",
        "source() ~> In\nIn select(mapColumn(who, scaled = toInteger(scaled))) ~> S\nS sink() ~> Out"));
    let activity = |name: &str, after: Option<&str>, extra: Value| {
        let mut a = json!({"name": name, "type": "ExecuteDataFlow",
            "dependsOn": after.map_or(json!([]), |a| json!([{"activity": a,
                "dependencyConditions": ["Succeeded"]}])),
            "typeProperties": {"dataflow": {"referenceName": name, "type": "DataFlowReference"}}});
        for (k, v) in extra.as_object().unwrap() {
            a["typeProperties"]["dataflow"][k] = v.clone();
        }
        a
    };
    put(
        &f,
        "pipeline/Chain.json",
        json!({"name": "Chain", "properties": {"activities": [
            activity("ToParquet", None, json!({"parameters": {"factor": "10"}})),
            activity("ToCsv", Some("ToParquet"), json!({})),
            activity("ToJson", Some("ToCsv"), json!({"datasetParameters": {"Out": {"folder": "final"}}})),
        ]}}),
    );

    let result = run(&f);
    let outputs: Vec<&Value> = result["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["output"])
        .collect();
    assert_eq!(outputs[0]["rowsRead"]["In"], 4, "{result}");
    assert_eq!(outputs[1]["rowsWritten"]["Out"], 3, "{result}");
    assert!(f.join("lake/data/mid/part-00000.parquet").exists());
    let csv = std::fs::read_to_string(f.join("lake/data/csv/part-00000.csv")).unwrap();
    assert_eq!(csv, "n,who,scaled\n2,\"bo, jr\",20\n3,cy,30\n4,,40\n");
    let rows = vec![
        json!({"who": "bo, jr", "scaled": 20}),
        json!({"who": "cy", "scaled": 30}),
        json!({"who": null, "scaled": 40}),
    ];
    assert_eq!(read_rows(&f.join("lake/data/final")), rows);

    // A rerun: sinks with `truncate: true` replace their folders; the last sink has none
    // and, as in ADF, adds a file beside the first run's.
    run(&f);
    let count = |folder: &str| {
        std::fs::read_dir(f.join("lake/data").join(folder))
            .unwrap()
            .count()
    };
    assert_eq!((count("mid"), count("csv")), (1, 1));
    assert_eq!(count("final"), 2);
    let twice: Vec<Value> = rows.iter().chain(&rows).cloned().collect();
    let mut again = read_rows(&f.join("lake/data/final"));
    again.sort_by_key(|r| r["scaled"].as_i64());
    let mut want = twice;
    want.sort_by_key(|r| r["scaled"].as_i64());
    assert_eq!(again, want);
}

/// A flow that runs a `Flowlet` resource and looks rows up in a cache sink, through the
/// binary: the flowlet's steps run in place, the lookup sees every cached row, and the
/// cache writes no dataset.
#[test]
fn flowlets_and_cache_lookups_run_inside_a_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("factory");
    put(&f, "mdflow.json", json!({"consent": {"enabled": false}}));
    put(
        &f,
        "linkedService/Lake.json",
        json!({"name": "Lake", "properties": {
        "type": "AzureBlobFS", "typeProperties": {"url": "file:./lake"}}}),
    );
    for (folder, text) in [
        (
            "mail",
            "{\"sender\":\"Ann@Contoso.com\",\"size\":5,\"puser\":\"u1\"}\n\
             {\"sender\":\"bo@fabrikam.com\",\"size\":25,\"puser\":\"u2\"}\n\
             {\"sender\":\"cy@contoso.com\",\"size\":40,\"puser\":\"u9\"}\n",
        ),
        (
            "users",
            "{\"uid\":\"u1\",\"department\":\"Finance\"}\n\
             {\"uid\":\"u2\",\"department\":\"Legal\"}\n",
        ),
    ] {
        let at = f.join("lake/data").join(folder);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join("part-00000.json"), text).unwrap();
    }
    for (name, folder) in [("Mail", "mail"), ("Users", "users"), ("Report", "report")] {
        put(
            &f,
            &format!("dataset/{name}.json"),
            file_dataset(name, "Json", folder, json!({})),
        );
    }
    put(
        &f,
        "dataflow/Domains.json",
        json!({"name": "Domains", "properties": {"type": "Flowlet", "typeProperties": {
            "scriptLines": [
                "parameters{ smallest as integer (10) }",
                "input(output(sender as string, size as long, puser as string)) ~> Rows",
                "Rows derive(domain = lower(substringIndex(sender, '@', -1))) ~> D",
                "D filter(size >= $smallest) ~> F",
                "F output() ~> Kept"]}}}),
    );
    put(
        &f,
        "dataflow/Report.json",
        json!({"name": "Report", "properties": {"type": "MappingDataFlow", "typeProperties": {
            "sources": [
                {"name": "M", "dataset": {"referenceName": "Mail", "type": "DatasetReference"}},
                {"name": "U", "dataset": {"referenceName": "Users", "type": "DatasetReference"}}],
            "sinks": [
                {"name": "Out", "dataset": {"referenceName": "Report", "type": "DatasetReference"}}],
            "scriptLines": [
                "source(output(sender as string, size as long, puser as string)) ~> M",
                "source(output(uid as string, department as string)) ~> U",
                "U sink(store: 'cache', format: 'inline', keys: ['uid']) ~> Depts",
                "M flowlet(name: 'Domains') ~> Clean",
                "Clean derive(department = coalesce(Depts#lookup(puser).department, 'unknown')) ~> J",
                "J select(mapColumn(domain, size, department)) ~> S",
                "S sink() ~> Out"]}}}),
    );
    put(
        &f,
        "pipeline/Run.json",
        json!({"name": "Run", "properties": {"activities": [{"name": "Report",
            "type": "ExecuteDataFlow", "typeProperties": {"dataflow": {
                "referenceName": "Report", "type": "DataFlowReference"}}}]}}),
    );

    let result = run(&f);
    let output = &result["activities"][0]["output"];
    assert_eq!(output["rowsRead"]["M"], 3, "{result}");
    assert_eq!(output["rowsWritten"]["Out"], 2, "{result}");
    assert!(
        output["rowsWritten"].get("Depts").is_none(),
        "a cache sink writes no dataset: {result}"
    );
    assert_eq!(
        read_rows(&f.join("lake/data/report")),
        vec![
            json!({"domain": "fabrikam.com", "size": 25, "department": "Legal"}),
            json!({"domain": "contoso.com", "size": 40, "department": "unknown"}),
        ]
    );

    // A flow naming a flowlet the factory does not have fails before reading anything.
    let mut broken: Value =
        serde_json::from_str(&std::fs::read_to_string(f.join("dataflow/Report.json")).unwrap())
            .unwrap();
    broken["properties"]["typeProperties"]["scriptLines"][3] =
        json!("M flowlet(name: 'Domain') ~> Clean");
    put(&f, "dataflow/Report.json", broken);
    let out = mdflow(["run", f.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let text = describe(&out);
    assert!(
        text.contains("no flowlet named `Domain`") && text.contains("its flowlets are: Domains"),
        "{text}"
    );
}

/// The sink's file-name options: one named file, a pattern, and one file per value of a
/// column; two options at once are refused before anything is written.
#[test]
fn sinks_name_their_files_as_the_sink_options_say() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("factory");
    put(&f, "mdflow.json", json!({"consent": {"enabled": false}}));
    put(
        &f,
        "linkedService/Lake.json",
        json!({"name": "Lake", "properties": {
        "type": "AzureBlobFS", "typeProperties": {"url": "file:./lake"}}}),
    );
    let input = f.join("lake/data/in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("part-00000.json"),
        "{\"n\":1,\"day\":\"mon\"}\n{\"n\":2,\"day\":\"tue\"}\n{\"n\":3,\"day\":\"mon\"}\n",
    )
    .unwrap();
    put(
        &f,
        "dataset/In.json",
        file_dataset("In", "Json", "in", json!({})),
    );
    for (name, kind, folder) in [
        ("Single", "Json", "single"),
        ("Pattern", "DelimitedText", "pattern"),
        ("ByDay", "Json", "byday"),
    ] {
        put(
            &f,
            &format!("dataset/{name}.json"),
            file_dataset(name, kind, folder, json!({"firstRowAsHeader": true})),
        );
    }
    let reference = |name: &str| json!({"referenceName": name, "type": "DatasetReference"});
    let flow = |sinks: &[&str]| {
        json!({"name": "Name", "properties": {"type": "MappingDataFlow", "typeProperties": {
            "sources": [{"name": "In", "dataset": reference("In")}],
            "sinks": [
                {"name": "One", "dataset": reference("Single")},
                {"name": "Pat", "dataset": reference("Pattern")},
                {"name": "Days", "dataset": reference("ByDay")}],
            "scriptLines": [
                "source(output(n as long, day as string)) ~> In",
                "In derive(file = day + '.json') ~> D",
                sinks[0], sinks[1], sinks[2]]}}})
    };
    put(
        &f,
        "dataflow/Name.json",
        flow(&[
            "In sink(partitionFileNames: ['all.json']) ~> One",
            "In sink(filePattern: 'numbers[n]') ~> Pat",
            "D sink(rowUrlColumn: 'file') ~> Days",
        ]),
    );
    put(
        &f,
        "pipeline/Run.json",
        json!({"name": "Run", "properties": {"activities": [{"name": "Name",
            "type": "ExecuteDataFlow", "typeProperties": {"dataflow": {
                "referenceName": "Name", "type": "DataFlowReference"}}}]}}),
    );
    run(&f);
    let files = |folder: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(f.join("lake/data").join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('_') && !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    assert_eq!(files("single"), ["all.json"]);
    assert_eq!(files("pattern"), ["numbers1.csv"]);
    assert_eq!(files("byday"), ["mon.json", "tue.json"]);
    let mon = std::fs::read_to_string(f.join("lake/data/byday/mon.json")).unwrap();
    assert_eq!(
        mon,
        "{\"n\":1,\"day\":\"mon\"}\n{\"n\":3,\"day\":\"mon\"}\n"
    );
    let csv = std::fs::read_to_string(f.join("lake/data/pattern/numbers1.csv")).unwrap();
    assert_eq!(csv, "n,day\n1,mon\n2,tue\n3,mon\n");

    // Two naming options on one sink: refused, and the earlier outputs stay as they were.
    put(
        &f,
        "dataflow/Name.json",
        flow(&[
            "In sink(partitionFileNames: ['x.json'], filePattern: 'y[n]') ~> One",
            "In sink(filePattern: 'other[n]') ~> Pat",
            "D sink(rowUrlColumn: 'file') ~> Days",
        ]),
    );
    let out = mdflow(["run", f.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    assert!(describe(&out).contains("keep one"), "{}", describe(&out));
    assert_eq!(files("single"), ["all.json"]);
    assert_eq!(files("pattern"), ["numbers1.csv"]);
}

/// Sources and sinks bound to a linked service, their format and place written in the
/// script (ADF's inline datasets), read and write like datasets.
#[test]
fn inline_datasets_read_and_write_through_the_linked_service() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("factory");
    put(&f, "mdflow.json", json!({"consent": {"enabled": false}}));
    put(
        &f,
        "linkedService/Lake.json",
        json!({"name": "Lake", "properties": {
        "type": "AzureBlobFS", "typeProperties": {"url": "file:./lake"}}}),
    );
    let input = f.join("lake/data/in/2024");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("a.json"),
        "{\"n\":1,\"who\":\"ann\"}\n{\"n\":2,\"who\":\"bo\"}\n",
    )
    .unwrap();
    let lake = json!({"referenceName": "Lake", "type": "LinkedServiceReference"});
    put(
        &f,
        "dataflow/Inline.json",
        json!({"name": "Inline", "properties": {"type": "MappingDataFlow", "typeProperties": {
            "sources": [{"name": "In", "linkedService": lake}],
            "sinks": [{"name": "Out", "linkedService": lake}],
            "scriptLines": [
                "parameters{ year as string ('2024') }",
                "source(output(n as long, who as string), format: 'json',",
                "    fileSystem: 'data', wildcardPaths: [('in/' + $year + '/*.json')],",
                "    documentForm: 'documentPerLine') ~> In",
                "In derive(twice = n * 2) ~> D",
                "D sink(format: 'delimited', fileSystem: 'data', folderPath: 'out',",
                "    columnDelimiter: ';', columnNamesAsHeader: true,",
                "    partitionFileNames: ['people.csv']) ~> Out"]}}}),
    );
    put(
        &f,
        "pipeline/Run.json",
        json!({"name": "Run", "properties": {"activities": [{"name": "Inline",
            "type": "ExecuteDataFlow", "typeProperties": {"dataflow": {
                "referenceName": "Inline", "type": "DataFlowReference"}}}]}}),
    );
    let result = run(&f);
    assert_eq!(result["activities"][0]["output"]["rowsWritten"]["Out"], 2);
    let csv = std::fs::read_to_string(f.join("lake/data/out/people.csv")).unwrap();
    assert_eq!(csv, "n;who;twice\n1;ann;2\n2;bo;4\n");
}

#[test]
fn preview_shows_the_rows_at_a_step_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let factory = flow_copy(dir.path(), "mail-by-domain");
    let file = factory.join("dataflow/MailByDomainPerDay.json");
    let out = mdflow([
        "dataflow",
        "preview",
        file.to_str().unwrap(),
        "--step",
        "Sorted",
        "--rows",
        "3",
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0]["day"].as_str().unwrap().starts_with("2024-03-0"));
    assert!(!factory.join("lake").exists());

    let out = mdflow([
        "dataflow",
        "preview",
        file.to_str().unwrap(),
        "--step",
        "Nope",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its steps are: Messages"));
}
