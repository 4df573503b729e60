//! Lake storage: where copies land their files.
//!
//! Nothing half-written is ever visible. A copy writes its files under a staging prefix
//! (`_mdflow_staging/` at the top of the container, which readers skip) and publishes them
//! with a commit; a failed or killed copy leaves only staging debris, which the next run of
//! the same output removes. A commit replaces what the previous run published, so a rerun
//! never adds to old output.

mod local;
mod location;
mod object;

use std::io::{Read, Write};

pub use local::LocalFolderLake;
pub use location::{check_segment, OutputLocation};
pub use object::{AzureAccount, AzureCredential, ObjectLake};

/// Errors of lake storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LakeError {
    /// A container, folder or file name that could leave its place.
    #[error("{what} `{value}` {reason}")]
    UnsafePath {
        /// Which property: container, folderPath or fileName.
        what: &'static str,
        /// The value as given (after expressions were evaluated).
        value: String,
        /// Why it is refused and what to do instead.
        reason: &'static str,
    },
    /// An I/O failure, with the path it happened on.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A failure reported by an object store.
    #[error("{action} {path}: {message}")]
    Store {
        /// What was being done.
        action: &'static str,
        /// The path in the lake.
        path: String,
        /// What the store said.
        message: String,
    },
    /// A file or folder that does not exist.
    #[error("{path} does not exist; check the dataset's container, folderPath and fileName")]
    NotFound {
        /// The path in the lake.
        path: String,
    },
    /// An output whose commit was interrupted.
    #[error(
        "{path} was being published by run {run} when it stopped; rerun the copy that writes it"
    )]
    HalfPublished {
        /// The output folder.
        path: String,
        /// The run whose commit did not finish.
        run: String,
    },
    /// A storage account address or credential that cannot be used.
    #[error("storage endpoint `{endpoint}` {reason}")]
    BadAccount {
        /// The endpoint as given.
        endpoint: String,
        /// Why it cannot be used, and the fix.
        reason: String,
    },
}

/// One file a commit published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedFile {
    /// Where it is, as a path inside the lake (`container/folder/file`).
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A store that copies write into.
pub trait LakeStore: Send + Sync {
    /// A short description for run records, such as `file:///data/lake`.
    fn describe(&self) -> String;

    /// Starts writing an output. Nothing is visible at `location` until the returned
    /// [`StagedOutput`] is committed.
    fn stage(
        &self,
        location: &OutputLocation,
        run_id: &str,
    ) -> Result<Box<dyn StagedOutput>, LakeError>;

    /// Whether staged files outlive the run that wrote them, so that
    /// [`LakeStore::stage_resuming`] can keep them. Local folders: yes; object stores: not
    /// yet (a stopped run's staging is written again).
    fn resumable(&self) -> bool {
        false
    }

    /// Starts writing an output again where a stopped run left it. `keep` lists groups of
    /// file names `previous_run` staged; a group whose files are all there becomes part of
    /// this staging (published by its commit), and everything else that run staged is
    /// removed. Returns the indices of the groups kept. A store that cannot keep staged
    /// files across runs keeps none, and the caller writes them again.
    fn stage_resuming(
        &self,
        location: &OutputLocation,
        run_id: &str,
        previous_run: &str,
        keep: &[Vec<String>],
    ) -> Result<(Box<dyn StagedOutput>, Vec<usize>), LakeError> {
        let _ = (previous_run, keep);
        Ok((self.stage(location, run_id)?, Vec::new()))
    }

    /// The committed files at `location`: the named file, or every file under the folder
    /// (sub-folders included, `_mdflow` staging skipped), in path order.
    fn list(&self, location: &OutputLocation) -> Result<Vec<PublishedFile>, LakeError>;

    /// Opens a file that [`LakeStore::list`] returned, for streaming reads.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send>, LakeError>;

    /// Opens a file that [`LakeStore::list`] returned for reads at any offset, so that
    /// several threads can each read their own part of it at once.
    fn open_ranges(&self, path: &str) -> Result<Box<dyn RangeRead>, LakeError>;
}

/// A file read at any offset, by any number of threads at once.
pub trait RangeRead: Send + Sync {
    /// The file's size in bytes.
    fn size(&self) -> u64;

    /// How many bytes a read should ask for: a local read costs a system call and its
    /// bytes are best still in the cache when they are decoded, while an object-store read
    /// costs a round trip to the service.
    fn read_size(&self) -> usize;

    /// Fills `buf` from `offset` on and returns how many bytes it read: `buf.len()`, or
    /// fewer when the file ends first.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// Files being written for one output.
pub trait StagedOutput: Send {
    /// Creates a staged file. Names are checked like any other path segment.
    fn create(&mut self, name: &str) -> Result<Box<dyn Write + Send>, LakeError>;

    /// Publishes the staged files, replacing what the previous run published there.
    fn commit(self: Box<Self>) -> Result<Vec<PublishedFile>, LakeError>;

    /// Publishes the staged files beside what the folder already holds, replacing only
    /// files of the same names (a data flow sink without `truncate`). An output that is
    /// one named file is published as [`StagedOutput::commit`] does.
    fn commit_adding(self: Box<Self>) -> Result<Vec<PublishedFile>, LakeError>;

    /// Removes the staged files without publishing anything.
    fn abort(self: Box<Self>);
}
