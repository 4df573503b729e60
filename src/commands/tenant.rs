//! `mdflow tenant generate`: a synthetic tenant's datasets as the JSON Lines MGDC delivers;
//! `mdflow tenant serve`: the tenant emulator (serve.rs).

mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use mdflow_connectors::catalog::{Catalog, Table};
use mdflow_connectors::tenant::synthetic::generate::generate_to_dir;
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant, SUPPORTED_TABLES};

use super::invalid_input;

/// The tenant subcommands.
#[derive(clap::Subcommand)]
pub enum TenantCommand {
    /// Write a synthetic tenant's tables as JSON Lines, one folder per table.
    Generate(GenerateArgs),
    /// Serve a synthetic tenant over the Microsoft Graph protocol on 127.0.0.1.
    Serve(serve::ServeArgs),
}

/// Arguments of `mdflow tenant generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub tenant: TenantArgs,
    /// Tables to write, comma-separated (default: all the synthetic tenant holds).
    #[arg(long, value_delimiter = ',')]
    pub tables: Vec<String>,
    /// The output folder; one sub-folder per table.
    #[arg(long)]
    pub out: PathBuf,
}

/// What a synthetic tenant holds, as `tenant generate` and `tenant serve` take it.
#[derive(clap::Args)]
pub struct TenantArgs {
    /// Number of valid mailboxes; about 5% each of guests, disabled and unlicensed accounts
    /// are added on top (never extracted).
    #[arg(long, default_value_t = 50, value_parser = positive)]
    pub users: u32,
    /// Messages per mailbox, on average.
    #[arg(long, default_value_t = 20, value_parser = positive)]
    pub messages_per_user: u32,
    /// The seed; the same parameters always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day of the tenant's mail and calendar (YYYY-MM-DD; default 2024-01-01).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day of the tenant's mail and calendar (YYYY-MM-DD; default 2024-12-31).
    #[arg(long)]
    pub to: Option<NaiveDate>,
}

impl TenantArgs {
    /// The tenant's configuration, or what is wrong with the arguments.
    pub fn config(&self) -> Result<SyntheticConfig, String> {
        let defaults = SyntheticConfig::default();
        let config = SyntheticConfig {
            users: self.users,
            messages_per_user: self.messages_per_user,
            seed: self.seed,
            from: self.from.unwrap_or(defaults.from),
            // The command line names the last day; the tenant wants the day after it.
            to: self
                .to
                .map_or(defaults.to, |last| last + chrono::Days::new(1)),
        };
        if config.from >= config.to {
            return Err(format!(
                "--from {} is after --to; give the first day, then the last",
                config.from
            ));
        }
        Ok(config)
    }
}

fn positive(text: &str) -> Result<u32, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n > 0 && n <= i64::from(u32::MAX) => Ok(n as u32),
        Ok(_) => Err(format!("`{text}` must be a whole number of at least 1")),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// Runs a tenant subcommand.
pub fn run(command: TenantCommand) -> ExitCode {
    match command {
        TenantCommand::Generate(args) => generate(args),
        TenantCommand::Serve(args) => serve::serve(args),
    }
}

fn generate(args: GenerateArgs) -> ExitCode {
    let catalog = Catalog::builtin();
    let names: Vec<String> = if args.tables.is_empty() {
        SUPPORTED_TABLES.iter().map(|s| s.to_string()).collect()
    } else {
        args.tables
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut tables: Vec<&Table> = Vec::with_capacity(names.len());
    for name in &names {
        match catalog.table(name) {
            Some(table) => tables.push(table),
            None => {
                return invalid_input(format!(
                    "unknown table `{name}`; `mdflow catalog list` shows every table"
                ))
            }
        }
    }
    let config = match args.tenant.config() {
        Ok(config) => config,
        Err(e) => return invalid_input(e),
    };
    let tenant = match SyntheticTenant::new(config.clone()) {
        Ok(tenant) => tenant,
        Err(e) => return invalid_input(e),
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return invalid_input(format!("cannot create {}: {e}", args.out.display()));
    }
    let window = (
        Utc.from_utc_datetime(&config.from.and_time(chrono::NaiveTime::MIN)),
        Utc.from_utc_datetime(&config.to.and_time(chrono::NaiveTime::MIN)),
    );
    let started = Instant::now();
    match generate_to_dir(&tenant, &tables, Some(window), &args.out) {
        Ok(summary) => {
            let seconds = started.elapsed().as_secs_f64();
            for table in &summary.tables {
                println!(
                    "{:<40} {:>12} rows {:>14} bytes",
                    table.table, table.rows, table.bytes
                );
            }
            println!("written to {} in {seconds:.1}s", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => invalid_input(e),
    }
}
