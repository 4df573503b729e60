//! `mdflow dataflow check FILE...` and `mdflow dataflow fmt FILE`: check data flow scripts
//! (bare `.dfs` files or data flow resources) and print them in normal form.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mdflow_engine::dataflow::{self, printer};

use super::{invalid_input, INVALID_INPUT};

/// `mdflow dataflow` subcommands.
#[derive(clap::Subcommand)]
pub enum DataflowCommand {
    /// Check scripts: syntax, the graph of streams, function names. Exit 2 on any error.
    Check {
        /// `.dfs` scripts or data flow resources (`.json`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a script in normal form.
    Fmt {
        /// A `.dfs` script or a data flow resource (`.json`).
        file: PathBuf,
    },
    /// Show the first rows at one step, read from the flow's real sources.
    Preview {
        /// A data flow resource in a factory's `dataflow/` folder.
        file: PathBuf,
        /// The step (`Name`, or `Split@output`).
        #[arg(long)]
        step: String,
        /// How many rows.
        #[arg(long, default_value_t = 10)]
        rows: usize,
        /// The factory folder; by default the folder above the file's `dataflow/`.
        #[arg(long)]
        factory: Option<PathBuf>,
        /// Print JSON Lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a subcommand.
pub fn run(cmd: DataflowCommand) -> ExitCode {
    match cmd {
        DataflowCommand::Check { files } => check(&files),
        DataflowCommand::Fmt { file } => fmt(&file),
        DataflowCommand::Preview {
            file,
            step,
            rows,
            factory,
            json,
        } => preview(&file, &step, rows, factory, json),
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        let flow = match dataflow::read_file(file) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        let (script, problems) = dataflow::check(&flow.source.text);
        for p in &problems {
            eprintln!("{}\n", p.render(&flow.source));
        }
        let errors = problems.iter().filter(|p| !p.warning).count();
        if errors > 0 {
            failed = true;
            println!(
                "{}: {errors} error{}",
                file.display(),
                if errors == 1 { "" } else { "s" }
            );
        } else {
            println!(
                "{}: ok ({} steps, {} warnings)",
                file.display(),
                script.statements.len(),
                problems.len()
            );
        }
    }
    if failed {
        ExitCode::from(INVALID_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn fmt(file: &Path) -> ExitCode {
    let flow = match dataflow::read_file(file) {
        Ok(f) => f,
        Err(e) => return invalid_input(e),
    };
    let (script, problems) = dataflow::parse_script(&flow.source.text);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{}\n", p.render(&flow.source));
        }
        return ExitCode::from(INVALID_INPUT);
    }
    print!("{}", printer::print_script(&script));
    ExitCode::SUCCESS
}

fn preview(file: &Path, step: &str, rows: usize, factory: Option<PathBuf>, json: bool) -> ExitCode {
    let flow = match dataflow::read_file(file) {
        Ok(f) => f,
        Err(e) => return invalid_input(e),
    };
    let folder = factory.unwrap_or_else(|| {
        let parent = file.parent().unwrap_or(Path::new("."));
        parent.parent().unwrap_or(Path::new(".")).to_path_buf()
    });
    let (loaded, diagnostics) = mdflow_engine::factory::load(&folder);
    if let Some(d) = diagnostics
        .iter()
        .find(|d| d.severity == mdflow_engine::diagnostic::Severity::Error)
    {
        return invalid_input(format!(
            "{}: {}; run `mdflow validate {}`",
            d.file.display(),
            d.message,
            folder.display()
        ));
    }
    let frame = match dataflow::activity::preview(&loaded, &flow.name, step, rows) {
        Ok(f) => f,
        Err(e) => return invalid_input(format!("{}: {}", e.code, e.message)),
    };
    match dataflow::activity::render_rows(&frame, json) {
        Ok(text) => print!("{text}"),
        Err(e) => return invalid_input(e),
    }
    ExitCode::SUCCESS
}
