//! Consent: the data access requests that Microsoft Graph Data Connect asks an approver
//! group to decide (Privileged Access Management), modelled locally.
//!
//! A *context* is what a Copy from Office 365 asks for: tenant, table, columns, user scope,
//! destination account, pipeline, activity and the identity asking. The first run of a new
//! context extracts nothing: it files a request and the activity stays `InProgress` with
//! `RequestingConsent`. A member of the approver group (`mdflow.json`) other than the
//! requester approves or denies it within 24 hours; an approval lasts six months; any change
//! of the context is a new context, so it asks again. Requests and every decision live in
//! the state database ([`store`]); the runner asks [`gate`] before each copy.

pub mod gate;
pub mod store;

use chrono::{DateTime, Months, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::factory::resolve::{CopyPlan, LakeStore, TenantConnection};

pub use gate::{ConsentGate, ConsentOptions, Held};
pub use store::{ConsentError, ConsentStore, LogEntry};

/// How long a request may wait for a decision.
pub const REQUEST_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// How long an approval lasts, in months.
pub const APPROVAL_MONTHS: u32 = 6;

/// What a data access request asks for. Two runs with equal contexts share a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentContext {
    /// The Microsoft 365 tenant (`synthetic` for the built-in one).
    pub tenant: String,
    /// The table, as the catalog spells it.
    pub table: String,
    /// The requested columns, sorted; `None` for every column.
    pub columns: Option<Vec<String>>,
    /// Who is extracted: `all users`, `groups: ...` or `filter: ...`.
    pub user_scope: String,
    /// The storage account (or local folder) the data lands in.
    pub destination: String,
    /// The pipeline.
    pub pipeline: String,
    /// The Copy activity.
    pub activity: String,
    /// The identity asking: the service principal, or the local user for the synthetic
    /// tenant.
    pub identity: String,
}

impl ConsentContext {
    /// The context of a resolved copy, asked for by `identity`.
    pub fn of_copy(plan: &CopyPlan, pipeline: &str, identity: &str) -> ConsentContext {
        let source = &plan.source;
        let user_scope = if !source.allowed_groups.is_empty() {
            let mut groups: Vec<String> = source
                .allowed_groups
                .iter()
                .map(|g| g.to_ascii_lowercase())
                .collect();
            groups.sort();
            groups.dedup();
            format!("groups: {}", groups.join(", "))
        } else if let Some(uri) = &source.user_scope_filter_uri {
            format!("filter: {uri}")
        } else {
            "all users".to_owned()
        };
        let columns = source.output_columns.as_ref().map(|c| {
            let mut c = c.clone();
            c.sort();
            c.dedup();
            c
        });
        ConsentContext {
            tenant: tenant_of(&plan.tenant),
            table: source.table.clone(),
            columns,
            user_scope,
            destination: destination_of(&plan.sink.store),
            pipeline: pipeline.to_owned(),
            activity: plan.activity.clone(),
            identity: identity.trim().to_owned(),
        }
    }

    /// The text two equal contexts share: names ADF matches ignoring case are lowered.
    pub fn key(&self) -> String {
        let lowered = ConsentContext {
            tenant: self.tenant.to_ascii_lowercase(),
            pipeline: self.pipeline.to_ascii_lowercase(),
            activity: self.activity.to_ascii_lowercase(),
            identity: self.identity.to_ascii_lowercase(),
            ..self.clone()
        };
        serde_json::to_string(&lowered).unwrap_or_default()
    }

    /// The parts that differ from another context, for "asks again because ..." messages.
    pub fn changes_from(&self, other: &ConsentContext) -> Vec<&'static str> {
        let (a, b) = (self, other);
        let eq = |x: &str, y: &str| x.eq_ignore_ascii_case(y);
        [
            ("tenant", eq(&a.tenant, &b.tenant)),
            ("table", a.table == b.table),
            ("columns", a.columns == b.columns),
            ("user scope", a.user_scope == b.user_scope),
            ("destination", a.destination == b.destination),
            ("identity", eq(&a.identity, &b.identity)),
        ]
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| name)
        .collect()
    }
}

fn tenant_of(connection: &TenantConnection) -> String {
    match connection {
        TenantConnection::Synthetic(_) => "synthetic".to_owned(),
        TenantConnection::Graph { tenant_id, .. } => tenant_id.clone(),
    }
}

/// The account, not the folder: output folders often carry the run id, and a request per
/// run would make approval meaningless.
fn destination_of(store: &LakeStore) -> String {
    match store {
        LakeStore::LocalFolder(dir) => format!("file://{}", lexical(dir).display()),
        LakeStore::AzureBlob { endpoint, .. } => endpoint.trim_end_matches('/').to_lowercase(),
        LakeStore::AdlsGen2 { url, .. } => url.trim_end_matches('/').to_lowercase(),
    }
}

/// A path without `.` and `..`, worked out from its text: the lake folder may not exist
/// before the first approved run, so it cannot be canonicalized, and the context must not
/// change once it does.
fn lexical(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConsentStatus {
    /// Waiting for a decision.
    Pending,
    /// Approved; copies of the context run until it expires.
    Approved,
    /// Denied by an approver.
    Denied,
    /// Not decided within 24 hours, or an approval older than six months.
    Expired,
}

impl ConsentStatus {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Pending => "Pending",
            ConsentStatus::Approved => "Approved",
            ConsentStatus::Denied => "Denied",
            ConsentStatus::Expired => "Expired",
        }
    }

    fn parse(text: &str) -> ConsentStatus {
        match text {
            "Approved" => ConsentStatus::Approved,
            "Denied" => ConsentStatus::Denied,
            "Expired" => ConsentStatus::Expired,
            _ => ConsentStatus::Pending,
        }
    }
}

/// One data access request and its decision.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequest {
    /// The request id, given to `mdflow consent approve|deny`.
    pub id: String,
    /// What it asks for.
    pub context: ConsentContext,
    /// The factory folder of the run that asked; its `mdflow.json` names the approvers.
    pub factory: String,
    /// When it was made.
    pub requested_at: DateTime<Utc>,
    /// Where it stands.
    pub status: ConsentStatus,
    /// Who approved or denied it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason given with a denial.
    pub reason: Option<String>,
}

impl ConsentRequest {
    /// When the request (pending or denied) or the approval stops counting.
    pub fn expires_at(&self) -> DateTime<Utc> {
        match (self.status, self.decided_at) {
            (ConsentStatus::Approved, Some(at)) => approval_end(at),
            _ => self.requested_at + REQUEST_LIFETIME,
        }
    }
}

/// The end of an approval given at `at`.
pub fn approval_end(at: DateTime<Utc>) -> DateTime<Utc> {
    at.checked_add_months(Months::new(APPROVAL_MONTHS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ConsentContext {
        ConsentContext {
            tenant: "synthetic".into(),
            table: "BasicDataSet_v0.Message_v1".into(),
            columns: Some(vec!["id".into(), "subject".into()]),
            user_scope: "all users".into(),
            destination: "file:///lake".into(),
            pipeline: "Copy".into(),
            activity: "CopyMail".into(),
            identity: "Ana@Contoso.com".into(),
        }
    }

    #[test]
    fn keys_ignore_the_case_adf_ignores_and_changes_are_named() {
        let a = context();
        let b = ConsentContext {
            pipeline: "COPY".into(),
            identity: "ana@contoso.com".into(),
            ..context()
        };
        assert_eq!(a.key(), b.key());
        let c = ConsentContext {
            columns: None,
            ..context()
        };
        assert_ne!(a.key(), c.key());
        assert_eq!(c.changes_from(&a), vec!["columns"]);
    }
}
