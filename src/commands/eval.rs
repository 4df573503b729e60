//! `mdflow eval 'EXPR' [--row JSON]`: evaluate one data flow expression and print the
//! result in data flow literal syntax.

use std::process::ExitCode;

use mdflow_engine::dataflow::expr::{evaluate, EvalError};

use super::invalid_input;

/// Arguments of `mdflow eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The expression, such as `upper('bo') + toString(30)`.
    pub expression: String,
    /// One input row as a JSON object; its keys are the columns the expression can read.
    #[arg(long)]
    pub row: Option<String>,
}

/// Runs the command: prints the value, or the error and exit 2.
pub fn run(args: EvalArgs) -> ExitCode {
    let row = match args.row.as_deref().map(serde_json::from_str) {
        None => serde_json::Value::Null,
        Some(Ok(v)) => v,
        Some(Err(e)) => return invalid_input(format!("--row is not JSON: {e}")),
    };
    match evaluate(&args.expression, &row) {
        Ok(v) => {
            println!("{}", v.literal());
            ExitCode::SUCCESS
        }
        // Parse and type errors are already laid out with their place.
        Err(EvalError::Invalid(text)) => {
            eprintln!("{text}");
            ExitCode::from(super::INVALID_INPUT)
        }
        Err(e) => invalid_input(e),
    }
}
