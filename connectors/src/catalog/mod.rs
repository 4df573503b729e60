//! The Microsoft Graph Data Connect dataset catalog: every table mdflow can extract, with
//! its columns as delivered, its date-filter rules and its scoping.
//!
//! The catalog is `catalog/datasets.json`, derived once from Microsoft's schema tables and
//! published sample rows by `scripts/derive_catalog.py` and embedded here; nothing infers a
//! schema at run time.

mod types;

use std::sync::OnceLock;

use polars::prelude::Schema as PolarsSchema;
use serde::Deserialize;

pub use types::{FieldType, NamedType};

/// Whether a table's rows belong to a mailbox (user) or to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One set of rows per mailbox; scoped by all users, allowedGroups or a users query.
    User,
    /// One set of rows per group.
    Group,
}

/// What a copy source must say about dates for this table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateFilter {
    /// A filter column and a start/end window are required.
    Column,
    /// A start/end window is required, without a column (calendar views).
    Window,
    /// Dates are not filtered.
    None,
}

/// One extractable dataset.
#[derive(Debug, Clone)]
pub struct Table {
    /// The ADF `tableName`, such as `BasicDataSet_v0.Message_v1`.
    pub name: String,
    /// Other names ADF accepts for it.
    pub aliases: Vec<String>,
    /// Mailbox or group rows.
    pub scope: Scope,
    /// The date-filter rule.
    pub date_filter: DateFilter,
    /// Columns documented as date-filterable, spelled as the rows spell them.
    pub filter_columns: Vec<String>,
    /// The columns in delivery order.
    pub columns: Vec<NamedType>,
    /// Where Microsoft documents the table.
    pub source: String,
}

impl Table {
    /// Finds a column by name, ignoring case as ADF does for filter and output columns.
    pub fn column(&self, name: &str) -> Option<&NamedType> {
        self.columns.iter().find(|c| c.name == name).or_else(|| {
            self.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        })
    }

    /// Finds a date-filter column by name, ignoring case.
    pub fn filter_column(&self, name: &str) -> Option<&str> {
        self.filter_columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    /// The Polars schema of the whole table.
    pub fn polars_schema(&self) -> PolarsSchema {
        PolarsSchema::from_iter(
            self.columns
                .iter()
                .map(|c| polars::prelude::Field::new(c.name.as_str().into(), c.ty.to_polars())),
        )
    }

    /// The short name without the `BasicDataSet_v0.` prefix.
    pub fn short_name(&self) -> &str {
        self.name
            .rsplit_once('.')
            .map(|(_, n)| n)
            .unwrap_or(&self.name)
    }
}

/// All tables mdflow knows.
#[derive(Debug)]
pub struct Catalog {
    tables: Vec<Table>,
}

#[derive(Deserialize)]
struct CatalogFile {
    tables: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TableFile {
    scope: Scope,
    date_filter: DateFilter,
    date_filter_columns: Vec<String>,
    source: String,
    #[serde(default)]
    aliases: Vec<String>,
    columns: Vec<ColumnFile>,
}

#[derive(Deserialize)]
struct ColumnFile {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

static BUILTIN: OnceLock<Catalog> = OnceLock::new();

impl Catalog {
    /// The catalog compiled into mdflow.
    pub fn builtin() -> &'static Catalog {
        BUILTIN.get_or_init(|| {
            Catalog::from_json(include_str!("../../catalog/datasets.json"))
                .expect("the embedded catalog is checked by the catalog tests")
        })
    }

    /// Reads a catalog in the `datasets.json` form.
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let file: CatalogFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut tables = Vec::with_capacity(file.tables.len());
        for (name, value) in file.tables {
            let t: TableFile =
                serde_json::from_value(value).map_err(|e| format!("table {name}: {e}"))?;
            let mut columns = Vec::with_capacity(t.columns.len());
            for c in t.columns {
                let ty = FieldType::parse(&c.ty)
                    .map_err(|e| format!("table {name}, column {}: {e}", c.name))?;
                columns.push(NamedType { name: c.name, ty });
            }
            tables.push(Table {
                name,
                aliases: t.aliases,
                scope: t.scope,
                date_filter: t.date_filter,
                filter_columns: t.date_filter_columns,
                columns,
                source: t.source,
            });
        }
        Ok(Catalog { tables })
    }

    /// Every table, in name order.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// Finds a table by its ADF name (or alias), ignoring case; the short name without
    /// `BasicDataSet_v0.` is accepted too.
    pub fn table(&self, name: &str) -> Option<&Table> {
        let matches = |candidate: &str| {
            candidate.eq_ignore_ascii_case(name)
                || candidate
                    .rsplit_once('.')
                    .is_some_and(|(_, short)| short.eq_ignore_ascii_case(name))
        };
        self.tables
            .iter()
            .find(|t| matches(&t.name) || t.aliases.iter().any(|a| matches(a)))
    }

    /// The names closest to an unknown one, for "did you mean" hints.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let wanted = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        let stem = wanted.split('_').next().unwrap_or(&wanted).to_owned();
        self.tables
            .iter()
            .map(|t| t.name.as_str())
            .find(|n| n.to_ascii_lowercase().contains(&stem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables the issue names are the ones the synthetic tenant holds.
    use crate::tenant::synthetic::SUPPORTED_TABLES as REQUIRED;

    #[test]
    fn every_required_table_is_present_with_a_schema() {
        let catalog = Catalog::builtin();
        for short in REQUIRED {
            let name = format!("BasicDataSet_v0.{short}");
            let table = catalog
                .table(&name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert!(table.column("puser").is_some(), "{name} has no puser");
            assert_eq!(table.polars_schema().len(), table.columns.len());
        }
    }

    #[test]
    fn filter_rules_follow_the_reference() {
        let catalog = Catalog::builtin();
        let message = catalog.table("BasicDataSet_v0.Message_v1").unwrap();
        assert_eq!(message.date_filter, DateFilter::Column);
        assert_eq!(
            message.filter_column("CreatedDateTime"),
            Some("createdDateTime")
        );
        let view = catalog.table("CalendarView_v0").unwrap();
        assert_eq!(view.date_filter, DateFilter::Window);
        let user = catalog.table("User_v1").unwrap();
        assert_eq!(user.date_filter, DateFilter::None);
        let members = catalog.table("GroupMembers_v0").unwrap();
        assert_eq!(members.scope, Scope::Group);
        assert!(catalog.table("BasicDataSet_v0.SentItems_v1").is_some());
    }
}
