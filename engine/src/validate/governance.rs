//! Governance rules: consent may be off only for the synthetic tenant, Office 365 data
//! lands only in storage of its own Entra tenant, and the tenant's Office region, the
//! integration runtime and the lake accounts declared in `mdflow.json` correspond.

use serde_json::Value;

use super::regions::{azure_region, azure_regions_of, office_region, office_regions};
use crate::diagnostic::Diagnostic;
use crate::expr::{evaluate, ExprContext};
use crate::factory::resolve::{bind, local_folder, pipeline_context, value_text};
use crate::factory::{
    escape, Action, CopySource, Factory, LinkedService, LinkedServiceKind, Reference, Resource,
};

/// Checks the whole factory's governance rules.
pub(super) fn check(factory: &Factory, out: &mut Vec<Diagnostic>) {
    consent_setting(factory, out);
    tenants(factory, out);
    regions(factory, out);
}

/// `consent.enabled: false` is a convenience for the synthetic tenant only.
fn consent_setting(factory: &Factory, out: &mut Vec<Diagnostic>) {
    let settings = &factory.settings;
    let Some(file) = &settings.file else { return };
    let real = factory.linked_services.iter().filter(
        |ls| matches!(&ls.def.kind, LinkedServiceKind::Office365(o) if o.synthetic.is_none()),
    );
    if !settings.consent.enabled {
        for ls in real {
            out.push(Diagnostic::error(
                file,
                "/consent/enabled",
                format!(
                    "consent is turned off, but linked service `{}` ({}) is a real Microsoft 365 \
                     tenant; only the synthetic tenant may run without approved data access \
                     requests",
                    ls.name,
                    ls.origin.file.display()
                ),
                "remove \"enabled\": false (approvers then decide each new context: \
                 docs/security.md), or use the synthetic tenant",
            ));
        }
    } else if settings.consent.approvers.is_empty() && has_office365_copy(factory) {
        out.push(Diagnostic::warning(
            file,
            "/consent",
            "consent is on but no approver group is configured, so nobody can approve data \
             access requests",
            "add \"approvers\": [\"someone@contoso.com\"] under \"consent\"",
        ));
    }
}

fn has_office365_copy(factory: &Factory) -> bool {
    factory.pipelines.iter().any(|p| {
        p.def.activities.iter().any(|a| {
            matches!(&a.action, Action::Copy(c) if matches!(c.source, CopySource::Office365(_)))
        })
    })
}

/// A linked service reached through a dataset reference, and the context its expressions
/// see (`None` when a parameter cannot be known before a run).
fn through<'f>(
    factory: &'f Factory,
    dataset: &Reference,
    pctx: &ExprContext,
) -> Option<(&'f Resource<LinkedService>, Option<ExprContext>)> {
    let ds = factory.dataset(&dataset.reference_name)?;
    let reference = ds.def.linked_service.as_ref()?;
    let ls = factory.linked_service(&reference.reference_name)?;
    let ctx = bind(&ds.def.parameters, &dataset.parameters, pctx)
        .ok()
        .and_then(|values| {
            let dctx = ExprContext {
                dataset_parameters: values,
                ..pctx.clone()
            };
            bind(&ls.def.parameters, &reference.parameters, &dctx)
                .ok()
                .map(|values| ExprContext {
                    linked_service_parameters: values,
                    ..dctx
                })
        });
    Some((ls, ctx))
}

fn text(value: &Option<Value>, ctx: &Option<ExprContext>) -> Option<String> {
    let v = evaluate(value.as_ref()?, ctx.as_ref()?).ok()?;
    Some(value_text(&v).trim().to_owned()).filter(|s| !s.is_empty())
}

/// The sink's Entra tenant (its service principal's `tenant`) must be the Office 365
/// tenant: MGDC delivers data only into storage of the tenant it belongs to.
fn tenants(factory: &Factory, out: &mut Vec<Diagnostic>) {
    for p in &factory.pipelines {
        let pctx = pipeline_context(&p.def, &p.name, &ExprContext::default());
        for activity in &p.def.activities {
            let Action::Copy(copy) = &activity.action else {
                continue;
            };
            if !matches!(copy.source, CopySource::Office365(_)) {
                continue;
            }
            let (Some(input), Some(output)) = (activity.inputs.first(), activity.outputs.first())
            else {
                continue;
            };
            let Some((o365, octx)) = through(factory, input, &pctx) else {
                continue;
            };
            let LinkedServiceKind::Office365(o) = &o365.def.kind else {
                continue;
            };
            if o.synthetic.is_some() {
                continue;
            }
            let Some((sink, sctx)) = through(factory, output, &pctx) else {
                continue;
            };
            let (address, tenant) = match &sink.def.kind {
                LinkedServiceKind::AzureBlobFs(l) => (&l.url, &l.tenant),
                LinkedServiceKind::AzureBlobStorage(l) => (&l.service_endpoint, &l.tenant),
                _ => continue,
            };
            let local =
                text(address, &sctx).is_some_and(|a| local_folder(&a, &factory.root).is_some());
            let (Some(office), Some(sink_tenant), false) = (
                text(&o.office365_tenant_id, &octx),
                text(tenant, &sctx),
                local,
            ) else {
                continue;
            };
            compare_tenants(
                &office,
                &sink_tenant,
                &o365.name,
                sink,
                &activity.name,
                &p.name,
                out,
            );
        }
    }
}

fn compare_tenants(
    office: &str,
    sink_tenant: &str,
    office_ls: &str,
    sink: &Resource<LinkedService>,
    activity: &str,
    pipeline: &str,
    out: &mut Vec<Diagnostic>,
) {
    if office.eq_ignore_ascii_case(sink_tenant) {
        return;
    }
    let pointer = sink.pointer("/properties/typeProperties/tenant");
    if is_guid(office) != is_guid(sink_tenant) {
        out.push(Diagnostic::warning(
            &sink.origin.file,
            pointer,
            format!(
                "cannot tell whether sink tenant `{sink_tenant}` is Office 365 tenant `{office}` \
                 (linked service `{office_ls}`): one is an id, the other a domain name"
            ),
            "write the tenant id (a GUID) in both office365TenantId and the sink's tenant",
        ));
        return;
    }
    out.push(Diagnostic::error(
        &sink.origin.file,
        pointer,
        format!(
            "copy `{activity}` (pipeline `{pipeline}`) lands Office 365 data of tenant `{office}` \
             (linked service `{office_ls}`) in storage of Entra tenant `{sink_tenant}` \
             (linked service `{}`); the sink must be in the same tenant",
            sink.name
        ),
        format!(
            "use a storage account and service principal of tenant {office}, or correct \
             office365TenantId if it names the wrong tenant"
        ),
    ));
}

fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The Office region, the integration runtime's region and each lake account's region must
/// belong together. With no Office region, the others must at least agree with each other.
fn regions(factory: &Factory, out: &mut Vec<Diagnostic>) {
    let settings = &factory.settings;
    let Some(file) = settings.file.as_deref() else {
        return;
    };
    let declared = &settings.regions;

    let office = declared.office.as_deref().and_then(|name| {
        let found = office_region(name);
        if found.is_none() {
            out.push(Diagnostic::error(
                file,
                "/regions/office",
                format!("`{name}` is not an Office region Graph Data Connect serves"),
                format!("use one of: {}", office_regions()),
            ));
        }
        found
    });

    // Each Azure region with the Office region it serves; the first known one anchors the
    // comparison when no Office region is declared.
    let mut azure: Vec<(String, &str)> = Vec::new();
    if let Some(ir) = &declared.integration_runtime {
        azure.push(("/regions/integrationRuntime".into(), ir));
    }
    for (name, region) in &declared.storage {
        if factory.linked_service(name).is_none() {
            out.push(Diagnostic::warning(
                file,
                format!("/regions/storage/{}", escape(name)),
                format!("there is no linked service `{name}`"),
                "name a lake linked service of the factory",
            ));
        }
        azure.push((format!("/regions/storage/{}", escape(name)), region));
    }
    let mut anchor: Option<(&'static str, String)> =
        office.map(|o| (o, "the tenant's Office region".into()));
    for (pointer, region) in &azure {
        let Some((serves, spelled)) = azure_region(region) else {
            out.push(Diagnostic::error(
                file,
                pointer.as_str(),
                format!("`{region}` is not an Azure region Graph Data Connect delivers to"),
                match office {
                    Some(o) => format!("use a region of {o}: {}", azure_regions_of(o)),
                    None => "see the region table in docs/security.md".to_owned(),
                },
            ));
            continue;
        };
        match &anchor {
            None => anchor = Some((serves, format!("{spelled} ({pointer})"))),
            Some((expected, what)) if *expected != serves => out.push(Diagnostic::error(
                file,
                pointer.as_str(),
                format!(
                    "{spelled} serves the {serves} Office region, but {what} is in {expected}; \
                     the integration runtime and the sink must be in the tenant's Office region"
                ),
                format!("use a region of {expected}: {}", azure_regions_of(expected)),
            )),
            Some(_) => {}
        }
    }
}
