//! Where scripts come from: a bare `.dfs` file, a data flow resource file (`script` or
//! `scriptLines`), or a `DataFlow` already loaded with a factory.

use std::path::Path;

use serde_json::Value;

use super::source::SourceText;

/// A data flow's script and the resource around it.
#[derive(Debug, Clone)]
pub struct FlowText {
    /// The data flow's name (the file stem for a bare script).
    pub name: String,
    /// `MappingDataFlow`, `Flowlet`, or `script` for a bare file.
    pub kind: String,
    /// The script.
    pub source: SourceText,
    /// The resource's `typeProperties` (sources and sinks bound to datasets); null for a
    /// bare script.
    pub type_properties: Value,
}

/// Why a file holds no usable script.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ResourceError {
    /// The file.
    pub file: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Reads a `.dfs` script or a data flow resource (`.json`).
pub fn read_file(path: &Path) -> Result<FlowText, ResourceError> {
    let fail = |message: String| ResourceError {
        file: path.display().to_string(),
        message,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        return Ok(FlowText {
            name: stem,
            kind: "script".into(),
            source: SourceText::new(path, text),
            type_properties: Value::Null,
        });
    }
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        fail(format!(
            "not JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let properties = value.get("properties").unwrap_or(&value);
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .map_or(stem, str::to_owned);
    let kind = properties
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("MappingDataFlow")
        .to_owned();
    from_properties(
        &name,
        &kind,
        properties.get("typeProperties").unwrap_or(&Value::Null),
        path,
    )
    .map_err(fail)
}

/// The script of a resource's `typeProperties`: `script`, or `scriptLines` joined with
/// `\n`.
pub fn from_properties(
    name: &str,
    kind: &str,
    type_properties: &Value,
    file: &Path,
) -> Result<FlowText, String> {
    if !matches!(kind, "MappingDataFlow" | "Flowlet") {
        return Err(format!(
            "`{name}` is a {kind}; mdflow runs MappingDataFlow and Flowlet data flows"
        ));
    }
    let (text, within) = match (
        type_properties.get("script"),
        type_properties.get("scriptLines"),
    ) {
        (Some(Value::String(s)), _) => (s.clone(), "script"),
        (_, Some(Value::Array(lines))) => {
            let lines: Option<Vec<&str>> = lines.iter().map(Value::as_str).collect();
            let lines = lines.ok_or("scriptLines must be an array of strings")?;
            (lines.join("\n"), "scriptLines")
        }
        _ => {
            return Err(format!(
                "data flow `{name}` has no script; add typeProperties.script or \
                 typeProperties.scriptLines"
            ))
        }
    };
    Ok(FlowText {
        name: name.to_owned(),
        kind: kind.to_owned(),
        source: SourceText {
            file: file.to_path_buf(),
            within: within.into(),
            text,
        },
        type_properties: type_properties.clone(),
    })
}
