//! One storage conformance suite, run against every lake back-end: the local folder, the
//! object-store protocol in memory, and Azure Blob Storage through Azurite.
//!
//! `scripts/test.sh` starts Azurite and sets `MDFLOW_TEST_AZURITE`; the Azurite tests then
//! fail when the service does not answer. Under a plain `cargo test` they print a notice
//! and pass without running.

use std::io::{Read, Write};

use mdflow_connectors::lake::{
    AzureAccount, AzureCredential, LakeError, LakeStore, LocalFolderLake, ObjectLake,
    OutputLocation,
};

/// Azurite's well-known development account key.
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn location(container: &str, folder: &str, file: Option<&str>) -> OutputLocation {
    OutputLocation {
        container: container.into(),
        folder: folder.into(),
        file_name: file.map(Into::into),
    }
}

fn write(lake: &dyn LakeStore, loc: &OutputLocation, run: &str, files: &[(&str, &[u8])]) {
    let mut staged = lake.stage(loc, run).unwrap();
    for (name, body) in files {
        let mut w = staged.create(name).unwrap();
        w.write_all(body).unwrap();
        w.flush().unwrap();
    }
    staged.commit().unwrap();
}

fn read(lake: &dyn LakeStore, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    lake.open(path).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn names(lake: &dyn LakeStore, loc: &OutputLocation) -> Vec<String> {
    lake.list(loc)
        .unwrap()
        .into_iter()
        .map(|f| f.path.rsplit('/').next().unwrap().to_owned())
        .collect()
}

/// The whole suite against one lake; `prefix` keeps runs against a shared service apart.
fn conformance(lake: &dyn LakeStore, container: &str, prefix: &str) {
    nothing_is_visible_before_commit(lake, container, prefix);
    reruns_replace_part_files(lake, container, prefix);
    appending_runs_add_files_beside_the_old(lake, container, prefix);
    a_named_file_replaces_only_itself(lake, container, prefix);
    large_files_stream_back_intact(lake, container, prefix);
    killed_runs_leave_nothing_readable(lake, container, prefix);
    escapes_are_refused(lake, container);
}

fn nothing_is_visible_before_commit(lake: &dyn LakeStore, container: &str, prefix: &str) {
    let loc = location(container, &format!("{prefix}/invisible"), None);
    let mut staged = lake.stage(&loc, "run1").unwrap();
    staged
        .create("part-00000.json")
        .unwrap()
        .write_all(b"{}\n")
        .unwrap();
    assert!(lake.list(&loc).map(|f| f.is_empty()).unwrap_or(true));
    staged.abort();
    assert!(lake.list(&loc).map(|f| f.is_empty()).unwrap_or(true));
}

fn reruns_replace_part_files(lake: &dyn LakeStore, container: &str, prefix: &str) {
    let loc = location(container, &format!("{prefix}/parts"), None);
    write(
        lake,
        &loc,
        "run2",
        &[("part-00000.json", b"{}\n"), ("part-00001.json", b"{}\n")],
    );
    assert_eq!(names(lake, &loc), ["part-00000.json", "part-00001.json"]);
    write(lake, &loc, "run3", &[("part-00000.json", b"{\"a\":1}\n")]);
    assert_eq!(names(lake, &loc), ["part-00000.json"]);
    let files = lake.list(&loc).unwrap();
    assert_eq!(files[0].bytes, 8);
    assert_eq!(read(lake, &files[0].path), b"{\"a\":1}\n");
}

fn appending_runs_add_files_beside_the_old(lake: &dyn LakeStore, container: &str, prefix: &str) {
    let loc = location(container, &format!("{prefix}/appended"), None);
    write(lake, &loc, "r1", &[("a.json", b"a1"), ("b.json", b"b1")]);
    let mut staged = lake.stage(&loc, "r2").unwrap();
    for (name, body) in [("b.json", b"b2"), ("c.json", b"c2")] {
        let mut w = staged.create(name).unwrap();
        w.write_all(body).unwrap();
        w.flush().unwrap();
    }
    let published = staged.commit_adding().unwrap();
    assert_eq!(published.len(), 2, "only the new files are reported");
    assert_eq!(names(lake, &loc), ["a.json", "b.json", "c.json"]);
    let files = lake.list(&loc).unwrap();
    let bodies: Vec<Vec<u8>> = files.iter().map(|f| read(lake, &f.path)).collect();
    assert_eq!(bodies, [b"a1".to_vec(), b"b2".to_vec(), b"c2".to_vec()]);
    // A replacing run afterwards leaves only its own files.
    write(lake, &loc, "r3", &[("d.json", b"d3")]);
    assert_eq!(names(lake, &loc), ["d.json"]);
}

fn a_named_file_replaces_only_itself(lake: &dyn LakeStore, container: &str, prefix: &str) {
    let folder = format!("{prefix}/shared");
    write(
        lake,
        &location(container, &folder, Some("other.json")),
        "r0",
        &[("other.json", b"keep")],
    );
    let loc = location(container, &folder, Some("m.json"));
    write(lake, &loc, "r1", &[("m.json", b"1")]);
    write(lake, &loc, "r2", &[("m.json", b"2")]);
    let files = lake.list(&loc).unwrap();
    assert_eq!(read(lake, &files[0].path), b"2");
    let other = location(container, &folder, Some("other.json"));
    assert_eq!(read(lake, &lake.list(&other).unwrap()[0].path), b"keep");
}

fn large_files_stream_back_intact(lake: &dyn LakeStore, container: &str, prefix: &str) {
    let loc = location(container, &format!("{prefix}/large"), None);
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut staged = lake.stage(&loc, "big").unwrap();
    let mut w = staged.create("part-00000.bin").unwrap();
    // Written in uneven pieces, as an encoder would.
    for piece in body.chunks(70_001) {
        w.write_all(piece).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    staged.commit().unwrap();
    let files = lake.list(&loc).unwrap();
    assert_eq!(files[0].bytes, body.len() as u64);
    assert!(read(lake, &files[0].path) == body, "content differs");

    // Read again by ranges, from two threads at once, as a data flow's workers read.
    let ranged = lake.open_ranges(&files[0].path).unwrap();
    assert_eq!(ranged.size(), body.len() as u64);
    let ranged = &*ranged;
    std::thread::scope(|scope| {
        for first in [0u64, 1] {
            let body = &body;
            scope.spawn(move || {
                let mut buf = vec![0; 500_000];
                let mut offset = first * 250_000;
                while offset < body.len() as u64 {
                    let n = ranged.read_at(offset, &mut buf).unwrap();
                    let want = &body[offset as usize..];
                    assert_eq!(n, want.len().min(buf.len()), "short read at {offset}");
                    assert!(buf[..n] == want[..n], "range at {offset} differs");
                    offset += 2 * 250_000;
                }
            });
        }
    });
    let mut past_the_end = [0u8; 8];
    assert_eq!(
        ranged
            .read_at(body.len() as u64, &mut past_the_end)
            .unwrap(),
        0
    );
}

fn killed_runs_leave_nothing_readable(lake: &dyn LakeStore, container: &str, prefix: &str) {
    let loc = location(container, &format!("{prefix}/killed"), None);
    write(lake, &loc, "ok", &[("part-00000.json", b"old\n")]);
    // A run that dies without commit or abort leaves staging debris only.
    let mut staged = lake.stage(&loc, "killed").unwrap();
    staged
        .create("part-00000.json")
        .unwrap()
        .write_all(b"half")
        .unwrap();
    std::mem::forget(staged);
    assert_eq!(read(lake, &lake.list(&loc).unwrap()[0].path), b"old\n");
    write(lake, &loc, "next", &[("part-00000.json", b"new\n")]);
    assert_eq!(names(lake, &loc), ["part-00000.json"]);
    assert_eq!(read(lake, &lake.list(&loc).unwrap()[0].path), b"new\n");
}

fn escapes_are_refused(lake: &dyn LakeStore, container: &str) {
    for (folder, file) in [
        ("a/../../etc", None),
        ("/etc", None),
        ("a", Some("../x.json")),
        ("https://evil/x", None),
    ] {
        let loc = location(container, folder, file);
        assert!(
            matches!(lake.stage(&loc, "r"), Err(LakeError::UnsafePath { .. })),
            "{folder} {file:?} was accepted"
        );
    }
    let mut staged = lake.stage(&location(container, "fine", None), "r").unwrap();
    assert!(staged.create("../escape.json").is_err());
    staged.abort();
}

#[test]
fn local_folder_conforms() {
    let dir = tempfile::tempdir().unwrap();
    conformance(&LocalFolderLake::new(dir.path()), "raw", "suite");
}

#[test]
fn object_protocol_conforms_in_memory() {
    let lake = ObjectLake::memory().with_part_size(256 << 10);
    conformance(&lake, "raw", "suite");
}

/// Azurite's blob endpoint when the test script started it.
fn azurite() -> Option<String> {
    match std::env::var("MDFLOW_TEST_AZURITE") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "notice: MDFLOW_TEST_AZURITE is not set, so the Azurite tests do not run; \
                 ./scripts/test.sh starts Azurite and runs them"
            );
            None
        }
    }
}

#[test]
fn azure_blob_storage_conforms_on_azurite() {
    let Some(endpoint) = azurite() else {
        return;
    };
    let lake = ObjectLake::azure(AzureAccount {
        endpoint,
        credential: AzureCredential::AccountKey(AZURITE_KEY.into()),
    })
    .unwrap()
    .with_part_size(1 << 20);
    let prefix = format!("suite-{}", std::process::id());
    conformance(&lake, "conformance", &prefix);
}

#[test]
fn a_wrong_account_key_is_a_clear_error_on_azurite() {
    let Some(endpoint) = azurite() else {
        return;
    };
    let lake = ObjectLake::azure(AzureAccount {
        endpoint,
        credential: AzureCredential::AccountKey("d3Jvbmc=".into()),
    })
    .unwrap();
    let err = lake
        .list(&location("conformance", "anything", None))
        .unwrap_err();
    assert!(matches!(err, LakeError::Store { .. }), "{err}");
}
