//! tilefold's events in: Parquet, Arrow and JSON-lines readers, source queries (selects, wheres,
//! time columns), validation, tile folding and the live writer (DESIGN.md "Data flow").
//!
//! It sits between the facade and the semantics: `tilefold → tilefold-ingest → tilefold-query`.
//! The readers arrive with bulk load; today the crate re-exports the row aggregator it folds
//! batches with.

#![forbid(unsafe_code)]

pub use tilefold_query::aggregate::RowAggregator;
