//! Chronon's config model (SEMANTICS.md §2): the structures of compiled GroupBy, Join and
//! StagingQuery JSON, their parsing and writing, Rust builders, and load-time validation.
//!
//! Configs are read exactly as Chronon's compiler writes them (R-CFG-1 … R-CFG-4): enums as
//! integers (names accepted), booleans as `0`/`1` (`true`/`false` accepted), unknown fields
//! ignored, `null` as unset. Every loader and builder validates; a validated config satisfies
//! the rules of SEMANTICS.md that need no schema.
//!
//! ```
//! use tilefold_query::config::{GroupBy, Operation};
//!
//! let group_by = GroupBy::from_json_str(r#"{
//!     "metaData": {"name": "shop.returns.v1"},
//!     "sources": [{"events": {"table": "data.returns", "query": {
//!         "selects": {"user_id": "user_id", "refund": "refund_amount"}, "timeColumn": "ts"}}}],
//!     "keyColumns": ["user_id"],
//!     "aggregations": [{"inputColumn": "refund", "operation": 7,
//!         "windows": [{"length": 7, "timeUnit": 1}]}]
//! }"#)?;
//! assert_eq!(group_by.aggregations()[0].operation, Operation::Sum);
//! assert_eq!(group_by.output_columns()[0].name, "refund_sum_7d");
//! # Ok::<(), tilefold_query::config::ConfigError>(())
//! ```

mod aggregation;
mod builder;
mod columns;
mod data_type;
mod enums;
mod error;
mod group_by;
mod join;
mod join_parts;
mod json;
mod load;
mod meta_data;
mod parse;
mod query;
mod source;
mod staging;
mod validate;

pub use aggregation::{Aggregation, Window};
pub use builder::{GroupByBuilder, JoinBuilder};
pub use columns::{ColumnOrigin, JoinColumn, OutputColumn, Serving};
pub use data_type::{DataField, TDataType};
pub use enums::{Accuracy, DataKind, Operation, TimeUnit};
pub use error::{ArgError, ConfigError};
pub use group_by::{Derivation, GroupBy};
pub use join::Join;
pub use join_parts::{
    BootstrapPart, ExternalPart, ExternalSource, FactoryConfig, JoinPart, LabelPart,
};
pub use json::OrderedMap;
pub use load::{load_file, load_path, load_production_dir, ConfigSet, MAX_CONFIG_BYTES};
pub use meta_data::MetaData;
pub use parse::{Config, ConfigKind};
pub use query::{
    Query, DEFAULT_MUTATION_TIME_COLUMN, DEFAULT_PARTITION_COLUMN, DEFAULT_REVERSAL_COLUMN,
    TIME_COLUMN,
};
pub use source::{DataModel, EntitySource, EventSource, JoinSource, Source};
pub use staging::StagingQuery;
