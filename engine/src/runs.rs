//! Run records: every pipeline run and activity run, with ADF-shaped outputs, in an SQLite
//! database in the state folder. SQLite makes each update transactional, so concurrent runs
//! of one factory do not trample each other.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

/// The status of a pipeline or activity run, as ADF names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RunStatus {
    /// Accepted, not started.
    Queued,
    /// Running (or, for a run that was killed, last seen running).
    InProgress,
    /// Finished without error.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Stopped before it finished.
    Cancelled,
    /// Not run because its dependency conditions were not met (activities only).
    Skipped,
}

impl RunStatus {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "Queued",
            RunStatus::InProgress => "InProgress",
            RunStatus::Succeeded => "Succeeded",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
            RunStatus::Skipped => "Skipped",
        }
    }

    fn parse(text: &str) -> RunStatus {
        match text {
            "Queued" => RunStatus::Queued,
            "Succeeded" => RunStatus::Succeeded,
            "Failed" => RunStatus::Failed,
            "Cancelled" => RunStatus::Cancelled,
            "Skipped" => RunStatus::Skipped,
            _ => RunStatus::InProgress,
        }
    }
}

/// Errors of the run store.
#[derive(Debug, thiserror::Error)]
pub enum RunStoreError {
    /// The state folder or database cannot be used.
    #[error(
        "run records at {path}: {message}; check that the folder is writable or pass --state-dir"
    )]
    Open {
        /// The database path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A query failed.
    #[error("run records: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// One pipeline run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRun {
    /// The run id.
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The factory folder.
    pub factory: String,
    /// Status.
    pub status: RunStatus,
    /// The parameters the run used.
    pub parameters: Value,
    /// When it started.
    pub run_start: String,
    /// When it ended.
    pub run_end: Option<String>,
    /// Duration in milliseconds.
    pub duration_in_ms: Option<i64>,
    /// The error message of a failed run.
    pub message: Option<String>,
    /// The run this one resumed (`mdflow run --resume`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
}

/// One activity run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRun {
    /// The activity run id.
    pub activity_run_id: String,
    /// The pipeline run it belongs to.
    pub pipeline_run_id: String,
    /// The activity's name.
    pub activity_name: String,
    /// The activity's type, such as `Copy`.
    pub activity_type: String,
    /// Status.
    pub status: RunStatus,
    /// When it started.
    pub activity_run_start: String,
    /// When it ended.
    pub activity_run_end: Option<String>,
    /// Duration in milliseconds.
    pub duration_in_ms: Option<i64>,
    /// The evaluated input (type properties after expressions).
    pub input: Value,
    /// The ADF-shaped output (`dataRead`, `rowsCopied`, ...).
    pub output: Value,
    /// The error, `{errorCode, message, failureType, target}`, or null.
    pub error: Value,
}

/// The run records of one state folder.
pub struct RunStore {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id TEXT PRIMARY KEY,
    pipeline_name TEXT NOT NULL,
    factory TEXT NOT NULL,
    status TEXT NOT NULL,
    parameters TEXT NOT NULL,
    run_start TEXT NOT NULL,
    run_end TEXT,
    duration_ms INTEGER,
    message TEXT
);
CREATE TABLE IF NOT EXISTS activity_runs (
    activity_run_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES pipeline_runs(run_id),
    seq INTEGER NOT NULL,
    activity_name TEXT NOT NULL,
    activity_type TEXT NOT NULL,
    status TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT,
    duration_ms INTEGER,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_runs_by_run ON activity_runs(run_id, seq);
CREATE TABLE IF NOT EXISTS resumed_runs (
    run_id TEXT PRIMARY KEY,
    resumed_from TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS copy_checkpoints (
    run_id TEXT NOT NULL,
    activity_name TEXT NOT NULL,
    plan TEXT NOT NULL,
    files TEXT NOT NULL,
    owners TEXT NOT NULL,
    rows INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS copy_checkpoints_by_run ON copy_checkpoints(run_id, activity_name);
";

/// Mailboxes of one Copy activity whose rows are complete in closed staged files: a resumed
/// run reuses the files and does not extract the mailboxes again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// A fingerprint of the evaluated copy (table, window, columns, scope, sink): a resumed
    /// run reuses only checkpoints of the same copy.
    pub plan: String,
    /// The staged part files (names inside the output's staging folder).
    pub files: Vec<String>,
    /// The mailboxes (or groups) whose rows are all in those files, and nowhere else.
    pub owners: Vec<String>,
    /// How many rows the files hold.
    pub rows: u64,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn millis_between(start: &str, end: &str) -> Option<i64> {
    let start = DateTime::parse_from_rfc3339(start).ok()?;
    let end = DateTime::parse_from_rfc3339(end).ok()?;
    Some((end - start).num_milliseconds())
}

/// A fresh id in the GUID form ADF uses for run ids.
pub fn new_run_id() -> String {
    use rand::RngCore;
    use rand_chacha::rand_core::SeedableRng;
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    let seed = nanos ^ (u64::from(std::process::id()) << 32) ^ next_counter();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn next_counter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl RunStore {
    /// Opens (creating when needed) `runs.db` in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<RunStore, RunStoreError> {
        let path = state_dir.join("runs.db");
        let fail = |message: String| RunStoreError::Open {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(state_dir).map_err(|e| fail(e.to_string()))?;
        let conn = Connection::open(&path).map_err(|e| fail(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail(e.to_string()))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| fail(e.to_string()))?;
        Ok(RunStore { conn })
    }

    /// Opens an existing store for reading; `None` when no run was ever recorded there.
    pub fn open_existing(state_dir: &Path) -> Result<Option<RunStore>, RunStoreError> {
        if state_dir.join("runs.db").exists() {
            RunStore::open(state_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Records the start of a pipeline run and returns its id.
    pub fn begin_pipeline_run(
        &self,
        factory: &str,
        pipeline: &str,
        parameters: &Value,
    ) -> Result<String, RunStoreError> {
        let run_id = new_run_id();
        self.conn.execute(
            "INSERT INTO pipeline_runs (run_id, pipeline_name, factory, status, parameters, run_start)
             VALUES (?1, ?2, ?3, 'InProgress', ?4, ?5)",
            params![run_id, pipeline, factory, parameters.to_string(), now()],
        )?;
        Ok(run_id)
    }

    /// Records the end of a pipeline run.
    pub fn finish_pipeline_run(
        &self,
        run_id: &str,
        status: RunStatus,
        message: Option<&str>,
    ) -> Result<(), RunStoreError> {
        let end = now();
        let start: String = self.conn.query_row(
            "SELECT run_start FROM pipeline_runs WHERE run_id = ?1",
            [run_id],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "UPDATE pipeline_runs SET status = ?2, run_end = ?3, duration_ms = ?4, message = ?5
             WHERE run_id = ?1",
            params![
                run_id,
                status.as_str(),
                end,
                millis_between(&start, &end),
                message
            ],
        )?;
        Ok(())
    }

    /// Records the start of an activity run and returns its id.
    pub fn begin_activity(
        &self,
        run_id: &str,
        name: &str,
        activity_type: &str,
        input: &Value,
    ) -> Result<String, RunStoreError> {
        let id = new_run_id();
        self.conn.execute(
            "INSERT INTO activity_runs (activity_run_id, run_id, seq, activity_name, activity_type,
                 status, start, input, output, error)
             VALUES (?1, ?2, (SELECT COUNT(*) FROM activity_runs WHERE run_id = ?2), ?3, ?4,
                 'InProgress', ?5, ?6, 'null', 'null')",
            params![id, run_id, name, activity_type, now(), input.to_string()],
        )?;
        Ok(id)
    }

    /// Records the end of an activity run.
    pub fn finish_activity(
        &self,
        activity_run_id: &str,
        status: RunStatus,
        output: &Value,
        error: &Value,
    ) -> Result<(), RunStoreError> {
        let end = now();
        let start: String = self.conn.query_row(
            "SELECT start FROM activity_runs WHERE activity_run_id = ?1",
            [activity_run_id],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "UPDATE activity_runs SET status = ?2, end = ?3, duration_ms = ?4, output = ?5, error = ?6
             WHERE activity_run_id = ?1",
            params![
                activity_run_id,
                status.as_str(),
                end,
                millis_between(&start, &end),
                output.to_string(),
                error.to_string()
            ],
        )?;
        Ok(())
    }

    /// Records that `run_id` resumes `previous` and marks `previous` as `Cancelled`, unless it
    /// had already finished with another status.
    pub fn link_resumed(&self, run_id: &str, previous: &str) -> Result<(), RunStoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO resumed_runs (run_id, resumed_from) VALUES (?1, ?2)",
            params![run_id, previous],
        )?;
        let end = now();
        self.conn.execute(
            "UPDATE pipeline_runs SET status = 'Cancelled', run_end = COALESCE(run_end, ?2),
                 message = ?3
             WHERE run_id = ?1 AND status IN ('InProgress', 'Queued', 'Failed')",
            params![previous, end, format!("resumed by run {run_id}")],
        )?;
        // Its activities that were still running when it stopped never finish.
        self.conn.execute(
            "UPDATE activity_runs SET status = 'Cancelled', end = COALESCE(end, ?2)
             WHERE run_id = ?1 AND status = 'InProgress'",
            params![previous, end],
        )?;
        Ok(())
    }

    /// The run that `run_id` resumed, if it resumed one.
    pub fn resumed_from(&self, run_id: &str) -> Result<Option<String>, RunStoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT resumed_from FROM resumed_runs WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records a checkpoint of a Copy activity of a run. Called after its files are closed.
    pub fn add_checkpoint(
        &self,
        run_id: &str,
        activity: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), RunStoreError> {
        self.conn.execute(
            "INSERT INTO copy_checkpoints (run_id, activity_name, plan, files, owners, rows, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run_id,
                activity,
                checkpoint.plan,
                serde_json::to_string(&checkpoint.files).unwrap_or_default(),
                serde_json::to_string(&checkpoint.owners).unwrap_or_default(),
                checkpoint.rows as i64,
                now()
            ],
        )?;
        Ok(())
    }

    /// The checkpoints of a Copy activity of a run, in the order they were taken.
    pub fn checkpoints(
        &self,
        run_id: &str,
        activity: &str,
    ) -> Result<Vec<Checkpoint>, RunStoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT plan, files, owners, rows FROM copy_checkpoints
             WHERE run_id = ?1 AND activity_name = ?2 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([run_id, activity], |r| {
            let list = |text: String| serde_json::from_str(&text).unwrap_or_default();
            Ok(Checkpoint {
                plan: r.get(0)?,
                files: list(r.get(1)?),
                owners: list(r.get(2)?),
                rows: r.get::<_, i64>(3)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Drops the checkpoints of a run's Copy activity once its output is published.
    pub fn clear_checkpoints(&self, run_id: &str, activity: &str) -> Result<(), RunStoreError> {
        self.conn.execute(
            "DELETE FROM copy_checkpoints WHERE run_id = ?1 AND activity_name = ?2",
            [run_id, activity],
        )?;
        Ok(())
    }

    /// The most recent pipeline runs, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<PipelineRun>, RunStoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT run_id, pipeline_name, factory, status, parameters, run_start, run_end,
                    duration_ms, message, resumed_from
             FROM pipeline_runs LEFT JOIN resumed_runs USING (run_id)
             ORDER BY run_start DESC, pipeline_runs.rowid DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], pipeline_run_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A pipeline run and its activity runs, in the order they started.
    pub fn get(
        &self,
        run_id: &str,
    ) -> Result<Option<(PipelineRun, Vec<ActivityRun>)>, RunStoreError> {
        let run = self
            .conn
            .query_row(
                "SELECT run_id, pipeline_name, factory, status, parameters, run_start, run_end,
                        duration_ms, message, resumed_from
                 FROM pipeline_runs LEFT JOIN resumed_runs USING (run_id) WHERE run_id = ?1",
                [run_id],
                pipeline_run_from_row,
            )
            .optional()?;
        let Some(run) = run else { return Ok(None) };
        let mut stmt = self.conn.prepare(
            "SELECT activity_run_id, run_id, activity_name, activity_type, status, start, end,
                    duration_ms, input, output, error
             FROM activity_runs WHERE run_id = ?1 ORDER BY seq",
        )?;
        let activities = stmt
            .query_map([run_id], |r| {
                Ok(ActivityRun {
                    activity_run_id: r.get(0)?,
                    pipeline_run_id: r.get(1)?,
                    activity_name: r.get(2)?,
                    activity_type: r.get(3)?,
                    status: RunStatus::parse(&r.get::<_, String>(4)?),
                    activity_run_start: r.get(5)?,
                    activity_run_end: r.get(6)?,
                    duration_in_ms: r.get(7)?,
                    input: json_column(r.get(8)?),
                    output: json_column(r.get(9)?),
                    error: json_column(r.get(10)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some((run, activities)))
    }
}

fn json_column(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn pipeline_run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PipelineRun> {
    Ok(PipelineRun {
        run_id: r.get(0)?,
        pipeline_name: r.get(1)?,
        factory: r.get(2)?,
        status: RunStatus::parse(&r.get::<_, String>(3)?),
        parameters: json_column(r.get(4)?),
        run_start: r.get(5)?,
        run_end: r.get(6)?,
        duration_in_ms: r.get(7)?,
        message: r.get(8)?,
        resumed_from: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_are_recorded_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::open(dir.path()).unwrap();
        let run = store
            .begin_pipeline_run("f", "p", &json!({"day": "2024-01-01"}))
            .unwrap();
        let act = store
            .begin_activity(&run, "CopyMail", "Copy", &json!({}))
            .unwrap();
        store
            .finish_activity(
                &act,
                RunStatus::Succeeded,
                &json!({"rowsCopied": 3}),
                &Value::Null,
            )
            .unwrap();
        store
            .finish_pipeline_run(&run, RunStatus::Succeeded, None)
            .unwrap();

        let reopened = RunStore::open(dir.path()).unwrap();
        let (record, activities) = reopened.get(&run).unwrap().unwrap();
        assert_eq!(record.status, RunStatus::Succeeded);
        assert_eq!(record.parameters["day"], "2024-01-01");
        assert_eq!(activities.len(), 1);
        assert_eq!(activities[0].output["rowsCopied"], 3);
        assert_eq!(reopened.list(10).unwrap().len(), 1);
        assert_ne!(new_run_id(), new_run_id());
    }
}
