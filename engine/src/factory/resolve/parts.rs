//! The steps of [`super::resolve_copy`]: datasets and linked services with their parameters,
//! the Office 365 query, and the lake target.

use serde_json::Value;

use super::storage;
use super::*;

impl Resolver<'_> {
    /// Finds a referenced dataset and the context its expressions see.
    pub(super) fn dataset(
        &self,
        reference: &Reference,
        caller: &ExprContext,
    ) -> Result<(&Resource<Dataset>, ExprContext), Diagnostic> {
        let ds = self
            .factory
            .dataset(&reference.reference_name)
            .ok_or_else(|| {
                Diagnostic::error(
                    &self.factory.root,
                    "",
                    format!("dataset `{}` does not exist", reference.reference_name),
                    "run `mdflow validate` for the place of the reference",
                )
            })?;
        let values =
            bind(&ds.def.parameters, &reference.parameters, caller).map_err(|(k, e)| {
                Diagnostic::error(
                    &ds.origin.file,
                    ds.pointer(&format!("/properties/parameters/{k}")),
                    format!("dataset parameter `{k}`: {e}"),
                    "correct the value the activity passes",
                )
            })?;
        Ok((
            ds,
            ExprContext {
                dataset_parameters: values,
                ..caller.clone()
            },
        ))
    }

    /// Finds a dataset's linked service and the context its expressions see.
    pub(super) fn linked_service(
        &self,
        ds: &Resource<Dataset>,
        dctx: &ExprContext,
    ) -> Result<(&Resource<LinkedService>, ExprContext), Diagnostic> {
        let reference = ds.def.linked_service.as_ref().ok_or_else(|| {
            ds_error(
                ds,
                "/properties/linkedServiceName",
                "the dataset has no linkedServiceName",
            )
        })?;
        let ls = self
            .factory
            .linked_service(&reference.reference_name)
            .ok_or_else(|| {
                ds_error(
                    ds,
                    "/properties/linkedServiceName/referenceName",
                    &format!(
                        "linked service `{}` does not exist",
                        reference.reference_name
                    ),
                )
            })?;
        let values = bind(&ls.def.parameters, &reference.parameters, dctx).map_err(|(k, e)| {
            ds_error(
                ds,
                &format!("/properties/linkedServiceName/parameters/{k}"),
                &e.to_string(),
            )
        })?;
        Ok((
            ls,
            ExprContext {
                linked_service_parameters: values,
                ..dctx.clone()
            },
        ))
    }

    /// The Office 365 query: each property from the source, else from the dataset.
    pub(super) fn query(
        &self,
        source: &Office365Source,
        pctx: &ExprContext,
        legacy: &Office365Table,
        ds: &Resource<Dataset>,
        dctx: &ExprContext,
    ) -> Result<Office365Query, Diagnostic> {
        let tp = "/properties/typeProperties";
        let name_value = legacy
            .table_name
            .as_ref()
            .ok_or_else(|| ds_error(ds, tp, "the Office365Table dataset has no tableName"))?;
        let name = text(
            name_value,
            dctx,
            &ds.origin.file,
            ds.pointer(&format!("{tp}/tableName")),
        )?;
        let table = self.catalog.table(&name).ok_or_else(|| {
            ds_error(
                ds,
                &format!("{tp}/tableName"),
                &format!("unknown table `{name}`"),
            )
        })?;

        // A property set on the source wins; the dataset's legacy value is the fallback.
        let pick = |from_source: &Option<Value>, from_dataset: &Option<Value>, key: &str| match (
            from_source,
            from_dataset,
        ) {
            (Some(v), _) => evaluate(v, pctx).map(Some).map_err(|e| (key.to_owned(), e)),
            (None, Some(v)) => evaluate(v, dctx).map(Some).map_err(|e| (key.to_owned(), e)),
            (None, None) => Ok(None),
        };
        let bad = |(key, e): (String, crate::expr::ExprError)| {
            ds_error(ds, &format!("{tp}/{key}"), &format!("`{key}`: {e}"))
        };
        let opt_text = |v: Option<Value>| v.filter(|v| !v.is_null()).map(|v| value_text(&v));
        let column = pick(
            &source.date_filter_column,
            &legacy.date_filter_column,
            "dateFilterColumn",
        )
        .map_err(bad)?
        .and_then(|v| opt_text(Some(v)));
        let time = |v: Option<Value>, key: &str| -> Result<Option<DateTime<Utc>>, Diagnostic> {
            let Some(s) = opt_text(v) else {
                return Ok(None);
            };
            parse_timestamp(&s).map(Some).ok_or_else(|| {
                ds_error(
                    ds,
                    &format!("{tp}/{key}"),
                    &format!("`{key}` is not an ISO 8601 time: {s}"),
                )
            })
        };
        let start = pick(&source.start_time, &legacy.start_time, "startTime").map_err(bad)?;
        let end = pick(&source.end_time, &legacy.end_time, "endTime").map_err(bad)?;
        let scope = pick(
            &source.user_scope_filter_uri,
            &legacy.user_scope_filter_uri,
            "userScopeFilterUri",
        )
        .map_err(bad)?;
        let groups = pick(&source.allowed_groups, &None, "allowedGroups").map_err(bad)?;
        let columns = pick(&source.output_columns, &None, "outputColumns").map_err(bad)?;

        Ok(Office365Query {
            table: table.name.clone(),
            allowed_groups: string_list(groups.as_ref()),
            user_scope_filter_uri: opt_text(scope).filter(|s| !s.is_empty()),
            date_filter_column: column
                .map(|c| table.filter_column(&c).map(str::to_owned).unwrap_or(c)),
            start_time: time(start, "startTime")?,
            end_time: time(end, "endTime")?,
            output_columns: columns.map(|c| {
                column_names(&c)
                    .into_iter()
                    .map(|n| table.column(&n).map(|c| c.name.clone()).unwrap_or(n))
                    .collect()
            }),
        })
    }

    /// The lake target of a sink dataset.
    pub(super) fn lake_target(
        &self,
        copy: &CopyActivity,
        ds: &Resource<Dataset>,
        dctx: &ExprContext,
        ls: &Resource<LinkedService>,
        lctx: &ExprContext,
    ) -> Result<LakeTarget, Diagnostic> {
        let tp = "/properties/typeProperties";
        let eval_text = |v: &Option<Value>, key: &str| -> Result<Option<String>, Diagnostic> {
            match v {
                Some(v) => {
                    text(v, dctx, &ds.origin.file, ds.pointer(&format!("{tp}/{key}"))).map(Some)
                }
                None => Ok(None),
            }
        };
        let (compression, encoding) = storage::format_settings(ds, dctx)?;
        let (container, folder, file_name, legacy_pattern) = match &ds.def.kind {
            DatasetKind::Json(json) => {
                let loc = json
                    .location
                    .as_ref()
                    .ok_or_else(|| ds_error(ds, tp, "the Json dataset has no location"))?;
                let container = match loc.kind.as_str() {
                    "AzureBlobFSLocation" => eval_text(&loc.file_system, "location/fileSystem")?,
                    _ => eval_text(&loc.container, "location/container")?,
                };
                let folder = eval_text(&loc.folder_path, "location/folderPath")?;
                (
                    container,
                    folder,
                    eval_text(&loc.file_name, "location/fileName")?,
                    None,
                )
            }
            DatasetKind::AzureBlob(l) | DatasetKind::AzureBlobFsFile(l) => {
                // Legacy datasets put the container first in folderPath.
                let path = eval_text(&l.folder_path, "folderPath")?.unwrap_or_default();
                let path = path.trim_matches('/');
                let (container, folder) = path.split_once('/').unwrap_or((path, ""));
                let pattern = l.format.as_ref().and_then(|f| f.file_pattern.clone());
                let name = eval_text(&l.file_name, "fileName")?;
                (
                    Some(container.to_owned()),
                    Some(folder.to_owned()),
                    name,
                    pattern,
                )
            }
            _ => {
                return Err(ds_error(
                    ds,
                    "/properties/type",
                    "the sink dataset is not JSON in a lake",
                ))
            }
        };
        let sink_pattern = match &copy.sink {
            CopySink::Json(j) => j
                .format_settings
                .as_ref()
                .and_then(|f| f.file_pattern.clone()),
            _ => None,
        };
        let pattern = sink_pattern.or(legacy_pattern).map(|p| evaluate(&p, dctx));
        let file_pattern = match pattern {
            Some(Ok(Value::String(p))) if p.eq_ignore_ascii_case("arrayOfObjects") => {
                FilePattern::ArrayOfObjects
            }
            _ => FilePattern::SetOfObjects,
        };
        Ok(LakeTarget {
            store: self.store(ls, lctx)?,
            container: container.unwrap_or_default(),
            folder_path: folder.unwrap_or_default().trim_matches('/').to_owned(),
            file_name: file_name.filter(|f| !f.is_empty()),
            file_pattern,
            compression,
            encoding,
        })
    }

    pub(super) fn store(
        &self,
        ls: &Resource<LinkedService>,
        ctx: &ExprContext,
    ) -> Result<LakeStore, Diagnostic> {
        let tp = "/properties/typeProperties";
        let get = |v: &Option<Value>, key: &str| -> Result<Option<String>, Diagnostic> {
            match v {
                Some(v) => {
                    text(v, ctx, &ls.origin.file, ls.pointer(&format!("{tp}/{key}"))).map(Some)
                }
                None => Ok(None),
            }
        };
        let principal = |id: &Option<Value>, key: &Option<Secret>, tenant: &Option<Value>| {
            Ok::<_, Diagnostic>(match (get(id, "servicePrincipalId")?, key) {
                (Some(client_id), Some(secret)) => Some(ServicePrincipal {
                    tenant: get(tenant, "tenant")?.unwrap_or_default(),
                    client_id,
                    secret: bound_secret(secret, ls, &format!("{tp}/servicePrincipalKey"), ctx)?,
                }),
                _ => None,
            })
        };
        match &ls.def.kind {
            LinkedServiceKind::AzureBlobFs(l) => {
                let url = get(&l.url, "url")?.unwrap_or_default();
                if let Some(dir) = local_folder(&url, &self.factory.root) {
                    return Ok(LakeStore::LocalFolder(dir));
                }
                let auth = principal(&l.service_principal_id, &l.service_principal_key, &l.tenant)?;
                let secrets = storage::blobfs_secrets(l, ls, ctx)?;
                Ok(LakeStore::AdlsGen2 { url, auth, secrets })
            }
            LinkedServiceKind::AzureBlobStorage(l) => {
                let endpoint = match get(&l.service_endpoint, "serviceEndpoint")? {
                    Some(e) => e,
                    None => storage::plain_endpoint(&l.connection_string, ctx).unwrap_or_default(),
                };
                if let Some(dir) = local_folder(&endpoint, &self.factory.root) {
                    return Ok(LakeStore::LocalFolder(dir));
                }
                let auth = principal(&l.service_principal_id, &l.service_principal_key, &l.tenant)?;
                let secrets = storage::blob_secrets(l, ls, ctx)?;
                Ok(LakeStore::AzureBlob {
                    endpoint,
                    auth,
                    secrets,
                })
            }
            LinkedServiceKind::AzureDataLakeStore(_) => Err(ds_error(
                ls,
                "/properties/type",
                "ADLS Gen1 (AzureDataLakeStore) was retired by Microsoft on 29 February 2024",
            )),
            _ => Err(ds_error(
                ls,
                "/properties/type",
                "the sink's linked service is not lake storage",
            )),
        }
    }
}
