//! The `tilefold` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tilefold::{analyze, load_path, ConfigSet};

/// tilefold: an embedded feature store with Chronon's semantics.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load compiled Chronon configs (files or `production/` directories), validate them and
    /// print each GroupBy's and Join's output columns.
    Analyze {
        /// Config files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tilefold: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Analyze { paths, json } => {
            let mut configs = ConfigSet::new();
            for path in &paths {
                let loaded = load_path(path).map_err(|e| e.to_string())?;
                configs.group_bys.extend(loaded.group_bys);
                configs.joins.extend(loaded.joins);
                configs.staging_queries.extend(loaded.staging_queries);
            }
            let report = analyze(&configs);
            if json {
                let text =
                    serde_json::to_string_pretty(report.to_json()).map_err(|e| e.to_string())?;
                println!("{text}");
            } else {
                print!("{report}");
            }
            Ok(())
        }
    }
}
