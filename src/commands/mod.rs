//! One module per subcommand. Exit codes: 0 success, 1 a run failed, 2 invalid input.

pub mod catalog;
pub mod consent;
pub mod dataflow;
pub mod eval;
pub mod run;
pub mod runs;
pub mod tenant;
pub mod validate;

use std::process::ExitCode;

/// Invalid input: a definition, a file or an argument that mdflow cannot use.
pub const INVALID_INPUT: u8 = 2;
/// A run that started and failed.
pub const RUN_FAILED: u8 = 1;

/// Logs go to stderr through `tracing`; `RUST_LOG` sets the level (default: info).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Prints an input error the same way for every command and returns exit status 2.
pub fn invalid_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(INVALID_INPUT)
}
