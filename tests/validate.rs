//! `mdflow validate` over the fixture factories: every broken case reports what its
//! `expected.txt` lists, and the good factory validates cleanly.
//!
//! `expected.txt` holds one substring per line that must appear in the output; a line
//! `exit: N` sets the expected exit status (2 by default, since broken cases hold errors).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn validate(factory: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .arg("validate")
        .arg(factory)
        .args(extra)
        .env("RUST_LOG", "off")
        .output()
        .expect("mdflow runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn every_broken_case_reports_its_problem() {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join("broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "only {} broken cases", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let expected = fs::read_to_string(case.join("expected.txt")).unwrap();
        let (code, output) = validate(case, &[]);
        let mut want_code = 2;
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(n) = line.strip_prefix("exit: ") {
                want_code = n.trim().parse().unwrap();
            } else if !output.contains(line) {
                failures.push(format!("{}: missing `{line}`", case.display()));
            }
        }
        if code != want_code {
            failures.push(format!(
                "{}: exit {code}, expected {want_code}",
                case.display()
            ));
        }
        if !failures.is_empty()
            && failures
                .last()
                .unwrap()
                .starts_with(&*case.to_string_lossy())
        {
            failures.push(format!("--- output of {}:\n{output}", case.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_good_factory_validates() {
    let (code, output) = validate(&fixtures().join("good/copy-message"), &[]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("0 errors, 0 warnings"), "{output}");
}

#[test]
fn json_output_is_an_array_of_diagnostics() {
    let (code, output) = validate(&fixtures().join("broken/too-many-groups"), &["--json"]);
    assert_eq!(code, 2);
    let value: serde_json::Value = serde_json::from_str(&output).unwrap();
    let first = &value.as_array().unwrap()[0];
    assert_eq!(first["severity"], "error");
    assert!(
        first["pointer"]
            .as_str()
            .unwrap()
            .ends_with("/allowedGroups"),
        "{first}"
    );
}

#[test]
fn an_unusable_path_exits_2() {
    let (code, _) = validate(Path::new("/nonexistent/factory"), &[]);
    assert_eq!(code, 2);
}
