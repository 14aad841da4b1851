//! tilefold: an embedded feature store with Chronon's semantics.
//!
//! tilefold reads Chronon's compiled feature definitions (GroupBys, Joins, StagingQueries)
//! unchanged, and computes their features with the same aggregation algebra online and offline.
//! The crates below this facade are the architecture: `tilefold-ingest` feeds rows in,
//! `tilefold-query` holds the semantics, `tilefold-storage` keeps bytes on disk.
//!
//! One directory is one store: register configs, load tables or stream events into topics, then
//! fetch features (online) or backfill a join (training data); both use the same evaluator.
//! A live ingest is durable and visible to the next fetch when it returns (see [`Store::ingest`],
//! [`Store::send`] for many requests in flight, [`Store::compact`], [`Store::check`]).
//!
//! ```
//! use std::collections::BTreeMap;
//! use tilefold::{load_path, BackfillOptions, Left, Store, Value};
//!
//! # fn main() -> tilefold::Result<()> {
//! let root = env!("CARGO_MANIFEST_DIR");
//! # let dir = std::env::temp_dir().join(format!("tilefold-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let store = Store::open(&dir)?;
//! store.apply(&load_path(format!("{root}/query/tests/fixtures/production"))?)?;
//! for table in ["purchases", "checkouts"] {
//!     let file = format!("{root}/query/tests/fixtures/data/{table}.parquet");
//!     store.load_parquet(&format!("data.{table}"), &[file])?;
//! }
//! let keys = BTreeMap::from([("user_id".to_string(), Value::String("u7".into()))]);
//! let features = store.fetch_group_by("shop.purchases.v1", &keys, Some(1_793_448_000_000))?;
//! assert!(features.get("price_count_30d").is_some());
//!
//! let rows: usize = store
//!     .backfill("shop/checkout.v1", Left::Table, &BackfillOptions::default())?
//!     .map(|batch| batch.map(|b| b.num_rows()))
//!     .sum::<tilefold::Result<usize>>()?;
//! assert_eq!(rows, 2000);
//!
//! // A purchase streamed now is in the very next fetch (the GroupBy reads events/purchases).
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
//! let now = now.as_millis() as i64;
//! let purchase = serde_json::json!({"user_id": "u7", "merchant": "m1", "purchase_price": 20.0,
//!                                   "merchant_fee_percent": 5.0, "ts": now - 60_000});
//! store.ingest_json("events/purchases", vec![purchase])?;
//! let features = store.fetch_group_by("shop.purchases.v1", &keys, Some(now))?;
//! assert_eq!(features.get("price_count_3d"), Some(&Value::Long(1)));
//! # drop(store);
//! # std::fs::remove_dir_all(&dir).ok();
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
pub use store::{
    Backfill, BackfillOptions, BackfillReport, CheckReport, Features, IngestReport, IngestRequest,
    Left, LoadReport, Options, Pending, Rows, SealReport, Store,
};
pub use tilefold_ingest::{IngestError, RowCounts};
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
