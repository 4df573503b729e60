//! Typed pipelines and activities, mirroring the JSON ADF writes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{impl_extra, Dynamic, Extra, ParameterSpec, Reference};

/// A pipeline: parameters and activities ordered by their `dependsOn`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Declared parameters, with their default values.
    pub parameters: BTreeMap<String, ParameterSpec>,
    /// The activities, in file order.
    pub activities: Vec<Activity>,
}

impl Pipeline {
    /// Every parameter's default value, for runs that give none (and for validation).
    pub fn default_parameters(&self) -> BTreeMap<String, Value> {
        self.parameters
            .iter()
            .filter_map(|(k, p)| p.default_value.clone().map(|v| (k.clone(), v)))
            .collect()
    }

    /// Finds an activity by name (ADF names are case-insensitive).
    pub fn activity(&self, name: &str) -> Option<&Activity> {
        self.activities
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// When a dependent activity may start, relative to the activity it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum DependencyCondition {
    /// The other activity succeeded.
    Succeeded,
    /// The other activity failed.
    Failed,
    /// The other activity finished, whatever its outcome.
    Completed,
    /// The other activity was skipped.
    Skipped,
}

/// One step of a pipeline.
#[derive(Debug, Clone)]
pub struct Activity {
    /// Unique within the pipeline.
    pub name: String,
    /// The ADF activity type: `Copy`, `ExecutePipeline`, `ExecuteDataFlow`, ...
    pub kind: String,
    /// Activities this one waits for, each with the outcomes that let it start.
    pub depends_on: Vec<(String, Vec<DependencyCondition>)>,
    /// Input datasets (the copy source).
    pub inputs: Vec<Reference>,
    /// Output datasets (the copy sink).
    pub outputs: Vec<Reference>,
    /// The typed `typeProperties`, for the activity types mdflow runs.
    pub action: Action,
    /// JSON pointer of the activity inside its file.
    pub pointer: String,
}

/// What an activity does, for the types mdflow understands.
#[derive(Debug, Clone)]
// Loaded once per factory: the size gap costs nothing, boxing would clutter every match.
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// `Copy`.
    Copy(CopyActivity),
    /// `ExecutePipeline`.
    ExecutePipeline(ExecutePipelineActivity),
    /// `ExecuteDataFlow`.
    ExecuteDataFlow(ExecuteDataFlowActivity),
    /// Any other activity type, with its raw `typeProperties`.
    Other(Value),
}

/// `typeProperties` of a Copy activity.
#[derive(Debug, Clone)]
pub struct CopyActivity {
    /// Where rows come from.
    pub source: CopySource,
    /// Where rows go.
    pub sink: CopySink,
    /// `parallelCopies`: how many mailboxes are extracted at once (a number or an
    /// expression); the machine's cores, at most eight, when absent.
    pub parallel_copies: Option<super::model::Dynamic>,
}

/// A copy source.
#[derive(Debug, Clone)]
// Loaded once per factory: the size gap costs nothing, boxing would clutter every match.
#[allow(clippy::large_enum_variant)]
pub enum CopySource {
    /// `Office365Source`.
    Office365(Office365Source),
    /// Any other source type, named, with its raw JSON.
    Other(String, Value),
}

/// `source` of a copy from Office 365: who and what to extract.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Office365Source {
    /// Up to 10 group object ids whose members are extracted; everyone when absent.
    #[serde(default)]
    pub allowed_groups: Option<Dynamic>,
    /// A Graph users query scoping the extraction; only without `allowedGroups`.
    #[serde(default)]
    pub user_scope_filter_uri: Option<Dynamic>,
    /// The date column the window applies to.
    #[serde(default)]
    pub date_filter_column: Option<Dynamic>,
    /// Start of the window (ISO 8601, inclusive).
    #[serde(default)]
    pub start_time: Option<Dynamic>,
    /// End of the window (ISO 8601, exclusive).
    #[serde(default)]
    pub end_time: Option<Dynamic>,
    /// `[{"name": ...}]`, the columns to extract; all when absent.
    #[serde(default)]
    pub output_columns: Option<Dynamic>,
    /// Retries of a failed read.
    #[serde(default)]
    pub source_retry_count: Option<Dynamic>,
    /// Wait between retries.
    #[serde(default)]
    pub source_retry_wait: Option<Dynamic>,
    /// Connection cap.
    #[serde(default)]
    pub max_concurrent_connections: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A copy sink.
#[derive(Debug, Clone)]
// Loaded once per factory: the size gap costs nothing, boxing would clutter every match.
#[allow(clippy::large_enum_variant)]
pub enum CopySink {
    /// `JsonSink`.
    Json(JsonSink),
    /// The legacy `BlobSink` (or `AzureBlobFSSink`), writing in the dataset's `format`.
    Legacy(LegacySink),
    /// Any other sink type, named, with its raw JSON.
    Other(String, Value),
}

/// `sink` of type `JsonSink`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonSink {
    /// How the JSON is laid out.
    #[serde(default)]
    pub format_settings: Option<JsonWriteSettings>,
    /// Store-specific write settings (copy behaviour, block size); mdflow ignores them.
    #[serde(default)]
    pub store_settings: Option<Value>,
    /// Retries of a failed write.
    #[serde(default)]
    pub sink_retry_count: Option<Dynamic>,
    /// Wait between retries.
    #[serde(default)]
    pub sink_retry_wait: Option<Dynamic>,
    /// Batch size hint.
    #[serde(default)]
    pub write_batch_size: Option<Dynamic>,
    /// Batch timeout hint.
    #[serde(default)]
    pub write_batch_timeout: Option<Dynamic>,
    /// Connection cap.
    #[serde(default)]
    pub max_concurrent_connections: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `formatSettings` of a JSON sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonWriteSettings {
    /// `JsonWriteSettings`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `setOfObjects` (JSON Lines, the Office 365 form) or `arrayOfObjects`.
    #[serde(default)]
    pub file_pattern: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `sink` of type `BlobSink` or `AzureBlobFSSink` (before format-based datasets).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacySink {
    /// `PreserveHierarchy`, `FlattenHierarchy` or `MergeFiles`.
    #[serde(default)]
    pub copy_behavior: Option<Dynamic>,
    /// Retries of a failed write.
    #[serde(default)]
    pub sink_retry_count: Option<Dynamic>,
    /// Wait between retries.
    #[serde(default)]
    pub sink_retry_wait: Option<Dynamic>,
    /// Batch size hint.
    #[serde(default)]
    pub write_batch_size: Option<Dynamic>,
    /// Batch timeout hint.
    #[serde(default)]
    pub write_batch_timeout: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of an ExecutePipeline activity.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutePipelineActivity {
    /// The pipeline to run.
    pub pipeline: Reference,
    /// Its parameters (literals or expressions of the calling pipeline).
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// Whether the caller waits for it to finish.
    #[serde(default)]
    pub wait_on_completion: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of an ExecuteDataFlow activity.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteDataFlowActivity {
    /// The data flow to run (ADF writes the key as `dataflow`).
    #[serde(rename = "dataflow", alias = "dataFlow")]
    pub dataflow: Reference,
    /// Spark cluster size; mdflow runs locally and ignores it.
    #[serde(default)]
    pub compute: Option<Value>,
    /// Staging store for some sinks.
    #[serde(default)]
    pub staging: Option<Value>,
    /// The integration runtime.
    #[serde(default)]
    pub integration_runtime: Option<Value>,
    /// Logging level of the data flow.
    #[serde(default)]
    pub trace_level: Option<Dynamic>,
    /// Whether sink errors stop the flow.
    #[serde(default)]
    pub continue_on_error: Option<Dynamic>,
    /// Whether sinks run concurrently.
    #[serde(default)]
    pub run_concurrently: Option<Dynamic>,
    /// Source staging concurrency.
    #[serde(default)]
    pub source_staging_concurrency: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl_extra!(
    Office365Source,
    JsonSink,
    JsonWriteSettings,
    LegacySink,
    ExecutePipelineActivity,
    ExecuteDataFlowActivity
);

/// A mapping data flow, kept as JSON; validation checks the references in it.
#[derive(Debug, Clone)]
pub struct DataFlow {
    /// `MappingDataFlow`, `Flowlet`, ...
    pub kind: String,
    /// The raw `typeProperties` (sources, sinks, transformations, script).
    pub type_properties: Value,
}
