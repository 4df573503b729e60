//! The expression language: parsing (`parse`), types, compilation to Polars expressions
//! (`compile`, with the functions by family in `functions`), single values (`value`) and
//! evaluation of one expression (`eval`, for `mdflow eval` and tests).

pub mod cache;
pub mod check;
pub mod compile;
pub mod eval;
pub mod functions;
mod parse;
pub mod types;
pub mod value;

pub use compile::{compile, Scope, Typed};
pub use eval::{evaluate, EvalError};
pub use types::DfType;
pub use value::Value;
