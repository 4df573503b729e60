//! Resolution of a Copy activity for the runner: references followed, parameters bound,
//! expressions evaluated, names matched to the catalog. The result, a [`CopyPlan`], holds
//! plain values only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use mdflow_connectors::catalog::Catalog;
use serde_json::{Map, Value};

use super::model::*;
use super::pipeline::*;
use super::{Factory, Resource};
use crate::diagnostic::Diagnostic;
use crate::expr::{evaluate, parse_timestamp, ExprContext};

/// Everything a Copy from Office 365 needs, fully evaluated.
#[derive(Debug, Clone)]
pub struct CopyPlan {
    /// The activity's name.
    pub activity: String,
    /// What to extract.
    pub source: Office365Query,
    /// Where from.
    pub tenant: TenantConnection,
    /// Where to.
    pub sink: LakeTarget,
    /// Mailboxes extracted at once, from `parallelCopies`; `None` for the default.
    pub parallel_copies: Option<usize>,
}

/// The extraction a copy source asks for; source properties win over the dataset's legacy
/// ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office365Query {
    /// The table's catalog name, such as `BasicDataSet_v0.Message_v1`.
    pub table: String,
    /// Group object ids whose members are extracted; empty means everyone.
    pub allowed_groups: Vec<String>,
    /// A Graph users query scoping the extraction.
    pub user_scope_filter_uri: Option<String>,
    /// The filter column as the catalog spells it.
    pub date_filter_column: Option<String>,
    /// Start of the window, inclusive.
    pub start_time: Option<DateTime<Utc>>,
    /// End of the window, exclusive.
    pub end_time: Option<DateTime<Utc>>,
    /// The requested columns as the catalog spells them; all when `None`.
    pub output_columns: Option<Vec<String>>,
}

/// Which tenant rows come from.
#[derive(Debug, Clone)]
// Loaded once per factory: the size gap costs nothing, boxing would clutter every match.
#[allow(clippy::large_enum_variant)]
pub enum TenantConnection {
    /// mdflow's built-in synthetic tenant (the `synthetic` extension).
    Synthetic(SyntheticSettings),
    /// A real tenant through Microsoft Graph.
    Graph {
        /// The Microsoft 365 tenant (`office365TenantId`).
        tenant_id: String,
        /// The app registration's tenant (`servicePrincipalTenantId`).
        service_principal_tenant_id: String,
        /// The app's client id.
        service_principal_id: String,
        /// The client secret, unresolved (inline or Key Vault).
        service_principal_key: Secret,
        /// Endpoints and limits (mdflow extensions).
        options: GraphOptions,
    },
}

/// mdflow's extensions of an Office365 linked service for Microsoft Graph; `None` keeps
/// the back-end's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphOptions {
    /// `graphEndpoint`: Graph's scheme and host.
    pub graph_endpoint: Option<String>,
    /// `authorityHost`: the identity provider's scheme and host.
    pub authority_host: Option<String>,
    /// `maxConcurrentRequests`: requests in flight over all mailboxes.
    pub max_concurrent_requests: Option<u32>,
    /// `maxRetries`: retries of one request.
    pub max_retries: Option<u32>,
}

/// Settings of the synthetic tenant; `None` leaves the generator's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyntheticSettings {
    /// Number of mailboxes.
    pub users: Option<u32>,
    /// Messages per mailbox.
    pub messages_per_user: Option<u32>,
    /// Generator seed.
    pub seed: Option<u64>,
    /// First day of activity.
    pub from: Option<NaiveDate>,
    /// Last day of activity.
    pub to: Option<NaiveDate>,
}

/// A service principal that authenticates to a store.
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    /// Tenant of the app registration.
    pub tenant: String,
    /// Client id.
    pub client_id: String,
    /// Client secret, unresolved.
    pub secret: Secret,
}

/// The storage account (or local folder) a sink writes to.
#[derive(Debug, Clone)]
pub enum LakeStore {
    /// A local folder (`file://` extension); the container is a subfolder of it.
    LocalFolder(PathBuf),
    /// Azure Blob Storage.
    AzureBlob {
        /// The blob endpoint, such as `https://account.blob.core.windows.net`.
        endpoint: String,
        /// The service principal, when configured.
        auth: Option<ServicePrincipal>,
        /// Account key, SAS or connection string, when configured.
        secrets: StorageSecrets,
    },
    /// Azure Data Lake Storage Gen2.
    AdlsGen2 {
        /// The DFS endpoint, such as `https://account.dfs.core.windows.net`.
        url: String,
        /// The service principal, when configured.
        auth: Option<ServicePrincipal>,
        /// Account key or SAS, when configured.
        secrets: StorageSecrets,
    },
}

/// How JSON rows are laid out in files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePattern {
    /// One object per line (JSON Lines), what Office 365 copies write.
    SetOfObjects,
    /// One JSON array per file.
    ArrayOfObjects,
}

/// Where and how a sink writes.
#[derive(Debug, Clone)]
pub struct LakeTarget {
    /// The account or folder.
    pub store: LakeStore,
    /// The container (Blob) or file system (ADLS Gen2).
    pub container: String,
    /// Folder inside the container, without leading or trailing `/`.
    pub folder_path: String,
    /// File name, when the dataset fixes one.
    pub file_name: Option<String>,
    /// Line-per-object or array.
    pub file_pattern: FilePattern,
    /// The dataset's `compression.type` (`GZip`, `BZip2`, `Deflate`); empty for none.
    pub compression: String,
    /// The dataset's `encodingName`; empty for UTF-8.
    pub encoding: String,
}

/// The most mailboxes a copy extracts at once, as ADF's own limit on `parallelCopies`.
pub const MAX_PARALLEL_COPIES: usize = 256;

/// How to write `parallelCopies`, for diagnostics.
pub(crate) const PARALLEL_COPIES_FIX: &str = "give the number of mailboxes to extract at \
     once, or leave it out for one per core (at most eight)";

/// An evaluated `parallelCopies` as a count, or what is wrong with it.
pub(crate) fn parallel_copies(v: &Value) -> Result<usize, String> {
    let n = match v {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| (1..=MAX_PARALLEL_COPIES).contains(n))
        .ok_or_else(|| {
            format!("parallelCopies is {v}, not a whole number from 1 to {MAX_PARALLEL_COPIES}")
        })
}

/// Resolves one Copy activity (Office 365 to a JSON lake sink) of a pipeline. `ctx`
/// carries the run's parameters; parameters it lacks take their default values.
pub fn resolve_copy(
    factory: &Factory,
    pipeline: &str,
    activity: &str,
    ctx: &ExprContext,
) -> Result<CopyPlan, Diagnostic> {
    let Some(p) = factory.pipeline(pipeline) else {
        return Err(Diagnostic::error(
            &factory.root,
            "",
            format!("pipeline `{pipeline}` does not exist"),
            format!("use one of: {}", super::pipeline_names(factory).join(", ")),
        ));
    };
    let Some(a) = p.def.activity(activity) else {
        return Err(Diagnostic::error(
            &p.origin.file,
            p.pointer("/properties/activities"),
            format!("pipeline `{pipeline}` has no activity `{activity}`"),
            "use the name of one of its activities",
        ));
    };
    let r = Resolver {
        factory,
        catalog: Catalog::builtin(),
    };
    let pctx = pipeline_context(&p.def, &p.name, ctx);
    let fail = |pointer: &str, message: String, fix: &str| {
        Diagnostic::error(
            &p.origin.file,
            format!("{}{pointer}", a.pointer),
            message,
            fix,
        )
    };
    let Action::Copy(copy) = &a.action else {
        return Err(fail(
            "/type",
            format!("activity `{}` is not a Copy", a.name),
            "run it as its own type",
        ));
    };
    let CopySource::Office365(source) = &copy.source else {
        return Err(fail(
            "/typeProperties/source",
            "the copy source is not an Office365Source".into(),
            "mdflow resolves Office 365 copies here; other copies run through their own plan",
        ));
    };
    let input = a.inputs.first().ok_or_else(|| {
        fail(
            "/inputs",
            "the copy has no input dataset".into(),
            "add an Office365Table dataset",
        )
    })?;
    let output = a.outputs.first().ok_or_else(|| {
        fail(
            "/outputs",
            "the copy has no output dataset".into(),
            "add a Json dataset",
        )
    })?;

    let (ds, dctx) = r.dataset(input, &pctx)?;
    let DatasetKind::Office365Table(table_def) = &ds.def.kind else {
        return Err(ds_error(
            ds,
            "/properties/type",
            "the input dataset is not an Office365Table",
        ));
    };
    let (ls, lctx) = r.linked_service(ds, &dctx)?;
    let LinkedServiceKind::Office365(o365) = &ls.def.kind else {
        return Err(ds_error(
            ls,
            "/properties/type",
            "the dataset's linked service is not Office365",
        ));
    };
    let source = r.query(source, &pctx, table_def, ds, &dctx)?;
    let tenant = tenant_connection(o365, ls, &lctx)?;

    let (sink_ds, sink_ctx) = r.dataset(output, &pctx)?;
    let (sink_ls, sink_lctx) = r.linked_service(sink_ds, &sink_ctx)?;
    let sink = r.lake_target(copy, sink_ds, &sink_ctx, sink_ls, &sink_lctx)?;
    let parallel_copies = match &copy.parallel_copies {
        None => None,
        Some(v) => {
            let at = "/typeProperties/parallelCopies";
            let value = evaluate(v, &pctx)
                .map_err(|e| fail(at, e.to_string(), "correct the expression"))?;
            Some(parallel_copies(&value).map_err(|m| fail(at, m, PARALLEL_COPIES_FIX))?)
        }
    };
    Ok(CopyPlan {
        activity: a.name.clone(),
        source,
        tenant,
        sink,
        parallel_copies,
    })
}

/// The pipeline's context: run parameters over defaults, and the pipeline's name.
pub(crate) fn pipeline_context(p: &Pipeline, name: &str, ctx: &ExprContext) -> ExprContext {
    let mut parameters = p.default_parameters();
    parameters.extend(ctx.parameters.clone());
    ExprContext {
        parameters,
        pipeline: if ctx.pipeline.is_empty() {
            name.to_owned()
        } else {
            ctx.pipeline.clone()
        },
        ..ctx.clone()
    }
}

/// Values for a resource's parameters: its defaults, overridden by the reference's values
/// evaluated in the caller's context.
pub(crate) fn bind(
    specs: &BTreeMap<String, ParameterSpec>,
    given: &Map<String, Value>,
    caller: &ExprContext,
) -> Result<BTreeMap<String, Value>, (String, crate::expr::ExprError)> {
    let mut out: BTreeMap<String, Value> = specs
        .iter()
        .filter_map(|(k, s)| s.default_value.clone().map(|v| (k.clone(), v)))
        .collect();
    for (k, v) in given {
        out.insert(k.clone(), evaluate(v, caller).map_err(|e| (k.clone(), e))?);
    }
    Ok(out)
}

fn ds_error<T>(r: &Resource<T>, pointer: &str, message: &str) -> Diagnostic {
    Diagnostic::error(
        &r.origin.file,
        r.pointer(pointer),
        message,
        "see docs/factory-format.md",
    )
}

/// Evaluates a value to text, or says where and why it cannot be.
fn text(v: &Value, ctx: &ExprContext, file: &Path, pointer: String) -> Result<String, Diagnostic> {
    match evaluate(v, ctx) {
        Ok(Value::String(s)) => Ok(s),
        Ok(Value::Number(n)) => Ok(n.to_string()),
        Ok(other) => Err(Diagnostic::error(
            file,
            pointer,
            format!("expected text, found {other}"),
            "give a string or an expression that yields one",
        )),
        Err(e) => Err(Diagnostic::error(
            file,
            pointer,
            e.to_string(),
            "correct the expression",
        )),
    }
}

fn secret_error<T>(r: &Resource<T>, pointer: &str, what: &str) -> Diagnostic {
    Diagnostic::error(
        &r.origin.file,
        r.pointer(pointer),
        format!("{what} is missing"),
        format!(
            "add `{}` to the linked service",
            pointer.rsplit('/').next().unwrap_or(pointer)
        ),
    )
}

fn tenant_connection(
    o: &Office365LinkedService,
    ls: &Resource<LinkedService>,
    ctx: &ExprContext,
) -> Result<TenantConnection, Diagnostic> {
    if let Some(s) = &o.synthetic {
        return Ok(TenantConnection::Synthetic(SyntheticSettings {
            users: s.users,
            messages_per_user: s.messages_per_user,
            seed: s.seed,
            from: s.from,
            to: s.to,
        }));
    }
    let at = "/properties/typeProperties";
    let field = |v: &Option<Value>, key: &str| -> Result<String, Diagnostic> {
        let pointer = format!("{at}/{key}");
        let v = v
            .as_ref()
            .ok_or_else(|| secret_error(ls, &pointer, &format!("`{key}`")))?;
        text(v, ctx, &ls.origin.file, ls.pointer(&pointer))
    };
    let tenant_id = field(&o.office365_tenant_id, "office365TenantId")?;
    let sp_tenant = match &o.service_principal_tenant_id {
        Some(_) => field(&o.service_principal_tenant_id, "servicePrincipalTenantId")?,
        None => tenant_id.clone(),
    };
    let key = o.service_principal_key.as_ref().ok_or_else(|| {
        secret_error(
            ls,
            &format!("{at}/servicePrincipalKey"),
            "`servicePrincipalKey`",
        )
    })?;
    let key = bound_secret(key, ls, &format!("{at}/servicePrincipalKey"), ctx)?;
    let optional = |v: &Option<Value>, key: &str| match v {
        Some(_) => field(v, key).map(Some),
        None => Ok(None),
    };
    let options = GraphOptions {
        graph_endpoint: optional(&o.graph_endpoint, "graphEndpoint")?,
        authority_host: optional(&o.authority_host, "authorityHost")?,
        max_concurrent_requests: o.max_concurrent_requests,
        max_retries: o.max_retries,
    };
    Ok(TenantConnection::Graph {
        tenant_id,
        service_principal_tenant_id: sp_tenant,
        service_principal_id: field(&o.service_principal_id, "servicePrincipalId")?,
        service_principal_key: key,
        options,
    })
}

/// A secret with its Key Vault name evaluated; its value stays unread until a connection
/// needs it.
fn bound_secret<T>(
    secret: &Secret,
    r: &Resource<T>,
    pointer: &str,
    ctx: &ExprContext,
) -> Result<Secret, Diagnostic> {
    secret.bound(ctx).map_err(|e| {
        Diagnostic::error(
            &r.origin.file,
            r.pointer(pointer),
            e.to_string(),
            "correct the secretName expression",
        )
    })
}

/// A `file://` lake URL as a local folder: `file:///abs`, `file://rel` or `file:rel`
/// (relative to the factory folder).
pub(crate) fn local_folder(url: &str, root: &Path) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("file://")
        .or_else(|| url.strip_prefix("file:"))?;
    let path = Path::new(rest);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    })
}

/// The text of an evaluated value: strings as they are, other values as JSON.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An evaluated `allowedGroups`: an array of ids, or one id.
pub(crate) fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().map(value_text).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The names in an evaluated `outputColumns`: `[{"name": ...}]` (or plain strings).
pub(crate) fn column_names(v: &Value) -> Vec<String> {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .filter_map(|c| match c {
            Value::String(s) => Some(s.clone()),
            other => other.get("name").map(value_text),
        })
        .collect()
}

/// The blob endpoint named by a storage connection string.
pub(crate) fn blob_endpoint(connection: &str) -> String {
    let field = |key: &str| {
        connection.split(';').find_map(|part| {
            let (k, v) = part.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().to_owned())
        })
    };
    if let Some(endpoint) = field("BlobEndpoint") {
        return endpoint;
    }
    if field("UseDevelopmentStorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return "http://127.0.0.1:10000/devstoreaccount1".to_owned();
    }
    let account = field("AccountName").unwrap_or_default();
    let suffix = field("EndpointSuffix").unwrap_or_else(|| "core.windows.net".to_owned());
    let protocol = field("DefaultEndpointsProtocol").unwrap_or_else(|| "https".to_owned());
    format!("{protocol}://{account}.blob.{suffix}")
}

struct Resolver<'a> {
    factory: &'a Factory,
    catalog: &'a Catalog,
}

/// The tenant an Office 365 linked service names directly, as a data flow's inline
/// Office 365 source does (no dataset between them). `ctx` is the pipeline's context.
pub(crate) fn resolve_tenant(
    factory: &Factory,
    reference: &Reference,
    ctx: &ExprContext,
) -> Result<TenantConnection, Diagnostic> {
    let (ls, lctx) = linked_service_by_reference(factory, reference, ctx)?;
    let LinkedServiceKind::Office365(o365) = &ls.def.kind else {
        return Err(ds_error(
            ls,
            "/properties/type",
            "an Office 365 data flow source needs an Office365 linked service",
        ));
    };
    tenant_connection(o365, ls, &lctx)
}

/// The linked service a data flow's source or sink names directly, with the reference's
/// parameter values bound.
fn linked_service_by_reference<'f>(
    factory: &'f Factory,
    reference: &Reference,
    ctx: &ExprContext,
) -> Result<(&'f Resource<LinkedService>, ExprContext), Diagnostic> {
    let ls = factory
        .linked_service(&reference.reference_name)
        .ok_or_else(|| {
            Diagnostic::error(
                &factory.root,
                "",
                format!(
                    "linked service `{}` does not exist",
                    reference.reference_name
                ),
                "name one of the factory's linked services",
            )
        })?;
    let values = bind(&ls.def.parameters, &reference.parameters, ctx)
        .map_err(|(k, e)| ds_error(ls, &format!("/properties/parameters/{k}"), &e.to_string()))?;
    let lctx = ExprContext {
        linked_service_parameters: values,
        ..ctx.clone()
    };
    Ok((ls, lctx))
}

mod parts;
mod storage;

pub use storage::{resolve_dataset, resolve_inline_dataset, ResolvedDataset, StorageSecrets};

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn resolves_the_good_fixture() {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/good/copy-message");
        let (factory, diags) = crate::factory::load(&root);
        assert!(diags.is_empty(), "{diags:?}");
        let mut ctx = ExprContext {
            run_id: "r1".into(),
            ..ExprContext::default()
        };
        ctx.parameters.insert("days".into(), serde_json::json!(10));
        let plan = resolve_copy(&factory, "CopyMessages", "copymail", &ctx).unwrap();
        assert_eq!(plan.source.table, "BasicDataSet_v0.Message_v1");
        assert_eq!(
            plan.source.date_filter_column.as_deref(),
            Some("createdDateTime")
        );
        assert_eq!(
            plan.source.start_time,
            parse_timestamp("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            plan.source.end_time,
            parse_timestamp("2024-01-11T00:00:00Z")
        );
        let columns = plan.source.output_columns.unwrap();
        assert_eq!(columns[1], "createdDateTime");
        assert!(matches!(
            plan.tenant,
            TenantConnection::Synthetic(SyntheticSettings { users: Some(5), .. })
        ));
        let LakeStore::LocalFolder(dir) = &plan.sink.store else {
            panic!("not local")
        };
        assert!(dir.ends_with("copy-message/lake"), "{dir:?}");
        assert_eq!(plan.sink.container, "m365");
        assert_eq!(plan.sink.folder_path, "messages/2024/01/r1");
        assert_eq!(plan.sink.file_pattern, FilePattern::SetOfObjects);
    }

    #[test]
    fn connection_strings_name_their_endpoint() {
        let c = "DefaultEndpointsProtocol=https;AccountName=lake;EndpointSuffix=core.windows.net";
        assert_eq!(blob_endpoint(c), "https://lake.blob.core.windows.net");
        assert_eq!(
            local_folder("file:///data/lake", Path::new("/f")),
            Some(PathBuf::from("/data/lake"))
        );
        assert_eq!(
            local_folder("file:./lake", Path::new("/f")),
            Some(PathBuf::from("/f/./lake"))
        );
        assert_eq!(local_folder("https://x", Path::new("/f")), None);
    }
}
