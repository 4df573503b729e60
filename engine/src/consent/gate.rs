//! The runner's side of consent: before an Office 365 copy extracts anything, find an
//! approved request for its context, or file one and hold the activity.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{ConsentContext, ConsentRequest, ConsentStatus, ConsentStore};
use crate::clock;
use crate::expr::ExprContext;
use crate::factory::pipeline::{Action, Activity, CopySource};
use crate::factory::resolve::{resolve_copy, TenantConnection};
use crate::factory::Factory;

/// The environment variable naming who runs pipelines on the synthetic tenant.
pub const IDENTITY_VARIABLE: &str = "MDFLOW_IDENTITY";
/// How often `--wait` looks for a decision.
const POLL: Duration = Duration::from_millis(500);

/// Consent choices of one run, from the command line.
#[derive(Debug, Clone, Default)]
pub struct ConsentOptions {
    /// Who asks, for the synthetic tenant (`--as`); a real tenant's requests are made by
    /// its service principal.
    pub identity: Option<String>,
    /// Wait this long for a decision instead of ending the activity in progress.
    pub wait: Option<Duration>,
}

/// Why a copy does not run now.
#[derive(Debug, Clone)]
pub enum Held {
    /// A request waits for a decision: the activity ends `InProgress` with this output.
    Waiting {
        /// The ADF-shaped output, `executionDetails[0].status` = `RequestingConsent`.
        output: Value,
        /// What to do, for the log.
        message: String,
    },
    /// The request was denied or expired while waiting: the activity fails.
    Refused {
        /// An ADF-like error code.
        code: &'static str,
        /// What happened and what to do.
        message: String,
    },
}

/// What stands between an activity and one of its contexts.
enum Pending {
    /// A decision that holds the activity (a denial).
    Decided(Held),
    /// A request waiting for a decision.
    Request(Box<ConsentRequest>),
}

/// Decides, activity by activity, whether a run may extract.
pub struct ConsentGate<'a> {
    store: Option<ConsentStore>,
    factory: &'a Factory,
    /// `--factory ... [--state-dir ...]` as the consent commands should be given them.
    where_args: String,
    options: ConsentOptions,
}

impl<'a> ConsentGate<'a> {
    /// A gate for one run. `factory_arg` is the factory path as the user gave it, so that
    /// the printed commands work where the run was started.
    pub fn new(
        factory: &'a Factory,
        state_dir: &Path,
        factory_arg: &Path,
        options: ConsentOptions,
    ) -> Result<ConsentGate<'a>, super::ConsentError> {
        let store = if factory.settings.consent.enabled {
            Some(ConsentStore::open(state_dir)?)
        } else {
            None
        };
        let mut where_args = format!("--factory {}", factory_arg.display());
        let folder = if factory_arg.is_file() {
            factory_arg.parent().unwrap_or(Path::new("."))
        } else {
            factory_arg
        };
        if state_dir != folder.join(".mdflow") {
            where_args.push_str(&format!(" --state-dir {}", state_dir.display()));
        }
        Ok(ConsentGate {
            store,
            factory,
            where_args,
            options,
        })
    }

    /// `Ok(None)` lets the activity run: consent is off, it is not an Office 365 copy, or
    /// its context is approved. A copy that cannot be resolved is let through too, so
    /// that the runner reports the resolution error itself.
    pub fn admit(
        &self,
        pipeline: &str,
        activity: &Activity,
        ctx: &ExprContext,
    ) -> Result<Option<Held>, super::ConsentError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let plans = match &activity.action {
            Action::Copy(copy) if matches!(copy.source, CopySource::Office365(_)) => {
                match resolve_copy(self.factory, pipeline, &activity.name, ctx) {
                    Ok(plan) => vec![plan],
                    Err(_) => return Ok(None),
                }
            }
            Action::ExecuteDataFlow(_) => {
                match crate::dataflow::activity::office365_plans(
                    self.factory,
                    pipeline,
                    activity,
                    ctx,
                ) {
                    Ok(plans) => plans,
                    Err(_) => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        // Every request is filed before any is waited for, so one round of approvals
        // covers a data flow that reads several tables.
        let mut held = Vec::new();
        for plan in &plans {
            let identity = match &plan.tenant {
                TenantConnection::Graph {
                    service_principal_id,
                    ..
                } => service_principal_id.clone(),
                TenantConnection::Synthetic(_) => local_identity(&self.options),
            };
            let context = ConsentContext::of_copy(plan, pipeline, &identity);
            if let Some(request) = self.request_for(store, &activity.name, &context)? {
                held.push(request);
            }
        }
        for request in held {
            match request {
                Pending::Decided(h) => return Ok(Some(h)),
                Pending::Request(request) => {
                    if let Some(timeout) = self.options.wait {
                        match self.wait(store, &request, timeout)? {
                            Some(None) => continue,
                            Some(decided) => return Ok(decided),
                            None => {}
                        }
                    }
                    return Ok(Some(self.waiting(&request)));
                }
            }
        }
        Ok(None)
    }

    /// The pending request for `context` (filed now when there is none), a decision that
    /// holds the activity, or `None` when the context is approved.
    fn request_for(
        &self,
        store: &ConsentStore,
        activity: &str,
        context: &ConsentContext,
    ) -> Result<Option<Pending>, super::ConsentError> {
        let identity = &context.identity;
        let now = clock::now();
        let request = match store.latest(context, now)? {
            Some(r) if r.status == ConsentStatus::Approved => {
                tracing::info!(
                    activity,
                    request = r.id,
                    approved_by = r.decided_by.as_deref().unwrap_or_default(),
                    table = context.table,
                    "data access approved until {}",
                    clock::format(r.expires_at())
                );
                return Ok(None);
            }
            Some(r) if r.status == ConsentStatus::Pending => r,
            Some(r) if r.status == ConsentStatus::Denied && now < r.expires_at() => {
                return Ok(Some(Pending::Decided(denied(&r))));
            }
            _ => {
                let previous = store.latest_of_activity(context, now)?;
                let root = self.factory.root.display().to_string();
                let request = store.create(context, &root, now)?;
                let changed = previous
                    .map(|p| context.changes_from(&p.context))
                    .filter(|c| !c.is_empty())
                    .map(|c| format!(" (the {} changed)", c.join(", ")))
                    .unwrap_or_default();
                tracing::info!(
                    activity,
                    request = request.id,
                    requested_by = identity,
                    table = context.table,
                    "data access requested{changed}"
                );
                request
            }
        };
        Ok(Some(Pending::Request(Box::new(request))))
    }

    /// Polls the store until the request is decided or the time is up; `None` when it is
    /// still pending.
    fn wait(
        &self,
        store: &ConsentStore,
        request: &ConsentRequest,
        timeout: Duration,
    ) -> Result<Option<Option<Held>>, super::ConsentError> {
        tracing::info!(
            request = request.id,
            "waiting up to {}s for a decision: {}",
            timeout.as_secs(),
            self.approve_command(&request.id)
        );
        let deadline = Instant::now() + timeout;
        loop {
            let current = store.get(&request.id, clock::now())?;
            match current.as_ref().map(|r| r.status) {
                Some(ConsentStatus::Approved) => return Ok(Some(None)),
                Some(ConsentStatus::Denied) => {
                    return Ok(Some(current.as_ref().map(denied)));
                }
                Some(ConsentStatus::Expired) | None => {
                    return Ok(Some(Some(Held::Refused {
                        code: "UserErrorConsentExpired",
                        message: format!(
                            "data access request {} was not decided within 24 hours; run the \
                             pipeline again to ask again",
                            request.id
                        ),
                    })))
                }
                Some(ConsentStatus::Pending) => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            std::thread::sleep(left.min(POLL));
        }
    }

    fn approve_command(&self, id: &str) -> String {
        format!(
            "mdflow consent approve {id} --as APPROVER {}",
            self.where_args
        )
    }

    fn waiting(&self, request: &ConsentRequest) -> Held {
        let message = format!(
            "waiting for consent: data access request {} needs a decision by a member of the \
             approver group before {}; approve with `{}` (or deny with `mdflow consent deny {} \
             --as APPROVER {}`), then run again, or run with --wait",
            request.id,
            clock::format(request.expires_at()),
            self.approve_command(&request.id),
            request.id,
            self.where_args,
        );
        let c = &request.context;
        let output = json!({
            "executionDetails": [{
                "status": "RequestingConsent",
                "consentRequestId": request.id,
                "requestedBy": c.identity,
                "requestedAt": clock::format(request.requested_at),
                "expiresAt": clock::format(request.expires_at()),
                "approvers": self.factory.settings.consent.approvers,
                "context": c,
                "message": message,
            }],
        });
        tracing::warn!(request = request.id, "{message}");
        Held::Waiting { output, message }
    }
}

fn denied(r: &ConsentRequest) -> Held {
    let reason = r
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    Held::Refused {
        code: "UserErrorConsentDenied",
        message: format!(
            "data access request {} ({} for pipeline {}, activity {}) was denied by {} at \
             {}{reason}; change what the copy asks for, or run again after {} to ask again",
            r.id,
            r.context.table,
            r.context.pipeline,
            r.context.activity,
            r.decided_by.as_deref().unwrap_or("an approver"),
            r.decided_at.map(clock::format).unwrap_or_default(),
            clock::format(r.expires_at()),
        ),
    }
}

/// Who runs a synthetic-tenant copy: `--as`, else `MDFLOW_IDENTITY`, else the login name.
fn local_identity(options: &ConsentOptions) -> String {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    options
        .identity
        .clone()
        .or_else(|| from_env(IDENTITY_VARIABLE))
        .or_else(|| from_env("USER"))
        .or_else(|| from_env("USERNAME"))
        .unwrap_or_else(|| "local-user".to_owned())
}
