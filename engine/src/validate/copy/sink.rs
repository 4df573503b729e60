//! The sink of an Office 365 copy: a JSON dataset in Blob Storage or ADLS Gen2, reached
//! with a service principal (a `file://` lake needs none).

use serde_json::Value;

use super::At;
use crate::diagnostic::Diagnostic;
use crate::expr::{evaluate, ExprContext};
use crate::factory::pipeline::{CopyActivity, CopySink};
use crate::factory::resolve::{bind, local_folder};
use crate::factory::{
    Activity, DatasetKind, Factory, LinkedServiceKind, Pipeline, Resource, Secret,
};

const LAKE_FIX: &str = "write to a Json dataset on an AzureBlobFS (ADLS Gen2) or AzureBlobStorage \
     linked service, and chain a second copy for other stores and formats";

/// Checks the output dataset, its linked service and the sink settings.
pub(super) fn check(
    factory: &Factory,
    p: &Resource<Pipeline>,
    activity: &Activity,
    copy: &CopyActivity,
    pctx: &ExprContext,
    out: &mut Vec<Diagnostic>,
) {
    let file = p.origin.file.as_path();
    let sink_at = At {
        file,
        pointer: format!("{}/typeProperties/sink", activity.pointer),
    };
    let pattern = match &copy.sink {
        CopySink::Json(j) => j
            .format_settings
            .as_ref()
            .and_then(|f| f.file_pattern.clone()),
        CopySink::Legacy(_) => None,
        // Gen1 sinks get their own error from the linked service check below.
        CopySink::Other(kind, _) if kind == "AzureDataLakeStoreSink" => None,
        CopySink::Other(kind, _) => {
            out.push(sink_at.error(
                format!("sink type `{kind}` cannot receive Office 365 data; it lands as JSON only"),
                "use \"type\": \"JsonSink\" with a Json dataset",
            ));
            None
        }
    };
    array_pattern(pattern.as_ref(), pctx, &sink_at, out);

    let Some(output) = activity.outputs.first() else {
        out.push(
            At {
                file,
                pointer: format!("{}/outputs", activity.pointer),
            }
            .error(
                format!("copy `{}` has no output dataset", activity.name),
                "add a Json dataset in lake storage to \"outputs\"",
            ),
        );
        return;
    };
    let Some(ds) = factory.dataset(&output.reference_name) else {
        return;
    };
    let ds_at = |key: &str| At {
        file: &ds.origin.file,
        pointer: ds.pointer(key),
    };
    let dctx = bind(&ds.def.parameters, &output.parameters, pctx)
        .ok()
        .map(|values| ExprContext {
            dataset_parameters: values,
            ..pctx.clone()
        });

    // The dataset must be JSON, in Blob Storage or ADLS Gen2.
    match &ds.def.kind {
        DatasetKind::Json(json) => {
            let kind = json
                .location
                .as_ref()
                .map(|l| l.kind.as_str())
                .unwrap_or("none");
            let lake = [
                "AzureBlobStorageLocation",
                "AzureBlobFSLocation",
                "AzureDataLakeStoreLocation",
            ];
            if !lake.contains(&kind) {
                out.push(ds_at("/properties/typeProperties/location").error(
                    format!(
                        "sink dataset `{}` is not in lake storage (location type {kind})",
                        ds.name
                    ),
                    LAKE_FIX,
                ));
            }
        }
        DatasetKind::AzureBlob(l) | DatasetKind::AzureBlobFsFile(l) => {
            let format = l.format.as_ref().map(|f| f.kind.as_str()).unwrap_or("none");
            if format != "JsonFormat" {
                out.push(ds_at("/properties/typeProperties/format").error(
                    format!("sink dataset `{}` is not JSON (format {format})", ds.name),
                    "set \"format\": {\"type\": \"JsonFormat\", \"filePattern\": \"setOfObjects\"}, \
                     or use a Json dataset",
                ));
            }
            let legacy = l.format.as_ref().and_then(|f| f.file_pattern.clone());
            if let Some(ctx) = &dctx {
                array_pattern(
                    legacy.as_ref(),
                    ctx,
                    &ds_at("/properties/typeProperties/format/filePattern"),
                    out,
                );
            }
        }
        DatasetKind::Other(kind) if kind == "AzureDataLakeStoreFile" => {}
        DatasetKind::Office365Table(_) | DatasetKind::Other(_) => {
            let kind = ds
                .raw
                .pointer("/properties/type")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            out.push(ds_at("/properties/type").error(
                format!(
                    "sink dataset `{}` is of type {kind}, not JSON in lake storage",
                    ds.name
                ),
                LAKE_FIX,
            ));
        }
    }

    // The linked service: lake storage, authenticated with a service principal.
    let Some(reference) = &ds.def.linked_service else {
        return;
    };
    let Some(ls) = factory.linked_service(&reference.reference_name) else {
        return;
    };
    let ls_at = At {
        file: &ls.origin.file,
        pointer: ls.pointer("/properties/typeProperties"),
    };
    let lctx = dctx.as_ref().and_then(|d| {
        bind(&ls.def.parameters, &reference.parameters, d)
            .ok()
            .map(|values| ExprContext {
                linked_service_parameters: values,
                ..d.clone()
            })
    });
    // `None`: the address cannot be known before a run, so neither can its authentication.
    let is_local = |url: &Option<Value>| -> Option<bool> {
        let ctx = lctx.as_ref().unwrap_or(pctx);
        let text = match url {
            Some(u) => evaluate(u, ctx).ok()?,
            None => return Some(false),
        };
        Some(
            text.as_str()
                .is_some_and(|u| local_folder(u, &factory.root).is_some()),
        )
    };
    let principal = |id: &Option<Value>, key: &Option<Secret>| id.is_some() && key.is_some();
    let (authenticated, what) = match &ls.def.kind {
        LinkedServiceKind::AzureBlobFs(l) => {
            if is_local(&l.url) != Some(false) {
                return;
            }
            (
                principal(&l.service_principal_id, &l.service_principal_key),
                "AzureBlobFS",
            )
        }
        LinkedServiceKind::AzureBlobStorage(l) => {
            if is_local(&l.service_endpoint) != Some(false) {
                return;
            }
            (
                principal(&l.service_principal_id, &l.service_principal_key),
                "AzureBlobStorage",
            )
        }
        LinkedServiceKind::AzureDataLakeStore(_) => {
            out.push(
                At {
                    file: &ls.origin.file,
                    pointer: ls.pointer("/properties/type"),
                }
                .error(
                    format!(
                    "sink linked service `{}` is ADLS Gen1 (AzureDataLakeStore), which Microsoft \
                     retired on 29 February 2024",
                    ls.name
                ),
                    "move the data to ADLS Gen2 and use an AzureBlobFS linked service with a \
                 Json dataset (AzureBlobFSLocation)",
                ),
            );
            return;
        }
        LinkedServiceKind::Office365(_) | LinkedServiceKind::Other(_) => {
            let kind = ls
                .raw
                .pointer("/properties/type")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            out.push(
                At {
                    file: &ls.origin.file,
                    pointer: ls.pointer("/properties/type"),
                }
                .error(
                    format!(
                        "sink linked service `{}` is {kind}, not lake storage",
                        ls.name
                    ),
                    LAKE_FIX,
                ),
            );
            return;
        }
    };
    if !authenticated {
        out.push(ls_at.error(
            format!(
                "sink linked service `{}` ({what}) does not authenticate with a service principal; \
                 Office 365 copies require one",
                ls.name
            ),
            "set servicePrincipalId, servicePrincipalKey and tenant; for local runs a file:// \
             url needs no authentication (docs/factory-format.md)",
        ));
    }
}

/// Office 365 copies land `setOfObjects` (one object per line); ADF refuses arrays.
fn array_pattern(
    pattern: Option<&Value>,
    ctx: &ExprContext,
    at: &At<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(Ok(Value::String(p))) = pattern.map(|p| evaluate(p, ctx)) else {
        return;
    };
    if p.eq_ignore_ascii_case("arrayOfObjects") {
        out.push(
            at.warning(
                "filePattern arrayOfObjects: ADF writes Office 365 data as setOfObjects only; \
             mdflow writes arrays, ADF would not"
                    .into(),
                "use \"filePattern\": \"setOfObjects\" so the pipeline behaves the same in ADF",
            ),
        );
    }
}
