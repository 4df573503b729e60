//! Data access requests and the log of every decision, in the state folder's `runs.db`
//! beside the run records (one file: a state folder copies and backs up as a unit).
//!
//! Time comes from the caller (see [`crate::clock`]), so that tests can step past the
//! 24-hour and six-month limits. Requests whose time is up are marked `Expired`, with a
//! log entry, whenever the store is read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{approval_end, ConsentContext, ConsentRequest, ConsentStatus, REQUEST_LIFETIME};
use crate::clock;
use crate::factory::settings::ConsentSettings;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS consent_requests (
    id TEXT PRIMARY KEY,
    context_key TEXT NOT NULL,
    context TEXT NOT NULL,
    factory TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS consent_requests_by_key ON consent_requests(context_key, requested_at);
CREATE TABLE IF NOT EXISTS consent_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT
);
";

/// Why a consent command could not do what was asked. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// No request has this id.
    #[error("no data access request `{0}`; `mdflow consent list` shows the requests")]
    NotFound(String),
    /// The request was already decided, or has expired.
    #[error(
        "request {id} is {status}, not Pending; only pending requests can be decided (a new \
         run of the pipeline asks again)"
    )]
    NotPending {
        /// The request.
        id: String,
        /// Its status.
        status: &'static str,
    },
    /// The factory configures no approver group.
    #[error(
        "the factory has no approver group, so nobody can decide requests; add \
         \"consent\": {{\"approvers\": [\"...\"]}} to {settings} (docs/security.md)"
    )]
    NoApprovers {
        /// The settings file to edit.
        settings: String,
    },
    /// The identity is not in the approver group.
    #[error(
        "`{identity}` is not in the approver group ({approvers}); ask one of them, or add \
         the identity to consent.approvers in {settings}"
    )]
    NotApprover {
        /// Who tried.
        identity: String,
        /// The group.
        approvers: String,
        /// The settings file.
        settings: String,
    },
    /// The requester tried to approve its own request.
    #[error(
        "`{0}` made this request and may not approve it; another member of the approver \
         group must"
    )]
    SelfApproval(String),
    /// The database cannot be used.
    #[error("consent records at {path}: {message}; check that the folder is writable")]
    Open {
        /// The database.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A query failed.
    #[error("consent records: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// One line of `mdflow consent log`: who did what to which request, and when.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// When.
    pub at: String,
    /// The request.
    pub request_id: String,
    /// `requested`, `approved`, `denied`, `refused` or `expired`.
    pub action: String,
    /// The identity acting (`mdflow` for expiry).
    pub actor: String,
    /// A denial's reason, why an attempt was refused, or what a request asks for.
    pub detail: Option<String>,
}

/// An approve or deny decision.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Allow the context for six months.
    Approve,
    /// Refuse it, with an optional reason.
    Deny(Option<String>),
}

/// The consent records of one state folder.
pub struct ConsentStore {
    conn: Connection,
}

impl ConsentStore {
    /// Opens (creating when needed) the consent tables in `runs.db` in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<ConsentStore, ConsentError> {
        let path = state_dir.join("runs.db");
        let fail = |e: &dyn std::fmt::Display| ConsentError::Open {
            path: path.clone(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(state_dir).map_err(|e| fail(&e))?;
        let conn = Connection::open(&path).map_err(|e| fail(&e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail(&e))?;
        conn.execute_batch(SCHEMA).map_err(|e| fail(&e))?;
        Ok(ConsentStore { conn })
    }

    /// Opens an existing state folder; `None` when nothing was ever recorded there.
    pub fn open_existing(state_dir: &Path) -> Result<Option<ConsentStore>, ConsentError> {
        if state_dir.join("runs.db").exists() {
            ConsentStore::open(state_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Files a new request for a context.
    pub fn create(
        &self,
        context: &ConsentContext,
        factory: &str,
        now: DateTime<Utc>,
    ) -> Result<ConsentRequest, ConsentError> {
        let id = crate::runs::new_run_id();
        let context_json = serde_json::to_string(context).unwrap_or_default();
        self.conn.execute(
            "INSERT INTO consent_requests (id, context_key, context, factory, requested_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, 'Pending')",
            params![id, context.key(), context_json, factory, clock::format(now)],
        )?;
        let detail = format!(
            "{} of {} for pipeline {}, activity {}",
            context.table, context.tenant, context.pipeline, context.activity
        );
        self.log_event(&id, now, "requested", &context.identity, Some(&detail))?;
        self.get(&id, now)?
            .ok_or_else(|| ConsentError::NotFound(id.clone()))
    }

    /// The newest request for a context, if any.
    pub fn latest(
        &self,
        context: &ConsentContext,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsentRequest>, ConsentError> {
        self.sweep(now)?;
        self.conn
            .query_row(
                &format!("{SELECT} WHERE context_key = ?1 ORDER BY requested_at DESC, rowid DESC"),
                [context.key()],
                request_from_row,
            )
            .optional()
            .map_err(Into::into)
    }

    /// The newest request of a pipeline's activity, whatever its context: what a changed
    /// context is compared with.
    pub fn latest_of_activity(
        &self,
        context: &ConsentContext,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsentRequest>, ConsentError> {
        let all = self.list(now, true)?;
        Ok(all.into_iter().find(|r| {
            r.context.pipeline.eq_ignore_ascii_case(&context.pipeline)
                && r.context.activity.eq_ignore_ascii_case(&context.activity)
        }))
    }

    /// A request by id.
    pub fn get(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsentRequest>, ConsentError> {
        self.sweep(now)?;
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], request_from_row)
            .optional()
            .map_err(Into::into)
    }

    /// Requests, newest first: the pending ones, or all of them.
    pub fn list(&self, now: DateTime<Utc>, all: bool) -> Result<Vec<ConsentRequest>, ConsentError> {
        self.sweep(now)?;
        let filter = if all { "" } else { "WHERE status = 'Pending'" };
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT} {filter} ORDER BY requested_at DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([], request_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The decision log, oldest first.
    pub fn log(&self, now: DateTime<Utc>) -> Result<Vec<LogEntry>, ConsentError> {
        self.sweep(now)?;
        let mut stmt = self.conn.prepare(
            "SELECT at, request_id, action, actor, detail FROM consent_log ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(LogEntry {
                at: r.get(0)?,
                request_id: r.get(1)?,
                action: r.get(2)?,
                actor: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Approves or denies a pending request as `identity`, under the factory's approver
    /// group. A refused attempt is logged too, so the log shows who tried.
    pub fn decide(
        &self,
        id: &str,
        decision: &Decision,
        identity: &str,
        settings: &ConsentSettings,
        settings_file: &str,
        now: DateTime<Utc>,
    ) -> Result<ConsentRequest, ConsentError> {
        let request = self
            .get(id, now)?
            .ok_or_else(|| ConsentError::NotFound(id.to_owned()))?;
        let identity = identity.trim();
        let verb = match decision {
            Decision::Approve => "approve",
            Decision::Deny(_) => "deny",
        };
        let refused = |error: ConsentError| -> Result<ConsentRequest, ConsentError> {
            let detail = format!("tried to {verb}: {error}");
            self.log_event(&request.id, now, "refused", identity, Some(&detail))?;
            Err(error)
        };
        if request.status != ConsentStatus::Pending {
            return Err(ConsentError::NotPending {
                id: request.id.clone(),
                status: request.status.as_str(),
            });
        }
        // Asking and approving are separate duties, even for a member of the group.
        if matches!(decision, Decision::Approve)
            && request.context.identity.eq_ignore_ascii_case(identity)
        {
            return refused(ConsentError::SelfApproval(identity.to_owned()));
        }
        if settings.approvers.is_empty() {
            return refused(ConsentError::NoApprovers {
                settings: settings_file.to_owned(),
            });
        }
        if !settings.is_approver(identity) {
            return refused(ConsentError::NotApprover {
                identity: identity.to_owned(),
                approvers: settings.approvers.join(", "),
                settings: settings_file.to_owned(),
            });
        }

        let (status, action, reason) = match decision {
            Decision::Approve => ("Approved", "approved", None),
            Decision::Deny(reason) => ("Denied", "denied", reason.as_deref()),
        };
        self.conn.execute(
            "UPDATE consent_requests SET status = ?2, decided_by = ?3, decided_at = ?4, reason = ?5
             WHERE id = ?1 AND status = 'Pending'",
            params![request.id, status, identity, clock::format(now), reason],
        )?;
        self.log_event(&request.id, now, action, identity, reason)?;
        self.get(&request.id, now)?
            .ok_or_else(|| ConsentError::NotFound(id.to_owned()))
    }

    /// Marks requests whose time is up as expired, logged at the moment they expired.
    fn sweep(&self, now: DateTime<Utc>) -> Result<(), ConsentError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT} WHERE status IN ('Pending', 'Approved')"))?;
        let open: Vec<ConsentRequest> = stmt
            .query_map([], request_from_row)?
            .collect::<Result<_, _>>()?;
        for request in open {
            let (end, detail) = match request.status {
                ConsentStatus::Approved => (
                    request.decided_at.map_or(now, approval_end),
                    "the approval is six months old; the next run asks again",
                ),
                _ => (
                    request.requested_at + REQUEST_LIFETIME,
                    "not decided within 24 hours; the next run asks again",
                ),
            };
            if end <= now {
                self.conn.execute(
                    "UPDATE consent_requests SET status = 'Expired' WHERE id = ?1",
                    [&request.id],
                )?;
                self.log_event(&request.id, end, "expired", "mdflow", Some(detail))?;
            }
        }
        Ok(())
    }

    fn log_event(
        &self,
        id: &str,
        at: DateTime<Utc>,
        action: &str,
        actor: &str,
        detail: Option<&str>,
    ) -> Result<(), ConsentError> {
        self.conn.execute(
            "INSERT INTO consent_log (request_id, at, action, actor, detail)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, clock::format(at), action, actor, detail],
        )?;
        Ok(())
    }
}

const SELECT: &str = "SELECT id, context, factory, requested_at, status, decided_by, decided_at,
    reason FROM consent_requests";

fn request_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentRequest> {
    let context: String = r.get(1)?;
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<String>>(i)?
            .and_then(|t| clock::parse(&t)))
    };
    let context = serde_json::from_str(&context).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(ConsentRequest {
        id: r.get(0)?,
        context,
        factory: r.get(2)?,
        requested_at: time(3)?.unwrap_or_default(),
        status: ConsentStatus::parse(&r.get::<_, String>(4)?),
        decided_by: r.get(5)?,
        decided_at: time(6)?,
        reason: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn context(identity: &str) -> ConsentContext {
        ConsentContext {
            tenant: "synthetic".into(),
            table: "BasicDataSet_v0.Message_v1".into(),
            columns: None,
            user_scope: "all users".into(),
            destination: "file:///lake".into(),
            pipeline: "P".into(),
            activity: "A".into(),
            identity: identity.into(),
        }
    }

    #[test]
    fn life_cycle_of_a_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConsentStore::open(dir.path()).unwrap();
        let t0 = clock::parse("2024-05-01T09:00:00Z").unwrap();
        let settings = ConsentSettings {
            approvers: vec!["ana".into(), "ben".into()],
            ..ConsentSettings::default()
        };
        let request = store.create(&context("ana"), "f", t0).unwrap();
        assert_eq!(request.status, ConsentStatus::Pending);

        let decide = |who: &str| {
            store.decide(
                &request.id,
                &Decision::Approve,
                who,
                &settings,
                "mdflow.json",
                t0,
            )
        };
        assert!(matches!(decide("ana"), Err(ConsentError::SelfApproval(_))));
        assert!(matches!(
            decide("eve"),
            Err(ConsentError::NotApprover { .. })
        ));
        let approved = decide("BEN").unwrap();
        assert_eq!(approved.status, ConsentStatus::Approved);
        assert!(matches!(
            decide("ben"),
            Err(ConsentError::NotPending { .. })
        ));

        // Six months later the approval has lapsed; a pending request lapses after a day.
        let later = t0 + TimeDelta::days(184);
        let found = store.latest(&context("ana"), later).unwrap().unwrap();
        assert_eq!(found.status, ConsentStatus::Expired);
        let second = store.create(&context("ana"), "f", later).unwrap();
        let next_day = later + TimeDelta::hours(25);
        assert_eq!(
            store.get(&second.id, next_day).unwrap().unwrap().status,
            ConsentStatus::Expired
        );
        let actions: Vec<String> = store
            .log(next_day)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "requested",
                "refused",
                "refused",
                "approved",
                "expired",
                "requested",
                "expired"
            ]
        );
    }
}
