//! What the families' tests share: evaluating an expression, and the problem compiling
//! one gives with the text it points at.

use crate::dataflow::expr::compile::{compile, Scope};
use crate::dataflow::expr::{evaluate, Value};
use crate::dataflow::parser::parse_expression;
use crate::dataflow::source::Problem;

/// The value of an expression without columns.
pub(super) fn eval(text: &str) -> Value {
    match evaluate(text, &serde_json::Value::Null) {
        Ok(v) => v,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// The problem compiling an expression against `scope` gives, and the text it points at.
pub(super) fn problem_in(text: &str, scope: &Scope) -> (Problem, String) {
    let expr = parse_expression(text).expect("the expression parses");
    let Err(p) = compile(&expr, scope) else {
        panic!("{text} compiles");
    };
    let at = text[p.span.start..p.span.end].to_owned();
    (p, at)
}

/// The problem compiling an expression without columns gives, and the text it points at.
pub(super) fn problem(text: &str) -> (Problem, String) {
    problem_in(text, &Scope::default())
}
