//! The Office 365 copy rules: a known table, scoping, the date filter the table requires,
//! output columns of the table, and a JSON sink in Azure lake storage reached with a
//! service principal. Copies from other sources are chained copies ([`chained`]).
//!
//! Values written as expressions are evaluated with the parameters' default values; when
//! that is impossible the check of that value is skipped rather than guessed.

use chrono::{DateTime, Utc};
use mdflow_connectors::catalog::{Catalog, DateFilter, Table};
use serde_json::Value;

use super::show;
use crate::diagnostic::Diagnostic;
use crate::expr::{evaluate, parse_timestamp, ExprContext};
use crate::factory::pipeline::{CopyActivity, Office365Source};
use crate::factory::resolve::{
    bind, column_names, parallel_copies, pipeline_context, PARALLEL_COPIES_FIX,
};
use crate::factory::{Activity, CopySource, DatasetKind, Factory, Pipeline, Resource};

mod chained;
mod sink;

/// A place to report at: a file and a JSON pointer.
pub(super) struct At<'a> {
    file: &'a std::path::Path,
    pointer: String,
}

impl At<'_> {
    fn error(&self, message: String, fix: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.file, self.pointer.clone(), message, fix)
    }

    fn warning(&self, message: String, fix: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(self.file, self.pointer.clone(), message, fix)
    }
}

/// One property of the effective source: its value, where it is written and the context
/// its expressions see.
struct Property<'a> {
    value: &'a Value,
    at: At<'a>,
    ctx: Option<&'a ExprContext>,
}

impl Property<'_> {
    /// The evaluated value, or `None` when it depends on something unknown before a run.
    fn evaluated(&self) -> Option<Value> {
        evaluate(self.value, self.ctx?).ok()
    }
}

/// Checks one Copy activity.
pub(super) fn check(
    factory: &Factory,
    catalog: &Catalog,
    p: &Resource<Pipeline>,
    activity: &Activity,
    copy: &CopyActivity,
    out: &mut Vec<Diagnostic>,
) {
    let CopySource::Office365(source) = &copy.source else {
        chained::check(factory, p, activity, out);
        return;
    };
    let pctx = pipeline_context(&p.def, &p.name, &ExprContext::default());
    let file = p.origin.file.as_path();
    let src_at = |key: &str| At {
        file,
        pointer: format!("{}/typeProperties/source{key}", activity.pointer),
    };

    if let Some(v) = &copy.parallel_copies {
        let given = Property {
            value: v,
            at: At {
                file,
                pointer: format!("{}/typeProperties/parallelCopies", activity.pointer),
            },
            ctx: Some(&pctx),
        };
        if let Some(Err(message)) = given.evaluated().as_ref().map(parallel_copies) {
            out.push(given.at.error(message, PARALLEL_COPIES_FIX));
        }
    }

    // The input dataset and the context its expressions see.
    let Some(input) = activity.inputs.first() else {
        out.push(
            At {
                file,
                pointer: format!("{}/inputs", activity.pointer),
            }
            .error(
                format!("copy `{}` has no input dataset", activity.name),
                "add an Office365Table dataset to \"inputs\"",
            ),
        );
        return;
    };
    let Some(ds) = factory.dataset(&input.reference_name) else {
        return;
    };
    let DatasetKind::Office365Table(legacy) = &ds.def.kind else {
        out.push(
            At {
                file: &ds.origin.file,
                pointer: ds.pointer("/properties/type"),
            }
            .error(
                format!(
                    "dataset `{}` is the input of an Office365Source but is not an Office365Table",
                    ds.name
                ),
                "set \"type\": \"Office365Table\" with a tableName",
            ),
        );
        return;
    };
    let dctx = bind(&ds.def.parameters, &input.parameters, &pctx)
        .ok()
        .map(|values| ExprContext {
            dataset_parameters: values,
            ..pctx.clone()
        });
    let ds_at = |key: &str| At {
        file: &ds.origin.file,
        pointer: ds.pointer(&format!("/properties/typeProperties{key}")),
    };

    // The table.
    let table = match &legacy.table_name {
        None => {
            out.push(ds_at("").error(
                format!("dataset `{}` has no tableName", ds.name),
                "set tableName, such as BasicDataSet_v0.Message_v1 (`mdflow catalog list`)",
            ));
            None
        }
        Some(v) => {
            let name = Property {
                value: v,
                at: ds_at("/tableName"),
                ctx: dctx.as_ref(),
            };
            match name.evaluated() {
                Some(Value::String(n)) => match catalog.table(&n) {
                    Some(t) => Some(t),
                    None => {
                        let hint = match catalog.suggest(&n).or_else(|| closest(catalog, &n)) {
                            Some(s) => format!("did you mean `{s}`? "),
                            None => String::new(),
                        };
                        out.push(name.at.error(
                            format!("unknown tableName `{n}`"),
                            format!("{hint}`mdflow catalog list` shows every table"),
                        ));
                        None
                    }
                },
                _ => None,
            }
        }
    };

    // Source properties win over the dataset's legacy ones; say so when both are set.
    let legacy = legacy_fields(legacy);
    let effective = Effective::new(
        source,
        &legacy,
        &pctx,
        dctx.as_ref(),
        &src_at,
        &ds_at,
        &ds.name,
        out,
    );

    scope(&effective, out);
    if let Some(table) = table {
        dates(table, &effective, out);
        if let Some(cols) = &source.output_columns {
            output_columns(
                table,
                Property {
                    value: cols,
                    at: src_at("/outputColumns"),
                    ctx: Some(&pctx),
                },
                out,
            );
        }
    }
    sink::check(factory, p, activity, copy, &pctx, out);
}

/// The dataset's legacy properties, by their JSON names.
fn legacy_fields(t: &crate::factory::model::Office365Table) -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("dateFilterColumn", t.date_filter_column.clone()),
        ("startTime", t.start_time.clone()),
        ("endTime", t.end_time.clone()),
        ("userScopeFilterUri", t.user_scope_filter_uri.clone()),
    ]
}

/// The source's properties after the dataset's legacy ones filled the gaps.
struct Effective<'a> {
    /// The copy source itself, for problems that concern no single property.
    source: At<'a>,
    allowed_groups: Option<Property<'a>>,
    user_scope: Option<Property<'a>>,
    column: Option<Property<'a>>,
    start: Option<Property<'a>>,
    end: Option<Property<'a>>,
}

impl<'a> Effective<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        source: &'a Office365Source,
        legacy: &'a [(&'static str, Option<Value>)],
        pctx: &'a ExprContext,
        dctx: Option<&'a ExprContext>,
        src_at: &dyn Fn(&str) -> At<'a>,
        ds_at: &dyn Fn(&str) -> At<'a>,
        dataset: &str,
        out: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut pick = |key: &str, from_source: &'a Option<Value>| -> Option<Property<'a>> {
            let from_dataset = legacy
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v.as_ref());
            match (from_source, from_dataset) {
                (Some(v), other) => {
                    if other.is_some() {
                        out.push(src_at(&format!("/{key}")).warning(
                            format!(
                                "`{key}` is set on both the copy source and dataset `{dataset}`; \
                                 the source's value is used"
                            ),
                            format!("remove `{key}` from the dataset; the copy source is the preferred place"),
                        ));
                    }
                    Some(Property {
                        value: v,
                        at: src_at(&format!("/{key}")),
                        ctx: Some(pctx),
                    })
                }
                (None, Some(v)) => Some(Property {
                    value: v,
                    at: ds_at(&format!("/{key}")),
                    ctx: dctx,
                }),
                (None, None) => None,
            }
        };
        Effective {
            source: src_at(""),
            user_scope: pick("userScopeFilterUri", &source.user_scope_filter_uri),
            column: pick("dateFilterColumn", &source.date_filter_column),
            start: pick("startTime", &source.start_time),
            end: pick("endTime", &source.end_time),
            allowed_groups: source.allowed_groups.as_ref().map(|v| Property {
                value: v,
                at: src_at("/allowedGroups"),
                ctx: Some(pctx),
            }),
        }
    }
}

/// At most 10 allowedGroups, and not together with userScopeFilterUri.
fn scope(e: &Effective<'_>, out: &mut Vec<Diagnostic>) {
    let Some(groups) = &e.allowed_groups else {
        return;
    };
    let count = match groups.evaluated() {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Null) | None => return,
        Some(other) => {
            out.push(groups.at.error(
                format!("allowedGroups must be an array of group object ids, found {other}"),
                "write [\"<group id>\", ...]",
            ));
            return;
        }
    };
    if count > 10 {
        out.push(groups.at.error(
            format!("allowedGroups lists {count} groups; Office 365 copies accept at most 10"),
            "use at most 10 groups, or a userScopeFilterUri query, or one copy per set of groups",
        ));
    }
    let scoped = e
        .user_scope
        .as_ref()
        .is_some_and(|u| !matches!(u.evaluated(), Some(Value::Null)));
    if count > 0 && scoped {
        out.push(groups.at.error(
            "allowedGroups and userScopeFilterUri are both set; ADF allows only one of them".into(),
            "keep allowedGroups or userScopeFilterUri, not both",
        ));
    }
}

/// The date filter the table requires, a real filter column, and a valid window.
fn dates(table: &Table, e: &Effective<'_>, out: &mut Vec<Diagnostic>) {
    let name = &table.name;
    let columns = table.filter_columns.join(", ");
    match table.date_filter {
        DateFilter::Column => {
            match &e.column {
                None => out.push(missing_filter(e, format!(
                    "table {name} requires a date filter, but dateFilterColumn is not set"
                ), format!("set dateFilterColumn (one of: {columns}), startTime and endTime on the copy source"))),
                Some(c) => {
                    if let Some(Value::String(col)) = c.evaluated() {
                        if table.filter_column(&col).is_none() {
                            out.push(c.at.error(
                                format!("`{col}` is not a date filter column of {name}"),
                                format!("use one of: {columns}"),
                            ));
                        }
                    }
                }
            }
            window(name, e, out, None);
        }
        DateFilter::Window => {
            if let Some(c) = &e.column {
                out.push(c.at.error(
                    format!("{name} has no date filter column; startTime and endTime bound the calendar view"),
                    "remove dateFilterColumn",
                ));
            }
            window(name, e, out, Some(1825));
        }
        DateFilter::None => {
            for p in [&e.column, &e.start, &e.end].into_iter().flatten() {
                out.push(p.at.error(
                    format!("{name} is not filtered by date"),
                    "remove dateFilterColumn, startTime and endTime from the source and dataset",
                ));
            }
        }
    }
}

fn missing_filter(e: &Effective<'_>, message: String, fix: String) -> Diagnostic {
    e.source.error(message, fix)
}

/// startTime and endTime present, parseable and increasing; a span limit when given.
fn window(table: &str, e: &Effective<'_>, out: &mut Vec<Diagnostic>, max_days: Option<i64>) {
    let mut parse = |p: &Option<Property<'_>>, key: &str| -> Option<DateTime<Utc>> {
        let p = p.as_ref()?;
        let value = p.evaluated()?;
        let parsed = value.as_str().and_then(parse_timestamp);
        if parsed.is_none() {
            out.push(p.at.error(
                format!("`{key}` is not an ISO 8601 time: {}", show(&value)),
                "write it like 2024-01-31T00:00:00Z",
            ));
        }
        parsed
    };
    let start = parse(&e.start, "startTime");
    let end = parse(&e.end, "endTime");
    // A missing column is reported by the caller; here only the window itself.
    if (e.start.is_none() || e.end.is_none()) && (e.column.is_some() || max_days.is_some()) {
        let missing = match (&e.start, &e.end) {
            (None, None) => "startTime and endTime are",
            (None, _) => "startTime is",
            _ => "endTime is",
        };
        out.push(missing_filter(
            e,
            format!("table {table} needs both startTime and endTime; {missing} missing"),
            "set them (ISO 8601, such as 2024-01-31T00:00:00Z) on the copy source".into(),
        ));
    }
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    let at = e.end.as_ref().map(|p| &p.at);
    if start >= end {
        if let Some(at) = at {
            out.push(at.error(
                format!(
                    "endTime {} is not after startTime {}",
                    end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                "make endTime later than startTime (the window is [startTime, endTime))",
            ));
        }
    } else if let (Some(max), Some(at)) = (max_days, at) {
        let days = (end - start).num_days();
        if (end - start) > chrono::Duration::days(max) {
            out.push(at.error(
                format!("the window spans {days} days; {table} allows at most {max}"),
                "shorten the window, or split it across several copies",
            ));
        }
    }
}

/// Every output column exists in the table (case-insensitively).
fn output_columns(table: &Table, cols: Property<'_>, out: &mut Vec<Diagnostic>) {
    let Some(value) = cols.evaluated() else {
        return;
    };
    if !value.is_array() {
        out.push(cols.at.error(
            format!("outputColumns must be an array of {{\"name\": ...}}, found {value}"),
            "write [{\"name\": \"id\"}, ...], or leave it out for all columns",
        ));
        return;
    }
    for (i, name) in column_names(&value).iter().enumerate() {
        if table.column(name).is_none() {
            out.push(Diagnostic::error(
                cols.at.file,
                format!("{}/{i}/name", cols.at.pointer),
                format!("column `{name}` is not in table {}", table.name),
                format!(
                    "`mdflow catalog show {}` lists its columns",
                    table.short_name()
                ),
            ));
        }
    }
}

/// The table whose short name is fewest edits away, for typos `suggest` misses.
fn closest<'c>(catalog: &'c Catalog, name: &str) -> Option<&'c str> {
    let wanted = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    catalog
        .tables()
        .iter()
        .map(|t| {
            (
                edit_distance(&wanted, &t.short_name().to_ascii_lowercase()),
                t.name.as_str(),
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_closest_table() {
        assert_eq!(edit_distance("mesages_v1", "message_v1"), 2);
        let catalog = Catalog::builtin();
        assert_eq!(
            closest(catalog, "BasicDataSet_v0.Mesages_v1"),
            Some("BasicDataSet_v0.Message_v1")
        );
    }
}
