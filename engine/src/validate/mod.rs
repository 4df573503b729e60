//! Validation of a whole factory at once: every problem is reported together, each with
//! its file, JSON pointer and a fix, before anything runs.
//!
//! Passes, one per file: references between resources ([`references`]), expression syntax
//! (here), the activity graph of each pipeline ([`graph`]), the Office 365 copy rules
//! ([`copy`]) and the consent, tenant and region rules ([`governance`]).

mod copy;
mod governance;
mod graph;
mod references;
mod regions;

use mdflow_connectors::catalog::Catalog;
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::expr::{self, ExprErrorKind};
use crate::factory::{Action, Factory, LinkedServiceKind, Resource};

/// Checks everything in a factory and returns every problem found. A factory with no
/// error-severity diagnostic can run.
pub fn validate(factory: &Factory, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    references::check(factory, &mut out);
    expressions(factory, &mut out);
    for ls in &factory.linked_services {
        office365_credentials(ls, &mut out);
    }
    governance::check(factory, &mut out);
    for p in &factory.pipelines {
        graph::check(p, &mut out);
        for activity in &p.def.activities {
            match &activity.action {
                Action::Copy(c) => copy::check(factory, catalog, p, activity, c, &mut out),
                Action::ExecutePipeline(_) | Action::ExecuteDataFlow(_) => {}
                Action::Other(_) => out.push(Diagnostic::warning(
                    &p.origin.file,
                    format!("{}/type", activity.pointer),
                    format!(
                        "mdflow does not run `{}` activities yet (activity `{}`)",
                        activity.kind, activity.name
                    ),
                    "the run marks it as failed; see docs/limitations.md",
                )),
            }
        }
    }
    out
}

/// Reports malformed expressions anywhere in linked services, datasets and pipelines.
fn expressions(factory: &Factory, out: &mut Vec<Diagnostic>) {
    fn scan<T>(r: &Resource<T>, out: &mut Vec<Diagnostic>) {
        let Some(props) = r.raw.get("properties") else {
            return;
        };
        for (pointer, e) in expr::check(props) {
            let at = r.pointer(&format!("/properties{pointer}"));
            let d = match e.kind {
                ExprErrorKind::Syntax => Diagnostic::error(
                    &r.origin.file,
                    at,
                    format!("invalid expression: {e}"),
                    format!("correct the expression:\n{}", indent(&e.caret())),
                ),
                _ => Diagnostic::warning(
                    &r.origin.file,
                    at,
                    format!("expression mdflow cannot evaluate: {e}"),
                    "see docs/factory-format.md for the functions mdflow supports",
                ),
            };
            out.push(d);
        }
    }
    factory.linked_services.iter().for_each(|r| scan(r, out));
    factory.datasets.iter().for_each(|r| scan(r, out));
    factory.pipelines.iter().for_each(|r| scan(r, out));
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A real (not synthetic) Office 365 linked service needs a tenant and a service
/// principal.
fn office365_credentials(ls: &Resource<crate::factory::LinkedService>, out: &mut Vec<Diagnostic>) {
    let LinkedServiceKind::Office365(o) = &ls.def.kind else {
        return;
    };
    if o.synthetic.is_some() {
        return;
    }
    let missing: Vec<&str> = [
        ("office365TenantId", o.office365_tenant_id.is_some()),
        ("servicePrincipalId", o.service_principal_id.is_some()),
        ("servicePrincipalKey", o.service_principal_key.is_some()),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(k, _)| k)
    .collect();
    if !missing.is_empty() {
        out.push(Diagnostic::error(
            &ls.origin.file,
            ls.pointer("/properties/typeProperties"),
            format!(
                "Office365 linked service `{}` lacks {}",
                ls.name,
                missing.join(", ")
            ),
            "add the service principal of the app that has Graph Data Connect consent, or \
             use the synthetic tenant: \"synthetic\": {} (see docs/factory-format.md)",
        ));
    }
}

/// The text of a JSON value for messages, strings without quotes.
fn show(v: &Value) -> String {
    crate::factory::resolve::value_text(v)
}
