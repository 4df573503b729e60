//! Reading a factory from disk: ADF's Git folder layout, or one JSON file holding an array
//! of resources (an ARM template's `resources` included). Every file is read even when
//! others are broken, so that all problems are reported together.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::convert::Converter;
use super::{Factory, Origin, Resource};
use crate::diagnostic::Diagnostic;

/// The resource kinds mdflow uses, and the folder ADF keeps each in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    LinkedService,
    Dataset,
    Pipeline,
    DataFlow,
    /// Read but not used: triggers, integration runtimes, ...
    Unused(&'static str),
}

const FOLDERS: &[(&str, Kind)] = &[
    ("linkedService", Kind::LinkedService),
    ("dataset", Kind::Dataset),
    ("pipeline", Kind::Pipeline),
    ("dataflow", Kind::DataFlow),
    ("trigger", Kind::Unused("trigger")),
    ("integrationRuntime", Kind::Unused("integration runtime")),
    ("factory", Kind::Unused("factory settings")),
    (
        "managedVirtualNetwork",
        Kind::Unused("managed virtual network"),
    ),
    ("credential", Kind::Unused("credential")),
    ("globalParameters", Kind::Unused("global parameters")),
];

/// Loads a factory folder (or a single JSON file of resources). Problems, including
/// malformed JSON with its line and column, come back as diagnostics; loading goes on with
/// the other files.
pub fn load(path: &Path) -> (Factory, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let root = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    let mut factory = Factory {
        root: absolute(root),
        ..Factory::default()
    };
    let mut loader = Loader {
        factory: &mut factory,
        diags: &mut diags,
    };

    if path.is_file() {
        loader.file(path, None);
    } else if path.is_dir() {
        loader.folder(path);
    } else {
        diags.push(Diagnostic::error(
            path,
            "",
            "the factory path does not exist or cannot be read",
            "give the factory folder (with linkedService/, dataset/, pipeline/) or a JSON file",
        ));
    }
    factory.settings = super::settings::load(&factory.root, &mut diags);
    (factory, diags)
}

fn absolute(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

struct Loader<'a> {
    factory: &'a mut Factory,
    diags: &'a mut Vec<Diagnostic>,
}

impl Loader<'_> {
    fn folder(&mut self, root: &Path) {
        let mut found = false;
        for entry in sorted_entries(root) {
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if !entry.is_dir() {
                continue;
            }
            let kind = FOLDERS
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(&name))
                .map(|f| f.1);
            let Some(kind) = kind else { continue };
            found |= !matches!(kind, Kind::Unused(_));
            for file in sorted_entries(&entry) {
                if file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
                {
                    self.file(&file, Some(kind));
                }
            }
        }
        if !found {
            self.diags.push(Diagnostic::warning(
                root,
                "",
                "no linkedService/, dataset/, pipeline/ or dataflow/ folder found",
                "point mdflow at the folder ADF's Git integration writes (the repository's \
                 root folder setting)",
            ));
        }
    }

    /// Reads one file: one resource, or an array (or ARM template) of resources.
    fn file(&mut self, file: &Path, folder_kind: Option<Kind>) {
        let text = match fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    file,
                    "",
                    format!("cannot read the file: {e}"),
                    "check that the file exists and is readable UTF-8 text",
                ));
                return;
            }
        };
        let value: Value = match serde_json::from_str(text.trim_start_matches('\u{feff}')) {
            Ok(v) => v,
            Err(e) => {
                self.diags.push(malformed(file, &e));
                return;
            }
        };
        match (&value, folder_kind) {
            (Value::Array(items), _) => {
                for (i, item) in items.iter().enumerate() {
                    self.resource(file, format!("/{i}"), item, None);
                }
            }
            (Value::Object(map), None) if map.get("resources").is_some_and(Value::is_array) => {
                let items = map["resources"].as_array().into_iter().flatten();
                for (i, item) in items.enumerate() {
                    self.resource(file, format!("/resources/{i}"), item, None);
                }
            }
            _ => self.resource(file, String::new(), &value, folder_kind),
        }
    }

    fn resource(&mut self, file: &Path, pointer: String, value: &Value, kind: Option<Kind>) {
        let origin = Origin {
            file: file.to_path_buf(),
            pointer,
        };
        let Some(name) = value.get("name").and_then(Value::as_str).map(resource_name) else {
            self.diags.push(Diagnostic::error(
                file,
                format!("{}/name", origin.pointer),
                "the resource has no `name`",
                "add \"name\": \"...\" beside \"properties\", as ADF writes every resource",
            ));
            return;
        };
        let Some(properties) = value.get("properties").filter(|p| p.is_object()) else {
            self.diags.push(Diagnostic::error(
                file,
                format!("{}/properties", origin.pointer),
                format!("resource `{name}` has no `properties` object"),
                "ADF resources are {\"name\": ..., \"properties\": {...}}; move the definition \
                 under \"properties\"",
            ));
            return;
        };
        let arm_type = value.get("type").and_then(Value::as_str);
        let kind = kind.or_else(|| arm_type.and_then(kind_of_arm_type));
        let kind = kind.unwrap_or_else(|| infer_kind(properties));

        let mut cx = Converter {
            file,
            base: &origin.pointer,
            diags: self.diags,
        };
        let raw = value.clone();
        match kind {
            Kind::LinkedService => {
                let def = cx.linked_service(properties);
                self.factory.linked_services.push(Resource {
                    name,
                    origin,
                    raw,
                    def,
                });
            }
            Kind::Dataset => {
                let def = cx.dataset(properties);
                self.factory.datasets.push(Resource {
                    name,
                    origin,
                    raw,
                    def,
                });
            }
            Kind::Pipeline => {
                let def = cx.pipeline(properties);
                self.factory.pipelines.push(Resource {
                    name,
                    origin,
                    raw,
                    def,
                });
            }
            Kind::DataFlow => {
                let def = cx.dataflow(properties);
                self.factory.dataflows.push(Resource {
                    name,
                    origin,
                    raw,
                    def,
                });
            }
            Kind::Unused(what) => self.diags.push(Diagnostic::warning(
                file,
                origin.pointer.clone(),
                format!("{what} `{name}` is not used by mdflow"),
                "nothing to do: mdflow runs pipelines on demand (`mdflow run`) and locally, \
                 so triggers and integration runtimes do not apply",
            )),
        }
    }
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// A diagnostic for JSON that does not parse, with its line and column.
fn malformed(file: &Path, e: &serde_json::Error) -> Diagnostic {
    let fix = match e.classify() {
        serde_json::error::Category::Eof => {
            "the file ends too early: close every `{`, `[` and string".to_owned()
        }
        _ => format!(
            "correct the JSON near line {}, column {} (a missing comma or quote, or a \
             trailing comma, is the usual cause)",
            e.line(),
            e.column()
        ),
    };
    Diagnostic::error(
        file,
        format!("line {}, column {}", e.line(), e.column()),
        format!("malformed JSON: {e}"),
        fix,
    )
}

/// The name of a resource; ARM templates write `[concat(parameters('factoryName'),
/// '/Name')]` or `factory/Name`.
fn resource_name(raw: &str) -> String {
    if raw.starts_with('[') {
        if let Some(start) = raw.rfind("'/") {
            let rest = &raw[start + 2..];
            return rest.split('\'').next().unwrap_or(rest).to_owned();
        }
    }
    raw.rsplit('/').next().unwrap_or(raw).to_owned()
}

fn kind_of_arm_type(arm_type: &str) -> Option<Kind> {
    let last = arm_type.rsplit('/').next()?.to_ascii_lowercase();
    Some(match last.as_str() {
        "linkedservices" => Kind::LinkedService,
        "datasets" => Kind::Dataset,
        "pipelines" => Kind::Pipeline,
        "dataflows" => Kind::DataFlow,
        "triggers" => Kind::Unused("trigger"),
        "integrationruntimes" => Kind::Unused("integration runtime"),
        "managedvirtualnetworks" | "managedprivateendpoints" => {
            Kind::Unused("managed virtual network")
        }
        "credentials" => Kind::Unused("credential"),
        _ => return None,
    })
}

/// Guesses the kind of a resource without a `type` from the shape of its properties.
fn infer_kind(properties: &Value) -> Kind {
    let ty = properties
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if properties.get("activities").is_some() {
        Kind::Pipeline
    } else if properties.get("linkedServiceName").is_some() {
        Kind::Dataset
    } else if ty.ends_with("DataFlow") || ty == "Flowlet" {
        Kind::DataFlow
    } else if ty.ends_with("Trigger") {
        Kind::Unused("trigger")
    } else if matches!(ty, "Managed" | "SelfHosted") {
        Kind::Unused("integration runtime")
    } else {
        Kind::LinkedService
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_names_and_types() {
        assert_eq!(
            resource_name("[concat(parameters('factoryName'), '/CopyMail')]"),
            "CopyMail"
        );
        assert_eq!(resource_name("f/Lake"), "Lake");
        assert_eq!(
            kind_of_arm_type("Microsoft.DataFactory/factories/pipelines"),
            Some(Kind::Pipeline)
        );
        assert_eq!(
            infer_kind(&serde_json::json!({"activities": []})),
            Kind::Pipeline
        );
    }

    #[test]
    fn malformed_json_is_reported_with_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("pipeline");
        fs::create_dir(&folder).unwrap();
        fs::write(
            folder.join("a.json"),
            "{\n  \"name\": \"a\"\n  \"properties\": {}\n}",
        )
        .unwrap();
        fs::write(
            folder.join("b.json"),
            r#"{"name": "b", "properties": {"activities": []}}"#,
        )
        .unwrap();
        let (factory, diags) = load(dir.path());
        assert_eq!(factory.pipelines.len(), 1);
        assert_eq!(diags[0].pointer, "line 3, column 3", "{diags:?}");
    }
}
