//! Turns Graph objects into MGDC rows: Graph names back to catalog names, only the asked
//! columns, the envelope added, and pages cut the way the synthetic tenant cuts them, so
//! that the same extraction gives the same rows from either back-end.

use serde_json::{Map, Value};

use super::shape;
use crate::tenant::PageBuffer;
use crate::tenant::{Page, TenantError};

/// Shapes and pages the rows of one owner.
pub(crate) struct RowPager<'a, 'f> {
    pub(crate) owner: &'a str,
    pub(crate) tenant: &'a str,
    /// The table's catalog columns.
    pub(crate) columns: Vec<&'a str>,
    /// The asked columns, when not all.
    pub(crate) selected: Option<&'a [String]>,
    /// The `ODataType` of rows whose object has no `@odata.type`.
    pub(crate) default_type: &'static str,
    /// Group-scoped rows carry their group as `pObjectId`.
    pub(crate) group_scoped: bool,
    page: PageBuffer<'f>,
}

impl<'a, 'f> RowPager<'a, 'f> {
    pub(crate) fn new(
        owner: &'a str,
        tenant: &'a str,
        columns: Vec<&'a str>,
        on_page: &'f mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Self {
        RowPager {
            owner,
            tenant,
            columns,
            selected: None,
            default_type: "",
            group_scoped: false,
            page: PageBuffer::new(on_page),
        }
    }

    /// Adds one Graph object as a row.
    pub(crate) fn push(&mut self, object: Value) -> Result<(), TenantError> {
        let Value::Object(object) = object else {
            return Err(TenantError::Service(format!(
                "Graph answered a row that is not an object for {}",
                self.owner
            )));
        };
        let mut row = Map::new();
        let mut odata_type = None;
        for (key, value) in object {
            if key == "@odata.type" {
                odata_type = Some(value);
                continue;
            }
            if key.contains("@odata.") {
                continue;
            }
            let name = shape::catalog_name(&key, &self.columns).to_owned();
            let wanted = self
                .selected
                .is_none_or(|s| s.iter().any(|c| c.eq_ignore_ascii_case(&name)));
            if wanted && !shape::is_envelope(&name) {
                row.insert(name, value);
            }
        }
        if self.group_scoped {
            row.insert("pObjectId".into(), self.owner.into());
        }
        let odata_type = odata_type.unwrap_or_else(|| self.default_type.into());
        row.insert("ODataType".into(), odata_type);
        row.insert("puser".into(), self.owner.into());
        row.insert("ptenant".into(), self.tenant.into());
        row.insert("pAdditionalInfo".into(), Value::Null);
        row.insert("datarow".into(), self.page.rows.into());
        row.insert("userrow".into(), self.page.rows.into());
        row.insert("pagerow".into(), self.page.page_rows.into());
        row.insert(
            "rowinformation".into(),
            serde_json::json!({
                "errorInformation": null,
                "userReturnedNoData": false,
                "isUserSummaryRow": false,
                "userHasCompleteData": true,
            }),
        );
        let line = serde_json::to_string(&Value::Object(row))
            .map_err(|e| TenantError::Service(format!("a row cannot be written: {e}")))?;
        self.page.text.push_str(&line);
        self.page.end_row()
    }

    /// Hands over the last, partial page.
    pub(crate) fn finish(self) -> Result<(), TenantError> {
        self.page.finish()
    }
}
