//! `mdflow validate FACTORY`: load and check a whole factory, print every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use mdflow_connectors::catalog::Catalog;
use mdflow_engine::diagnostic::Severity;
use mdflow_engine::{factory, validate};

use super::{invalid_input, INVALID_INPUT};

/// Arguments of `mdflow validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The factory folder (ADF Git layout) or a single JSON file of resources.
    pub factory: PathBuf,
    /// Print the diagnostics as a JSON array instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command: exit 2 when any error is found (or the path is unusable), else 0.
pub fn run(args: ValidateArgs) -> ExitCode {
    if !args.factory.exists() {
        return invalid_input(format!(
            "{} does not exist; give a factory folder or a JSON file of resources",
            args.factory.display()
        ));
    }
    let (loaded, mut diagnostics) = factory::load(&args.factory);
    diagnostics.extend(validate::validate(&loaded, Catalog::builtin()));

    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    if args.json {
        match serde_json::to_string_pretty(&diagnostics) {
            Ok(text) => println!("{text}"),
            Err(e) => return invalid_input(format!("cannot encode diagnostics: {e}")),
        }
    } else {
        for d in &diagnostics {
            println!("{d}\n");
        }
        println!(
            "{errors} error{}, {warnings} warning{} in {}",
            plural(errors),
            plural(warnings),
            args.factory.display()
        );
    }
    if errors > 0 {
        ExitCode::from(INVALID_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
