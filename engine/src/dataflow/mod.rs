//! Mapping data flows: the script language, its expressions, and execution on Polars.
//!
//! Compiled in stages, one concern per module: text → tokens (`lexer`) → syntax tree with
//! spans (`parser`, `ast`) → checked graph (`graph`) → Polars plans (`exec`), with
//! expressions parsed, typed and compiled to Polars expressions in `expr`. The `printer`
//! gives the normal form that `mdflow dataflow fmt` prints. `activity` binds a flow to a
//! factory's datasets; `io` reads and writes them, and `batches` runs a flow's row-local
//! steps batch by batch over its largest JSON Lines source.

pub mod activity;
pub mod ast;
pub mod batches;
mod chunks;
pub mod exec;
pub mod expr;
pub mod flowlet;
pub mod graph;
pub mod inline;
pub mod io;
pub mod lexer;
pub mod office365;
pub mod parser;
pub mod printer;
pub mod resource;
pub mod source;

pub use parser::{parse_expression, parse_script};
pub use resource::{read_file, FlowText};
pub use source::{Problem, SourceText, Span};

/// Parses and checks a script: syntax, the graph and the expressions. Problems come in the
/// order of the text; warnings (`Problem::warning`) do not stop a run.
pub fn check(text: &str) -> (ast::Script, Vec<Problem>) {
    let (script, mut problems) = parse_script(text);
    if problems.is_empty() {
        let (_, more) = graph::build(&script);
        problems.extend(more);
        problems.extend(expr::check::check_script(&script));
    }
    problems.sort_by_key(|p| p.span.start);
    (script, problems)
}

/// Whether mdflow computes the function `name` somewhere: in any expression, or as an
/// aggregate (`aggregate`, `pivot`) or window (`window`) function, or as a cache sink's
/// (`Cache#lookup(...)`).
pub fn supports_function(name: &str) -> bool {
    let listed = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(name));
    expr::functions::known(name)
        || listed(exec::AGGREGATE)
        || listed(exec::WINDOW)
        || listed(expr::cache::METHODS)
}
