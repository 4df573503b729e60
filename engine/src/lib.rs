//! The mdflow engine: the factory model (linked services, datasets, pipelines), validation,
//! the pipeline expression language, the pipeline runner and run records.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chained_copy;
pub mod clock;
pub mod consent;
pub mod copy;
pub mod dataflow;
pub mod diagnostic;
pub mod expr;
pub mod factory;
pub mod lake_access;
pub mod runner;
pub mod runs;
pub mod schedule;
pub mod secrets;
pub mod validate;
