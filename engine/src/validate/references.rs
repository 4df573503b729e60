//! References between resources: a dataset's linked service, an activity's datasets, the
//! pipeline of an ExecutePipeline, the data flow of an ExecuteDataFlow, and the datasets
//! and linked services a data flow names.

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::factory::{Action, Factory, Resource, Secret};

/// What kind of resource a reference names.
#[derive(Clone, Copy)]
enum Target {
    LinkedService,
    Dataset,
    Pipeline,
    DataFlow,
}

impl Target {
    fn label(self) -> &'static str {
        match self {
            Target::LinkedService => "linked service",
            Target::Dataset => "dataset",
            Target::Pipeline => "pipeline",
            Target::DataFlow => "data flow",
        }
    }

    fn folder(self) -> &'static str {
        match self {
            Target::LinkedService => "linkedService",
            Target::Dataset => "dataset",
            Target::Pipeline => "pipeline",
            Target::DataFlow => "dataflow",
        }
    }

    fn names(self, f: &Factory) -> Vec<&str> {
        fn of<T>(items: &[Resource<T>]) -> Vec<&str> {
            items.iter().map(|r| r.name.as_str()).collect()
        }
        match self {
            Target::LinkedService => of(&f.linked_services),
            Target::Dataset => of(&f.datasets),
            Target::Pipeline => of(&f.pipelines),
            Target::DataFlow => of(&f.dataflows),
        }
    }
}

struct Checker<'a> {
    factory: &'a Factory,
    out: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn reference<T>(&mut self, from: &Resource<T>, pointer: String, name: &str, target: Target) {
        let names = target.names(self.factory);
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return;
        }
        let known = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        };
        self.out.push(Diagnostic::error(
            &from.origin.file,
            from.pointer(&pointer),
            format!(
                "{} `{name}` does not exist (referenced by `{}`)",
                target.label(),
                from.name
            ),
            format!(
                "create {}/{name}.json or use one of the defined {}s: {known}",
                target.folder(),
                target.label()
            ),
        ));
    }
}

/// Reports every reference to a resource that does not exist.
pub(super) fn check(factory: &Factory, out: &mut Vec<Diagnostic>) {
    let mut c = Checker { factory, out };
    for ls in &factory.linked_services {
        // Key Vault secrets name the Key Vault linked service.
        let tp = ls
            .raw
            .pointer("/properties/typeProperties")
            .and_then(Value::as_object);
        for (key, value) in tp.into_iter().flatten() {
            if let Ok(Secret::AzureKeyVaultSecret { store, .. }) =
                serde_json::from_value::<Secret>(value.clone())
            {
                let at = format!("/properties/typeProperties/{key}/store/referenceName");
                c.reference(ls, at, &store.reference_name, Target::LinkedService);
            }
        }
    }
    for ds in &factory.datasets {
        match &ds.def.linked_service {
            Some(r) => c.reference(
                ds,
                "/properties/linkedServiceName/referenceName".into(),
                &r.reference_name,
                Target::LinkedService,
            ),
            None => c.out.push(Diagnostic::error(
                &ds.origin.file,
                ds.pointer("/properties"),
                format!("dataset `{}` has no linkedServiceName", ds.name),
                "add \"linkedServiceName\": {\"referenceName\": \"...\", \"type\": \
                 \"LinkedServiceReference\"}",
            )),
        }
    }
    for p in &factory.pipelines {
        for (i, a) in p.def.activities.iter().enumerate() {
            let at = format!("/properties/activities/{i}");
            for (key, refs) in [("inputs", &a.inputs), ("outputs", &a.outputs)] {
                for (j, r) in refs.iter().enumerate() {
                    let pointer = format!("{at}/{key}/{j}/referenceName");
                    c.reference(p, pointer, &r.reference_name, Target::Dataset);
                }
            }
            match &a.action {
                Action::ExecutePipeline(e) => {
                    let pointer = format!("{at}/typeProperties/pipeline/referenceName");
                    c.reference(p, pointer, &e.pipeline.reference_name, Target::Pipeline);
                }
                Action::ExecuteDataFlow(e) => {
                    let pointer = format!("{at}/typeProperties/dataflow/referenceName");
                    c.reference(p, pointer, &e.dataflow.reference_name, Target::DataFlow);
                }
                _ => {}
            }
        }
    }
    for df in &factory.dataflows {
        for part in ["sources", "sinks"] {
            let items = df.def.type_properties.get(part).and_then(Value::as_array);
            for (i, item) in items.into_iter().flatten().enumerate() {
                for (key, target) in [
                    ("dataset", Target::Dataset),
                    ("linkedService", Target::LinkedService),
                ] {
                    let name = item
                        .pointer(&format!("/{key}/referenceName"))
                        .and_then(Value::as_str);
                    if let Some(name) = name {
                        let pointer =
                            format!("/properties/typeProperties/{part}/{i}/{key}/referenceName");
                        c.reference(df, pointer, name, target);
                    }
                }
            }
        }
    }
}
