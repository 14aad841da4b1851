//! `<store>/LOCK`: one writing handle at a time. The lock is an advisory whole-file lock
//! (`flock` on Unix) on an open file description, so a second open of the same store fails
//! whether it comes from another process or from this one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};

/// The name of the lock file inside a store directory.
pub const LOCK_FILE_NAME: &str = "LOCK";

/// How many bytes of a LOCK file are read to name its holder.
const MAX_HOLDER_LEN: u64 = 64;

/// The store's exclusive lock, held for as long as this value lives.
#[derive(Debug)]
pub struct StoreLock {
    // Closing the file on drop releases the lock.
    _file: File,
    path: PathBuf,
}

impl StoreLock {
    /// Locks `<dir>/LOCK` (creating it) and writes this process's id into it.
    ///
    /// Returns [`StorageError::Locked`] when another handle holds it.
    pub fn acquire(dir: &Path) -> Result<StoreLock> {
        let path = dir.join(LOCK_FILE_NAME);
        let io_error = |err| StorageError::io(&path, err);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                return Err(StorageError::Locked { path, holder });
            }
            Err(TryLockError::Error(err)) => return Err(io_error(err)),
        }
        file.set_len(0).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        file.write_all(std::process::id().to_string().as_bytes())
            .map_err(io_error)?;
        Ok(StoreLock { _file: file, path })
    }

    /// The path of the LOCK file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The holder's pid as written in the LOCK file, or a placeholder if it cannot be read.
fn read_holder(file: &mut File) -> String {
    let mut bytes = Vec::new();
    if file.take(MAX_HOLDER_LEN).read_to_end(&mut bytes).is_err() {
        return "unreadable".to_string();
    }
    let holder = String::from_utf8_lossy(&bytes).trim().to_string();
    if holder.is_empty() {
        "unknown".to_string()
    } else {
        holder
    }
}
