//! The `tilefold` command line.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tilefold::{analyze, json_to_value, load_path, BackfillOptions, ConfigSet, Left, Store};

mod cli {
    pub mod ingest;
}

/// tilefold: an embedded feature store with Chronon's semantics.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The store directory (created if missing).
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    /// The most memory the database's page cache may hold, in MiB (default 1024).
    #[arg(long, global = true, value_name = "MIB")]
    cache_mb: Option<usize>,
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
    /// Register compiled configs (files or directories) in the store.
    Apply {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Bulk-load Parquet files into a source table, e.g. `data.purchases`.
    Load {
        table: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Ingest JSON lines, one event object per line, into a live topic.
    ///
    /// Lines are read from FILE, or from stdin when FILE is `-` or missing, and sent in batches
    /// of --batch-rows rows; each batch is durable once sent. Blank lines are skipped. On a
    /// terminal, stderr shows the lines read and the events ingested per second.
    ///
    /// Malformed lines: a line that is not a JSON object, or that the store rejects (e.g. a value
    /// of the wrong type, a time more than 10 minutes ahead of the clock), is reported on stderr
    /// as `line N: reason` and skipped; the other lines are ingested and the exit status is 0.
    /// With --strict the command stops at the first malformed line with exit status 1: the lines
    /// before it (earlier batches, and the rows before it in its batch) stay ingested, none after
    /// it is.
    ///
    /// Prints `ingested N rows into TOPIC (K late, S skipped lines) in X.XXs (R rows/s)` and the
    /// rows each GroupBy kept.
    Ingest {
        /// The topic, as GroupBy sources name it (`/k=v` arguments are ignored).
        topic: String,
        /// A file of JSON lines; `-` or none: stdin.
        file: Option<PathBuf>,
        /// Stop at the first malformed line (exit status 1) instead of skipping it.
        #[arg(long)]
        strict: bool,
        /// Rows per batch; each batch is one durable commit.
        #[arg(long, value_name = "N", default_value = "10000")]
        batch_rows: NonZeroUsize,
        /// Resume safely after a crash: skip the lines producer ID already committed.
        ///
        /// Each batch carries producer ID and the line number of its last line, and the store
        /// remembers the highest one it committed for ID. A run with an ID the store knows
        /// skips the lines up to that number, so re-running the same command after a crash
        /// resumes where the crashed run stopped and ingests no line twice. This is safe only if
        /// the input is the same: the same lines at the same line numbers (lines appended at the
        /// end are fine). Use a new ID for other input: with a used ID, its first lines would be
        /// skipped.
        #[arg(long, value_name = "ID")]
        producer: Option<String>,
        /// Reject (and count as late) rows older than their GroupBy's newest row by more than
        /// this many milliseconds. Default: any lateness is accepted.
        #[arg(long, value_name = "MILLIS")]
        max_lateness: Option<i64>,
        /// Reject rows more than this many milliseconds ahead of the clock.
        #[arg(long, value_name = "MILLIS", default_value = "600000")]
        max_future_skew: i64,
    },
    /// Seal the live rows into segments and tiles (the store also does this on its own once
    /// enough rows wait), then merge stream segments until few are left. Values do not change.
    Compact,
    /// Check every stored tile against the tile rebuilt from its raw rows.
    Check,
    /// Backfill a join into a Parquet file.
    Backfill {
        /// The join, `team/name.v1` or `team.name.v1`.
        join: String,
        #[arg(long)]
        out: PathBuf,
        /// Raw left-table rows; without it, the loaded left table.
        #[arg(long)]
        left: Option<PathBuf>,
        #[arg(long)]
        start_ds: Option<String>,
        #[arg(long)]
        end_ds: Option<String>,
        /// Left rows evaluated together (rows of one key share tile reads); memory grows with
        /// it.
        #[arg(long, value_name = "N", default_value = "65536")]
        batch_rows: NonZeroUsize,
    },
    /// Fetch features as JSON: of a join, or of a group-by with `--group-by`.
    Fetch {
        /// The join, `team/name.v1` or `team.name.v1`.
        join: Option<String>,
        #[arg(long)]
        group_by: Option<String>,
        /// The keys as a JSON object, e.g. `{"user_id": "u7"}`.
        #[arg(long)]
        keys: String,
        /// The query time in epoch milliseconds (default: now).
        #[arg(long)]
        at: Option<i64>,
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

fn load_configs(paths: &[PathBuf]) -> Result<ConfigSet, String> {
    let mut configs = ConfigSet::new();
    for path in paths {
        let loaded = load_path(path).map_err(|e| e.to_string())?;
        configs.group_bys.extend(loaded.group_bys);
        configs.joins.extend(loaded.joins);
        configs.staging_queries.extend(loaded.staging_queries);
    }
    Ok(configs)
}

fn open(store: Option<PathBuf>, cache_mb: Option<usize>) -> Result<Store, String> {
    open_with(store, cache_mb, tilefold::Options::default())
}

/// Opens the store with `options`, and `--cache-mb` if given.
fn open_with(
    store: Option<PathBuf>,
    cache_mb: Option<usize>,
    mut options: tilefold::Options,
) -> Result<Store, String> {
    let dir = store.ok_or("this command needs --store DIR")?;
    if let Some(mb) = cache_mb {
        options.cache_bytes = mb.saturating_mul(1 << 20);
    }
    Store::open_with_options(dir, options).map_err(|e| e.to_string())
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Analyze { paths, json } => {
            let report = analyze(&load_configs(&paths)?);
            if json {
                let text =
                    serde_json::to_string_pretty(report.to_json()).map_err(|e| e.to_string())?;
                println!("{text}");
            } else {
                print!("{report}");
            }
        }
        Command::Apply { paths } => {
            let configs = load_configs(&paths)?;
            let store = open(cli.store, cli.cache_mb)?;
            store.apply(&configs).map_err(|e| e.to_string())?;
            println!(
                "applied {} group-bys, {} joins",
                configs.group_bys.len(),
                configs.joins.len()
            );
        }
        Command::Load { table, files } => {
            let store = open(cli.store, cli.cache_mb)?;
            let report = store
                .load_parquet(&table, &files)
                .map_err(|e| e.to_string())?;
            print!("{report}");
        }
        Command::Ingest {
            topic,
            file,
            strict,
            batch_rows,
            producer,
            max_lateness,
            max_future_skew,
        } => {
            let options = tilefold::Options {
                max_lateness_ms: max_lateness,
                max_future_skew_ms: max_future_skew,
                ..tilefold::Options::default()
            };
            let store = open_with(cli.store, cli.cache_mb, options)?;
            let args = cli::ingest::IngestArgs {
                topic,
                file,
                strict,
                batch_rows,
                producer,
            };
            cli::ingest::run(&store, args)?;
        }
        Command::Compact => {
            let store = open(cli.store, cli.cache_mb)?;
            let mut report = store.compact().map_err(|e| e.to_string())?;
            // Then the segments of full-size seals, which seals leave for idle time.
            loop {
                let merged = store.merge_segments().map_err(|e| e.to_string())?;
                if merged == 0 {
                    break;
                }
                report.merged += merged;
            }
            println!(
                "sealed {} rows of {} group-bys; {} tiles written or merged, {} fine tiles removed, \
                 {} stream segments merged away",
                report.group_bys.values().sum::<usize>(),
                report.group_bys.len(),
                report.tiles,
                report.trimmed,
                report.merged
            );
            for (name, rows) in &report.group_bys {
                println!("  {name}: {rows} rows sealed");
            }
        }
        Command::Check => {
            let store = open(cli.store, cli.cache_mb)?;
            let report = store.check().map_err(|e| e.to_string())?;
            println!(
                "checked {} tiles of {} group-bys: ok",
                report.tiles, report.group_bys
            );
        }
        Command::Backfill {
            join,
            out,
            left,
            start_ds,
            end_ds,
            batch_rows,
        } => {
            let store = open(cli.store, cli.cache_mb)?;
            let options = BackfillOptions {
                start_ds,
                end_ds,
                batch_rows: batch_rows.get(),
            };
            let left = left.map_or(Left::Table, Left::Parquet);
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {pos} rows {per_sec} {elapsed}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar
            });
            let report = store
                .backfill_to_parquet(&join, left, &out, &options, &mut |rows| {
                    if let Some(bar) = &bar {
                        bar.set_position(rows as u64);
                    }
                })
                .map_err(|e| e.to_string())?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            println!(
                "wrote {} rows ({} left rows read) to {}",
                report.rows,
                report.left_rows,
                out.display()
            );
        }
        Command::Fetch {
            join,
            group_by,
            keys,
            at,
        } => {
            let parsed: serde_json::Value =
                serde_json::from_str(&keys).map_err(|e| format!("--keys: not JSON: {e}"))?;
            let serde_json::Value::Object(object) = parsed else {
                return Err("--keys: expected a JSON object, e.g. {\"user_id\": \"u7\"}".into());
            };
            let keys: BTreeMap<String, tilefold::Value> = object
                .iter()
                .map(|(k, v)| (k.clone(), json_to_value(v)))
                .collect();
            let store = open(cli.store, cli.cache_mb)?;
            let features = match (join, group_by) {
                (Some(join), None) => store.fetch_join(&join, &keys, at),
                (None, Some(group_by)) => store.fetch_group_by(&group_by, &keys, at),
                _ => return Err("fetch: give either JOIN or --group-by NAME".into()),
            }
            .map_err(|e| e.to_string())?;
            let text =
                serde_json::to_string_pretty(&features.to_json()).map_err(|e| e.to_string())?;
            println!("{text}");
        }
    }
    Ok(())
}
