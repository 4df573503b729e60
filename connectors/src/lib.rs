//! Connectors for mdflow: the Office 365 dataset catalog, tenant back-ends (the synthetic
//! tenant), schema-first JSON decoding into Polars columns and back, and lake storage.
//!
//! Nothing here knows about pipelines, data flows or the command line.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalog;
pub mod columnar;
pub mod formats;
pub mod lake;
pub mod stores;
pub mod tenant;
pub mod test_pause;
pub mod text;
