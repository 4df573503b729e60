//! A local folder as the lake: the embedded default (`file://` linked services).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::{LakeError, LakeStore, OutputLocation, PublishedFile, RangeRead, StagedOutput};

/// Staging lives at the top of each container, outside every output folder.
const STAGING_DIR: &str = "_mdflow_staging";

/// A lake in a local folder: containers are its sub-folders.
#[derive(Debug, Clone)]
pub struct LocalFolderLake {
    root: PathBuf,
}

impl LocalFolderLake {
    /// A lake rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalFolderLake { root: root.into() }
    }

    /// The folder on disk of a lake path (`container/folder`).
    pub fn resolve(&self, lake_path: &str) -> PathBuf {
        self.root.join(lake_path)
    }
}

impl LocalFolderLake {
    /// Creates the staging folder of a run, first taking over the files to keep of a stopped
    /// run's staging (renamed, not copied) and dropping every other staging of the output.
    fn open_staging(
        &self,
        location: &OutputLocation,
        run_id: &str,
        adopt: Option<(&str, &[Vec<String>])>,
    ) -> Result<(Box<dyn StagedOutput>, Vec<usize>), LakeError> {
        location.validate()?;
        let staging_root = self.root.join(&location.container).join(STAGING_DIR);
        let output_key = location.staging_key();
        let staging = staging_root.join(format!("{run_id}--{output_key}"));

        let (mut kept, mut kept_groups) = (Vec::new(), Vec::new());
        if let Some((previous_run, keep)) = adopt {
            let previous = staging_root.join(format!("{previous_run}--{output_key}"));
            if previous != staging && previous.is_dir() {
                let _ = fs::remove_dir_all(&staging);
                fs::rename(&previous, &staging).map_err(io("cannot take over", &previous))?;
            }
            for (index, group) in keep.iter().enumerate() {
                if group.iter().all(|name| staging.join(name).is_file()) {
                    kept_groups.push(index);
                    kept.extend(group.iter().cloned());
                }
            }
            // Files no complete group names were being written when the run stopped.
            if let Ok(entries) = fs::read_dir(&staging) {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !kept.contains(&name) {
                        let _ = fs::remove_file(entry.path());
                    }
                }
            }
            kept.sort();
        }

        // Debris of killed runs of this same output: never published, safe to drop.
        if let Ok(entries) = fs::read_dir(&staging_root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(&format!("--{output_key}")) && entry.path() != staging {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        if adopt.is_none() {
            let _ = fs::remove_dir_all(&staging);
        }

        fs::create_dir_all(&staging).map_err(io("cannot create staging folder", &staging))?;
        let target = self.root.join(location.folder_path());
        let staged = LocalStaged {
            staging,
            target,
            lake_folder: location.folder_path(),
            file_name: location.file_name.clone(),
            files: kept.clone(),
        };
        Ok((Box::new(staged), kept_groups))
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> LakeError + 'a {
    move |source| LakeError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

impl LakeStore for LocalFolderLake {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn stage(
        &self,
        location: &OutputLocation,
        run_id: &str,
    ) -> Result<Box<dyn StagedOutput>, LakeError> {
        Ok(self.open_staging(location, run_id, None)?.0)
    }

    fn resumable(&self) -> bool {
        true
    }

    fn stage_resuming(
        &self,
        location: &OutputLocation,
        run_id: &str,
        previous_run: &str,
        keep: &[Vec<String>],
    ) -> Result<(Box<dyn StagedOutput>, Vec<usize>), LakeError> {
        self.open_staging(location, run_id, Some((previous_run, keep)))
    }

    fn list(&self, location: &OutputLocation) -> Result<Vec<PublishedFile>, LakeError> {
        location.validate()?;
        let folder = self.root.join(location.folder_path());
        let lake_folder = location.folder_path();
        if let Some(name) = &location.file_name {
            let path = folder.join(name);
            let meta = fs::metadata(&path).map_err(|_| LakeError::NotFound {
                path: format!("{lake_folder}/{name}"),
            })?;
            return Ok(vec![PublishedFile {
                path: format!("{lake_folder}/{name}"),
                bytes: meta.len(),
            }]);
        }
        if !folder.is_dir() {
            return Err(LakeError::NotFound { path: lake_folder });
        }
        let mut found = Vec::new();
        walk(&folder, &lake_folder, &mut found)?;
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send>, LakeError> {
        let file = self.open_file(path)?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }

    fn open_ranges(&self, path: &str) -> Result<Box<dyn RangeRead>, LakeError> {
        let file = self.open_file(path)?;
        let full = self.root.join(path);
        let size = file.metadata().map_err(io("cannot open", &full))?.len();
        Ok(Box::new(LocalRanges { file, size }))
    }
}

impl LocalFolderLake {
    fn open_file(&self, path: &str) -> Result<File, LakeError> {
        if path.split('/').any(|s| s == ".." || s.is_empty()) {
            return Err(LakeError::NotFound {
                path: path.to_owned(),
            });
        }
        let full = self.root.join(path);
        File::open(&full).map_err(io("cannot open", &full))
    }
}

/// A local file read with positioned reads, which share the file without a lock.
struct LocalRanges {
    file: File,
    size: u64,
}

impl RangeRead for LocalRanges {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_size(&self) -> usize {
        // Reads of 256 KiB to 1 MiB were equally fast on a warm page cache, larger ones
        // slower (docs/performance.md): the copy leaves the bytes in the core's cache.
        1 << 20
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match positioned_read(&self.file, offset + filled as u64, &mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

#[cfg(unix)]
fn positioned_read(file: &File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn positioned_read(file: &File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Collects the files under `dir`, skipping `_mdflow` folders and files.
fn walk(dir: &Path, lake_dir: &str, found: &mut Vec<PublishedFile>) -> Result<(), LakeError> {
    for entry in fs::read_dir(dir).map_err(io("cannot list", dir))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("_mdflow") {
            continue;
        }
        let lake_path = format!("{lake_dir}/{name}");
        let meta = entry.metadata().map_err(io("cannot list", &entry.path()))?;
        if meta.is_dir() {
            walk(&entry.path(), &lake_path, found)?;
        } else {
            found.push(PublishedFile {
                path: lake_path,
                bytes: meta.len(),
            });
        }
    }
    Ok(())
}

struct LocalStaged {
    staging: PathBuf,
    target: PathBuf,
    lake_folder: String,
    file_name: Option<String>,
    files: Vec<String>,
}

impl StagedOutput for LocalStaged {
    fn create(&mut self, name: &str) -> Result<Box<dyn Write + Send>, LakeError> {
        super::check_segment("fileName", name)?;
        let path = self.staging.join(name);
        let file = File::create(&path).map_err(io("cannot create", &path))?;
        self.files.push(name.to_owned());
        Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
    }

    fn commit(self: Box<Self>) -> Result<Vec<PublishedFile>, LakeError> {
        let parent = self.target.parent().unwrap_or(&self.target).to_path_buf();
        fs::create_dir_all(&parent).map_err(io("cannot create folder", &parent))?;
        let mut published = Vec::with_capacity(self.files.len());
        let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);

        match &self.file_name {
            // One named file: a rename replaces the old one in a single step.
            Some(name) => {
                fs::create_dir_all(&self.target)
                    .map_err(io("cannot create folder", &self.target))?;
                let from = self.staging.join(name);
                let to = self.target.join(name);
                fs::rename(&from, &to).map_err(io("cannot publish", &to))?;
                published.push(PublishedFile {
                    path: format!("{}/{name}", self.lake_folder),
                    bytes: size(&to),
                });
            }
            // Part files: the folder belongs to this output and is swapped whole, so readers
            // see either the old set of files or the new one, never a mix.
            None => {
                let old = self.staging.with_extension("replaced");
                if self.target.exists() {
                    fs::rename(&self.target, &old).map_err(io("cannot replace", &self.target))?;
                }
                fs::rename(&self.staging, &self.target)
                    .map_err(io("cannot publish", &self.target))?;
                let _ = fs::remove_dir_all(&old);
                for name in &self.files {
                    published.push(PublishedFile {
                        path: format!("{}/{name}", self.lake_folder),
                        bytes: size(&self.target.join(name)),
                    });
                }
            }
        }
        let _ = fs::remove_dir_all(&self.staging);
        Ok(published)
    }

    fn commit_adding(self: Box<Self>) -> Result<Vec<PublishedFile>, LakeError> {
        if self.file_name.is_some() {
            return self.commit();
        }
        // Each file moves in by its own rename: a reader may see some of the new files
        // before the rest, never a half-written one.
        fs::create_dir_all(&self.target).map_err(io("cannot create folder", &self.target))?;
        let mut published = Vec::with_capacity(self.files.len());
        for name in &self.files {
            let (from, to) = (self.staging.join(name), self.target.join(name));
            fs::rename(&from, &to).map_err(io("cannot publish", &to))?;
            published.push(PublishedFile {
                path: format!("{}/{name}", self.lake_folder),
                bytes: fs::metadata(&to).map(|m| m.len()).unwrap_or(0),
            });
        }
        let _ = fs::remove_dir_all(&self.staging);
        Ok(published)
    }

    fn abort(self: Box<Self>) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(lake: &LocalFolderLake, loc: &OutputLocation, run: &str, files: &[(&str, &str)]) {
        let mut staged = lake.stage(loc, run).unwrap();
        for (name, body) in files {
            let mut w = staged.create(name).unwrap();
            w.write_all(body.as_bytes()).unwrap();
            w.flush().unwrap();
        }
        staged.commit().unwrap();
    }

    #[test]
    fn nothing_is_visible_before_commit_and_reruns_replace() {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalFolderLake::new(dir.path());
        let loc = OutputLocation {
            container: "raw".into(),
            folder: "m/day".into(),
            file_name: None,
        };

        let mut staged = lake.stage(&loc, "run1").unwrap();
        staged
            .create("part-00000.json")
            .unwrap()
            .write_all(b"{}\n")
            .unwrap();
        assert!(!dir.path().join("raw/m/day").exists());
        staged.abort();
        assert!(!dir.path().join("raw/m/day").exists());

        write(
            &lake,
            &loc,
            "run2",
            &[("part-00000.json", "{}\n"), ("part-00001.json", "{}\n")],
        );
        write(&lake, &loc, "run3", &[("part-00000.json", "{\"a\":1}\n")]);
        let names: Vec<_> = fs::read_dir(dir.path().join("raw/m/day"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["part-00000.json"]);
        let staging = fs::read_dir(dir.path().join("raw").join(STAGING_DIR))
            .unwrap()
            .count();
        assert_eq!(staging, 0);
    }

    #[test]
    fn a_resumed_staging_keeps_only_complete_groups() {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalFolderLake::new(dir.path());
        let loc = OutputLocation {
            container: "raw".into(),
            folder: "m".into(),
            file_name: None,
        };
        let mut stopped = lake.stage(&loc, "old").unwrap();
        for name in ["a.json", "b.json", "c.json", "open.json"] {
            stopped.create(name).unwrap().write_all(b"{}\n").unwrap();
        }
        drop(stopped);

        // `d.json` is gone, so its group (with `c.json`) is written again.
        let keep = vec![
            vec!["a.json".to_owned(), "b.json".to_owned()],
            vec!["c.json".to_owned(), "d.json".to_owned()],
        ];
        let (mut staged, kept) = lake.stage_resuming(&loc, "new", "old", &keep).unwrap();
        assert_eq!(kept, [0]);
        staged.create("e.json").unwrap().write_all(b"{}\n").unwrap();
        let published: Vec<_> = staged
            .commit()
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(published, ["raw/m/a.json", "raw/m/b.json", "raw/m/e.json"]);
        let mut names: Vec<_> = fs::read_dir(dir.path().join("raw/m"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.json", "b.json", "e.json"]);
    }

    #[test]
    fn a_named_file_replaces_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalFolderLake::new(dir.path());
        fs::create_dir_all(dir.path().join("raw/shared")).unwrap();
        fs::write(dir.path().join("raw/shared/other.json"), "keep").unwrap();
        let loc = OutputLocation {
            container: "raw".into(),
            folder: "shared".into(),
            file_name: Some("m.json".into()),
        };
        write(&lake, &loc, "r1", &[("m.json", "1")]);
        write(&lake, &loc, "r2", &[("m.json", "2")]);
        assert_eq!(
            fs::read_to_string(dir.path().join("raw/shared/m.json")).unwrap(),
            "2"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("raw/shared/other.json")).unwrap(),
            "keep"
        );
    }
}
