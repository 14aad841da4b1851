//! tilefold's rows in: Parquet readers, partitions, source queries applied to a table's rows
//! (selects, wheres, time columns), and folding rows into tiles (DESIGN.md "Data flow").
//!
//! It sits between the facade and the semantics: `tilefold → tilefold-ingest → tilefold-query`.
//! The facade decides what to load and where to keep it; this crate turns input rows into the
//! rows and tiles the store keeps.
//!
//! ```
//! use tilefold_ingest::kept_from;
//! // Five-minute tiles for the last 12 hours, hourly tiles from midnight 12 days before the
//! // newest event's day, daily tiles always.
//! let newest = 1_703_030_400_000 + 5 * 3_600_000; // 2023-12-20T05:00Z
//! let kept = kept_from(Some(newest));
//! assert_eq!(kept[0], newest - 12 * 3_600_000);
//! assert_eq!(kept[1], 1_703_030_400_000 - 12 * 86_400_000);
//! assert_eq!(kept[2], i64::MIN);
//! ```

#![forbid(unsafe_code)]

mod error;
pub mod order;
mod parallel;
mod parquet;
mod partition;
mod rows;
mod tiles;

pub use error::IngestError;
pub use parallel::par_map;
pub use parquet::{parquet_batches, read_parquet, BATCH_ROWS};
pub use partition::{split_partitions, Partitions};
pub use rows::{key_column_type, sort_by_key_and_ts, Role, RowCounts, SourceRows, Trace};
pub use tiles::{fold_tiles, kept_from, key_ranges};
