//! `mdflow catalog list|show|check`: the datasets mdflow can extract and their schemas.

use std::path::PathBuf;
use std::process::ExitCode;

use mdflow_connectors::catalog::{Catalog, DateFilter, Scope, Table};
use mdflow_connectors::columnar::check_row;
use mdflow_connectors::text;
use serde_json::json;

use super::invalid_input;

/// Problems listed per file before the rest are only counted.
const PROBLEMS_SHOWN_PER_FILE: usize = 50;

/// The catalog subcommands.
#[derive(clap::Subcommand)]
pub enum CatalogCommand {
    /// List every table with its scope and date-filter rule.
    List,
    /// Show a table's columns, types and date-filter columns.
    Show {
        /// The table, such as BasicDataSet_v0.Message_v1 (the prefix may be left out).
        table: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check JSON Lines files against a table's schema.
    Check {
        /// The table the files claim to hold.
        table: String,
        /// JSON Lines files (UTF-8, or UTF-16 with a byte-order mark).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs a catalog subcommand.
pub fn run(command: CatalogCommand) -> ExitCode {
    let catalog = Catalog::builtin();
    match command {
        CatalogCommand::List => {
            println!(
                "{:<48} {:<6} {:<12} columns",
                "table", "scope", "date filter"
            );
            for table in catalog.tables() {
                println!(
                    "{:<48} {:<6} {:<12} {}",
                    table.name,
                    scope_name(table.scope),
                    filter_name(table.date_filter),
                    table.columns.len()
                );
            }
            ExitCode::SUCCESS
        }
        CatalogCommand::Show { table, json } => match find(catalog, &table) {
            Ok(table) if json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&table_json(table)).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Ok(table) => {
                print_table(table);
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        CatalogCommand::Check { table, files } => match find(catalog, &table) {
            Ok(table) => check_files(table, &files),
            Err(code) => code,
        },
    }
}

fn find<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a Table, ExitCode> {
    catalog.table(name).ok_or_else(|| {
        let hint = match catalog.suggest(name) {
            Some(close) => format!("did you mean {close}? "),
            None => String::new(),
        };
        invalid_input(format!(
            "unknown table `{name}`; {hint}`mdflow catalog list` shows every table"
        ))
    })
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::User => "user",
        Scope::Group => "group",
    }
}

fn filter_name(filter: DateFilter) -> &'static str {
    match filter {
        DateFilter::Column => "required",
        DateFilter::Window => "window",
        DateFilter::None => "none",
    }
}

fn print_table(table: &Table) {
    println!("{}", table.name);
    if !table.aliases.is_empty() {
        println!("  also named: {}", table.aliases.join(", "));
    }
    println!("  scope: {}", scope_name(table.scope));
    match table.date_filter {
        DateFilter::Column => println!(
            "  date filter: required, on one of {}",
            table.filter_columns.join(", ")
        ),
        DateFilter::Window => {
            println!("  date filter: startTime and endTime required (no column), at most 1825 days")
        }
        DateFilter::None => println!("  date filter: none"),
    }
    println!("  documented in: {}", table.source);
    println!("  columns:");
    let width = table
        .columns
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for column in &table.columns {
        println!("    {:<width$}  {}", column.name, column.ty);
    }
}

fn table_json(table: &Table) -> serde_json::Value {
    json!({
        "name": table.name,
        "aliases": table.aliases,
        "scope": scope_name(table.scope),
        "dateFilter": {
            "required": table.date_filter != DateFilter::None,
            "kind": filter_name(table.date_filter),
            "columns": table.filter_columns,
        },
        "columns": table.columns.iter().map(|c| json!({
            "name": c.name,
            "type": c.ty.to_string(),
            "polarsType": format!("{:?}", c.ty.to_polars()),
        })).collect::<Vec<_>>(),
        "source": table.source,
    })
}

fn check_files(table: &Table, files: &[PathBuf]) -> ExitCode {
    let (mut read, mut conforming) = (0usize, 0usize);
    for path in files {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => return invalid_input(format!("cannot read {}: {e}", path.display())),
        };
        let input = match text::decode(&bytes) {
            Ok(input) => input,
            Err(e) => return invalid_input(format!("{}: {e}", path.display())),
        };
        let (mut file_read, mut file_ok, mut shown) = (0usize, 0usize, 0usize);
        for (i, line) in input.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            file_read += 1;
            let problems = match serde_json::from_str(line) {
                Ok(row) => check_row(table, &row)
                    .into_iter()
                    .map(|p| p.to_string())
                    .collect(),
                Err(e) => vec![format!("not JSON: {e}")],
            };
            if problems.is_empty() {
                file_ok += 1;
            }
            for problem in problems {
                shown += 1;
                if shown <= PROBLEMS_SHOWN_PER_FILE {
                    println!("{}:{}: {problem}", path.display(), i + 1);
                }
            }
        }
        if shown > PROBLEMS_SHOWN_PER_FILE {
            println!(
                "{}: … and {} more problems",
                path.display(),
                shown - PROBLEMS_SHOWN_PER_FILE
            );
        }
        println!(
            "{}: {file_read} rows read, {file_ok} conform to {}",
            path.display(),
            table.name
        );
        read += file_read;
        conforming += file_ok;
    }
    if files.len() > 1 {
        println!("total: {read} rows read, {conforming} conform");
    }
    if read == conforming {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::INVALID_INPUT)
    }
}
