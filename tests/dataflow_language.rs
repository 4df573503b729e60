//! The data flow language end to end: every fixture script prints and parses back to the
//! same tree, `mdflow dataflow check|fmt` and `mdflow eval` through the binary, and the
//! error messages (file, line, column, the line, a caret, the fix) as expected text.

mod common;

use std::path::PathBuf;

use common::{describe, mdflow, root};
use mdflow_engine::dataflow::{parse_script, printer::print_script};

fn fixtures() -> Vec<PathBuf> {
    let dir = root().join("tests/fixtures/dataflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dfs"))
        .filter(|p| !p.ends_with("broken.dfs"))
        .collect();
    files.extend(
        ["flows/mail-by-domain/dataflow/MailByDomain.json"]
            .iter()
            .map(|f| root().join(f))
            .filter(|p| p.exists()),
    );
    files.sort();
    files
}

#[test]
fn print_then_parse_gives_the_same_tree() {
    for file in fixtures() {
        let flow = mdflow_engine::dataflow::read_file(&file).unwrap();
        let (tree, problems) = parse_script(&flow.source.text);
        assert!(problems.is_empty(), "{}: {problems:?}", file.display());
        let printed = print_script(&tree);
        let (again, problems) = parse_script(&printed);
        assert!(
            problems.is_empty(),
            "{}: printed text does not parse: {problems:?}\n{printed}",
            file.display()
        );
        assert_eq!(
            tree,
            again,
            "{}: the tree changed\n{printed}",
            file.display()
        );
        assert_eq!(
            printed,
            print_script(&again),
            "{}: normal form is not stable",
            file.display()
        );
    }
}

#[test]
fn check_accepts_good_scripts_and_rejects_broken_ones() {
    for file in fixtures() {
        let out = mdflow(["dataflow", "check", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    let broken = root().join("tests/fixtures/dataflows/broken.dfs");
    let out = mdflow(["dataflow", "check", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&format!("{}/", root().display()), "");
    let expected =
        std::fs::read_to_string(root().join("tests/fixtures/dataflows/broken.expected")).unwrap();
    assert_eq!(stderr.trim(), expected.trim(), "{}", describe(&out));
}

#[test]
fn fmt_prints_the_normal_form() {
    let file = root().join("tests/fixtures/dataflows/mail_by_domain.dfs");
    let out = mdflow(["dataflow", "fmt", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("parameters{\n\tminRecipients as integer (0)\n}\n"),
        "{text}"
    );
    assert!(
        text.contains("PerDay sort(asc(day, true), desc(messages, false)) ~> Sorted"),
        "{text}"
    );
}

#[test]
fn eval_prints_literals_and_fails_with_exit_2() {
    let cases = [
        ("upper('bo') + toString(30)", None, "'BO30'"),
        ("[10, 20] + [30]", None, "[10, 20, 30]"),
        (
            "addDays(toDate('2012-12-12'), 3)",
            None,
            "toDate('2012-12-15')",
        ),
        (
            "{first name} + ' ' + upper(last)",
            Some(r#"{"first name": "Ada", "last": "lovelace"}"#),
            "'Ada LOVELACE'",
        ),
        ("isNull(10 / 0)", None, "true"),
    ];
    for (expr, row, expected) in cases {
        let mut args = vec!["eval", expr];
        if let Some(r) = row {
            args.extend(["--row", r]);
        }
        let out = mdflow(&args);
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            expected,
            "{expr}"
        );
    }
    let out = mdflow(["eval", "upper(nosuch)"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no column `nosuch`"),
        "{}",
        describe(&out)
    );
}
