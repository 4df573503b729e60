//! The factory: every linked service, dataset, pipeline and data flow of an ADF factory,
//! loaded from ADF's Git folder layout (or one JSON file of resources) into typed models.
//!
//! [`load`] reads and types everything it can and reports the rest as diagnostics;
//! [`resolve_copy`] turns one Copy activity into a fully evaluated [`CopyPlan`].

mod convert;
pub mod load;
pub mod model;
pub mod pipeline;
pub mod resolve;
pub mod settings;

use std::path::PathBuf;

use serde_json::Value;

pub use load::load;
pub use model::{
    Dataset, DatasetKind, Dynamic, LinkedService, LinkedServiceKind, ParameterSpec, Reference,
    Secret,
};
pub use pipeline::{
    Action, Activity, CopySink, CopySource, DataFlow, DependencyCondition, Pipeline,
};
pub use resolve::{
    resolve_copy, CopyPlan, FilePattern, LakeStore, LakeTarget, Office365Query, ServicePrincipal,
    SyntheticSettings, TenantConnection,
};

/// Where a resource was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The JSON file.
    pub file: PathBuf,
    /// JSON pointer of the resource in the file: empty for one resource per file, `/3`
    /// for the fourth element of an array of resources.
    pub pointer: String,
}

/// One named resource with where it came from, its raw JSON and its typed definition.
#[derive(Debug, Clone)]
pub struct Resource<T> {
    /// The resource's name.
    pub name: String,
    /// File and pointer it was read from.
    pub origin: Origin,
    /// The JSON as written, for pointers into parts the typed model does not keep.
    pub raw: Value,
    /// The typed definition.
    pub def: T,
}

impl<T> Resource<T> {
    /// A JSON pointer into this resource, from a pointer relative to the resource object
    /// (such as `/properties/typeProperties`).
    pub fn pointer(&self, relative: &str) -> String {
        format!("{}{relative}", self.origin.pointer)
    }
}

/// Everything loaded from one factory.
#[derive(Debug, Clone, Default)]
pub struct Factory {
    /// The factory folder; relative `file://` lake paths are resolved against it.
    pub root: PathBuf,
    /// Linked services, in load order.
    pub linked_services: Vec<Resource<LinkedService>>,
    /// Datasets, in load order.
    pub datasets: Vec<Resource<Dataset>>,
    /// Pipelines, in load order.
    pub pipelines: Vec<Resource<Pipeline>>,
    /// Data flows, in load order.
    pub dataflows: Vec<Resource<DataFlow>>,
    /// mdflow's own settings (`mdflow.json` at the root): consent, approvers, regions.
    pub settings: settings::FactorySettings,
}

fn find<'a, T>(items: &'a [Resource<T>], name: &str) -> Option<&'a Resource<T>> {
    // ADF resource names are case-insensitive.
    items.iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

impl Factory {
    /// A linked service by name.
    pub fn linked_service(&self, name: &str) -> Option<&Resource<LinkedService>> {
        find(&self.linked_services, name)
    }

    /// A dataset by name.
    pub fn dataset(&self, name: &str) -> Option<&Resource<Dataset>> {
        find(&self.datasets, name)
    }

    /// A pipeline by name.
    pub fn pipeline(&self, name: &str) -> Option<&Resource<Pipeline>> {
        find(&self.pipelines, name)
    }

    /// A data flow by name.
    pub fn dataflow(&self, name: &str) -> Option<&Resource<DataFlow>> {
        find(&self.dataflows, name)
    }
}

/// The names of all pipelines, in load order.
pub fn pipeline_names(factory: &Factory) -> Vec<String> {
    factory.pipelines.iter().map(|p| p.name.clone()).collect()
}

/// Escapes one JSON pointer segment (`~` and `/`).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
