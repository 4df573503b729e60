//! Inline datasets: a data flow source or sink bound to a linked service rather than a
//! dataset, its format and location written as script options, as ADF exports them:
//! `source(format: 'json', fileSystem: 'data', folderPath: 'in', ...) ~> In` with
//! `{"name": "In", "linkedService": {...}}` in the resource's `sources`. The options become
//! the `typeProperties` a dataset of the same type would have, so reading and writing go
//! through the same code as datasets.

use serde_json::{json, Map, Value};

use super::ast::Statement;
use crate::copy::CopyFailure;

/// Reads one option of the step as text (its expression evaluated), `None` when absent.
pub type TextOption<'a> = dyn Fn(&str) -> Result<Option<String>, CopyFailure> + 'a;
/// Reads one option of the step as a list of texts (its expression evaluated).
pub type ListOption<'a> = dyn Fn(&str) -> Result<Vec<String>, CopyFailure> + 'a;

/// The dataset type (`Json`, `Parquet`, `DelimitedText`) and `typeProperties` that the
/// step's options describe.
pub fn dataset_properties(
    s: &Statement,
    text: &TextOption<'_>,
    list: &ListOption<'_>,
) -> Result<(&'static str, Value), CopyFailure> {
    let step = &s.output.name.text;
    let fail = |message: String| CopyFailure::new("UserErrorNotSupported", message);
    let format = text("format")?.unwrap_or_default();
    let kind = match format.to_ascii_lowercase().as_str() {
        "json" => "Json",
        "parquet" => "Parquet",
        "delimited" => "DelimitedText",
        "" => {
            return Err(fail(format!(
                "`{step}` names a linked service but no format; add format: 'json', \
                 'parquet' or 'delimited', or bind a dataset"
            )))
        }
        other => {
            return Err(fail(format!(
                "`{step}` has format '{other}'; inline datasets in mdflow are 'json', \
                 'parquet' or 'delimited'"
            )))
        }
    };

    let mut location = Map::new();
    match (text("fileSystem")?, text("container")?) {
        (Some(fs), _) => {
            location.insert("type".into(), json!("AzureBlobFSLocation"));
            location.insert("fileSystem".into(), json!(fs));
        }
        (None, Some(container)) => {
            location.insert("type".into(), json!("AzureBlobStorageLocation"));
            location.insert("container".into(), json!(container));
        }
        (None, None) => {
            return Err(CopyFailure::new(
                "UserErrorInvalidDefinition",
                format!("`{step}` names no fileSystem or container; add fileSystem: 'name'"),
            ))
        }
    }
    let mut folder = text("folderPath")?;
    if let Some(path) = wildcard_folder(&s.output.name.text, &list("wildcardPaths")?)? {
        folder = Some(path);
    }
    if let Some(f) = folder {
        location.insert("folderPath".into(), json!(f));
    }
    if let Some(f) = text("fileName")? {
        location.insert("fileName".into(), json!(f));
    }

    let mut properties = Map::new();
    properties.insert("location".into(), Value::Object(location));
    if let Some(codec) = text("compressionType")? {
        properties.insert("compression".into(), json!({ "type": codec }));
    }
    if let Some(encoding) = text("encoding")? {
        properties.insert("encodingName".into(), json!(encoding));
    }
    if kind == "DelimitedText" {
        for (option, property) in [
            ("columnDelimiter", "columnDelimiter"),
            ("quoteChar", "quoteChar"),
            ("escapeChar", "escapeChar"),
            ("nullValue", "nullValue"),
        ] {
            if let Some(v) = text(option)? {
                properties.insert(property.into(), json!(v));
            }
        }
        let header = text("columnNamesAsHeader")?.is_some_and(|v| v == "true");
        properties.insert("firstRowAsHeader".into(), json!(header));
    }
    Ok((kind, Value::Object(properties)))
}

/// The folder of `wildcardPaths: ['folder/*']` (or `'folder/*.json'`): mdflow reads every
/// file of the folder. Other wildcards are refused rather than read differently.
fn wildcard_folder(step: &str, paths: &[String]) -> Result<Option<String>, CopyFailure> {
    if paths.is_empty() {
        return Ok(None);
    }
    let refuse = || {
        CopyFailure::new(
            "UserErrorNotSupported",
            format!(
                "`{step}`: wildcardPaths {paths:?}: mdflow reads one folder, written as \
                 ['folder/*'] or ['folder/*.ext'], or folderPath"
            ),
        )
    };
    let [path] = paths else {
        return Err(refuse());
    };
    let (folder, file) = path.rsplit_once('/').unwrap_or(("", path));
    let plain = |t: &str| !t.contains(['*', '?', '[']);
    if !plain(folder) || !(file == "*" || file.strip_prefix("*.").is_some_and(plain)) {
        return Err(refuse());
    }
    Ok(Some(folder.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::dataset_properties;
    use crate::dataflow::parse_script;

    fn properties(script: &str) -> Result<(&'static str, serde_json::Value), String> {
        let (script, problems) = parse_script(script);
        assert!(problems.is_empty(), "{problems:?}");
        let s = &script.statements[0];
        let text = |name: &str| {
            Ok(s.option(name).and_then(|e| match &e.kind {
                crate::dataflow::ast::ExprKind::Lit(crate::dataflow::ast::Lit::Str(t)) => {
                    Some(t.clone())
                }
                crate::dataflow::ast::ExprKind::Lit(crate::dataflow::ast::Lit::Bool(b)) => {
                    Some(b.to_string())
                }
                _ => None,
            }))
        };
        let list = |name: &str| {
            Ok(match s.option(name).map(|e| &e.kind) {
                Some(crate::dataflow::ast::ExprKind::Array(items)) => items
                    .iter()
                    .filter_map(|i| match &i.kind {
                        crate::dataflow::ast::ExprKind::Lit(crate::dataflow::ast::Lit::Str(t)) => {
                            Some(t.clone())
                        }
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            })
        };
        dataset_properties(s, &text, &list).map_err(|e| e.message)
    }

    #[test]
    fn options_become_the_type_properties_of_a_dataset() {
        let (kind, p) = properties(
            "source(format: 'delimited', fileSystem: 'raw', wildcardPaths: ['mail/2024/*.csv'],
                    columnDelimiter: ';', columnNamesAsHeader: true, compressionType: 'gzip') ~> In",
        )
        .unwrap();
        assert_eq!(kind, "DelimitedText");
        assert_eq!(
            p,
            json!({"location": {"type": "AzureBlobFSLocation", "fileSystem": "raw",
                                "folderPath": "mail/2024"},
                   "compression": {"type": "gzip"}, "columnDelimiter": ";",
                   "firstRowAsHeader": true})
        );
        let (kind, p) =
            properties("source(format: 'json', container: 'c', folderPath: 'in') ~> In").unwrap();
        assert_eq!(kind, "Json");
        assert_eq!(p["location"]["type"], "AzureBlobStorageLocation");
    }

    #[test]
    fn what_mdflow_cannot_read_is_refused_with_the_fix() {
        let e = properties("source(format: 'delta', fileSystem: 'x') ~> In").unwrap_err();
        assert!(e.contains("format 'delta'"), "{e}");
        let e = properties("source(format: 'json') ~> In").unwrap_err();
        assert!(e.contains("add fileSystem"), "{e}");
        let e = properties(
            "source(format: 'json', fileSystem: 'x', wildcardPaths: ['a/*/b.json']) ~> In",
        )
        .unwrap_err();
        assert!(e.contains("mdflow reads one folder"), "{e}");
    }
}
