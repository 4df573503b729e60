//! Turning a resource's raw `properties` into the typed model, warning about every
//! property mdflow does not know rather than ignoring it silently.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::escape;
use super::model::*;
use super::pipeline::*;
use crate::diagnostic::Diagnostic;

/// Converts the parts of one resource, collecting diagnostics located in its file.
pub(crate) struct Converter<'a> {
    pub(crate) file: &'a Path,
    /// Pointer of the resource object in the file.
    pub(crate) base: &'a str,
    pub(crate) diags: &'a mut Vec<Diagnostic>,
}

const LINKED_SERVICE_KEYS: &[&str] = &[
    "type",
    "typeProperties",
    "connectVia",
    "description",
    "annotations",
    "parameters",
    "version",
];
const DATASET_KEYS: &[&str] = &[
    "type",
    "typeProperties",
    "linkedServiceName",
    "parameters",
    "annotations",
    "folder",
    "schema",
    "structure",
    "description",
];
const PIPELINE_KEYS: &[&str] = &[
    "activities",
    "parameters",
    "variables",
    "annotations",
    "folder",
    "description",
    "concurrency",
    "lastPublishTime",
    "policy",
];
const ACTIVITY_KEYS: &[&str] = &[
    "name",
    "type",
    "dependsOn",
    "typeProperties",
    "inputs",
    "outputs",
    "policy",
    "userProperties",
    "description",
    "state",
    "onInactiveMarkAs",
    "linkedServiceName",
];
const COPY_KEYS: &[&str] = &[
    "source",
    "sink",
    "enableStaging",
    "stagingSettings",
    "translator",
    "parallelCopies",
    "dataIntegrationUnits",
    "enableSkipIncompatibleRow",
    "redirectIncompatibleRowSettings",
    "logSettings",
    "logStorageSettings",
    "validateDataConsistency",
    "preserve",
    "preserveRules",
    "skipErrorFile",
];

impl Converter<'_> {
    fn at(&self, relative: &str) -> String {
        format!("{}{relative}", self.base)
    }

    fn unknown(&mut self, relative: &str, key: &str, what: &str) {
        self.diags.push(Diagnostic::warning(
            self.file,
            self.at(&format!("{relative}/{}", escape(key))),
            format!("unknown property `{key}` of {what}; mdflow ignores it"),
            "remove it, or check its spelling against ADF's JSON (names are case-sensitive)",
        ));
    }

    fn check_keys(&mut self, value: &Value, relative: &str, known: &[&str], what: &str) {
        for key in value.as_object().into_iter().flat_map(|m| m.keys()) {
            if !known.contains(&key.as_str()) {
                self.unknown(relative, key, what);
            }
        }
    }

    /// Deserializes a typed part, reporting a mismatch as an error and unknown keys as
    /// warnings.
    fn typed<T: DeserializeOwned + Extra>(
        &mut self,
        value: &Value,
        relative: &str,
        what: &str,
    ) -> Option<T> {
        match serde_json::from_value::<T>(value.clone()) {
            Ok(t) => {
                for key in t.extra().keys() {
                    self.unknown(relative, key, what);
                }
                Some(t)
            }
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    self.file,
                    self.at(relative),
                    format!("{what} is not what ADF writes: {e}"),
                    "compare it with the properties listed in docs/factory-format.md",
                ));
                None
            }
        }
    }

    /// Deserializes a part without unknown-key tracking (references, parameters).
    fn plain<T: DeserializeOwned>(
        &mut self,
        value: &Value,
        relative: &str,
        what: &str,
    ) -> Option<T> {
        serde_json::from_value(value.clone())
            .map_err(|e| {
                self.diags.push(Diagnostic::error(
                    self.file,
                    self.at(relative),
                    format!("{what} is not what ADF writes: {e}"),
                    "compare it with the properties listed in docs/factory-format.md",
                ));
            })
            .ok()
    }

    fn parameters(&mut self, props: &Value) -> BTreeMap<String, ParameterSpec> {
        match props.get("parameters") {
            Some(p) => self
                .plain(p, "/properties/parameters", "`parameters`")
                .unwrap_or_default(),
            None => BTreeMap::new(),
        }
    }

    fn type_name(&mut self, props: &Value, what: &str) -> String {
        match props.get("type").and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => {
                self.diags.push(Diagnostic::error(
                    self.file,
                    self.at("/properties/type"),
                    format!("the {what} has no `type`"),
                    "add the ADF type, such as \"Office365\" or \"AzureBlobFS\"",
                ));
                String::new()
            }
        }
    }

    pub(crate) fn linked_service(&mut self, props: &Value) -> LinkedService {
        self.check_keys(
            props,
            "/properties",
            LINKED_SERVICE_KEYS,
            "a linked service",
        );
        let ty = self.type_name(props, "linked service");
        let tp = props
            .get("typeProperties")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        let at = "/properties/typeProperties";
        let kind = match ty.as_str() {
            "Office365" => {
                let o: Option<Office365LinkedService> =
                    self.typed(&tp, at, "an Office365 linked service");
                // Nested parts are re-read only for their unknown keys, once the whole parsed.
                if let Some(s) = tp.get("synthetic").filter(|_| o.is_some()) {
                    let _: Option<SyntheticConfig> =
                        self.typed(s, &format!("{at}/synthetic"), "`synthetic`");
                }
                o.map(LinkedServiceKind::Office365)
            }
            "AzureBlobStorage" => self
                .typed(&tp, at, "an AzureBlobStorage linked service")
                .map(LinkedServiceKind::AzureBlobStorage),
            "AzureBlobFS" => self
                .typed(&tp, at, "an AzureBlobFS linked service")
                .map(LinkedServiceKind::AzureBlobFs),
            "AzureDataLakeStore" => self
                .typed(&tp, at, "an AzureDataLakeStore linked service")
                .map(LinkedServiceKind::AzureDataLakeStore),
            _ => None,
        };
        let connect_via = match props.get("connectVia") {
            Some(v) => self.plain(v, "/properties/connectVia", "`connectVia`"),
            None => None,
        };
        LinkedService {
            kind: kind.unwrap_or(LinkedServiceKind::Other(ty)),
            parameters: self.parameters(props),
            connect_via,
        }
    }

    pub(crate) fn dataset(&mut self, props: &Value) -> Dataset {
        self.check_keys(props, "/properties", DATASET_KEYS, "a dataset");
        let ty = self.type_name(props, "dataset");
        let tp = props
            .get("typeProperties")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        let at = "/properties/typeProperties";
        let kind = match ty.as_str() {
            "Office365Table" => self
                .typed(&tp, at, "an Office365Table dataset")
                .map(DatasetKind::Office365Table),
            "Json" => {
                let json: Option<JsonDataset> = self.typed(&tp, at, "a Json dataset");
                if let Some(location) = tp.get("location").filter(|_| json.is_some()) {
                    let _: Option<Location> =
                        self.typed(location, &format!("{at}/location"), "`location`");
                }
                json.map(DatasetKind::Json)
            }
            "AzureBlob" | "AzureBlobFSFile" => {
                let legacy: Option<LegacyFileDataset> = self.typed(&tp, at, "a file dataset");
                if let Some(format) = tp.get("format").filter(|_| legacy.is_some()) {
                    let _: Option<LegacyFormat> =
                        self.typed(format, &format!("{at}/format"), "`format`");
                }
                legacy.map(|l| {
                    if ty == "AzureBlob" {
                        DatasetKind::AzureBlob(l)
                    } else {
                        DatasetKind::AzureBlobFsFile(l)
                    }
                })
            }
            _ => None,
        };
        let linked_service = match props.get("linkedServiceName") {
            Some(v) => self.plain(v, "/properties/linkedServiceName", "`linkedServiceName`"),
            None => None,
        };
        Dataset {
            kind: kind.unwrap_or(DatasetKind::Other(ty)),
            linked_service,
            parameters: self.parameters(props),
        }
    }

    pub(crate) fn pipeline(&mut self, props: &Value) -> Pipeline {
        self.check_keys(props, "/properties", PIPELINE_KEYS, "a pipeline");
        let items = props
            .get("activities")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let activities = items
            .iter()
            .enumerate()
            .filter_map(|(i, a)| self.activity(a, &format!("/properties/activities/{i}")))
            .collect();
        Pipeline {
            parameters: self.parameters(props),
            activities,
        }
    }

    fn activity(&mut self, value: &Value, at: &str) -> Option<Activity> {
        self.check_keys(value, at, ACTIVITY_KEYS, "an activity");
        let Some(name) = value.get("name").and_then(Value::as_str) else {
            self.diags.push(Diagnostic::error(
                self.file,
                self.at(&format!("{at}/name")),
                "the activity has no `name`",
                "give every activity a name unique within its pipeline",
            ));
            return None;
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let refs = |cx: &mut Self, key: &str| -> Vec<Reference> {
            match value.get(key) {
                Some(v) => cx.plain(v, &format!("{at}/{key}"), &format!("`{key}`")),
                None => None,
            }
            .unwrap_or_default()
        };
        let inputs = refs(self, "inputs");
        let outputs = refs(self, "outputs");
        let depends_on = self.depends_on(value, at);
        let tp = value
            .get("typeProperties")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        let tp_at = format!("{at}/typeProperties");
        let action = match kind.as_str() {
            "Copy" => self.copy(&tp, &tp_at).map(Action::Copy),
            "ExecutePipeline" => self
                .typed(&tp, &tp_at, "an ExecutePipeline activity")
                .map(Action::ExecutePipeline),
            "ExecuteDataFlow" => self
                .typed(&tp, &tp_at, "an ExecuteDataFlow activity")
                .map(Action::ExecuteDataFlow),
            _ => None,
        };
        Some(Activity {
            name: name.to_owned(),
            kind,
            depends_on,
            inputs,
            outputs,
            action: action.unwrap_or(Action::Other(tp)),
            pointer: self.at(at),
        })
    }

    fn depends_on(&mut self, value: &Value, at: &str) -> Vec<(String, Vec<DependencyCondition>)> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Dependency {
            activity: String,
            #[serde(default)]
            dependency_conditions: Vec<DependencyCondition>,
        }
        let Some(v) = value.get("dependsOn") else {
            return Vec::new();
        };
        let deps: Vec<Dependency> = self
            .plain(
                v,
                &format!("{at}/dependsOn"),
                "`dependsOn` (conditions are Succeeded, Failed, Completed or Skipped)",
            )
            .unwrap_or_default();
        deps.into_iter()
            .map(|d| (d.activity, d.dependency_conditions))
            .collect()
    }

    fn copy(&mut self, tp: &Value, at: &str) -> Option<CopyActivity> {
        self.check_keys(tp, at, COPY_KEYS, "a Copy activity");
        let source_value = tp.get("source").cloned().unwrap_or_default();
        let sink_value = tp.get("sink").cloned().unwrap_or_default();
        let (source_at, sink_at) = (format!("{at}/source"), format!("{at}/sink"));
        let source_type = source_value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let source = match source_type {
            "Office365Source" => {
                let mut without_type = source_value.clone();
                without_type.as_object_mut().map(|m| m.remove("type"));
                CopySource::Office365(
                    self.typed(&without_type, &source_at, "an Office365Source")
                        .unwrap_or_default(),
                )
            }
            other => CopySource::Other(other.to_owned(), source_value.clone()),
        };
        let sink_type = sink_value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut sink_fields = sink_value.clone();
        sink_fields.as_object_mut().map(|m| m.remove("type"));
        let sink = match sink_type {
            "JsonSink" => {
                let json: Option<JsonSink> = self.typed(&sink_fields, &sink_at, "a JsonSink");
                let settings = sink_value.get("formatSettings").filter(|_| json.is_some());
                if let Some(fs) = settings {
                    let _: Option<JsonWriteSettings> =
                        self.typed(fs, &format!("{sink_at}/formatSettings"), "`formatSettings`");
                }
                CopySink::Json(json.unwrap_or_default())
            }
            "BlobSink" | "AzureBlobFSSink" => CopySink::Legacy(
                self.typed(&sink_fields, &sink_at, "a legacy blob sink")
                    .unwrap_or_default(),
            ),
            other => CopySink::Other(other.to_owned(), sink_value.clone()),
        };
        Some(CopyActivity {
            source,
            sink,
            parallel_copies: tp.get("parallelCopies").cloned(),
        })
    }

    pub(crate) fn dataflow(&mut self, props: &Value) -> DataFlow {
        DataFlow {
            kind: props
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            type_properties: props.get("typeProperties").cloned().unwrap_or_default(),
        }
    }
}
