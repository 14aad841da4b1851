//! Errors of evaluating features.

use crate::aggregate::{AggregationError, DecodeError};

/// Why a feature value could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The store's bytes could not be read (I/O, corruption), as reported by the data source.
    #[error(transparent)]
    Storage(#[from] tilefold_storage::StorageError),
    /// Folding or merging failed (R-AGG-7 tensors, sketch parameters).
    #[error(transparent)]
    Aggregation(#[from] AggregationError),
    /// A stored tile whose bytes do not decode for this GroupBy.
    #[error(
        "corrupted tile of group-by {group_by}, key {key}, level {level}, start {start}: {source}"
    )]
    Tile {
        group_by: String,
        key: String,
        level: &'static str,
        start: i64,
        source: DecodeError,
    },
    /// The GroupBy's rows lack a column the evaluation needs.
    #[error("group-by {group_by}: {reason}")]
    Unsupported { group_by: String, reason: String },
}
