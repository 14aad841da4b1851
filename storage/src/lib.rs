//! tilefold's bytes on disk.
//!
//! This crate knows nothing of aggregations: it stores opaque, checksummed bytes under typed
//! keys (DESIGN.md "On disk"):
//!
//! - [`Database`]: `<store>/tilefold.redb`, the configs, catalog and tiles, in redb
//!   transactions ([`WriteTxn`], [`ReadTxn`]); every catalog entry and tile is sealed with a
//!   checksum ([`seal`], [`unseal`]) and verified on read; `<store>/head.redb`
//!   ([`Database::open_head`]), the live rows not yet sealed.
//! - [`Segment`]: `<store>/segments/<table>/<id>.arrow`, sealed event segments (an Arrow IPC
//!   file and a checksummed trailer) written with [`write_segment`] and read memory-mapped.
//! - [`StoreLock`]: `<store>/LOCK`, one writing handle at a time.
//! - [`FileSystem`]: the seam every file write goes through ([`write_atomic`]), so tests can
//!   inject faults ([`FailingFileSystem`]); [`remove_unreferenced`] collects garbage.
//!   [`FaultInjector`] also covers the database file ([`Database::open_with`]): an error or a
//!   power cut ([`Fault`]) at any write or sync of a store.
//!
//! Untrusted bytes never panic: a damaged file or value is [`StorageError::Corrupted`] naming
//! the segment or tile.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, StringArray};
//! use arrow::record_batch::RecordBatch;
//! use tilefold_storage::{write_segment, RealFileSystem, Segment};
//!
//! let dir = std::env::temp_dir().join(format!("tilefold-storage-doctest-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let batch = RecordBatch::try_from_iter([
//!     ("user", Arc::new(StringArray::from(vec!["ada", "bob"])) as _),
//!     ("ts", Arc::new(Int64Array::from(vec![1_703_030_400_000, 1_703_030_460_000])) as _),
//! ])?;
//! let path = dir.join("1.arrow");
//! let size = write_segment(&RealFileSystem, &path, &batch)?;
//!
//! let segment = Segment::open(&path)?;
//! assert_eq!(segment.batch(), &batch);
//! assert_eq!(segment.file_size(), size);
//! # drop(segment);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(unsafe_code)]

mod checksum;
mod database;
mod error;
mod fault;
mod fs;
mod gc;
mod lock;
mod segment;

pub use checksum::{seal, unseal, ChecksumError};
pub use database::{
    Database, Layout, ReadTxn, WriteTxn, DATABASE_FILE_NAME, DEFAULT_CACHE_BYTES, FINE_LEVEL,
    FINE_TILE_MILLIS, FORMAT_VERSION, HEAD_DATABASE_FILE_NAME, START_FIRST_LEVELS,
    START_FIRST_MILLIS,
};
pub use error::{Result, StorageError};
pub use fault::{Fault, FaultInjector};
pub use fs::{write_atomic, FailingFileSystem, FileSystem, RealFileSystem};
pub use gc::remove_unreferenced;
pub use lock::{StoreLock, LOCK_FILE_NAME};
pub use segment::{write_segment, Segment};
