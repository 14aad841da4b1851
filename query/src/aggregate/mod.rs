//! The aggregation algebra (SEMANTICS.md §3): for each of Chronon's 20 operations, the accepted
//! input types, an intermediate representation ([`Ir`]), update, delete where deletable, merge,
//! finalize, and a versioned byte encoding.
//!
//! - [`AggregationPart`] folds one aggregation over one bucket (or none): it checks input types,
//!   flattens lists, splits maps per key, handles elementWise lists and buckets.
//! - [`RowAggregator`] holds every part of one GroupBy and works on Arrow batches.

mod codec;
mod distinct;
mod error;
mod histogram;
mod input;
mod ir;
mod kernel;
mod moments;
mod numeric;
mod ordered;
mod part;
mod percentile;
mod row;
mod scalar;

pub use codec::{MergeEncodedError, FORMAT_VERSION};
pub use error::{AggregationError, DecodeError};
pub use ir::{DistinctItem, DistinctRef, Ir};
pub use moments::Moments;
pub use part::{AggregationPart, PartArgs};
pub use row::{AggregateColumn, RowAggregator};
pub use scalar::Scalar;
