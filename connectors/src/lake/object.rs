//! Lakes on object stores (Azure Blob Storage, ADLS Gen2, Azurite, memory) through
//! `object_store`.
//!
//! Object stores have no folder rename, so a commit is a protocol:
//!
//! 1. every file is written under `_mdflow_staging/<run>--<output>/` (large files in parts);
//! 2. a manifest `_mdflow_manifests/<output>.json` is written saying `publishing`, with the
//!    new file list;
//! 3. the files are copied to their place and files of the old output that the new one
//!    lacks are deleted;
//! 4. the manifest is rewritten saying `committed`, and staging is deleted.
//!
//! Readers of a folder (the chained copy) take the manifest's list of a committed output,
//! and refuse an output whose manifest still says `publishing` (a commit was killed): a
//! rerun repairs it. One named file is published by one server-side copy, which replaces
//! the old blob in a single step.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde_json::json;
use tokio::runtime::Runtime;

use super::{LakeError, LakeStore, OutputLocation, PublishedFile, RangeRead, StagedOutput};

const STAGING_DIR: &str = "_mdflow_staging";
const MANIFEST_DIR: &str = "_mdflow_manifests";
/// Files larger than this are uploaded in parts of this size.
const DEFAULT_PART_BYTES: usize = 8 << 20;
/// Parts in flight per file.
const PARTS_IN_FLIGHT: usize = 4;

/// How an Azure storage account is reached.
#[derive(Clone)]
pub enum AzureCredential {
    /// A shared key (`accountKey`, or `AccountKey=` of a connection string).
    AccountKey(String),
    /// A shared access signature, the query string without its `?`.
    Sas(String),
    /// A service principal with a client secret.
    ServicePrincipal {
        /// Tenant of the app registration.
        tenant: String,
        /// Client id.
        client_id: String,
        /// Client secret.
        secret: String,
        /// Token authority for national clouds; the public cloud when `None`.
        authority_host: Option<String>,
    },
}

impl fmt::Debug for AzureCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AzureCredential::AccountKey(_) => f.write_str("AccountKey(<redacted>)"),
            AzureCredential::Sas(_) => f.write_str("Sas(<redacted>)"),
            AzureCredential::ServicePrincipal {
                tenant, client_id, ..
            } => write!(f, "ServicePrincipal({client_id}@{tenant}, <redacted>)"),
        }
    }
}

/// An Azure storage account: its blob endpoint and credential.
#[derive(Debug, Clone)]
pub struct AzureAccount {
    /// The blob (or dfs) endpoint: `https://acct.blob.core.windows.net`, or path-style
    /// `http://127.0.0.1:10000/devstoreaccount1` (Azurite).
    pub endpoint: String,
    /// How to authenticate.
    pub credential: AzureCredential,
}

impl AzureAccount {
    /// The account name and the blob endpoint object_store should use: a `dfs` host is
    /// reached through its `blob` twin, which serves the same data.
    pub fn account_and_endpoint(&self) -> Result<(String, String), LakeError> {
        let bad = |reason: &str| LakeError::BadAccount {
            endpoint: self.endpoint.clone(),
            reason: reason.to_owned(),
        };
        let trimmed = self.endpoint.trim().trim_end_matches('/');
        let (scheme, rest) = trimmed
            .split_once("://")
            .ok_or_else(|| bad("is not a URL; write https://<account>.blob.core.windows.net"))?;
        if scheme != "https" && scheme != "http" {
            return Err(bad("must start with https://"));
        }
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host_name = host.split(':').next().unwrap_or(host);
        let path_style = host_name.parse::<std::net::IpAddr>().is_ok() || host_name == "localhost";
        if path_style {
            let account = path.split('/').next().unwrap_or("");
            if account.is_empty() {
                return Err(bad(
                    "names no account; an emulator address ends with the account, such as \
                     http://127.0.0.1:10000/devstoreaccount1",
                ));
            }
            return Ok((account.to_owned(), format!("{scheme}://{host}/{account}")));
        }
        let account = host_name.split('.').next().unwrap_or("").to_owned();
        if account.is_empty() {
            return Err(bad("names no account"));
        }
        let host = host.replacen(".dfs.", ".blob.", 1);
        Ok((account, format!("{scheme}://{host}")))
    }
}

/// A lake on an object store. Containers map to stores (one Azure client per container).
pub struct ObjectLake {
    backend: Backend,
    runtime: Arc<Runtime>,
    part_bytes: usize,
}

enum Backend {
    Azure {
        account: String,
        endpoint: String,
        credential: AzureCredential,
        stores: Mutex<Vec<(String, Arc<dyn ObjectStore>)>>,
    },
    /// One store whose top-level folders are containers (tests, and local object stores).
    Single(Arc<dyn ObjectStore>, String),
}

fn store_error(action: &'static str, path: &str) -> impl FnOnce(object_store::Error) -> LakeError {
    let path = path.to_owned();
    move |e| match e {
        object_store::Error::NotFound { .. } => LakeError::NotFound { path },
        other => LakeError::Store {
            action,
            path,
            message: other.to_string(),
        },
    }
}

impl ObjectLake {
    /// A lake in an Azure storage account (Blob Storage or ADLS Gen2).
    pub fn azure(account: AzureAccount) -> Result<Self, LakeError> {
        let (name, endpoint) = account.account_and_endpoint()?;
        Ok(ObjectLake {
            backend: Backend::Azure {
                account: name,
                endpoint,
                credential: account.credential,
                stores: Mutex::new(Vec::new()),
            },
            runtime: runtime()?,
            part_bytes: DEFAULT_PART_BYTES,
        })
    }

    /// A lake in any object store whose first path segment is the container.
    pub fn single(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Self {
        ObjectLake {
            backend: Backend::Single(store, description.into()),
            runtime: runtime().expect("a tokio runtime starts"),
            part_bytes: DEFAULT_PART_BYTES,
        }
    }

    /// A lake in memory, for tests of the object-store protocol without a service.
    pub fn memory() -> Self {
        Self::single(Arc::new(object_store::memory::InMemory::new()), "memory://")
    }

    /// Uses parts of `bytes` for large files (tests use small parts to exercise them).
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_bytes = bytes.max(1);
        self
    }

    /// The store holding `container`, and the prefix of the container inside it.
    fn store(&self, container: &str) -> Result<(Arc<dyn ObjectStore>, String), LakeError> {
        match &self.backend {
            Backend::Single(store, _) => Ok((store.clone(), format!("{container}/"))),
            Backend::Azure {
                account,
                endpoint,
                credential,
                stores,
            } => {
                let mut stores = stores.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((_, s)) = stores.iter().find(|(c, _)| c == container) {
                    return Ok((s.clone(), String::new()));
                }
                let mut builder = MicrosoftAzureBuilder::new()
                    .with_account(account)
                    .with_container_name(container)
                    .with_endpoint(endpoint.clone())
                    .with_allow_http(endpoint.starts_with("http://"));
                builder = match credential {
                    AzureCredential::AccountKey(key) => builder.with_access_key(key),
                    AzureCredential::Sas(query) => {
                        let pairs = query
                            .trim_start_matches('?')
                            .split('&')
                            .filter_map(|kv| kv.split_once('='))
                            .map(|(k, v)| (k.to_owned(), percent_decode(v)))
                            .collect::<Vec<_>>();
                        builder.with_sas_authorization(pairs)
                    }
                    AzureCredential::ServicePrincipal {
                        tenant,
                        client_id,
                        secret,
                        authority_host,
                    } => {
                        let b = builder
                            .with_client_id(client_id)
                            .with_client_secret(secret)
                            .with_tenant_id(tenant);
                        match authority_host {
                            Some(host) => b.with_authority_host(host),
                            None => b,
                        }
                    }
                };
                let store: Arc<dyn ObjectStore> =
                    Arc::new(builder.build().map_err(|e| LakeError::BadAccount {
                        endpoint: endpoint.clone(),
                        reason: e.to_string(),
                    })?);
                stores.push((container.to_owned(), store.clone()));
                Ok((store, String::new()))
            }
        }
    }

    /// The store, object and size of a lake path (`container/folder/file`).
    fn object_of(&self, path: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath, u64), LakeError> {
        let (container, rest) = path.split_once('/').unwrap_or((path, ""));
        let (store, base) = self.store(container)?;
        let object = ObjectPath::from(format!("{base}{rest}").as_str());
        let meta = self
            .block_on(store.head(&object))
            .map_err(store_error("cannot open", path))?;
        Ok((store, object, meta.size))
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    fn list_all(
        &self,
        store: &dyn ObjectStore,
        prefix: &str,
    ) -> Result<Vec<(String, u64)>, LakeError> {
        list_all(&self.runtime, store, prefix)
    }

    fn manifest(&self, store: &dyn ObjectStore, path: &str) -> Result<Option<Manifest>, LakeError> {
        match self.block_on(store.get(&ObjectPath::from(path))) {
            Ok(result) => {
                let bytes = self
                    .block_on(result.bytes())
                    .map_err(store_error("cannot read", path))?;
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| LakeError::Store {
                        action: "cannot read manifest",
                        path: path.to_owned(),
                        message: e.to_string(),
                    })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error("cannot read", path)(e)),
        }
    }
}

/// Every object under `prefix`, recursively, skipping `_mdflow` folders below it.
fn list_all(
    runtime: &Runtime,
    store: &dyn ObjectStore,
    prefix: &str,
) -> Result<Vec<(String, u64)>, LakeError> {
    let mut out = Vec::new();
    let mut pending = vec![prefix.trim_end_matches('/').to_owned()];
    while let Some(dir) = pending.pop() {
        let path = ObjectPath::from(dir.as_str());
        let listed = runtime
            .block_on(store.list_with_delimiter(Some(&path)))
            .map_err(store_error("cannot list", &dir))?;
        for object in listed.objects {
            out.push((object.location.to_string(), object.size));
        }
        for sub in listed.common_prefixes {
            let name = sub.filename().unwrap_or_default();
            if !name.starts_with("_mdflow") {
                pending.push(sub.to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn runtime() -> Result<Arc<Runtime>, LakeError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mdflow-lake")
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|source| LakeError::Io {
            action: "cannot start the storage client",
            path: String::new(),
            source,
        })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The record of a folder output's commit.
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    state: String,
    run: String,
    files: Vec<ManifestFile>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ManifestFile {
    name: String,
    bytes: u64,
}

fn folder_prefix(location: &OutputLocation) -> String {
    let folder = location.folder.trim_matches('/');
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

impl LakeStore for ObjectLake {
    fn describe(&self) -> String {
        match &self.backend {
            Backend::Azure { endpoint, .. } => endpoint.clone(),
            Backend::Single(_, description) => description.clone(),
        }
    }

    fn stage(
        &self,
        location: &OutputLocation,
        run_id: &str,
    ) -> Result<Box<dyn StagedOutput>, LakeError> {
        location.validate()?;
        super::check_segment("run id", run_id)?;
        let (store, base) = self.store(&location.container)?;
        let key = location.staging_key();

        // Debris of killed runs of this same output: never published, safe to drop.
        let staging_root = format!("{base}{STAGING_DIR}");
        let listed = self
            .block_on(store.list_with_delimiter(Some(&ObjectPath::from(staging_root.as_str()))))
            .map_err(store_error("cannot list", &staging_root))?;
        for debris in listed.common_prefixes {
            if debris
                .filename()
                .is_some_and(|n| n.ends_with(&format!("--{key}")))
            {
                for (path, _) in self.list_all(store.as_ref(), debris.as_ref())? {
                    let _ = self.block_on(store.delete(&ObjectPath::from(path.as_str())));
                }
            }
        }

        Ok(Box::new(ObjectStaged {
            runtime: self.runtime.clone(),
            part_bytes: self.part_bytes,
            store,
            staging: format!("{staging_root}/{run_id}--{key}/"),
            target: format!("{base}{}", folder_prefix(location)),
            manifest: format!("{base}{MANIFEST_DIR}/{key}.json"),
            lake_folder: location.folder_path(),
            file_name: location.file_name.clone(),
            run_id: run_id.to_owned(),
            files: Vec::new(),
        }))
    }

    fn list(&self, location: &OutputLocation) -> Result<Vec<PublishedFile>, LakeError> {
        location.validate()?;
        let (store, base) = self.store(&location.container)?;
        let prefix = format!("{base}{}", folder_prefix(location));
        let lake_path = |object: &str| {
            format!(
                "{}/{}",
                location.container,
                object.strip_prefix(&base).unwrap_or(object)
            )
        };
        if let Some(name) = &location.file_name {
            let path = format!("{prefix}{name}");
            let meta = self
                .block_on(store.head(&ObjectPath::from(path.as_str())))
                .map_err(store_error("cannot read", &lake_path(&path)))?;
            return Ok(vec![PublishedFile {
                path: lake_path(&path),
                bytes: meta.size,
            }]);
        }
        let manifest_path = format!("{base}{MANIFEST_DIR}/{}.json", location.staging_key());
        match self.manifest(store.as_ref(), &manifest_path)? {
            Some(m) if m.state == "committed" => Ok(m
                .files
                .into_iter()
                .map(|f| PublishedFile {
                    path: lake_path(&format!("{prefix}{}", f.name)),
                    bytes: f.bytes,
                })
                .collect()),
            Some(m) => Err(LakeError::HalfPublished {
                path: location.folder_path(),
                run: m.run,
            }),
            None => Ok(self
                .list_all(store.as_ref(), &prefix)?
                .into_iter()
                .map(|(path, bytes)| PublishedFile {
                    path: lake_path(&path),
                    bytes,
                })
                .collect()),
        }
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + Send>, LakeError> {
        let (store, object, size) = self.object_of(path)?;
        Ok(Box::new(ObjectReader {
            runtime: self.runtime.clone(),
            store,
            object,
            lake_path: path.to_owned(),
            position: 0,
            length: size,
            chunk: bytes::Bytes::new(),
            chunk_bytes: self.part_bytes as u64,
        }))
    }

    fn open_ranges(&self, path: &str) -> Result<Box<dyn RangeRead>, LakeError> {
        let (store, object, size) = self.object_of(path)?;
        Ok(Box::new(ObjectRanges {
            runtime: self.runtime.clone(),
            store,
            object,
            lake_path: path.to_owned(),
            size,
            part_bytes: self.part_bytes,
        }))
    }
}

/// Files being written to an object store.
struct ObjectStaged {
    runtime: Arc<Runtime>,
    part_bytes: usize,
    store: Arc<dyn ObjectStore>,
    staging: String,
    target: String,
    manifest: String,
    lake_folder: String,
    file_name: Option<String>,
    run_id: String,
    files: Vec<(String, Arc<Mutex<FileState>>)>,
}

struct FileState {
    path: ObjectPath,
    buffer: Vec<u8>,
    upload: Option<WriteMultipart>,
    bytes: u64,
    failure: Option<String>,
}

struct ObjectFile {
    state: Arc<Mutex<FileState>>,
    store: Arc<dyn ObjectStore>,
    runtime: Arc<Runtime>,
    part_bytes: usize,
}

impl Write for ObjectFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.buffer.extend_from_slice(buf);
        state.bytes += buf.len() as u64;
        if state.buffer.len() >= self.part_bytes {
            let part = std::mem::take(&mut state.buffer);
            let (store, part_bytes) = (self.store.clone(), self.part_bytes);
            let state = &mut *state;
            let result = self.runtime.block_on(async {
                if state.upload.is_none() {
                    let upload = store.put_multipart(&state.path).await?;
                    state.upload = Some(WriteMultipart::new_with_chunk_size(upload, part_bytes));
                }
                let upload = state.upload.as_mut().expect("started above");
                upload.write(&part);
                upload.wait_for_capacity(PARTS_IN_FLIGHT).await
            });
            if let Err(e) = result {
                state.failure = Some(e.to_string());
                return Err(std::io::Error::other(format!(
                    "upload of {} failed: {e}",
                    state.path
                )));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Parts go up as they fill; the rest is uploaded when the output is committed.
        Ok(())
    }
}

impl ObjectStaged {
    /// Uploads what each file still holds and completes its multipart upload.
    fn finish_files(&mut self) -> Result<Vec<(String, u64)>, LakeError> {
        let mut done = Vec::with_capacity(self.files.len());
        for (name, state) in &self.files {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(failure) = &state.failure {
                return Err(LakeError::Store {
                    action: "cannot upload",
                    path: state.path.to_string(),
                    message: failure.clone(),
                });
            }
            let rest = std::mem::take(&mut state.buffer);
            let path = state.path.clone();
            let result = match state.upload.take() {
                Some(mut upload) => self.runtime.block_on(async {
                    upload.write(&rest);
                    upload.finish().await
                }),
                None => self
                    .runtime
                    .block_on(self.store.put(&path, PutPayload::from(rest))),
            };
            result.map_err(store_error("cannot upload", path.as_ref()))?;
            done.push((name.clone(), state.bytes));
        }
        Ok(done)
    }

    fn write_manifest(&self, state: &str, files: &[(String, u64)]) -> Result<(), LakeError> {
        let body = json!({
            "state": state,
            "run": self.run_id,
            "files": files.iter().map(|(n, b)| json!({"name": n, "bytes": b})).collect::<Vec<_>>(),
        });
        let path = ObjectPath::from(self.manifest.as_str());
        self.runtime
            .block_on(self.store.put(&path, PutPayload::from(body.to_string())))
            .map(|_| ())
            .map_err(store_error("cannot write manifest", &self.manifest))
    }

    /// Completes every staged file; on a failure the staging is removed.
    fn finish_or_clean(&mut self) -> Result<Vec<(String, u64)>, LakeError> {
        self.finish_files().inspect_err(|_| self.delete_staging())
    }

    /// Copies one staged file to its place in the output.
    fn publish(&self, name: &str) -> Result<(), LakeError> {
        let from = ObjectPath::from(format!("{}{name}", self.staging).as_str());
        let to = format!("{}{name}", self.target);
        self.runtime
            .block_on(self.store.copy(&from, &ObjectPath::from(to.as_str())))
            .map_err(store_error("cannot publish", &to))
    }

    /// The published files as a lake lists them.
    fn published(&self, files: &[(String, u64)]) -> Vec<PublishedFile> {
        files
            .iter()
            .map(|(name, bytes)| PublishedFile {
                path: format!("{}/{name}", self.lake_folder),
                bytes: *bytes,
            })
            .collect()
    }

    fn delete_staging(&self) {
        for (name, _) in &self.files {
            let path = ObjectPath::from(format!("{}{name}", self.staging).as_str());
            let _ = self.runtime.block_on(self.store.delete(&path));
        }
    }
}

impl StagedOutput for ObjectStaged {
    fn create(&mut self, name: &str) -> Result<Box<dyn Write + Send>, LakeError> {
        super::check_segment("fileName", name)?;
        let state = Arc::new(Mutex::new(FileState {
            path: ObjectPath::from(format!("{}{name}", self.staging).as_str()),
            buffer: Vec::new(),
            upload: None,
            bytes: 0,
            failure: None,
        }));
        self.files.push((name.to_owned(), state.clone()));
        Ok(Box::new(ObjectFile {
            state,
            store: self.store.clone(),
            runtime: self.runtime.clone(),
            part_bytes: self.part_bytes,
        }))
    }

    fn commit(mut self: Box<Self>) -> Result<Vec<PublishedFile>, LakeError> {
        let files = self.finish_or_clean()?;
        if self.file_name.is_some() {
            // One named file: one copy replaces the old blob in a single step.
            for (name, _) in &files {
                self.publish(name)?;
            }
        } else {
            // Part files: the manifest says `publishing` until the folder holds exactly the
            // new files, so a reader never takes a mix for an output.
            self.write_manifest("publishing", &files)?;
            let old = list_all(&self.runtime, self.store.as_ref(), &self.target)?;
            for (name, _) in &files {
                self.publish(name)?;
            }
            let new: BTreeSet<String> = files
                .iter()
                .map(|(n, _)| format!("{}{n}", self.target))
                .collect();
            for (path, _) in old.iter().filter(|(p, _)| !new.contains(p)) {
                self.runtime
                    .block_on(self.store.delete(&ObjectPath::from(path.as_str())))
                    .map_err(store_error("cannot remove old output", path))?;
            }
            self.write_manifest("committed", &files)?;
        }
        self.delete_staging();
        Ok(self.published(&files))
    }

    fn commit_adding(mut self: Box<Self>) -> Result<Vec<PublishedFile>, LakeError> {
        if self.file_name.is_some() {
            return self.commit();
        }
        let files = self.finish_or_clean()?;
        // The manifest lists what the folder held and the new files, so readers take the
        // whole folder once the new files are in.
        let mut all: std::collections::BTreeMap<String, u64> =
            list_all(&self.runtime, self.store.as_ref(), &self.target)?
                .into_iter()
                .filter_map(|(path, bytes)| {
                    let name = path.strip_prefix(&self.target)?.to_owned();
                    Some((name, bytes))
                })
                .collect();
        all.extend(files.iter().cloned());
        let all: Vec<(String, u64)> = all.into_iter().collect();
        self.write_manifest("publishing", &all)?;
        for (name, _) in &files {
            self.publish(name)?;
        }
        self.write_manifest("committed", &all)?;
        self.delete_staging();
        Ok(self.published(&files))
    }

    fn abort(self: Box<Self>) {
        for (_, state) in &self.files {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(upload) = state.upload.take() {
                let _ = self.runtime.block_on(upload.abort());
            }
        }
        self.delete_staging();
    }
}

/// Streams an object in ranged reads.
struct ObjectReader {
    runtime: Arc<Runtime>,
    store: Arc<dyn ObjectStore>,
    object: ObjectPath,
    lake_path: String,
    position: u64,
    length: u64,
    chunk: bytes::Bytes,
    chunk_bytes: u64,
}

/// An object read range by range, one GET each: the workers reading it share nothing but
/// the client.
struct ObjectRanges {
    runtime: Arc<Runtime>,
    store: Arc<dyn ObjectStore>,
    object: ObjectPath,
    lake_path: String,
    size: u64,
    /// Bytes per GET, as for uploads.
    part_bytes: usize,
}

impl RangeRead for ObjectRanges {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_size(&self) -> usize {
        self.part_bytes
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = (offset + buf.len() as u64).min(self.size);
        if offset >= end {
            return Ok(0);
        }
        let got = self
            .runtime
            .block_on(self.store.get_range(&self.object, offset..end))
            .map_err(|e| std::io::Error::other(format!("{}: {e}", self.lake_path)))?;
        buf[..got.len()].copy_from_slice(&got);
        Ok(got.len())
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.chunk.is_empty() {
            if self.position >= self.length {
                return Ok(0);
            }
            let end = (self.position + self.chunk_bytes).min(self.length);
            self.chunk = self
                .runtime
                .block_on(self.store.get_range(&self.object, self.position..end))
                .map_err(|e| std::io::Error::other(format!("{}: {e}", self.lake_path)))?;
            self.position = end;
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(endpoint: &str) -> AzureAccount {
        AzureAccount {
            endpoint: endpoint.into(),
            credential: AzureCredential::AccountKey("a2V5".into()),
        }
    }

    #[test]
    fn endpoints_name_their_account() {
        let (a, e) = account("https://lake.dfs.core.windows.net/")
            .account_and_endpoint()
            .unwrap();
        assert_eq!(
            (a.as_str(), e.as_str()),
            ("lake", "https://lake.blob.core.windows.net")
        );
        let (a, e) = account("http://127.0.0.1:10000/devstoreaccount1")
            .account_and_endpoint()
            .unwrap();
        assert_eq!(a, "devstoreaccount1");
        assert_eq!(e, "http://127.0.0.1:10000/devstoreaccount1");
        assert!(account("ftp://x").account_and_endpoint().is_err());
        assert!(account("http://127.0.0.1:10000")
            .account_and_endpoint()
            .is_err());
    }

    #[test]
    fn credentials_are_redacted() {
        let text = format!("{:?}", AzureCredential::Sas("sig=secret".into()));
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(percent_decode("a%2Fb%3D"), "a/b=");
    }
}
