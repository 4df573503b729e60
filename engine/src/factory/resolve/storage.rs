//! The credentials of a storage linked service other than its service principal: account
//! key, shared access signature (`sasUri`, `sasToken`) and connection string. They stay
//! unrevealed [`Secret`]s until the lake is opened.

use serde_json::Value;

use super::*;

/// Storage credentials of an `AzureBlobStorage` or `AzureBlobFS` linked service.
#[derive(Debug, Clone, Default)]
pub struct StorageSecrets {
    /// `accountKey`.
    pub account_key: Option<Secret>,
    /// `sasUri`: the account or container URL with its signature.
    pub sas_uri: Option<Secret>,
    /// `sasToken`: a signature given apart from `sasUri`.
    pub sas_token: Option<Secret>,
    /// `connectionString` (`AzureBlobStorage` only).
    pub connection_string: Option<Secret>,
    /// `azureCloudType`: `AzurePublic`, `AzureChina`, `AzureUsGovernment`.
    pub azure_cloud_type: Option<String>,
}

/// A property that may be a secret object (`SecureString`, `AzureKeyVaultSecret`, ...) or
/// plain text (an expression yielding text); either way a [`Secret`].
fn secret<T>(
    v: &Option<Value>,
    key: &str,
    r: &Resource<T>,
    ctx: &ExprContext,
) -> Result<Option<Secret>, Diagnostic> {
    let pointer = format!("/properties/typeProperties/{key}");
    let Some(v) = v else {
        return Ok(None);
    };
    if v.get("type").is_some_and(|t| t != "Expression") {
        let parsed: Secret = serde_json::from_value(v.clone()).map_err(|_| {
            Diagnostic::error(
                &r.origin.file,
                r.pointer(&pointer),
                format!("`{key}` is not a secret ADF writes"),
                "write {\"type\": \"SecureString\", \"value\": \"...\"} or an \
                 AzureKeyVaultSecret reference",
            )
        })?;
        return super::bound_secret(&parsed, r, &pointer, ctx).map(Some);
    }
    let text = text(v, ctx, &r.origin.file, r.pointer(&pointer))?;
    Ok(Some(Secret::SecureString {
        value: crate::secrets::SecretValue::new(text),
    }))
}

fn cloud(v: &Option<Value>, ctx: &ExprContext) -> Option<String> {
    v.as_ref()
        .and_then(|v| evaluate(v, ctx).ok())
        .map(|v| value_text(&v))
}

/// The credentials of an `AzureBlobStorage` linked service.
pub(crate) fn blob_secrets(
    l: &AzureBlobStorageLinkedService,
    ls: &Resource<LinkedService>,
    ctx: &ExprContext,
) -> Result<StorageSecrets, Diagnostic> {
    Ok(StorageSecrets {
        account_key: secret(&l.account_key, "accountKey", ls, ctx)?,
        sas_uri: secret(&l.sas_uri, "sasUri", ls, ctx)?,
        sas_token: secret(&l.sas_token, "sasToken", ls, ctx)?,
        connection_string: secret(&l.connection_string, "connectionString", ls, ctx)?,
        azure_cloud_type: cloud(&l.azure_cloud_type, ctx),
    })
}

/// The credentials of an `AzureBlobFS` (ADLS Gen2) linked service.
pub(crate) fn blobfs_secrets(
    l: &AzureBlobFsLinkedService,
    ls: &Resource<LinkedService>,
    ctx: &ExprContext,
) -> Result<StorageSecrets, Diagnostic> {
    Ok(StorageSecrets {
        account_key: secret(&l.account_key, "accountKey", ls, ctx)?,
        sas_uri: secret(&l.sas_uri, "sasUri", ls, ctx)?,
        sas_token: None,
        connection_string: None,
        azure_cloud_type: cloud(&l.azure_cloud_type, ctx),
    })
}

/// A connection string's endpoint when it is written as plain text (a secret one is read
/// when the lake is opened).
pub(crate) fn plain_endpoint(connection: &Option<Value>, ctx: &ExprContext) -> Option<String> {
    match evaluate(connection.as_ref()?, ctx).ok()? {
        Value::String(s) => Some(blob_endpoint(&s)),
        _ => None,
    }
}

/// The `compression.type` and `encodingName` of a Json (or legacy file) dataset, evaluated;
/// empty when absent.
pub(crate) fn format_settings(
    ds: &Resource<Dataset>,
    ctx: &ExprContext,
) -> Result<(String, String), Diagnostic> {
    let tp = "/properties/typeProperties";
    let (compression, encoding) = match &ds.def.kind {
        DatasetKind::Json(j) => (j.compression.clone(), j.encoding_name.clone()),
        DatasetKind::AzureBlob(l) | DatasetKind::AzureBlobFsFile(l) => (
            l.compression.clone(),
            l.format.as_ref().and_then(|f| f.encoding_name.clone()),
        ),
        _ => (None, None),
    };
    let eval = |v: Option<Value>, key: &str| -> Result<String, Diagnostic> {
        let Some(v) = v else {
            return Ok(String::new());
        };
        let v = match v.get("type") {
            Some(t) if v.get("value").is_none() => t.clone(),
            _ => v,
        };
        text(&v, ctx, &ds.origin.file, ds.pointer(&format!("{tp}/{key}")))
    };
    Ok((
        eval(compression, "compression")?,
        eval(encoding, "encodingName")?,
    ))
}

/// A dataset of a chained copy, with what its expressions evaluate to: its raw
/// `typeProperties` evaluated, its lake (for file datasets) and its linked service.
#[derive(Debug, Clone)]
pub struct ResolvedDataset {
    /// The dataset's name.
    pub name: String,
    /// The dataset's `type`.
    pub kind: String,
    /// The file the dataset is defined in.
    pub file: PathBuf,
    /// `typeProperties` with every expression evaluated.
    pub properties: Value,
    /// The linked service's `type`.
    pub service_kind: String,
    /// The linked service's `typeProperties`, evaluated; secrets stay as written.
    pub service: Value,
    /// The linked service's file.
    pub service_file: PathBuf,
    /// The lake, when the linked service is lake storage.
    pub lake: Option<LakeStore>,
    /// The factory folder, for relative paths.
    pub root: PathBuf,
}

/// Evaluates every expression inside `v`; secret objects are left as they are.
fn evaluate_all(v: &Value, ctx: &ExprContext) -> Value {
    match v {
        Value::Object(m) if m.get("type").is_some_and(|t| t == "Expression") => {
            evaluate(v, ctx).unwrap_or(Value::Null)
        }
        Value::Object(m) if m.get("type").is_some_and(|t| t == "SecureString") => v.clone(),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), evaluate_all(v, ctx)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| evaluate_all(v, ctx)).collect()),
        Value::String(s) if s.starts_with('@') => evaluate(v, ctx).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// A resource's `properties.type` as written.
fn raw_type(raw: &Value) -> String {
    raw.pointer("/properties/type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Resolves a data flow's inline dataset: a source or sink that names a linked service
/// instead of a dataset, with `properties` (a dataset's `typeProperties`) taken from the
/// step's script options. `file` is the data flow's file, for messages.
pub fn resolve_inline_dataset(
    factory: &Factory,
    name: &str,
    kind: &str,
    properties: Value,
    file: &std::path::Path,
    reference: &Reference,
    ctx: &ExprContext,
) -> Result<ResolvedDataset, Diagnostic> {
    let (ls, lctx) = super::linked_service_by_reference(factory, reference, ctx)?;
    let r = Resolver {
        factory,
        catalog: Catalog::builtin(),
    };
    let lake = match &ls.def.kind {
        LinkedServiceKind::AzureBlobFs(_) | LinkedServiceKind::AzureBlobStorage(_) => {
            r.store(ls, &lctx)?
        }
        _ => {
            return Err(Diagnostic::error(
                file,
                "",
                format!(
                    "`{name}` reads linked service `{}`, which is not lake storage",
                    ls.name
                ),
                "name an AzureBlobFS or AzureBlobStorage linked service, or bind a dataset",
            ))
        }
    };
    Ok(ResolvedDataset {
        name: name.to_owned(),
        kind: kind.to_owned(),
        file: file.to_path_buf(),
        properties,
        service_kind: raw_type(&ls.raw),
        service: evaluate_all(
            ls.raw
                .pointer("/properties/typeProperties")
                .unwrap_or(&Value::Null),
            &lctx,
        ),
        service_file: ls.origin.file.clone(),
        lake: Some(lake),
        root: factory.root.clone(),
    })
}

/// Resolves the dataset a chained copy reads or writes.
pub fn resolve_dataset(
    factory: &Factory,
    pipeline: &str,
    reference: &Reference,
    ctx: &ExprContext,
) -> Result<ResolvedDataset, Diagnostic> {
    let r = Resolver {
        factory,
        catalog: Catalog::builtin(),
    };
    let p = factory.pipeline(pipeline).ok_or_else(|| {
        Diagnostic::error(&factory.root, "", format!("no pipeline `{pipeline}`"), "")
    })?;
    let pctx = pipeline_context(&p.def, &p.name, ctx);
    let (ds, dctx) = r.dataset(reference, &pctx)?;
    let (ls, lctx) = r.linked_service(ds, &dctx)?;
    let lake = match &ls.def.kind {
        LinkedServiceKind::AzureBlobFs(_) | LinkedServiceKind::AzureBlobStorage(_) => {
            Some(r.store(ls, &lctx)?)
        }
        _ => None,
    };
    Ok(ResolvedDataset {
        name: ds.name.clone(),
        kind: raw_type(&ds.raw),
        file: ds.origin.file.clone(),
        properties: evaluate_all(
            ds.raw
                .pointer("/properties/typeProperties")
                .unwrap_or(&Value::Null),
            &dctx,
        ),
        service_kind: raw_type(&ls.raw),
        service: evaluate_all(
            ls.raw
                .pointer("/properties/typeProperties")
                .unwrap_or(&Value::Null),
            &lctx,
        ),
        service_file: ls.origin.file.clone(),
        lake,
        root: factory.root.clone(),
    })
}
