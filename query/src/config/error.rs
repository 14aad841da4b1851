//! Errors of the config model: reading, parsing and validating Chronon configs.

use std::path::PathBuf;

use super::ConfigKind;

/// Why a config could not be read, parsed or accepted.
///
/// Validation errors name the config, the field path inside it and the reason, e.g.
/// `config shop.purchases.v1, aggregations[4].argMap.k: k needs to be specified in the argMap for
/// LAST_K type`. Errors of a file loaded from disk are wrapped in [`ConfigError::File`], which
/// prefixes the file path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A config file is larger than [`MAX_CONFIG_BYTES`](super::MAX_CONFIG_BYTES).
    #[error("{} holds {size} bytes, more than the {limit} bytes a config may have", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The text is not JSON.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// The JSON is not a valid config: a field has the wrong type or value, or a rule of
    /// SEMANTICS.md §2 is broken.
    #[error("config {config}{}: {reason}", field_part(field))]
    Invalid {
        /// `metaData.name` of the top-level config, or `<unnamed Kind>`.
        config: String,
        /// Path of the offending field, e.g. `joinParts[0].groupBy.keyColumns`; empty for the
        /// config as a whole.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// An error in a file, prefixed with its path.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The error inside it.
        #[source]
        source: Box<ConfigError>,
    },
    /// A file whose kind could be told neither from its path nor from its JSON shape.
    #[error(
        "{}: cannot tell whether this is a GroupBy, Join or StagingQuery (put it under \
         group_bys/, joins/ or staging_queries/)",
        path.display()
    )]
    UnknownKind {
        /// The file.
        path: PathBuf,
    },
    /// Two files hold configs of one kind with the same `metaData.name`.
    #[error("two {kind} configs are named {name}: {} and {}", first.display(), second.display())]
    DuplicateName {
        /// The kind of both configs.
        kind: ConfigKind,
        /// The shared name.
        name: String,
        /// The file loaded first.
        first: PathBuf,
        /// The file loaded second.
        second: PathBuf,
    },
}

fn field_part(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(", {field}")
    }
}

impl ConfigError {
    /// Wraps this error with the path of the file it came from.
    pub(crate) fn in_file(self, path: impl Into<PathBuf>) -> Self {
        ConfigError::File {
            path: path.into(),
            source: Box::new(self),
        }
    }
}

/// A malformed `argMap` value of an [`Aggregation`](super::Aggregation) (R-AGG-9).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgError {
    /// `k` is not a decimal 32-bit integer.
    #[error("k must be a decimal integer, got {0:?}")]
    KNotAnInteger(String),
    /// `percentiles` is not a JSON list of numbers.
    #[error("percentiles must be a JSON list of numbers, got {0:?}")]
    PercentilesNotAList(String),
}
