//! tilefold's bytes on disk.
//!
//! This crate knows nothing of aggregations: it stores opaque, checksummed bytes. It will hold
//! the redb tables, the memory-mapped event segments and the file-system seam used by
//! fault-injection tests (DESIGN.md "On disk"); today it holds the checksum framing every stored
//! value uses.
//!
//! ```
//! use tilefold_storage::{seal, unseal};
//!
//! let mut stored = b"ir bytes".to_vec();
//! seal(&mut stored, 0);
//! assert_eq!(unseal(&stored)?, b"ir bytes");
//! stored[0] ^= 1;
//! assert!(unseal(&stored).is_err());
//! # Ok::<(), tilefold_storage::ChecksumError>(())
//! ```

#![forbid(unsafe_code)]

mod checksum;

pub use checksum::{seal, unseal, ChecksumError};
