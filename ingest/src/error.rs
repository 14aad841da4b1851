//! Errors of reading and preparing input rows.

use std::path::PathBuf;

use tilefold_query::aggregate::AggregationError;
use tilefold_query::config::ConfigError;

/// Why input rows could not be loaded. Every variant names the file, table or config at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A file that is not readable Parquet (missing, truncated, corrupt).
    #[error("{file}: not a readable Parquet file: {reason}")]
    Parquet { file: PathBuf, reason: String },
    /// Files of one load whose schemas differ.
    #[error("{file}: schema differs from the first file of this load: {reason}")]
    SchemaMismatch { file: PathBuf, reason: String },
    /// The partition column is missing or not a date string.
    #[error("table {table}: {reason}")]
    Partition { table: String, reason: String },
    /// A source query that does not bind against the table (unknown or mistyped column).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A source query that failed while running over rows.
    #[error("config {config}, table {table}, partition {partition}: {reason}")]
    Query {
        config: String,
        table: String,
        partition: String,
        reason: String,
    },
    /// No registered GroupBy reads the topic.
    #[error("topic {topic}: no registered GroupBy reads this topic")]
    UnknownTopic { topic: String },
    /// Live rows that cannot be ingested into a topic: a row that does not decode, a column of the wrong type.
    #[error("topic {topic}: {reason}")]
    Topic { topic: String, reason: String },
    /// A live row whose time lies further in the future than the allowed clock skew; the whole
    /// batch is rejected.
    #[error("topic {topic}: a row with ts {ts} is more than {skew_ms} ms ahead of the clock ({now}) for group-by {group_by}")]
    FutureTimestamp {
        topic: String,
        group_by: String,
        ts: i64,
        now: i64,
        skew_ms: i64,
    },
    /// Folding rows into tiles failed.
    #[error("config {config}: {source}")]
    Aggregation {
        config: String,
        source: AggregationError,
    },
}
