//! The top-level error every operation family converts into.

use tilefold_query::aggregate::{AggregationError, DecodeError};
use tilefold_query::config::ConfigError;

/// What went wrong, by operation family.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A config that does not load or validate: names the config, the field and the reason.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An aggregation that cannot be set up over its input, or cannot fold a value.
    #[error(transparent)]
    Aggregation(#[from] AggregationError),
    /// Stored state that does not decode.
    #[error(transparent)]
    Corrupted(#[from] DecodeError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
