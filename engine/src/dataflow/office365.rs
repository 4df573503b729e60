//! The Office 365 inline source of a data flow: the source step names an Office 365
//! linked service and a table; rows are scoped and windowed as the copy source does it,
//! extracted from the tenant back-end and decoded by `RowDecoder` into one typed frame.
//!
//! Options, all optional but `tableName` (mdflow's names; ADF does not document them):
//! `store: 'office365'`, `tableName`, `autoFlatten`, `dateFilterColumn`, `startTime`,
//! `endTime`, `userScopeFilterUri`, `allowedGroups: [...]`, `outputColumns: [...]`.

use mdflow_connectors::catalog::Catalog;
use mdflow_connectors::columnar::RowDecoder;
use mdflow_connectors::tenant::{ExtractRequest, TenantError};
use polars::prelude::{DataFrame, DataType, IntoLazy};

use crate::copy::{connect_tenant, date_window, scope_owners, CopyFailure};
use crate::expr::parse_timestamp;
use crate::factory::resolve::{
    CopyPlan, FilePattern, LakeStore, LakeTarget, Office365Query, TenantConnection,
};

/// What an inline Office 365 source asks for, its options evaluated.
#[derive(Debug, Clone, Default)]
pub struct InlineOffice365 {
    /// The table, as written (`Message_v1` or `BasicDataSet_v0.Message_v1`).
    pub table: String,
    /// Nested columns become flat ones, named with `_` between the parts.
    pub auto_flatten: bool,
    /// The copy source's scoping and window.
    pub date_filter_column: Option<String>,
    /// Start of the window (ISO 8601, inclusive).
    pub start_time: Option<String>,
    /// End of the window (ISO 8601, exclusive).
    pub end_time: Option<String>,
    /// A Graph users query.
    pub user_scope_filter_uri: Option<String>,
    /// Group object ids whose members are extracted.
    pub allowed_groups: Vec<String>,
    /// Columns to extract; all when empty.
    pub output_columns: Vec<String>,
}

fn failure(code: &'static str, message: impl Into<String>) -> CopyFailure {
    CopyFailure::new(code, message)
}

/// The copy plan the source amounts to: its table, scoping, window and projection (the
/// sink is a placeholder until [`with_destination`] sets one, for consent).
pub fn plan(
    source: &InlineOffice365,
    tenant: &TenantConnection,
    step: &str,
) -> Result<CopyPlan, CopyFailure> {
    let catalog = Catalog::builtin();
    let table = catalog.table(&source.table).ok_or_else(|| {
        failure(
            "UserErrorOffice365TableNotFound",
            format!(
                "source `{step}`: unknown tableName `{}`; see `mdflow catalog list`",
                source.table
            ),
        )
    })?;
    let time = |v: &Option<String>, key: &str| match v {
        None => Ok(None),
        Some(text) => parse_timestamp(text).map(Some).ok_or_else(|| {
            failure(
                "UserErrorInvalidDefinition",
                format!("source `{step}`: `{key}` is not an ISO 8601 time: {text}"),
            )
        }),
    };
    let projection: Option<Vec<String>> = (!source.output_columns.is_empty()).then(|| {
        source
            .output_columns
            .iter()
            .map(|n| table.column(n).map_or(n.clone(), |c| c.name.clone()))
            .collect()
    });
    Ok(CopyPlan {
        activity: step.to_owned(),
        source: Office365Query {
            table: table.name.clone(),
            allowed_groups: source.allowed_groups.clone(),
            user_scope_filter_uri: source.user_scope_filter_uri.clone(),
            date_filter_column: source
                .date_filter_column
                .as_ref()
                .map(|c| table.filter_column(c).map_or(c.clone(), str::to_owned)),
            start_time: time(&source.start_time, "startTime")?,
            end_time: time(&source.end_time, "endTime")?,
            output_columns: projection,
        },
        tenant: tenant.clone(),
        sink: with_destination(LakeStore::LocalFolder(Default::default())),
        parallel_copies: None,
    })
}

/// A placeholder sink in `store`: what consent records as the data's destination.
pub fn with_destination(store: LakeStore) -> LakeTarget {
    LakeTarget {
        store,
        container: String::new(),
        folder_path: String::new(),
        file_name: None,
        file_pattern: FilePattern::SetOfObjects,
        compression: String::new(),
        encoding: String::new(),
    }
}

/// Extracts the source's rows from the tenant into one frame.
pub fn extract(
    source: &InlineOffice365,
    tenant: &TenantConnection,
    step: &str,
) -> Result<DataFrame, CopyFailure> {
    let plan = plan(source, tenant, step)?;
    let catalog = Catalog::builtin();
    let table = catalog
        .table(&plan.source.table)
        .expect("the plan names a catalog table");
    let projection = plan.source.output_columns.clone();
    let backend = connect_tenant(tenant)?;
    let owners = scope_owners(&plan, table, backend.as_ref())?;
    let window = date_window(&plan, table)?;
    let projection = projection.as_deref();
    let mut decoder = RowDecoder::new(table, projection).map_err(|e| {
        failure(
            "UserErrorInvalidColumnMapping",
            format!("source `{step}`: {e}"),
        )
    })?;

    let mut frames: Vec<DataFrame> = Vec::new();
    for owner in &owners {
        let request = ExtractRequest {
            table,
            owner: owner.as_str(),
            window: window.clone(),
        };
        let mut line = 1usize;
        let mut bad = None;
        let result = backend.extract_columns(&request, projection, &mut |page| {
            let pushed = decoder.push_lines(&page, line);
            line += page.lines().count();
            pushed.map(|_| ()).map_err(|e| {
                let text = format!("mailbox {owner}: {e}");
                bad = Some(text.clone());
                TenantError::Consumer(text)
            })
        });
        if let Some(text) = bad {
            return Err(failure("UserErrorOffice365RowDoesNotMatchSchema", text));
        }
        result.map_err(|e| {
            failure(
                "UserErrorOffice365DataLoaderError",
                format!("mailbox {owner}: {e}"),
            )
        })?;
        let frame = decoder
            .finish()
            .map_err(|e| failure("SystemErrorColumnAssembly", e.to_string()))?;
        if frame.height() > 0 || frames.is_empty() {
            frames.push(frame);
        }
    }
    let mut frames = frames.into_iter();
    let mut frame = match frames.next() {
        Some(first) => first,
        None => decoder
            .finish()
            .map_err(|e| failure("SystemErrorColumnAssembly", e.to_string()))?,
    };
    for more in frames {
        frame
            .vstack_mut(&more)
            .map_err(|e| failure("SystemErrorColumnAssembly", e.to_string()))?;
    }
    if source.auto_flatten {
        frame = flatten(frame)?;
    }
    Ok(frame)
}

/// Struct columns replaced by their fields, recursively, named `parent_field`; arrays stay.
pub fn flatten(mut frame: DataFrame) -> Result<DataFrame, CopyFailure> {
    loop {
        let structs: Vec<(String, Vec<String>)> = frame
            .columns()
            .iter()
            .filter_map(|c| match c.dtype() {
                DataType::Struct(fields) => Some((
                    c.name().to_string(),
                    fields.iter().map(|f| f.name.to_string()).collect(),
                )),
                _ => None,
            })
            .collect();
        if structs.is_empty() {
            return Ok(frame);
        }
        let mut exprs = Vec::new();
        for c in frame.columns() {
            let name = c.name().to_string();
            match structs.iter().find(|(n, _)| *n == name) {
                Some((_, fields)) => {
                    for f in fields {
                        exprs.push(
                            polars::prelude::col(name.as_str())
                                .struct_()
                                .field_by_name(f)
                                .alias(format!("{name}_{f}")),
                        );
                    }
                }
                None => exprs.push(polars::prelude::col(name.as_str())),
            }
        }
        frame = frame
            .lazy()
            .select(exprs)
            .collect()
            .map_err(|e| failure("SystemErrorColumnAssembly", e.to_string()))?;
    }
}
