//! The chained copy rules: a Json source in lake storage, a sink dataset type mdflow can
//! write, a table name for table sinks, translator mappings that name a source and a sink
//! column, and a preCopyScript that parses in the sink database's SQL dialect.

use mdflow_connectors::stores;
use serde_json::Value;

use super::At;
use crate::chained_copy::mapping::Translator;
use crate::diagnostic::Diagnostic;
use crate::factory::{Activity, Dataset, Factory, Pipeline, Resource};

/// Dataset types a chained copy writes, for messages and fixes.
const SINK_TYPES: &str =
    "Json, DelimitedText, Parquet, SQLiteTable, AzurePostgreSqlTable, PostgreSqlTable or \
     PostgreSqlV2Table";

/// The database a table dataset type lives in, when it is one mdflow writes.
fn database(kind: &str) -> Option<(&'static dyn sqlparser::dialect::Dialect, &'static str)> {
    match kind {
        "SQLiteTable" => Some((&sqlparser::dialect::SQLiteDialect {}, "SQLite")),
        "AzurePostgreSqlTable" | "PostgreSqlTable" | "PostgreSqlV2Table" => {
            Some((&sqlparser::dialect::PostgreSqlDialect {}, "PostgreSQL"))
        }
        _ => None,
    }
}

fn is_file_format(kind: &str) -> bool {
    matches!(kind, "Json" | "DelimitedText" | "Parquet")
}

fn kind_of(ds: &Resource<Dataset>) -> &str {
    ds.raw
        .pointer("/properties/type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn type_at(ds: &Resource<Dataset>) -> At<'_> {
    At {
        file: &ds.origin.file,
        pointer: ds.pointer("/properties/type"),
    }
}

/// Checks a Copy activity whose source is not Office 365.
pub(super) fn check(
    factory: &Factory,
    p: &Resource<Pipeline>,
    activity: &Activity,
    out: &mut Vec<Diagnostic>,
) {
    let file = p.origin.file.as_path();
    let relative = activity
        .pointer
        .strip_prefix(&p.origin.pointer)
        .unwrap_or(&activity.pointer);
    let Some(raw) = p.raw.pointer(relative) else {
        return;
    };
    let tp = &raw["typeProperties"];
    let at = |key: &str| At {
        file,
        pointer: format!("{}/typeProperties{key}", activity.pointer),
    };

    // The source: JSON read from the lake.
    if let Some(kind) = tp["source"]["type"].as_str() {
        if kind != "JsonSource" {
            out.push(at("/source/type").error(
                format!("source type `{kind}` is not supported in a chained copy"),
                "chained copies read the landed JSON: use \"type\": \"JsonSource\" with a Json \
                 dataset in lake storage (docs/stores.md)",
            ));
        }
    }
    let input = activity
        .inputs
        .first()
        .and_then(|r| factory.dataset(&r.reference_name));
    if let Some(ds) = input {
        let kind = kind_of(ds);
        if kind != "Json" {
            out.push(type_at(ds).error(
                format!(
                    "dataset `{}` is the input of chained copy `{}` but is of type {kind}",
                    ds.name, activity.name
                ),
                "chained copies read Json datasets in lake storage (docs/stores.md)",
            ));
        }
    }

    // The sink dataset: a type mdflow writes, and a table for table sinks.
    let output = activity
        .outputs
        .first()
        .and_then(|r| factory.dataset(&r.reference_name));
    let mut dialect = None;
    if let Some(ds) = output {
        let kind = kind_of(ds);
        if let Some(db) = database(kind) {
            dialect = Some(db);
            table_name(ds, out);
        } else if !is_file_format(kind) {
            out.push(type_at(ds).error(
                format!(
                    "dataset `{}` is the output of chained copy `{}` but is of type {kind}, \
                     which mdflow does not write",
                    ds.name, activity.name
                ),
                format!("use a {SINK_TYPES} dataset (docs/stores.md)"),
            ));
        }
    }

    mappings(&tp["translator"], &at, out);

    // The preCopyScript parses in the sink's dialect before anything runs.
    let script = tp["sink"]["preCopyScript"]
        .as_str()
        .filter(|s| !s.trim().is_empty());
    match (script, dialect) {
        (Some(script), Some((dialect, name))) => {
            if let Err(e) = stores::check_script(script, dialect, name) {
                out.push(at("/sink/preCopyScript").error(
                    e.to_string(),
                    format!("fix the SQL at the line and column given, in {name}'s dialect"),
                ));
            }
        }
        (Some(_), None) if output.is_some_and(|ds| is_file_format(kind_of(ds))) => {
            out.push(at("/sink/preCopyScript").warning(
                "preCopyScript is ignored: the sink is a file, not a database".into(),
                "remove preCopyScript, or copy into a table dataset",
            ));
        }
        _ => {}
    }

    // Upserts need the columns that identify a row.
    let sink = &tp["sink"];
    let upsert = ["writeBehavior", "writeMethod"].iter().any(|k| {
        sink[k]
            .as_str()
            .is_some_and(|w| w.eq_ignore_ascii_case("upsert"))
    });
    let keys = sink["upsertSettings"]["keys"]
        .as_array()
        .is_some_and(|k| !k.is_empty());
    if upsert && !keys {
        out.push(at("/sink").error(
            "writeBehavior upsert has no upsertSettings.keys".into(),
            "set \"upsertSettings\": {\"keys\": [...]} to the columns that identify a row",
        ));
    }
}

/// A table dataset names its table in `table` (with `schema`) or the older `tableName`.
fn table_name(ds: &Resource<Dataset>, out: &mut Vec<Diagnostic>) {
    let tp = ds.raw.pointer("/properties/typeProperties");
    let named = |key: &str| {
        tp.and_then(|t| t.get(key))
            .is_some_and(|v| v.as_str().map_or(!v.is_null(), |s| !s.trim().is_empty()))
    };
    if !named("table") && !named("tableName") {
        out.push(
            At {
                file: &ds.origin.file,
                pointer: ds.pointer("/properties/typeProperties"),
            }
            .error(
                format!("dataset `{}` names no table", ds.name),
                "set typeProperties.table (and schema), such as \"table\": \"messages\"",
            ),
        );
    }
}

/// Each mapping names a source path (or name) and a sink column; the rest of the
/// translator must be what the copy can run.
fn mappings<'a>(translator: &Value, at: &dyn Fn(&str) -> At<'a>, out: &mut Vec<Diagnostic>) {
    if translator.is_null() {
        return;
    }
    let text = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let mut named_nothing = false;
    for (i, m) in translator["mappings"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !text(&m["source"]["path"]) && !text(&m["source"]["name"]) {
            named_nothing = true;
            out.push(at(&format!("/translator/mappings/{i}/source")).error(
                format!("translator mapping {i} names no source"),
                "set source.path to a JSON path such as \"$['id']\"",
            ));
        }
        if !text(&m["sink"]["name"]) {
            named_nothing = true;
            out.push(at(&format!("/translator/mappings/{i}/sink")).error(
                format!("translator mapping {i} names no sink column"),
                "set sink.name to the column the value goes to",
            ));
        }
    }
    if named_nothing {
        return;
    }
    if let Err(message) = Translator::from_json(translator) {
        out.push(at("/translator").error(
            message,
            "use a TabularTranslator with JSON paths such as \"$['sender']['emailAddress']\" \
             and sink types String, Int64, Double, Boolean or DateTimeOffset",
        ));
    }
}
