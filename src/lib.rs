//! tilefold: an embedded feature store with Chronon's semantics.
//!
//! tilefold reads Chronon's compiled feature definitions (GroupBys, Joins, StagingQueries)
//! unchanged, and computes their features with the same aggregation algebra online and offline.
//! The crates below this facade are the architecture: `tilefold-ingest` feeds rows in,
//! `tilefold-query` holds the semantics, `tilefold-storage` keeps bytes on disk.
//!
//! ```
//! use tilefold::{analyze, load_path};
//!
//! # fn main() -> tilefold::Result<()> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/query/tests/fixtures/production");
//! let configs = load_path(dir)?;
//! let purchases = &configs.group_bys["shop.purchases.v1"];
//! let columns: Vec<String> = purchases.output_columns().into_iter().map(|c| c.name).collect();
//! assert_eq!(columns[0], "price_sum_3d");
//! let report = analyze(&configs);
//! assert!(report.to_string().contains("shop.checkout.v1"));
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

mod analyze;
mod error;
mod json;
mod store;

pub use analyze::{analyze, Report};
pub use error::{Error, Result};
pub use json::{json_to_value, value_to_json};
pub use store::{BackfillOptions, BackfillReport, Features, Left, LoadReport, Store};
pub use tilefold_query::aggregate::{AggregationError, AggregationPart, Ir, RowAggregator};
pub use tilefold_query::config::{
    load_path, load_production_dir, Aggregation, ConfigError, ConfigSet, GroupBy, Join, Operation,
    StagingQuery, Window,
};
pub use tilefold_query::{DataType, Value};

/// The whole semantic layer, for callers that need more than the facade re-exports.
pub use tilefold_query as query;

/// The bytes on disk, for tools and tests that inspect a store directly.
pub use tilefold_storage as storage;
