//! The top-level error every operation family converts into.

use tilefold_ingest::IngestError;
use tilefold_query::aggregate::{AggregationError, DecodeError};
use tilefold_query::config::ConfigError;
use tilefold_query::evaluate::EvalError;
use tilefold_storage::StorageError;

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
    /// The store's files: I/O, a second writer (`Locked`), corruption naming the file or tile.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Input rows that cannot be loaded: names the file, table, partition or config.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A feature value that could not be computed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A commit failed earlier (an I/O error, a full disk): the store accepts no more changes
    /// until it is reopened, which recovers the last committed state.
    #[error("the store stopped accepting changes after a failed commit ({0}); reopen it")]
    Latched(String),
    /// A request that cannot be served: unknown join or group-by, missing keys, bad input.
    #[error("{0}")]
    Request(String),
}

impl Error {
    /// An I/O failure on `path`, as a function for `map_err`.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_owned();
        move |source| Error::Storage(StorageError::Io { path, source })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
