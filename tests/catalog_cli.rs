//! `mdflow catalog` and `mdflow tenant generate` through the binary.

mod common;

use common::{describe, mdflow, root};

#[test]
fn list_and_show_name_the_tables() {
    let out = mdflow(["catalog", "list"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("BasicDataSet_v0.Message_v1"));
    assert!(text.contains("BasicDataSet_v0.GroupMembers_v0"));

    let out = mdflow(["catalog", "show", "message_v1", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["name"], "BasicDataSet_v0.Message_v1");
    assert_eq!(shown["dateFilter"]["required"], true);
    let sender = shown["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sender");
    assert_eq!(
        sender.unwrap()["type"],
        "struct<emailAddress: struct<name: string, address: string>>"
    );

    let out = mdflow(["catalog", "show", "BasicDataSet_v0.Mesage_v1"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown table"));
}

#[test]
fn check_reports_problems_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"subject\":\"fine\"}\n{\"subject\":3,\"extra\":1}\nnot json\n",
    )
    .unwrap();
    let out = mdflow(["catalog", "check", "Message_v1", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.json:2: `subject`: expected string, found number 3"),
        "{text}"
    );
    assert!(text.contains("bad.json:2: unknown field `extra`"), "{text}");
    assert!(text.contains("bad.json:3: not JSON"), "{text}");
    assert!(text.contains("3 rows read, 1 conform"), "{text}");
}

#[test]
fn check_reads_utf16_and_the_published_samples() {
    let dir = tempfile::tempdir().unwrap();
    let sample = root().join("tests/fixtures/mgdc-samples/BasicDataSet_v0.User_v1.json");
    let text = std::fs::read_to_string(&sample).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let converted = dir.path().join("users-utf16.json");
    std::fs::write(&converted, utf16).unwrap();

    let out = mdflow([
        "catalog",
        "check",
        "User_v1",
        sample.to_str().unwrap(),
        converted.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("total: 20 rows read, 20 conform"));
}

#[test]
fn generated_tables_conform_and_generation_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let generate = |out: &str| {
        mdflow([
            "tenant",
            "generate",
            "--users",
            "30",
            "--messages-per-user",
            "6",
            "--seed",
            "7",
            "--from",
            "2024-01-01",
            "--to",
            "2024-03-31",
            "--out",
            out,
        ])
    };
    let first = dir.path().join("a");
    let second = dir.path().join("b");
    for out in [&first, &second] {
        let result = generate(out.to_str().unwrap());
        assert!(result.status.success(), "{}", describe(&result));
    }
    let mut tables = 0;
    for entry in std::fs::read_dir(&first).unwrap() {
        let table_dir = entry.unwrap().path();
        let table = table_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let files = common::json_files(&table_dir);
        assert!(!files.is_empty(), "{table} wrote no file");
        let mut args = vec!["catalog".to_owned(), "check".into(), table.clone()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        let out = mdflow(&args);
        assert!(out.status.success(), "{table}: {}", describe(&out));
        for file in files {
            let twin = second.join(file.strip_prefix(&first).unwrap());
            assert!(
                std::fs::read(&file).unwrap() == std::fs::read(&twin).unwrap(),
                "{table} differs"
            );
        }
        tables += 1;
    }
    assert_eq!(tables, 15);
}

#[test]
fn bad_generate_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = dir.path().join("out").display().to_string();
    let cases: [&[&str]; 3] = [
        &["--users", "-5", "--messages-per-user", "3", "--out", &out],
        &["--users", "5", "--messages-per-user", "0", "--out", &out],
        &[
            "--users",
            "5",
            "--messages-per-user",
            "3",
            "--tables",
            "Nope_v1",
            "--out",
            &out,
        ],
    ];
    for args in cases {
        let mut full = vec!["tenant", "generate"];
        full.extend_from_slice(args);
        let result = mdflow(&full);
        assert_eq!(
            result.status.code(),
            Some(2),
            "{args:?}: {}",
            describe(&result)
        );
    }
    // A file where the output folder should be.
    std::fs::write(&out_dir, "not a folder").unwrap();
    let result = mdflow([
        "tenant",
        "generate",
        "--users",
        "5",
        "--messages-per-user",
        "3",
        "--out",
        &out,
    ]);
    assert_eq!(result.status.code(), Some(2), "{}", describe(&result));
    assert!(
        String::from_utf8_lossy(&result.stderr).contains(&out),
        "{}",
        describe(&result)
    );
}
