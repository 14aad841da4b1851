//! The one error type of this crate: every failure names the file, tile or table it concerns.

use std::path::PathBuf;

/// What went wrong in storage, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A file-system operation failed on `path`.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another open handle (this process or another) holds the store's LOCK.
    #[error("{path}: the store is open for writing in another process (pid in LOCK: {holder})")]
    Locked { path: PathBuf, holder: String },
    /// Stored bytes fail their checksum or do not decode. `what` names the segment file or tile,
    /// e.g. `segment segments/x/1.arrow` or
    /// `tile group-by shop.purchases.v1, key 0x0102, level 1, start 1703030400000`.
    #[error("corrupted {what}: {detail}")]
    Corrupted { what: String, detail: String },
    /// The store was written by a build with another on-disk format.
    #[error("{path}: store format version {found}, this build reads version {expected}")]
    FormatVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// A value this crate was asked to store breaks a rule of its layout, e.g. a five-minute
    /// tile whose start is not a multiple of five minutes. `what` names the value.
    #[error("cannot store {what}: {detail}")]
    Invalid { what: String, detail: String },
    /// A redb error, stringified with what was being done.
    #[error("database: {0}")]
    Database(String),
    /// A record batch could not be encoded as an Arrow IPC segment (e.g. an unsupported type).
    #[error("{path}: cannot encode segment: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
}

/// `Result` with [`StorageError`] as the default error.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.into(),
            source,
        }
    }

    /// Corruption of `what`, described by `detail`.
    pub(crate) fn corrupted(what: impl Into<String>, detail: impl Into<String>) -> Self {
        StorageError::Corrupted {
            what: what.into(),
            detail: detail.into(),
        }
    }
}
