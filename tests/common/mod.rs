//! Helpers shared by the end-to-end tests: they drive the real `mdflow` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `mdflow` with arguments and returns its output.
pub fn mdflow<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the mdflow binary runs")
}

/// The exit code, stdout and stderr of a finished command, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every JSON Lines row of every `.json` file under a folder, skipping staging folders.
pub fn read_rows(dir: &Path) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    let mut files = json_files(dir);
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            rows.push(serde_json::from_str(line).unwrap());
        }
    }
    rows
}

/// The `.json` files under a folder, recursively, skipping `_mdflow` staging folders.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with("_mdflow") {
                found.extend(json_files(&path));
            }
        } else if name.ends_with(".json") {
            found.push(path);
        }
    }
    found
}

/// Writes a JSON value, pretty-printed, creating the parent folder.
pub fn write_json(path: &Path, value: &serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Every file under a folder, staging folders included.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A running `mdflow tenant serve`, stopped when the test ends, even by a panic.
pub struct Serving {
    child: std::process::Child,
    /// The address it listens on.
    pub url: String,
    /// The line it printed on start, for tests that check what it shows.
    pub first_line: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mdflow tenant serve --json` with more arguments and environment from `configure`
/// and waits for the line that gives its address.
pub fn serve(configure: impl FnOnce(&mut Command) -> &mut Command) -> Serving {
    use std::io::BufRead;
    let mut command = Command::new(env!("CARGO_BIN_EXE_mdflow"));
    command.args(["tenant", "serve", "--json"]);
    let mut child = configure(&mut command)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the emulator starts");
    let stdout = child.stdout.take().unwrap();
    let mut first_line = String::new();
    let read = std::io::BufReader::new(stdout).read_line(&mut first_line);
    let mut serving = Serving {
        child,
        url: String::new(),
        first_line,
    };
    read.expect("the emulator prints its address");
    let info: serde_json::Value =
        serde_json::from_str(&serving.first_line).expect("the emulator prints JSON");
    serving.url = info["url"]
        .as_str()
        .expect("the emulator prints its url")
        .to_owned();
    serving
}

/// The quickstart tenant (seed 42, first half of 2024) at a given size, as `tenant generate`
/// writes it: every Message_v1 row and every User_v1 row, read back from `dir/generated`.
pub fn generate_quickstart_tenant(
    dir: &Path,
    users: u32,
    messages: u32,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let out_dir = dir.join("generated");
    let (users, messages) = (users.to_string(), messages.to_string());
    let out = mdflow([
        "tenant",
        "generate",
        "--users",
        &users,
        "--messages-per-user",
        &messages,
        "--seed",
        "42",
        "--from",
        "2024-01-01",
        "--to",
        "2024-06-30",
        "--tables",
        "Message_v1,User_v1",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    (
        read_rows(&out_dir.join("BasicDataSet_v0.Message_v1")),
        read_rows(&out_dir.join("BasicDataSet_v0.User_v1")),
    )
}
