//! Turns Graph objects into MGDC rows: Graph names back to catalog names, only the asked
//! columns, the envelope added, and pages cut the way the synthetic tenant cuts them, so
//! that the same extraction gives the same rows from either back-end.

use serde_json::Value;

use super::shape;
use crate::columnar::scan;
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

    /// Adds one Graph object, given as its JSON text, as a row. The values are copied as
    /// Graph wrote them, not decoded and encoded again: shaping a row only renames,
    /// selects and adds members.
    pub(crate) fn push(&mut self, object: &str) -> Result<(), TenantError> {
        let members = scan::members(object).map_err(|_| {
            TenantError::Service(format!(
                "Graph answered a row that is not an object for {}",
                self.owner
            ))
        })?;
        let mut row = Row::start(&mut self.page.text);
        let mut odata_type = None;
        for (key, value) in members {
            if key == "@odata.type" {
                odata_type = Some(value);
                continue;
            }
            if key.contains("@odata.") {
                continue;
            }
            let name = shape::catalog_name(&key, &self.columns);
            let wanted = self
                .selected
                .is_none_or(|s| s.iter().any(|c| c.eq_ignore_ascii_case(name)));
            if wanted && !shape::is_envelope(name) {
                row.member(name, value)?;
            }
        }
        if self.group_scoped {
            row.text_member("pObjectId", self.owner);
        }
        match odata_type {
            Some(value) => row.member("ODataType", value)?,
            None => row.text_member("ODataType", self.default_type),
        }
        row.text_member("puser", self.owner);
        row.text_member("ptenant", self.tenant);
        row.member("pAdditionalInfo", "null")?;
        let (rows, page_rows) = (self.page.rows.to_string(), self.page.page_rows.to_string());
        row.member("datarow", &rows)?;
        row.member("userrow", &rows)?;
        row.member("pagerow", &page_rows)?;
        row.member("rowinformation", ROW_INFORMATION)?;
        row.end();
        self.page.end_row()
    }

    /// Hands over the last, partial page.
    pub(crate) fn finish(self) -> Result<(), TenantError> {
        self.page.finish()
    }
}

/// The MGDC row status of a row Graph answered completely.
const ROW_INFORMATION: &str = r#"{"errorInformation":null,"userReturnedNoData":false,"isUserSummaryRow":false,"userHasCompleteData":true}"#;

/// A row being written as one line of JSON.
struct Row<'t> {
    text: &'t mut String,
    first: bool,
}

impl<'t> Row<'t> {
    fn start(text: &'t mut String) -> Self {
        text.push('{');
        Row { text, first: true }
    }

    fn name(&mut self, name: &str) {
        if !std::mem::take(&mut self.first) {
            self.text.push(',');
        }
        push_string(self.text, name);
        self.text.push(':');
    }

    /// A member whose value is JSON text. Text spread over lines (Graph writes compact
    /// JSON, but nothing promises it) is written again compactly: a row is one line.
    fn member(&mut self, name: &str, value: &str) -> Result<(), TenantError> {
        self.name(name);
        if memchr::memchr2(b'\n', b'\r', value.as_bytes()).is_none() {
            self.text.push_str(value);
            return Ok(());
        }
        let compact = serde_json::from_str::<Value>(value)
            .and_then(|v| serde_json::to_string(&v))
            .map_err(|e| {
                TenantError::Service(format!("Graph answered a value that cannot be read: {e}"))
            })?;
        self.text.push_str(&compact);
        Ok(())
    }

    /// A member whose value is a string.
    fn text_member(&mut self, name: &str, value: &str) {
        self.name(name);
        push_string(self.text, value);
    }

    fn end(self) {
        self.text.push('}');
    }
}

/// Writes `value` as a JSON string.
fn push_string(text: &mut String, value: &str) {
    let plain = value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        text.push('"');
        text.push_str(value);
        text.push('"');
    } else {
        text.push_str(&Value::from(value).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(objects: &[&str], selected: Option<&[String]>) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut on_page = |page: String| {
            pages.push(page);
            Ok(())
        };
        let columns = vec!["id", "subject", "vseriesMasterId", "body"];
        let mut pager = RowPager::new("u1", "t1", columns, &mut on_page);
        pager.selected = selected;
        pager.default_type = "#microsoft.graph.message";
        for object in objects {
            pager.push(object).unwrap();
        }
        pager.finish().unwrap();
        let text = pages.concat();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn rows_carry_graph_values_renamed_selected_and_enveloped() {
        let pretty = "{\n  \"@odata.type\": \"#microsoft.graph.eventMessage\",\n  \
                      \"@odata.etag\": \"W/1\",\n  \"id\": \"A\\u0041\",\n  \
                      \"seriesMasterId\": \"s\",\n  \"body\": {\n    \"content\": \"<p>\\n</p>\"\n  }\n}";
        let compact = r#"{"id":"B","subject":"q\"uote","puser":"spoofed"}"#;
        let got = rows(&[pretty, compact], None);
        assert_eq!(
            got.len(),
            2,
            "one line per row, even from text over many lines"
        );
        assert_eq!(got[0]["id"], "AA");
        assert_eq!(got[0]["vseriesMasterId"], "s");
        assert_eq!(got[0]["body"]["content"], "<p>\n</p>");
        assert_eq!(got[0]["ODataType"], "#microsoft.graph.eventMessage");
        assert!(got[0].get("@odata.etag").is_none());
        assert_eq!(got[1]["subject"], "q\"uote");
        assert_eq!(got[1]["ODataType"], "#microsoft.graph.message");
        assert_eq!(
            got[1]["puser"], "u1",
            "the envelope is mdflow's, not the object's"
        );
        assert_eq!(
            (&got[1]["datarow"], &got[1]["pagerow"]),
            (&1.into(), &1.into())
        );
        assert_eq!(got[1]["rowinformation"]["userHasCompleteData"], true);

        let selected = ["subject".to_owned()];
        let got = rows(&[compact], Some(&selected));
        let names: Vec<&String> = got[0].as_object().unwrap().keys().collect();
        assert_eq!(names[0], "subject");
        assert!(got[0].get("id").is_none());
    }

    #[test]
    fn an_answer_that_is_not_an_object_is_an_error() {
        let mut on_page = |_: String| Ok(());
        let mut pager = RowPager::new("u1", "t1", vec!["id"], &mut on_page);
        let err = pager.push("[1]").unwrap_err().to_string();
        assert!(err.contains("not an object for u1"), "{err}");
    }
}
