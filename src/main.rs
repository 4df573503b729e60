//! The `mdflow` command line: validate and run ADF factories on Microsoft 365 data locally.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Runs Azure Data Factory pipelines and mapping data flows for Microsoft 365 data locally.
#[derive(Parser)]
#[command(name = "mdflow", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every definition of a factory folder and report all problems at once.
    Validate(commands::validate::ValidateArgs),
    /// Inspect the Microsoft Graph Data Connect dataset catalog.
    #[command(subcommand)]
    Catalog(commands::catalog::CatalogCommand),
    /// Generate a synthetic tenant's datasets as JSON Lines files.
    #[command(subcommand)]
    Tenant(commands::tenant::TenantCommand),
    /// Run a pipeline of a factory.
    Run(commands::run::RunArgs),
    /// Read the records of earlier runs.
    #[command(subcommand)]
    Runs(commands::runs::RunsCommand),
    /// Decide data access requests for Office 365 copies.
    #[command(subcommand)]
    Consent(commands::consent::ConsentCommand),
    /// Check mapping data flow scripts and print them in normal form.
    #[command(subcommand)]
    Dataflow(commands::dataflow::DataflowCommand),
    /// Evaluate one data flow expression.
    Eval(commands::eval::EvalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::init_logging();
    match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Catalog(cmd) => commands::catalog::run(cmd),
        Command::Tenant(cmd) => commands::tenant::run(cmd),
        Command::Run(args) => commands::run::run(args),
        Command::Runs(cmd) => commands::runs::run(cmd),
        Command::Consent(cmd) => commands::consent::run(cmd),
        Command::Dataflow(cmd) => commands::dataflow::run(cmd),
        Command::Eval(args) => commands::eval::run(args),
    }
}
